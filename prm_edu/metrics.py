"""How to tell a good PRM from a bad one: AUROC, first-error F1, calibration, pass@k.

Every metric here is plain numpy, short enough to read, and checked in the tests
against values computed by hand. Defined in notebook 03; notebook 04 reuses
`pass_at_k`.

- `auroc` / `step_auroc`: does the PRM rank good steps above bad ones?
- `first_error_f1` (ProcessBench): does thresholding the scores find the
  *earliest* wrong step, and leave correct solutions alone?
- `reliability_curve` / `expected_calibration_error`: when the PRM says 0.8,
  is the step good 80% of the time?
- `pass_at_k`: the chance that at least one of k samples is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from prm_edu.data.trace import Trace

__all__ = [
    "auroc",
    "step_auroc",
    "predicted_first_error",
    "FirstErrorResult",
    "first_error_f1",
    "pick_threshold",
    "ReliabilityCurve",
    "reliability_curve",
    "expected_calibration_error",
    "pass_at_k",
]


# --------------------------------------------------------------------------- #
# Input checks shared by every metric
# --------------------------------------------------------------------------- #


def _floats(name: str, values) -> np.ndarray:
    """`values` as a 1-D float array, refusing NaN and infinities by index."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numbers, got {values!r}: {err}") from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a flat list of numbers, got an array of shape {arr.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] is {arr[i]}: every value must be a finite number "
            f"({bad.size} bad value(s) in all; first at index {i})."
        )
    return arr


def _same_length(a_name: str, a, b_name: str, b) -> None:
    if len(a) != len(b):
        raise ValueError(
            f"{a_name} has {len(a)} values but {b_name} has {len(b)}: "
            f"give one of each per item."
        )


def _binary(name: str, values) -> np.ndarray:
    """0/1 (or bool) outcomes as a bool array; anything else is an error."""
    arr = _floats(name, values)
    odd = np.flatnonzero((arr != 0) & (arr != 1))
    if odd.size:
        i = int(odd[0])
        raise ValueError(
            f"{name}[{i}] is {arr[i]}: outcomes must be 1 (good / correct) or "
            f"0 (bad / wrong)."
        )
    return arr.astype(bool)


def _check_traces(traces: Sequence[Trace], scores: Sequence[Sequence[float]]):
    """Each trace labelled, and one finite score per step; returns float arrays."""
    _same_length("traces", traces, "scores", scores)
    out = []
    for t, (trace, row) in enumerate(zip(traces, scores, strict=True)):
        if not isinstance(trace, Trace):
            raise TypeError(f"traces[{t}] is a {type(trace).__name__}, not a Trace.")
        if trace.labels is None:
            raise ValueError(
                f"traces[{t}] has no labels: label it first "
                f"(prm_edu.labels.label_traces)."
            )
        row = _floats(f"scores[{t}]", row)
        if len(row) != len(trace.steps):
            raise ValueError(
                f"traces[{t}] has {len(trace.steps)} steps but scores[{t}] has "
                f"{len(row)} values: give one score per step."
            )
        out.append(row)
    return out


def _good(trace: Trace) -> np.ndarray:
    """Which steps count as good: rating >= 0 (so neutral 0 is good), or a soft
    label >= 0.5."""
    labels = np.asarray(trace.labels, dtype=float)
    return labels >= 0.5 if trace.soft else labels >= 0


