"""A generator and a scorer you can read in full, for seeing search work.

`TreeGenerator` walks an explicit tree of steps written by hand, and
`ScriptedScorer` scores steps by a rule you give it (for example: "a step is
good unless it is one of these wrong steps"). Both follow the protocols in
`prm_edu.protocols`, so every search runs on them exactly as on the trained
models, and its result can be checked by eye. The tests use them; notebook 05
uses them to show a search on the seed's example before the real models.
"""

from __future__ import annotations

import random
from typing import Callable, Iterable, Mapping, Sequence

from prm_edu.protocols import GeneratedStep, State, Usage

# A scripted tree: step text -> what may follow it; None ends the solution.
StepTree = Mapping[str, "StepTree | None"]


class TreeGenerator:
    """A `StepGenerator` whose possible next steps are listed in a tree.

    `trees` maps each problem statement to its tree: a dict from a step's text
    to the dict of steps that may follow it, or to None when that step ends
    the solution. With ``order="cycle"`` (the default) the k requests for the
    same state in one call get its children in turn, so asking for k
    candidates enumerates all k children; at temperature 0 every request gets
    the first child. ``order="random"`` samples children uniformly, seeded.
    A step costs one token per word plus one for the separator.
    """

    def __init__(self, trees: Mapping[str, StepTree], *, order: str = "cycle"):
        if order not in ("cycle", "random"):
            raise ValueError(f"order must be 'cycle' or 'random', got {order!r}.")
        for problem, tree in trees.items():
            _check_tree(tree, problem)
        self.trees = dict(trees)
        self.order = order
        self.usage = Usage()

    def children(self, state: State) -> list[tuple[str, bool]]:
        """The (step, final) pairs that may follow `state`."""
        problem, steps = state
        if problem not in self.trees:
            raise ValueError(f"no scripted tree for problem {problem!r}.")
        node = self.trees[problem]
        for k, step in enumerate(steps):
            if node is None or step not in node:
                raise ValueError(
                    f"step {k} ({step!r}) of problem {problem!r} is not in "
                    f"its scripted tree."
                )
            node = node[step]
        if node is None:
            raise ValueError(
                f"the state after {list(steps)!r} is already finished: there "
                f"is no next step to generate."
            )
        return [(text, sub is None) for text, sub in node.items()]

    def next_steps(
        self,
        states: Sequence[State],
        *,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> list[GeneratedStep]:
        rng = random.Random(seed)
        seen: dict[tuple, int] = {}
        out = []
        for problem, steps in states:
            options = self.children((problem, steps))
            key = (problem, tuple(steps))
            j = seen.get(key, 0)
            seen[key] = j + 1
            if temperature == 0:
                text, final = options[0]
            elif self.order == "cycle":
                text, final = options[j % len(options)]
            else:
                text, final = options[rng.randrange(len(options))]
            n_tokens = len(text.split()) + 1
            self.usage.tokens += n_tokens
            out.append(GeneratedStep(text, n_tokens, final))
        self.usage.forward_passes += 1
        return out


def _check_tree(tree, where: str) -> None:
    if not isinstance(tree, Mapping) or not tree:
        raise ValueError(
            f"a scripted tree must be a non-empty dict of step -> subtree, "
            f"got {tree!r} under {where!r}."
        )
    for step, sub in tree.items():
        if not isinstance(step, str):
            raise ValueError(f"a step must be text, got {step!r} under {where!r}.")
        if sub is not None:
            _check_tree(sub, step)


class ScriptedScorer:
    """A `StepScorer` that scores each prefix with `rule(problem, prefix)`.

    `rule` gets the problem and the steps up to and including the one being
    scored, and returns a probability. `usage` counts one forward pass per
    `score_batch` call and one token per word scored.
    """

    def __init__(self, rule: Callable[[str, tuple[str, ...]], float]):
        self.rule = rule
        self.usage = Usage()

    @classmethod
    def perfect(
        cls, bad_steps: Iterable[str], *, good: float = 0.95, bad: float = 0.05
    ) -> "ScriptedScorer":
        """Knows which steps are wrong: a prefix scores `bad` from its first
        wrong step on (a step after an error is wrong too), `good` before."""
        bad_set = frozenset(bad_steps)

        def rule(problem: str, prefix: tuple[str, ...]) -> float:
            return bad if any(s in bad_set for s in prefix) else good

        return cls(rule)

    def score(self, problem: str, steps: Sequence[str]) -> list[float]:
        return self.score_batch([(problem, steps)])[0]

    def score_batch(self, items: Sequence[State]) -> list[list[float]]:
        self.usage.forward_passes += 1
        out = []
        for problem, steps in items:
            steps = tuple(steps)
            self.usage.tokens += len(problem.split()) + sum(
                len(s.split()) + 1 for s in steps
            )
            out.append([self.rule(problem, steps[: i + 1]) for i in range(len(steps))])
        return out
