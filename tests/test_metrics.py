"""Metrics against values worked out by hand."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from prm_edu.data.trace import Trace
from prm_edu.metrics import (
    FirstErrorResult,
    auroc,
    expected_calibration_error,
    first_error_f1,
    pass_at_k,
    pick_threshold,
    predicted_first_error,
    reliability_curve,
    step_auroc,
)


def pairwise_fraction(scores, labels):
    """The definition of AUROC, by brute force over (positive, negative) pairs."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def trace(labels, soft=False):
    return Trace("p", [f"s{i}" for i in range(len(labels))], labels=labels, soft=soft)


# ----------------------------------------------------------------- AUROC


def test_auroc_hand_case():
    # pairs (pos, neg): (.9,.8) ok, (.9,.1) ok, (.3,.8) wrong, (.3,.1) ok -> 3/4
    assert auroc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0]) == 0.75


def test_auroc_perfect_reversed_and_all_tied():
    assert auroc([3, 2, 1], [1, 1, 0]) == 1.0
    assert auroc([1, 2, 3], [1, 1, 0]) == 0.0
    assert auroc([0.5] * 4, [1, 0, 1, 0]) == 0.5


def test_auroc_with_ties_equals_pairwise_fraction():
    rng = random.Random(0)
    for _ in range(50):
        n = rng.randint(2, 30)
        scores = [rng.choice([0.1, 0.2, 0.5, 0.7, 0.9]) for _ in range(n)]
        labels = [rng.random() < 0.5 for _ in range(n)]
        if len(set(labels)) < 2:
            continue
        assert auroc(scores, labels) == pytest.approx(pairwise_fraction(scores, labels))


def test_auroc_one_class_names_it():
    with pytest.raises(ValueError, match="positive"):
        auroc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="negative"):
        auroc([0.1, 0.2], [0, 0])


def test_auroc_bad_input_names_index():
    with pytest.raises(ValueError, match=r"scores\[1\] is nan"):
        auroc([0.1, float("nan"), 0.3], [1, 0, 1])
    with pytest.raises(ValueError, match="3 values but labels has 2"):
        auroc([0.1, 0.2, 0.3], [1, 0])
    with pytest.raises(ValueError, match=r"labels\[0\] is 2"):
        auroc([0.1, 0.2], [2, 0])


def test_step_auroc_neutral_counts_as_good():
    traces = [trace([1, 0, -1]), trace([1, -1])]
    scores = [[0.9, 0.6, 0.2], [0.8, 0.7]]
    # good: .9 .6 .8 ; bad: .2 .7 -> pairs won: .9>.2,.9>.7,.6>.2,.8>.2,.8>.7 = 5/6
    assert step_auroc(traces, scores) == pytest.approx(5 / 6)


def test_step_auroc_soft_labels_split_at_half():
    traces = [trace([0.75, 0.25], soft=True), trace([0.5, 0.0], soft=True)]
    assert step_auroc(traces, [[0.9, 0.1], [0.8, 0.2]]) == 1.0


def test_step_auroc_bad_input():
    with pytest.raises(ValueError, match=r"traces\[0\] has 2 steps but scores\[0\]"):
        step_auroc([trace([1, -1])], [[0.5]])
    with pytest.raises(ValueError, match=r"scores\[0\]\[1\] is nan"):
        step_auroc([trace([1, -1])], [[0.5, float("nan")]])
    with pytest.raises(ValueError, match="no labels"):
        step_auroc([Trace("p", ["a"])], [[0.5]])
    with pytest.raises(ValueError, match="traces has 1 values but scores has 2"):
        step_auroc([trace([1, -1])], [[0.5, 0.2], [0.1]])


# ------------------------------------------------------- ProcessBench F1


def test_predicted_first_error():
    assert predicted_first_error([0.9, 0.4, 0.1], 0.5) == 1
    assert predicted_first_error([0.9, 0.8], 0.5) == -1
    assert predicted_first_error([0.5], 0.5) == -1  # not strictly below


def test_first_error_f1_hand_case():
    traces = [
        trace([1, -1, -1]),  # true error at 1
        trace([-1, 1]),  # true error at 0
        trace([1, 1]),  # correct
        trace([1, 0, 1]),  # correct (neutral is not an error)
    ]
    scores = [
        [0.9, 0.2, 0.1],  # predicted 1: hit
        [0.8, 0.3],  # predicted 1: miss
        [0.9, 0.7],  # predicted -1: hit
        [0.9, 0.4, 0.9],  # predicted 1: miss
    ]
    r = first_error_f1(traces, scores, threshold=0.5)
    assert isinstance(r, FirstErrorResult)
    assert (r.error_accuracy, r.correct_accuracy) == (0.5, 0.5)
    assert r.f1 == 0.5 and (r.n_erroneous, r.n_correct) == (2, 2)