# --------------------------------------------------------------------------- #
# AUROC
# --------------------------------------------------------------------------- #


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve: the chance a random positive outscores a random
    negative (ties count one half).

    `labels` are 1 (positive, e.g. a good step) or 0 (negative). Computed from
    ranks (the Mann-Whitney U statistic), with tied scores given their average
    rank, so it equals the fraction of (positive, negative) pairs ranked right.
    0.5 is chance, 1.0 is a perfect ranking. Both classes must be present.

    >>> auroc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])
    0.75
    """
    s = _floats("scores", scores)
    y = _binary("labels", labels)
    _same_length("scores", s, "labels", y)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        only = "positive (1)" if n_neg == 0 else "negative (0)"
        raise ValueError(
            f"AUROC needs both classes, but all {len(y)} labels are {only}: "
            f"evaluate on data with both good and bad examples."
        )
    ranks = _average_ranks(s)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing the mean of the ranks they span."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    # Start index of each run of equal values, and the run each element is in.
    starts = np.flatnonzero(np.r_[True, sorted_x[1:] != sorted_x[:-1]])
    ends = np.r_[starts[1:], len(x)]
    run_rank = (starts + 1 + ends) / 2  # mean of ranks starts+1 .. ends
    run_of = np.repeat(np.arange(len(starts)), ends - starts)
    ranks = np.empty(len(x))
    ranks[order] = run_rank[run_of]
    return ranks


def step_auroc(traces: Sequence[Trace], scores: Sequence[Sequence[float]]) -> float:
    """AUROC of step scores against exact step labels, over all steps of all traces.

    A step is *good* when its label is >= 0 (so +1 and neutral 0 are good, -1 is
    bad), or, for soft Monte Carlo labels, when its label is >= 0.5. `scores[t]`
    holds one score per step of `traces[t]` (e.g. from `PRMScorer.score_batch`).
    """
    rows = _check_traces(traces, scores)
    if not rows:
        raise ValueError("step_auroc needs at least one trace.")
    flat_scores = np.concatenate(rows)
    flat_good = np.concatenate([_good(t) for t in traces])
    return auroc(flat_scores, flat_good.astype(int))


# --------------------------------------------------------------------------- #
# ProcessBench: find the earliest error
# --------------------------------------------------------------------------- #


def predicted_first_error(scores: Sequence[float], threshold: float) -> int:
    """Index of the first step whose score is below `threshold`, or -1 if none.

    This is how ProcessBench turns step scores into a verdict: the PRM "says"
    the earliest error is the first step it doubts.
    """
    s = _floats("scores", scores)
    below = np.flatnonzero(s < threshold)
    return int(below[0]) if below.size else -1


@dataclass(frozen=True)
class FirstErrorResult:
    """ProcessBench-style scores at one threshold.

    `error_accuracy`: on traces that contain a wrong step, the fraction where the
    predicted earliest error is exactly the true one. `correct_accuracy`: on
    traces with no wrong step, the fraction predicted error-free (-1). `f1`:
    their harmonic mean, which is high only when both are.
    """

    error_accuracy: float
    correct_accuracy: float
    f1: float
    n_erroneous: int
    n_correct: int
    threshold: float


def _harmonic(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def first_error_f1(
    traces: Sequence[Trace],
    scores: Sequence[Sequence[float]],
    threshold: float = 0.5,
) -> FirstErrorResult:
    """ProcessBench's earliest-error accuracies and their F1 at `threshold`.

    The true earliest error of a trace is `trace.first_error()` (-1 when every
    step is good); the predicted one is `predicted_first_error(scores, threshold)`.
    Pick `threshold` on a validation split with `pick_threshold`, not on the
    traces you report.
    """
    if not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold}.")
    rows = _check_traces(traces, scores)
    truth = np.array([t.first_error() for t in traces], dtype=int)
    n_err = int((truth >= 0).sum())
    n_ok = len(truth) - n_err
    _need_both(n_err, n_ok, len(truth))
    pred = np.array([predicted_first_error(r, threshold) for r in rows], dtype=int)
    hit = pred == truth
    err_acc = float(hit[truth >= 0].mean())
    ok_acc = float(hit[truth < 0].mean())
    return FirstErrorResult(
        error_accuracy=err_acc,
        correct_accuracy=ok_acc,
        f1=_harmonic(err_acc, ok_acc),
        n_erroneous=n_err,
        n_correct=n_ok,
        threshold=float(threshold),
    )


def _need_both(n_err: int, n_ok: int, n: int) -> None:
    if n_err == 0 or n_ok == 0:
        kind = "correct" if n_err == 0 else "erroneous"
        raise ValueError(
            f"first-error F1 needs traces with and without errors, but all {n} "
            f"traces are {kind}: include both kinds."
        )


def pick_threshold(
    val_traces: Sequence[Trace], val_scores: Sequence[Sequence[float]]
) -> float:
    """The threshold that maximises first-error F1 on a validation split.

    Accuracy only changes where the threshold crosses a score, so it is enough
    to try one threshold between each pair of neighbouring scores (plus one below
    and one above them all). Each trace is right on an interval of thresholds:
    an erroneous trace with earliest error e is right when
    ``scores[e] < threshold <= min(scores[:e])``; a correct trace is right when
    ``threshold <= min(scores)``. Counting the intervals that contain each
    candidate scores them all at once. Ties go to the middle of the widest
    best plateau.
    """
    rows = _check_traces(val_traces, val_scores)
    truth = [t.first_error() for t in val_traces]
    n_err = sum(e >= 0 for e in truth)
    n_ok = len(truth) - n_err
    _need_both(n_err, n_ok, len(truth))

    err_lo, err_hi, ok_hi = [], [], []
    for row, e in zip(rows, truth, strict=True):
        if e < 0:
            ok_hi.append(row.min())
        else:
            err_lo.append(row[e])
            err_hi.append(row[:e].min() if e > 0 else np.inf)

    values = np.unique(np.concatenate(rows))
    candidates = np.concatenate(
        [
            [values[0]],  # every score >= it: predicts "no error" everywhere
            (values[:-1] + values[1:]) / 2,
            [np.nextafter(values[-1], np.inf)],  # flags step 0 everywhere
        ]
    )
    err_hits = _count_in(candidates, np.array(err_lo), np.array(err_hi))
    ok_hits = _count_in(candidates, np.full(n_ok, -np.inf), np.array(ok_hi))
    err_acc = err_hits / n_err
    ok_acc = ok_hits / n_ok
    denom = err_acc + ok_acc
    f1 = np.where(denom > 0, 2 * err_acc * ok_acc / np.where(denom > 0, denom, 1), 0)
    return float(candidates[_middle_of_widest_best(f1)])


def _count_in(t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """For each threshold in `t`, how many intervals (lo, hi] contain it."""
    keep = lo < hi
    lo, hi = np.sort(lo[keep]), np.sort(hi[keep])
    above_lo = np.searchsorted(lo, t, side="left")  # count of lo < t
    above_hi = np.searchsorted(hi, t, side="left")  # count of hi < t
    return above_lo - above_hi


def _middle_of_widest_best(values: np.ndarray) -> int:
    best = np.isclose(values, values.max(), rtol=0, atol=1e-12)
    idx = np.flatnonzero(best)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    widest = max(runs, key=len)
    return int(widest[len(widest) // 2])


# --------------------------------------------------------------------------- #
# Calibration
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per-bin calibration data, ready to plot.

    Bin i holds the predictions in ``[edges[i], edges[i + 1])`` (the last bin
    also takes 1.0). `mean_prob[i]` is the average prediction there and
    `frac_positive[i]` how often the outcome was 1; a calibrated model has the
    two equal. Empty bins have count 0 and NaN in both.
    """

    edges: np.ndarray
    mean_prob: np.ndarray
    frac_positive: np.ndarray
    counts: np.ndarray


