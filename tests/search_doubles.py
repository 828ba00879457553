"""Scripted stand-ins for the models, shared by the search tests.

Every tree here is explicit, so the right answer of every search is known.
"""

from __future__ import annotations

import random

from prm_edu.protocols import GeneratedStep, Usage
from prm_edu.search import ScriptedScorer, TreeGenerator

# The seed's example, with one more wrong first step and a wrong second step.
SEED_PROBLEM = "Solve 2x + 5 = 15."
SEED_TREE = {
    "Subtract 5 from both sides: 2x = 20": {"Divide by 2: x = 10": None},
    "Subtract 5 from both sides: 2x = 10": {
        "Divide by 2: x = 5": None,
        "Divide by 2: x = 4": None,
    },
    "Add 5 to both sides: 2x = 20": {"Divide by 2: x = 10": None},
}
SEED_BAD = {
    "Subtract 5 from both sides: 2x = 20",
    "Add 5 to both sides: 2x = 20",
    "Divide by 2: x = 4",
}


def seed_answer(problem, steps):
    """The number after the last "x = ", or None."""
    if not steps or "x = " not in steps[-1]:
        return None
    return steps[-1].rsplit("x = ", 1)[1].strip()


def seed_grade(problem, steps):
    return seed_answer(problem, steps) == "5"


def seed_models():
    return TreeGenerator({SEED_PROBLEM: SEED_TREE}), ScriptedScorer.perfect(SEED_BAD)


def scripted_models(problem, tree, scores):
    """A generator that writes `tree` for `problem`, and a scorer that gives
    each step its score in `scores` (by the step's text)."""
    return TreeGenerator({problem: tree}), ScriptedScorer(
        lambda p, prefix: scores[prefix[-1]]
    )


class RandomTree:
    """A random tree of steps with right and wrong final answers.

    Step texts are unique ("s12"), a final step ends in "= right" or
    "= wrong". `reachable` holds every step from which a right answer can
    still be reached; `scorer()` is a perfect progress scorer: 0.95 for such
    a step, 0.05 otherwise.
    """

    def __init__(self, seed: int, *, depth=3, branching=3, p_final=0.0, name=None):
        self.rng = random.Random(seed)
        self.count = 0
        self.depth, self.branching, self.p_final = depth, branching, p_final
        self.problem = name or f"problem {seed}"
        self.tree = self._grow(1)
        self.reachable: set[str] = set()
        if not self._mark(self.tree):
            # Make sure a right answer exists: turn the first leaf right.
            node = self.tree
            while True:
                step, sub = next(iter(node.items()))
                if sub is None:
                    del node[step]
                    node[step.replace("wrong", "right")] = None
                    break
                node = sub
            self.reachable.clear()
            assert self._mark(self.tree)

    def _grow(self, depth: int) -> dict:
        out = {}
        for _ in range(self.rng.randint(1, self.branching)):
            self.count += 1
            final = depth == self.depth or self.rng.random() < self.p_final
            if final:
                verdict = "right" if self.rng.random() < 0.3 else "wrong"
                out[f"s{self.count} = {verdict}"] = None
            else:
                step = f"s{self.count}"  # named before its children are
                out[step] = self._grow(depth + 1)
        return out

    def _mark(self, node) -> bool:
        any_good = False
        for step, sub in node.items():
            good = step.endswith("= right") if sub is None else self._mark(sub)
            if good:
                self.reachable.add(step)
                any_good = True
        return any_good

    def scorer(self) -> ScriptedScorer:
        reachable = self.reachable
        return ScriptedScorer(
            lambda p, prefix: 0.95 if prefix[-1] in reachable else 0.05
        )


def tree_answer(problem, steps):
    if not steps or " = " not in steps[-1]:
        return None
    return steps[-1].rsplit(" = ", 1)[1]


def tree_grade(problem, steps):
    return tree_answer(problem, steps) == "right"


class EmptyGenerator:
    """Always writes an empty step."""

    def __init__(self):
        self.usage = Usage()
        self.calls = 0

    def next_steps(self, states, *, temperature=1.0, seed=None):
        self.calls += 1
        return [GeneratedStep("", 1, False) for _ in states]


class ShortGenerator(TreeGenerator):
    """Returns one step too few."""

    def next_steps(self, states, *, temperature=1.0, seed=None):
        return super().next_steps(states, temperature=temperature, seed=seed)[:-1]


class BrokenScorer(ScriptedScorer):
    """Drops the last score of every trace, or returns NaN."""

    def __init__(self, mode: str):
        super().__init__(lambda p, prefix: 0.5)
        self.mode = mode

    def score_batch(self, items):
        out = super().score_batch(items)
        if self.mode == "short":
            return [row[:-1] for row in out]
        if self.mode == "nan":
            return [[float("nan")] * len(row) for row in out]
        if self.mode == "few":
            return out[:-1]
        return [[3.0] * len(row) for row in out]


class RecordingScorer(ScriptedScorer):
    """A scripted scorer that remembers every item it scored."""

    def __init__(self, rule):
        super().__init__(rule)
        self.seen = []

    def score_batch(self, items):
        self.seen.extend((p, tuple(s)) for p, s in items)
        return super().score_batch(items)
