"""A pool of N sampled solutions per problem, generated once and scored once.

Every reranking method (best-of-N by PRM, ORM, majority vote, weighted vote,
the oracle) only *chooses* among samples, so they can all share one pool: the
course samples N = 64 solutions per problem once, scores them once with the
PRM and the ORM, and then evaluates every method at every N <= 64 by
subsampling, as the PRM800K evaluation does. Defined in notebook 04.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from prm_edu.generation import sample_solutions
from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.search.aggregate import aggregate, check_aggregation
from prm_edu.search.choose import AnswerFn
from prm_edu.search.lockstep import (
    apportion,
    check_positive,
    check_problems,
    check_scores,
    check_temperature,
)
from prm_edu.search.tree import Cost, SearchTree

# (problem statement, steps) -> whether the final answer is right.
GradeFn = Callable[[str, Sequence[str]], bool]


@dataclass
class PoolConfig:
    """Every knob of pool sampling, with its default."""

    n: int = 64  # solutions sampled per problem
    max_steps: int = 10  # a sample still going after this many steps is cut
    temperature: float = 1.0
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n", self.n)
        check_positive("max_steps", self.max_steps)
        check_temperature(self.temperature)


@dataclass
class Sample:
    """One sampled solution with everything the rerankers need."""

    steps: tuple[str, ...]
    n_tokens: int  # tokens generated for it
    finished: bool  # the generator ended it (not cut at max_steps)
    prm: list[float] | None = None  # one PRM score per step
    orm: float | None = None  # the ORM's score of the whole solution
    answer: str | None = None
    correct: bool | None = None


@dataclass
class Pool:
    """`samples[i][j]`: sample j of problem i, with scores and grades."""

    problems: list[str]
    samples: list[list[Sample]]
    config: PoolConfig
    # Wall time of each stage for the whole pool, in seconds.
    seconds: dict[str, float] = field(default_factory=dict)
    # Per problem: tokens scored (PRM) and batched PRM passes it took part in.
    prm_cost: list[Cost] = field(default_factory=list)
    orm_cost: list[Cost] = field(default_factory=list)

    @property
    def n(self) -> int:
        return self.config.n

    def values(self, aggregation: str = "min") -> np.ndarray:
        """PRM value of every sample, shape (problems, n); -inf for a sample
        with no steps or no PRM scores (it never wins)."""
        check_aggregation(aggregation)
        return np.array(
            [
                [aggregate(s.prm, aggregation) if s.prm else -np.inf for s in row]
                for row in self.samples
            ],
            dtype=float,
        )

    def orm_values(self) -> np.ndarray:
        return np.array(
            [
                [-np.inf if s.orm is None else s.orm for s in row]
                for row in self.samples
            ],
            dtype=float,
        )

    def correct(self) -> np.ndarray:
        """Whether each sample's answer is right, shape (problems, n)."""
        if any(s.correct is None for row in self.samples for s in row):
            raise ValueError(
                "this pool was sampled without grade=...: pass "
                "grade=prm_edu.search.grade_fn(world) to sample_pool."
            )
        return np.array([[s.correct for s in row] for row in self.samples], dtype=bool)

    def answers(self) -> list[list[str | None]]:
        return [[s.answer for s in row] for row in self.samples]

    def tokens(self) -> np.ndarray:
        """Tokens generated for each sample, shape (problems, n)."""
        return np.array([[s.n_tokens for s in row] for row in self.samples], dtype=int)

    def tree(
        self,
        i: int,
        aggregation: str = "min",
        chosen: int | None = None,
        indices: Sequence[int] | None = None,
    ) -> SearchTree:
        """Problem i's samples (all, or those in `indices`) as a `SearchTree`:
        one chain per sample under the root, each node scored; `chosen` (a
        sample index) marks the pick."""
        tree = SearchTree(self.problems[i])
        leaves = []
        keep = range(self.n) if indices is None else [int(j) for j in indices]
        for j in keep:
            s = self.samples[i][j]
            parent = tree.root.id
            for t, step in enumerate(s.steps):
                score = s.prm[t] if s.prm else None
                value = aggregate(s.prm[: t + 1], aggregation) if s.prm else None
                last = t == len(s.steps) - 1
                node = tree.add(
                    parent, step, score, t, final=last and s.finished, value=value
                )
                parent = node.id
            if parent == tree.root.id:
                continue
            leaves.append((j, parent))
            if s.finished:
                tree.finish(parent, f"sample {j}: finished")
            else:
                tree.prune(parent, f"sample {j}: cut at max_steps unfinished")
        for j, leaf in leaves:
            if j == chosen:
                tree.chosen = leaf
                tree.nodes[leaf].reason = f"sample {j}: chosen"
        return tree


def sample_pool(
    problems: Sequence[str],
    generator: StepGenerator,
    prm: StepScorer | None = None,
    orm: StepScorer | None = None,
    config: PoolConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
    grade: Callable[[str, Sequence[str]], bool] | None = None,
) -> Pool:
    """Sample `config.n` solutions per problem in one batch, then score all of
    them with the PRM in one batch and the ORM in another, and grade them."""
    config = config or PoolConfig()
    config.check()
    problems = check_problems(problems)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    completions = sample_solutions(
        generator,
        problems,
        config.n,
        max_steps=config.max_steps,
        temperature=config.temperature,
        seed=config.seed,
    )
    seconds["generate"] = time.perf_counter() - t0
    samples = [
        [Sample(tuple(s.strip() for s in c.steps), c.n_tokens, c.finished) for c in row]
        for row in completions
    ]
    if problems and all(not s.steps for row in samples for s in row):
        raise ValueError(
            f"the generator returned only empty steps for all {len(problems)} "
            f"problems: a step needs text. Check its stop token."
        )
    # Only samples with at least one step can be scored.
    where = [
        (i, j) for i, row in enumerate(samples) for j, s in enumerate(row) if s.steps
    ]
    items = [(problems[i], list(samples[i][j].steps)) for i, j in where]
    prm_cost: list[Cost] = []
    orm_cost: list[Cost] = []
    if prm is not None:
        t0 = time.perf_counter()
        scores, prm_cost = _score(prm, items, where, len(problems))
        seconds["prm"] = time.perf_counter() - t0
        for (i, j), sc in zip(where, scores):
            samples[i][j].prm = sc
    if orm is not None:
        t0 = time.perf_counter()
        scores, orm_cost = _score(orm, items, where, len(problems))
        seconds["orm"] = time.perf_counter() - t0
        for (i, j), sc in zip(where, scores):
            samples[i][j].orm = sc[-1]  # an ORM judges the solution at its end
    t0 = time.perf_counter()
    for i, row in enumerate(samples):
        for s in row:
            if answer_of is not None:
                s.answer = answer_of(problems[i], s.steps) if s.steps else None
            if grade is not None:
                s.correct = bool(grade(problems[i], s.steps)) if s.steps else False
    seconds["grade"] = time.perf_counter() - t0
    return Pool(problems, samples, config, seconds, prm_cost, orm_cost)


def _score(scorer: StepScorer, items, where, n_problems: int):
    before = scorer.usage.snapshot()
    scores = check_scores(items, scorer.score_batch(items))
    used = scorer.usage.since(before)
    weights = [0] * n_problems
    for (i, _), (problem, steps) in zip(where, items):
        weights[i] += len(problem) + sum(len(s) + 1 for s in steps)
    shares = apportion(used.tokens, weights)
    costs = [Cost(tokens_scored=t, forward_passes=used.forward_passes) for t in shares]
    return scores, costs
