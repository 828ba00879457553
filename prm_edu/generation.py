"""Sampling whole solutions from any step generator, one batched step at a time.

Best-of-N, Monte Carlo rollout labels, on-policy training data and RL all need
the same thing: finish many partial solutions at once. Defined in notebook 02.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from prm_edu.protocols import State, StepGenerator


@dataclass(frozen=True)
class Completion:
    """The steps a generator added to a state, and the tokens they cost."""

    steps: tuple[str, ...]
    n_tokens: int
    finished: bool  # False when it stopped at max_steps without ending


def complete(
    generator: StepGenerator,
    states: Sequence[State],
    *,
    max_steps: int = 8,
    temperature: float = 1.0,
    seed: int | None = None,
) -> list[Completion]:
    """Extend every state until the generator ends it or `max_steps` are added.

    All unfinished states are advanced together, one batched call per step.
    """
    if max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}.")
    added: list[list[str]] = [[] for _ in states]
    tokens = [0] * len(states)
    done = [False] * len(states)
    ended = [False] * len(states)
    for t in range(max_steps):
        active = [i for i, d in enumerate(done) if not d]
        if not active:
            break
        batch = [(states[i][0], [*states[i][1], *added[i]]) for i in active]
        step_seed = None if seed is None else seed * 1009 + t
        new = generator.next_steps(batch, temperature=temperature, seed=step_seed)
        if len(new) != len(batch):
            raise ValueError(
                f"the generator returned {len(new)} steps for {len(batch)} states: "
                f"next_steps must return exactly one step per state."
            )
        for i, step in zip(active, new):
            if not step.text.strip():
                # An empty step can never be checked or scored: end the sample
                # here, unfinished, rather than loop on nothing.
                done[i] = True
                continue
            added[i].append(step.text)
            tokens[i] += step.n_tokens
            done[i] = ended[i] = step.final
    return [Completion(tuple(a), n, e) for a, n, e in zip(added, tokens, ended)]


def sample_solutions(
    generator: StepGenerator,
    problems: Sequence[str],
    n: int,
    *,
    max_steps: int = 8,
    temperature: float = 1.0,
    seed: int | None = None,
) -> list[list[Completion]]:
    """`n` independent solutions per problem, sampled in one batch."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    states = [(p, []) for p in problems for _ in range(n)]
    flat = complete(
        generator, states, max_steps=max_steps, temperature=temperature, seed=seed
    )
    return [flat[i * n : (i + 1) * n] for i in range(len(problems))]
