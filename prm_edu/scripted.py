"""A scripted generator: a solver that makes named mistakes on purpose.

Before any model is trained, the course needs solutions with known errors:
some right, some wrong at a known step, some reaching the right answer by
wrong reasoning. `ScriptedGenerator` writes them for any world, using the
world's own stochastic solver (`world.scripted_sample`):

- each step is wrong with probability `error_rate`, with a named error kind:
  arithmetic slip, sign error, wrong operation, copied wrong number, skipped
  step (`ERROR_KINDS`);
- after a mistake the solver carries on *correctly from what was written*,
  so the error propagates to the final answer;
- while the written state is wrong, each step is, with probability
  `compensate_rate`, a compensating error that writes the right state again
  by a wrong move: the right answer by wrong reasoning, which an outcome
  reward cannot tell from a right solution but a process reward can.

Every trace records what was injected where in `trace.meta["errors"]`
(a list of `InjectedError(step, kind, detail)`). Everything is deterministic
given `seed`. The generator also follows the `StepGenerator` protocol
(`next_steps`), so searches and Monte Carlo rollouts can run on it before any
model exists. Defined in notebook 01; used in notebooks 02 and 04.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Sequence

from prm_edu.data.trace import Trace
from prm_edu.protocols import GeneratedStep, State, Usage
from prm_edu.worlds import get as get_world
from prm_edu.worlds import names
from prm_edu.worlds._common import COMPENSATING_ERROR, ERROR_KINDS, pick_error
from prm_edu.worlds.base import World

__all__ = ["ScriptedGenerator", "ERROR_KINDS", "COMPENSATING_ERROR"]


@dataclass
class ScriptedGenerator:
    """Scripted solutions for `world` with mistakes at `error_rate` per step.

    `world` is a `World` or its name. `sample(problems, n)` returns `n`
    traces per problem; `next_steps` samples one step per state (a
    `StepGenerator`). `usage` counts calls and whitespace-separated words as
    tokens.
    """

    world: World | str
    error_rate: float = 0.2
    seed: int = 0
    compensate_rate: float = 0.25
    usage: Usage = field(default_factory=Usage)

    def __post_init__(self) -> None:
        if isinstance(self.world, str):
            self.world = get_world(self.world)
        for name in ("error_rate", "compensate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value!r}.")
        self._rng = random.Random(f"scripted:{self.seed}")

    def _problem(self, problem):
        return (
            self.world.parse_problem(problem) if isinstance(problem, str) else problem
        )

    def sample(self, problems: Sequence, n: int = 1) -> list[Trace]:
        """`n` scripted traces for each problem (objects or statements), in order.

        The traces of a problem depend only on `seed`, the problem and `k`,
        not on the other problems in the list.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}.")
        world = self.world
        out: list[Trace] = []
        for problem in map(self._problem, problems):
            for k in range(n):
                rng = random.Random(f"{self.seed}:{world.name}:{problem.text}:{k}")
                sample = world.scripted_sample(
                    problem,
                    rng,
                    self.error_rate,
                    compensate_rate=self.compensate_rate,
                )
                out.append(
                    Trace(
                        problem.text,
                        sample.steps,
                        answer=world.extract_answer(problem, sample.steps),
                        meta={
                            "errors": list(sample.errors),
                            "world": world.name,
                            "level": problem.level,
                            "generator": "scripted",
                        },
                    )
                )
                self.usage.forward_passes += len(sample.steps)
                self.usage.tokens += sum(len(s.split()) for s in sample.steps)
        return out

    def next_steps(
        self,
        states: Sequence[State],
        *,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> list[GeneratedStep]:
        """One next step for each (problem text, steps so far) state.

        The step continues correctly from what was written, or (with
        probability `error_rate`) is a named mistake. `final` is True when
        the solution is complete after it. An empty step means the state was
        already complete (or stuck). `temperature` is ignored: `error_rate`
        sets the randomness. Compensating errors need the whole trace, so
        only `sample` makes them.
        """
        world = self.world
        try:
            policy = world._scripted_policy()
        except AttributeError:
            raise TypeError(
                f"world {world.name!r} has no scripted policy: next_steps works "
                f"with the course's worlds {names()}."
            ) from None
        out: list[GeneratedStep] = []
        for i, (text, steps) in enumerate(states):
            rng = (
                self._rng
                if seed is None
                else random.Random(f"{seed}:{i}:{text}:{len(steps)}")
            )
            problem = self._problem(text)
            state = world._written_state(problem, list(steps))
            move = policy.correct(problem, state, rng)
            if move is None:
                out.append(GeneratedStep("", 0, True))
                continue
            if rng.random() < self.error_rate:
                _, wrong = pick_error(policy, problem, state, move, rng)
                move = wrong or move
            final = policy.correct(problem, move.state, rng) is None
            n_tokens = len(move.text.split())
            out.append(GeneratedStep(move.text, n_tokens, final))
            self.usage.tokens += n_tokens
        self.usage.forward_passes += 1
        return out
