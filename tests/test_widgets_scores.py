"""StepScoreView: one bar per step, the threshold slider, the first error, the
aggregates, side-by-side traces, rescoring an edited step, and bad input."""

from __future__ import annotations

import math
import re

import pytest

from prm_edu.data.trace import Trace
from prm_edu.protocols import Usage
from prm_edu.widgets import StepScoreView, TraceComparison

PROBLEM = "Solve $2x + 5 = 15$."
TRACE_A = Trace(
    PROBLEM,
    ("Subtract 5 from both sides: $2x = 10$.", "Divide by 2: $x = 5$."),
)
TRACE_B = Trace(
    PROBLEM,
    ("Subtract 5 from both sides: $2x = 20$.", "Divide by 2: $x = 10$."),
)


class KeywordScorer:
    """A scorer for tests: a step containing '20' or '10$' after '20' is bad."""

    def __init__(self) -> None:
        self.usage = Usage()

    def score(self, problem, steps):
        self.usage.forward_passes += 1
        return [0.05 if "= 20" in s else 0.97 for s in steps]

    def score_batch(self, items):
        return [self.score(p, s) for p, s in items]


def bars(html: str) -> int:
    return len(re.findall(r'class="prm-step-bar"', html))


def test_one_row_and_one_bar_per_step():
    view = StepScoreView(TRACE_A, [0.99, 0.99])
    html = view.rows.value
    assert 'class="prm-step-scores" data-n-steps="2"' in html
    assert bars(html) == 2
    assert "Subtract 5 from both sides: $2x = 10$." in html
    assert "0.99" in html
    assert "width:99.0%" in html


def test_threshold_slider_marks_steps_below_it():
    view = StepScoreView(TRACE_B, [0.05, 0.6])
    assert view.below == [True, False]
    assert view.rows.value.count("prm-step-below") == 1
    view.threshold_slider.value = 0.7
    assert view.below == [True, True]
    assert view.rows.value.count("prm-step-below") == 2
    view.threshold = 0.01
    assert view.below == [False, False] and view.first_error == -1
    assert "prm-step-first-error" not in view.rows.value


def test_first_error_by_threshold_without_labels():
    view = StepScoreView(["good", "bad", "worse"], [0.9, 0.3, 0.1], problem="p")
    assert view.first_error == 1 == view.predicted_first_error
    assert "first error (threshold)" in view.rows.value
    view.threshold = 0.2
    assert view.first_error == 2


def test_first_error_by_label_when_labels_are_given():
    view = StepScoreView(["a", "b", "c"], [0.2, 0.9, 0.9], [1, -1, -1], problem="p")
    assert view.first_error == 1  # the labels say step 2
    assert view.predicted_first_error == 0  # the PRM flags step 1
    html = view.rows.value
    assert "first error (label)" in html and "PRM's first" in html
    assert "✗ −1" in html and "✓ +1" in html
    soft = StepScoreView(["a", "b"], [0.8, 0.3], [0.75, 0.25], problem="p")
    assert soft.trace.soft and soft.first_error == 1
    assert "MC 0.25" in soft.rows.value


def test_labels_from_the_trace_are_used():
    view = StepScoreView(TRACE_B.with_labels([-1, -1]), [0.05, 0.6])
    assert view.labels == (-1, -1) and view.first_error == 0


def test_aggregates_min_prod_last_mean():
    view = StepScoreView(["a", "b", "c"], [0.9, 0.2, 0.95], problem="p")
    agg = view.aggregates
    assert agg["min"] == 0.2 and agg["last"] == 0.95
    assert math.isclose(agg["prod"], 0.9 * 0.2 * 0.95)
    assert math.isclose(agg["mean"], (0.9 + 0.2 + 0.95) / 3)
    html = view.aggregate_view.value
    for how in ("min", "prod", "last", "mean"):
        assert f'data-how="{how}"' in html
    assert "0.171" in html and "0.683" in html


def test_traces_side_by_side_share_one_threshold():
    both = StepScoreView.compare(TRACE_A, TRACE_B, [0.99, 0.99], [0.05, 0.6])
    assert isinstance(both, TraceComparison)
    a, b = both.views
    assert a.title == "Trace A" and b.title == "Trace B"
    assert all(v.threshold_slider.layout.display == "none" for v in both.views)
    both.threshold_slider.value = 0.8
    assert a.threshold == b.threshold == 0.8
    assert a.below == [False, False] and b.below == [True, True]
    html = both._repr_mimebundle_()["text/html"]
    assert bars(html) == 4
    assert "Trace A" in html and "Trace B" in html and "$2x = 20$" in html


