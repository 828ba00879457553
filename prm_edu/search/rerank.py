"""Best-of-N: sample N whole solutions, then choose one.

The choosers, from the weakest verifier to the ceiling:

- ``majority``: the most common final answer (self-consistency, no verifier);
- ``orm``: the solution the outcome reward model likes best;
- ``prm``: the solution with the best aggregated PRM value (`aggregate`);
- ``weighted``: PRM-weighted vote, the answer whose solutions' values sum
  highest;
- ``oracle``: right if any sample is right (pass@N), the ceiling no verifier
  can beat.

`pick` chooses among given samples; `best_of_n` samples, scores and chooses
for a problem and returns a `SearchResult` whose tree has one chain per
sample. Defined in notebook 04.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.search.aggregate import check_aggregation
from prm_edu.search.choose import AnswerFn, answered_only, vote
from prm_edu.search.lockstep import check_positive, check_problems, check_temperature
from prm_edu.search.pool import GradeFn, Pool, PoolConfig, sample_pool
from prm_edu.search.tree import Cost, SearchResult

RERANKERS = ("prm", "orm", "majority", "weighted", "oracle")


@dataclass
class BestOfNConfig:
    """Every knob of best-of-N, with its default."""

    n: int = 16  # solutions sampled per problem
    method: str = "prm"  # one of RERANKERS
    aggregation: str = "min"  # for "prm" and "weighted"
    max_steps: int = 10
    temperature: float = 1.0
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n", self.n)
        check_reranker(self.method)
        check_aggregation(self.aggregation)
        check_positive("max_steps", self.max_steps)
        check_temperature(self.temperature)


def check_reranker(method: str) -> None:
    if method not in RERANKERS:
        raise ValueError(
            f"unknown reranking method {method!r}: use one of {', '.join(RERANKERS)}."
        )


def pick(
    method: str,
    *,
    values: Sequence[float] | None = None,
    answers: Sequence[str | None] | None = None,
    correct: Sequence[bool] | None = None,
) -> int:
    """Index of the sample `method` chooses among the given samples.

    `values`: one aggregated score per sample (PRM value for ``prm`` and
    ``weighted``, ORM score for ``orm``); `answers` for the votes, and,
    given to ``prm`` and ``orm``, to pass over the samples without an answer
    while one has one (`answered_only`); `correct` for the oracle. Ties go
    to the earlier sample; a vote in which no sample has an answer falls
    back to sample 0.
    """
    check_reranker(method)
    need = {
        "prm": ("values",),
        "orm": ("values",),
        "majority": ("answers",),
        "weighted": ("values", "answers"),
        "oracle": ("correct",),
    }[method]
    given = {"values": values, "answers": answers, "correct": correct}
    for name in need:
        if given[name] is None:
            raise ValueError(f"method {method!r} needs {name}=...")
    filtered = method in ("prm", "orm") and answers is not None
    used = need + (("answers",) if filtered else ())
    sizes = {len(given[name]) for name in used}
    if len(sizes) != 1 or 0 in sizes:
        raise ValueError(
            f"method {method!r} needs the same positive number of {used}, got "
            f"lengths {sorted(sizes)}."
        )
    if method in ("prm", "orm"):
        v = np.asarray(values, dtype=float)
        if np.isnan(v).any():
            raise ValueError(f"values contain NaN: {list(values)}")
        if filtered:
            v = answered_only(v, [a is not None for a in answers])
        return int(np.argmax(v))  # first of equals
    if method == "oracle":
        hits = np.flatnonzero(np.asarray(correct, dtype=bool))
        return int(hits[0]) if len(hits) else 0
    if method == "majority":
        won = vote(answers, [1.0] * len(answers))
    else:
        # A sample without scores (no steps) has value -inf: it adds nothing.
        weights = [max(0.0, float(x)) for x in values]
        won = vote(answers, weights)
    return 0 if won is None else won


def pick_in_pool(
    pool: Pool, i: int, method: str, aggregation: str = "min", indices=None
) -> int:
    """The pool index of the sample `method` picks for problem i among
    `indices` (default: all of its samples)."""
    idx = list(range(pool.n)) if indices is None else [int(j) for j in indices]
    row = pool.samples[i]
    kwargs = {}
    if method in ("prm", "weighted"):
        kwargs["values"] = pool.values(aggregation)[i, idx]
    if method == "orm":
        kwargs["values"] = pool.orm_values()[i, idx]
    if method == "oracle":
        kwargs["correct"] = pool.correct()[i, idx]
    else:
        kwargs["answers"] = [row[j].answer for j in idx]
    return idx[pick(method, **kwargs)]


def best_of_n(
    problem: str,
    generator: StepGenerator,
    scorer: StepScorer | None,
    config: BestOfNConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
    grade: GradeFn | None = None,
) -> SearchResult:
    """Best-of-N on one problem (its statement). `scorer` is the PRM, or the
    ORM for ``method="orm"``; votes need `answer_of`, the oracle `grade`."""
    check_problems([problem])
    return best_of_n_many(
        [problem], generator, scorer, config, answer_of=answer_of, grade=grade
    )[0]


def best_of_n_many(
    problems: Sequence[str],
    generator: StepGenerator,
    scorer: StepScorer | None,
    config: BestOfNConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
    grade: GradeFn | None = None,
) -> list[SearchResult]:
    """Best-of-N on many problems: all samples in one batch, scored in one."""
    config = config or BestOfNConfig()
    config.check()
    m = config.method
    if m in ("prm", "orm", "weighted") and scorer is None:
        raise ValueError(f"method {m!r} ranks by scores: pass a scorer.")
    if m in ("majority", "weighted") and answer_of is None:
        raise ValueError(
            f"method {m!r} votes over final answers: pass "
            f"answer_of=prm_edu.search.answer_fn(world)."
        )
    if m == "oracle" and grade is None:
        raise ValueError(
            "the oracle needs to know right from wrong: pass "
            "grade=prm_edu.search.grade_fn(world)."
        )
    pool_config = PoolConfig(
        config.n, config.max_steps, config.temperature, config.seed
    )
    as_orm = m == "orm"
    pool = sample_pool(
        problems,
        generator,
        prm=None if as_orm else scorer,
        orm=scorer if as_orm else None,
        config=pool_config,
        answer_of=answer_of,
        grade=grade,
    )
    return [pool_result(pool, i, m, config.aggregation) for i in range(len(problems))]


def pool_result(
    pool: Pool, i: int, method: str, aggregation: str = "min", indices=None
):
    """A `SearchResult` for problem i of a pool: the pick, the tree, the cost."""
    j = pick_in_pool(pool, i, method, aggregation, indices)
    idx = list(range(pool.n)) if indices is None else [int(k) for k in indices]
    row = pool.samples[i]
    scored = pool.orm_cost if method == "orm" else pool.prm_cost
    cost = Cost(
        steps_generated=sum(len(row[k].steps) for k in idx),
        tokens_generated=sum(row[k].n_tokens for k in idx),
    )
    if scored and method in ("prm", "orm", "weighted"):
        share = len(idx) / pool.n
        cost.tokens_scored = round(scored[i].tokens_scored * share)
        cost.forward_passes = scored[i].forward_passes
    chosen = row[j]
    return SearchResult(
        problem=pool.problems[i],
        steps=list(chosen.steps),
        answer=chosen.answer,
        tree=pool.tree(i, aggregation, chosen=j, indices=indices),
        cost=cost,
    )