def reliability_curve(
    probs: Sequence[float], outcomes: Sequence[int], n_bins: int = 10
) -> ReliabilityCurve:
    """Bin predicted probabilities into `n_bins` equal-width bins on [0, 1] and
    compare each bin's mean prediction with its observed frequency of 1s."""
    p = _floats("probs", probs)
    y = _binary("outcomes", outcomes)
    _same_length("probs", p, "outcomes", y)
    if not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive whole number, got {n_bins!r}.")
    outside = np.flatnonzero((p < 0) | (p > 1))
    if outside.size:
        i = int(outside[0])
        raise ValueError(
            f"probs[{i}] is {p[i]}: probabilities must lie in [0, 1] "
            f"(apply a sigmoid or softmax to raw scores first)."
        )
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.floor(p * n_bins).astype(int), 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    sum_p = np.bincount(which, weights=p, minlength=n_bins)
    sum_y = np.bincount(which, weights=y.astype(float), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_prob = np.where(counts > 0, sum_p / counts, np.nan)
        frac_pos = np.where(counts > 0, sum_y / counts, np.nan)
    return ReliabilityCurve(edges, mean_prob, frac_pos, counts)


def expected_calibration_error(
    probs: Sequence[float], outcomes: Sequence[int], n_bins: int = 10
) -> float:
    """ECE: the gap |mean prediction - observed frequency| per bin, averaged with
    each bin weighted by its share of the predictions. 0 is perfectly calibrated."""
    curve = reliability_curve(probs, outcomes, n_bins)
    total = curve.counts.sum()
    if total == 0:
        raise ValueError("expected_calibration_error needs at least one prediction.")
    used = curve.counts > 0
    gaps = np.abs(curve.mean_prob[used] - curve.frac_positive[used])
    return float((curve.counts[used] / total * gaps).sum())


# --------------------------------------------------------------------------- #
# pass@k
# --------------------------------------------------------------------------- #


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from `n` samples of which `c` are correct.

    pass@k = 1 - C(n - c, k) / C(n, k): one minus the chance that k samples drawn
    without replacement from the n are all wrong (Chen et al., 2021). Computed as
    a product so that large n does not overflow.

    >>> pass_at_k(4, 1, 2)
    0.5
    """
    for name, v in (("n", n), ("c", c), ("k", k)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number, got {v!r}.")
    if n < 1:
        raise ValueError(f"n (samples drawn) must be >= 1, got {n}.")
    if not 0 <= c <= n:
        raise ValueError(f"c (correct samples) must be in 0..n={n}, got {c}.")
    if not 1 <= k <= n:
        raise ValueError(
            f"k must be in 1..n={n}, got {k}: pass@k needs at least k samples."
        )
    if n - c < k:
        return 1.0  # every draw of k must include a correct one
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))