def test_comparison_errors_name_the_trace():
    with pytest.raises(ValueError, match=r"Trace B \(trace 1\).*2 steps but 3"):
        StepScoreView.compare(TRACE_A, TRACE_B, [0.9, 0.9], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="2 traces need 2 scores"):
        TraceComparison([TRACE_A, TRACE_B], [[0.9, 0.9]])


def test_scorer_scores_and_an_edited_step_is_rescored():
    scorer = KeywordScorer()
    view = StepScoreView(TRACE_B.with_labels([-1, -1]), scorer=scorer)
    assert view.scores == [0.05, 0.97]
    view.step_picker.value = 0
    assert view.step_text.value == TRACE_B.steps[0]
    view.step_text.value = "Subtract 5 from both sides: $2x = 10$."
    view.rescore_button.click()
    assert view.scores == [0.97, 0.97]
    assert view.steps[0].endswith("$2x = 10$.")
    assert view.labels is None  # the labels were for the old text
    assert "Step 1 rescored: 0.05 → 0.97" in view.message.value
    assert "$2x = 10$" in view.rows.value
    view.reset_button.click()
    assert view.scores == [0.05, 0.97] and view.labels == (-1, -1)
    assert view.step_text.value == TRACE_B.steps[0]
    assert scorer.usage.forward_passes == 2


def test_editing_problems_are_reported_not_raised_from_buttons():
    view = StepScoreView(TRACE_A, scorer=KeywordScorer())
    view.step_text.value = "   "
    view.rescore_button.click()
    assert "cannot be empty" in view.message.value
    with pytest.raises(ValueError, match="no scorer"):
        StepScoreView(TRACE_A, [0.5, 0.5]).edit(0, "x")
    with pytest.raises(ValueError, match="no step 5"):
        view.edit(5, "x")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ([0.5], "2 steps but 1 scores"),
        ([0.5, 0.5, 0.5], "2 steps but 3 scores"),
        ([0.5, float("nan")], r"scores\[1\] \(step 2\) is NaN"),
        ([1.2, 0.5], r"scores\[0\] \(step 1\) is 1.2"),
        ([0.5, -0.1], r"scores\[1\] \(step 2\) is -0.1"),
        ([0.5, "high"], r"scores\[1\] \(step 2\) is 'high'"),
        ("0.5", "must be a list"),
    ],
)
def test_bad_scores_name_what_and_where(scores, message):
    with pytest.raises(ValueError, match=message):
        StepScoreView(TRACE_A, scores)


def test_other_bad_input():
    with pytest.raises(ValueError, match="no steps"):
        StepScoreView(Trace("p", ()), [])
    with pytest.raises(ValueError, match="no steps"):
        StepScoreView([], [], problem="p")
    with pytest.raises(ValueError, match="pass scores"):
        StepScoreView(TRACE_A)
    with pytest.raises(ValueError, match="2 steps needs 2 labels"):
        StepScoreView(TRACE_A, [0.5, 0.5], [1])
    with pytest.raises(ValueError, match="threshold must be in"):
        StepScoreView(TRACE_A, [0.5, 0.5], threshold=2)

    class BadScorer(KeywordScorer):
        def score(self, problem, steps):
            return [float("nan")] * len(steps)

    with pytest.raises(ValueError, match="scores from the scorer|NaN"):
        StepScoreView(TRACE_A, scorer=BadScorer())


def test_text_is_escaped_and_math_can_be_switched_off():
    view = StepScoreView(
        ["<script>alert(1)</script>", "costs $3 and $4"],
        [0.5, 0.5],
        problem="p",
        math=False,
    )
    html = view.rows.value
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "tex2jax_ignore" in html


def test_static_html_has_steps_scores_bars_and_aggregates():
    view = StepScoreView(TRACE_B, [0.05, 0.6], title="Trace B")
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert bars(html) == 2
    assert "Trace B" in html and PROBLEM in html
    assert "0.05" in html and "0.60" in html
    assert 'data-how="prod"' in html and "0.030" in html
    assert "first error" in html
