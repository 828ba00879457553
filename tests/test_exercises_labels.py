"""The exercise checks of notebooks 01 and 02, and the figures they draw."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from prm_edu import plots
from prm_edu.data import Trace
from prm_edu.exercises import orm_vs_prm as ex1
from prm_edu.exercises import step_labels as ex2
from prm_edu.labels import (
    ActiveLearningConfig,
    ActiveLearningCurve,
    CurvePoint,
    MCConfusion,
)

P = "Solve 4x + 3 = 2x + 11"
STEPS = [
    "Subtract 2x from both sides: 2x + 3 = 11",
    "Subtract 3 from both sides: 2x = 14",
    "Divide both sides by 2: x = 7",
]


def test_step_labels_right_and_wrong_with_reason():
    assert ex1.check_step_labels(P, STEPS, [1, -1, -1])
    v = ex1.check_step_labels(P, STEPS, [1, -1, 1])
    assert not v and "step 3" in v.message and "carries forward" in v.message
    v = ex1.check_step_labels(P, STEPS, [1, -1])
    assert not v and "expected 3 values" in v.message


def test_outcome_and_first_error():
    steps = ["Subtract 5 from both sides: 2x = 20", "Divide by 4: x = 5"]
    assert ex1.check_outcome_and_first_error("Solve 2x + 5 = 15", steps, True, 0)
    v = ex1.check_outcome_and_first_error("Solve 2x + 5 = 15", steps, False, 0)
    assert not v and "says True" in v.message
    v = ex1.check_outcome_and_first_error("Solve 2x + 5 = 15", steps, True, 1)
    assert not v and "index 0" in v.message
    assert not ex1.check_outcome_and_first_error("Solve 2x + 5 = 15", steps, None, 0)
    assert not ex1.check_outcome_and_first_error("Solve 2x + 5 = 15", steps, True, None)


def test_pruned_at():
    assert ex1.check_pruned_at([0.9, 0.4, 0.1], 0.5, 1)
    assert ex1.check_pruned_at([0.9, 0.8], 0.5, -1)
    assert not ex1.check_pruned_at([0.9, 0.4, 0.1], 0.5, 2)


def test_wrong_reasoning():
    good = ["Subtract 5 from both sides: 2x = 20", "Divide by 4: x = 5"]
    assert ex1.check_wrong_reasoning(good)
    v = ex1.check_wrong_reasoning(
        ["Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"]
    )
    assert not v and "every step is right" in v.message
    v = ex1.check_wrong_reasoning(["Subtract 5 from both sides: 2x = 20"])
    assert not v and "no final answer" in v.message
    v = ex1.check_wrong_reasoning(
        ["Subtract 5 from both sides: 2x = 20", "Divide by 2: x = 10"]
    )
    assert not v and "x = 5" in v.message


def test_prm800k_labels_stop_at_first_error():
    steps = [
        "Subtract 5 from both sides: 2x = 10",
        "Swap the sides: 10 = 2x",
        "Divide both sides by 2: x = 6",
        "Check: x = 6",
    ]
    assert ex2.check_prm800k_labels("Solve 2x + 5 = 15", steps, [1, 0, -1])
    v = ex2.check_prm800k_labels("Solve 2x + 5 = 15", steps, [1, 0, -1, -1])
    assert not v and "stops at the first wrong step" in v.message
    v = ex2.check_prm800k_labels("Solve 2x + 5 = 15", steps, [1, 1, -1])
    assert not v and "no progress" in v.message


def test_mc_labels():
    assert ex2.check_mc_labels([8, 3, 0], 8, [1, 0.375, 0], [1, 1, -1])
    assert not ex2.check_mc_labels([8, 3, 0], 8, [1, 0.375, 0], [1, -1, -1])
    assert not ex2.check_mc_labels([8, 3, 0], 8, [1, 3, 0], [1, 1, -1])


def test_convincing_wrong():
    scores = [[0.9, 0.9], [0.8, 0.7], [0.99, 0.65], [0.6, 0.6]]
    right = [True, False, False, False]
    assert ex2.check_convincing_wrong(scores, right, 1)
    v = ex2.check_convincing_wrong(scores, right, 0)
    assert not v and "right final answer" in v.message
    assert not ex2.check_convincing_wrong(scores, right, 2)
    assert not ex2.check_convincing_wrong(scores, right, None)
    assert ex2.check_convincing_wrong(scores, right, 2, select_by="mean")


def test_format_checks():
    t = Trace(
        "Solve 2x + 5 = 15", ["a: 2x = 10", "b: 10 = 2x", "c: x = 6"], labels=[1, 0, -1]
    )
    assert ex2.check_trl_labels(t, [True, True, False])
    assert not ex2.check_trl_labels(t, [True, False, False], neutral_as=True)
    assert ex2.check_trl_labels(t, [True, False, False], neutral_as=False)
    assert not ex2.check_trl_labels(t, [1, 1, -1])
    label = (
        "Solve 2x + 5 = 15 Step 1: a: 2x = 10 +\nStep 2: b: 10 = 2x +\n"
        "Step 3: c: x = 6 -"
    )
    assert ex2.check_math_shepherd_label(t, label)
    v = ex2.check_math_shepherd_label(t, label.replace("-", "+"))
    assert not v and "should be '-'" in v.message


def test_figures_draw():
    figs = [
        plots.sparse_vs_dense(
            [["a", "b"], ["a", "b", "c"]],
            [[0.9, 0.8], [0.9, 0.1, 0.2]],
            [0.95, 0.1],
            ["A", "B"],
        ),
        plots.credit_by_step(
            {"right steps": ([1, 0], [0.9, 0.8]), "wrong steps": ([1], [0.2])}
        ),
        plots.orm_vs_prm_scatter(
            [0.9, 0.1, 0.8],
            [0.9, 0.1, 0.2],
            ["right", "wrong answer", "right answer, wrong reasoning"],
            highlight=2,
        ),
        plots.label_agreement(
            {"MC": MCConfusion(5, 3, 1, 1)}, baseline=("every step good", 0.6)
        ),
    ]
    config = ActiveLearningConfig(initial=2, per_round=2, rounds=1)
    curve = ActiveLearningCurve(
        [CurvePoint(2, 1, 0.6), CurvePoint(4, 3, 0.7)],
        [CurvePoint(2, 1, 0.6), CurvePoint(4, 2, 0.65)],
        config,
    )
    figs.append(plots.active_learning(curve))
    for fig in figs:
        assert fig.axes
        plt.close(fig)


@pytest.mark.parametrize("bad", [[], ["Subtract 5 from both sides: 2x = 10"]])
def test_wrong_reasoning_needs_an_answer(bad):
    assert not ex1.check_wrong_reasoning(bad)