def test_first_error_f1_is_harmonic_mean():
    traces = [trace([-1]), trace([1, -1]), trace([1]), trace([1])]
    scores = [[0.1], [0.2, 0.1], [0.9], [0.8]]
    r = first_error_f1(traces, scores, threshold=0.5)
    # errors: hit, miss (flags 0) -> 0.5 ; correct: both hit -> 1.0
    assert r.f1 == pytest.approx(2 * 0.5 * 1.0 / 1.5)


def test_first_error_f1_needs_both_kinds():
    with pytest.raises(ValueError, match="all 1 traces are correct"):
        first_error_f1([trace([1])], [[0.9]])


def brute_force_best_f1(traces, scores):
    grid = sorted({s for row in scores for s in row})
    cands = [grid[0]] + [(a + b) / 2 for a, b in itertools.pairwise(grid)]
    cands.append(np.nextafter(grid[-1], np.inf))
    return max(first_error_f1(traces, scores, t).f1 for t in cands)


def test_pick_threshold_matches_brute_force():
    rng = random.Random(1)
    for _ in range(30):
        traces, scores = [], []
        for _ in range(rng.randint(2, 12)):
            n = rng.randint(1, 5)
            labels = [1] * n
            if rng.random() < 0.5:
                labels[rng.randrange(n)] = -1
            traces.append(trace(labels))
            scores.append([round(rng.random(), 1) for _ in range(n)])
        if len({t.first_error() >= 0 for t in traces}) < 2:
            continue
        t = pick_threshold(traces, scores)
        best = brute_force_best_f1(traces, scores)
        assert first_error_f1(traces, scores, t).f1 == pytest.approx(best)


def test_pick_threshold_separable_case_gets_perfect_f1():
    traces = [trace([1, -1]), trace([-1]), trace([1, 1])]
    scores = [[0.9, 0.1], [0.2], [0.8, 0.7]]
    t = pick_threshold(traces, scores)
    assert 0.2 < t <= 0.7
    assert first_error_f1(traces, scores, t).f1 == 1.0


# ------------------------------------------------------------ calibration


def test_reliability_curve_bins_by_hand():
    probs = [0.05, 0.15, 0.12, 0.95, 1.0]
    outcomes = [0, 1, 0, 1, 1]
    c = reliability_curve(probs, outcomes, n_bins=10)
    assert c.counts.tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    assert c.mean_prob[1] == pytest.approx(0.135)
    assert c.frac_positive[1] == 0.5
    assert math.isnan(c.mean_prob[5]) and math.isnan(c.frac_positive[5])
    assert c.mean_prob[9] == pytest.approx(0.975)


def test_ece_by_hand():
    probs = [0.05, 0.15, 0.12, 0.95, 1.0]
    outcomes = [0, 1, 0, 1, 1]
    # bins: {.05|0}: gap .05, w 1/5 ; {.15,.12|1,0}: gap .365, w 2/5 ;
    # {.95,1.0|1,1}: gap .025, w 2/5
    want = 0.2 * 0.05 + 0.4 * 0.365 + 0.4 * 0.025
    assert expected_calibration_error(probs, outcomes) == pytest.approx(want)


def test_ece_zero_when_calibrated():
    probs = [0.25] * 4 + [0.75] * 4
    outcomes = [1, 0, 0, 0, 1, 1, 1, 0]
    assert expected_calibration_error(probs, outcomes, n_bins=4) == pytest.approx(0)


def test_calibration_bad_input():
    with pytest.raises(ValueError, match=r"probs\[1\] is 1.5"):
        reliability_curve([0.2, 1.5], [0, 1])
    with pytest.raises(ValueError, match=r"probs\[0\] is nan"):
        expected_calibration_error([float("nan")], [1])
    with pytest.raises(ValueError, match="n_bins"):
        reliability_curve([0.2], [1], n_bins=0)


# ----------------------------------------------------------------- pass@k


def test_pass_at_k_by_hand_and_by_enumeration():
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)
    assert pass_at_k(5, 0, 3) == 0.0
    assert pass_at_k(5, 3, 3) == 1.0  # only 2 wrong: any 3 include a right one
    assert pass_at_k(10, 3, 1) == pytest.approx(0.3)
    n, c, k = 7, 2, 3
    draws = list(itertools.combinations(range(n), k))
    want = sum(any(i < c for i in d) for d in draws) / len(draws)
    assert pass_at_k(n, c, k) == pytest.approx(want)
    assert 0.0 < pass_at_k(10_000, 1, 100) < 1.0  # no overflow


def test_pass_at_k_bad_input():
    with pytest.raises(ValueError, match="k must be in 1..n=3"):
        pass_at_k(3, 1, 4)
    with pytest.raises(ValueError, match="c .* got 5"):
        pass_at_k(3, 5, 1)
    with pytest.raises(ValueError, match="whole number"):
        pass_at_k(3.5, 1, 1)
