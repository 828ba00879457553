"""Checks for notebook 04's exercises: aggregating step scores, choosing among
N samples, the pass@N ceiling, and the product's bias against length.

Each check recomputes the answer with the functions best-of-N itself uses
(`prm_edu.search.aggregate`, `prm_edu.search.pick`, `prm_edu.metrics`).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from prm_edu.exercises.check import Verdict, compare
from prm_edu.metrics import pass_at_k
from prm_edu.search.aggregate import AGGREGATIONS, aggregate
from prm_edu.search.choose import vote
from prm_edu.search.rerank import pick

_AGG_HINTS = {
    "min": "the lowest step score",
    "prod": "all step scores multiplied together",
    "last": "the last step's score",
    "mean": "the sum of the step scores divided by the number of steps",
}


def _unanswered(name: str, mine) -> Verdict | None:
    """A Verdict when `mine` (or a value in it) is still None, else None.
    (A Verdict that is not right is falsy: test the result with `is not None`.)"""
    values = mine.values() if isinstance(mine, Mapping) else [mine]
    if any(v is None for v in values):
        return Verdict(name, False, "replace each None with your answer.")
    return None


def check_aggregates(scores: Sequence[float], mine: Mapping[str, float]) -> Verdict:
    """Your min, prod, last and mean of one solution's step `scores`, as a
    dict ``{"min": ..., "prod": ..., "last": ..., "mean": ...}``."""
    if not isinstance(mine, Mapping):
        return Verdict(
            "aggregates",
            False,
            f"give a dict with keys {list(AGGREGATIONS)}, got {mine!r}.",
        )
    missing = [k for k in AGGREGATIONS if k not in mine]
    if missing:
        return Verdict(
            "aggregates", False, f"{missing} missing: give all of {list(AGGREGATIONS)}."
        )
    if (blank := _unanswered("aggregates", mine)) is not None:
        return blank
    for how in AGGREGATIONS:
        v = compare(
            how,
            mine[how],
            aggregate(scores, how),
            tol=1e-3,
            hint=f"{how} is {_AGG_HINTS[how]}.",
        )
        if not v:
            return v
    values = ", ".join(f"{how} {aggregate(scores, how):.3f}" for how in AGGREGATIONS)
    return Verdict("aggregates", True, f"all four match: {values}.")


def check_picks(
    answers: Sequence[str],
    values: Sequence[float],
    mine: Mapping[str, object],
) -> Verdict:
    """What three rerankers choose among N samples with final `answers` and
    aggregated PRM `values`: ``{"prm": sample index, "majority": answer,
    "weighted": answer}``."""
    if not isinstance(mine, Mapping):
        return Verdict(
            "picks",
            False,
            f"give a dict with keys prm, majority, weighted; got {mine!r}.",
        )
    for key in ("prm", "majority", "weighted"):
        if key not in mine:
            return Verdict("picks", False, f"the key {key!r} is missing.")
    if (blank := _unanswered("picks", mine)) is not None:
        return blank
    best = pick("prm", values=values)
    if mine["prm"] != best:
        return Verdict(
            "prm pick",
            False,
            f"you chose sample {mine['prm']!r}; best-of-N by PRM takes the "
            f"sample with the highest value (index from 0).",
        )
    counts: dict[str, int] = {}
    totals: dict[str, float] = {}
    for a, v in zip(answers, values):
        counts[a] = counts.get(a, 0) + 1
        totals[a] = totals.get(a, 0.0) + float(v)
    majority = answers[vote(answers, [1.0] * len(answers))]
    if str(mine["majority"]) != str(majority):
        return Verdict(
            "majority vote",
            False,
            f"you have {mine['majority']!r}; count how often each answer occurs: "
            + ", ".join(f"{a}: {n}" for a, n in counts.items())
            + " (ties go to the answer seen first).",
        )
    weighted = answers[pick("weighted", values=values, answers=answers)]
    if str(mine["weighted"]) != str(weighted):
        return Verdict(
            "weighted vote",
            False,
            f"you have {mine['weighted']!r}; add up the values per answer and "
            f"take the largest total.",
        )
    return Verdict(
        "picks",
        True,
        f"PRM picks sample {best} (answer {answers[best]}), majority "
        f"{majority}, weighted vote {weighted} "
        f"(totals: {', '.join(f'{a}: {t:.2f}' for a, t in totals.items())}).",
    )


def check_pass_at_k(n: int, c: int, k: int, mine: float) -> Verdict:
    """pass@k from `n` samples of which `c` are right: the chance that k of
    them, drawn without replacement, include at least one right one."""
    if (blank := _unanswered("pass@k", mine)) is not None:
        return blank
    expected = pass_at_k(n, c, k)
    return compare(
        "pass@k",
        mine,
        expected,
        tol=1e-4,
        hint=f"1 - (chance that all {k} drawn are wrong) = 1 - C({n - c}, {k}) / "
        f"C({n}, {k}).",
    )


def prod_crossover(step_score: float, rival: float) -> int:
    """The fewest steps, each scoring `step_score`, whose product falls below
    `rival`."""
    if not 0 < step_score < 1:
        raise ValueError(f"step_score must be in (0, 1), got {step_score}.")
    if not 0 < rival <= 1:
        raise ValueError(f"rival must be in (0, 1], got {rival}.")
    k = max(1, math.floor(math.log(rival) / math.log(step_score)) + 1)
    # Guard against rounding in the logarithms: walk to the exact answer.
    while k > 1 and step_score ** (k - 1) < rival:
        k -= 1
    while step_score**k >= rival:
        k += 1
    return k


def check_prod_crossover(step_score: float, rival: float, mine: int) -> Verdict:
    """How many steps, each scoring `step_score`, a solution needs before its
    `prod` value drops below a rival's `rival`."""
    if (blank := _unanswered("steps until prod loses", mine)) is not None:
        return blank
    expected = prod_crossover(step_score, rival)
    v = compare(
        "steps until prod loses",
        mine,
        expected,
        tol=0,
        hint=f"Find the smallest k with {step_score}^k < {rival}.",
    )
    if v:
        return Verdict(
            v.name,
            True,
            f"{expected} steps: {step_score}^{expected - 1} = "
            f"{step_score ** (expected - 1):.3f} still beats {rival}, "
            f"{step_score}^{expected} = {step_score**expected:.3f} does not, "
            f"though every step is {step_score}.",
        )
    return v
