"""See a PRM at work: every step of a trace with its score, as an ipywidget.

    from prm_edu.widgets import StepScoreView
    StepScoreView(trace, scores)                 # one trace
    StepScoreView.compare(trace_a, trace_b, scores_a, scores_b)   # side by side
    StepScoreView(trace, scorer=prm)             # scores from a model; edit a
                                                 # step and see it rescored

One row per step: its text, a bar as long as its score, the number, its label
when there is one. A threshold slider marks the steps scored below it; the
first error is flagged (by the labels when given, else by the threshold); the
four aggregates a search ranks solutions by (min, prod, last, mean) are shown.
Defined in notebook 01, used again in 02-05.
"""

from __future__ import annotations

import math
from typing import Sequence

import ipywidgets as widgets

from ..data.trace import Trace
from ..protocols import StepScorer
from ..search.aggregate import AGGREGATIONS, aggregate
from .static import (
    SCORE_SCALE,
    StaticHTMLFallback,
    enable_colab_widgets,
    esc,
    fmt_score,
    panel,
    score_color,
)

_HATCH = (
    "repeating-linear-gradient(135deg,rgba(255,255,255,.6) 0 3px,transparent 3px 7px)"
)


def check_scores(scores, n_steps: int, *, what: str = "scores") -> list[float]:
    """`scores` as a list of floats, one per step, each in [0, 1].

    Raises ValueError naming the bad entry otherwise.
    """
    if isinstance(scores, (str, bytes)) or not hasattr(scores, "__len__"):
        raise ValueError(f"{what} must be a list of numbers, got {scores!r}.")
    if len(scores) != n_steps:
        raise ValueError(
            f"the trace has {n_steps} steps but {len(scores)} {what} were given: "
            f"give exactly one score per step."
        )
    out = []
    for i, value in enumerate(scores):
        if isinstance(value, bool):
            raise ValueError(
                f"{what}[{i}] is {value!r}: a score is a number in [0, 1]."
            )
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what}[{i}] (step {i + 1}) is {value!r}: a score is a number "
                f"in [0, 1]."
            ) from None
        if math.isnan(value):
            raise ValueError(
                f"{what}[{i}] (step {i + 1}) is NaN: every step needs a score in "
                f"[0, 1]."
            )
        if not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{what}[{i}] (step {i + 1}) is {value}: scores are probabilities "
                f"in [0, 1] (apply a softmax/sigmoid to logits first)."
            )
        out.append(value)
    return out


def as_trace(trace, problem: str | None = None) -> Trace:
    """A `Trace` from a Trace, or from a list of step texts plus `problem`."""
    if isinstance(trace, Trace):
        result = trace
    elif isinstance(trace, (list, tuple)):
        result = Trace(problem=problem or "", steps=tuple(trace))
    else:
        raise ValueError(
            f"expected a Trace or a list of step texts, got {type(trace).__name__}."
        )
    if not result.steps:
        raise ValueError(
            "the trace has no steps: there is nothing to score. Pass a trace "
            "with at least one step."
        )
    return result


def first_below(scores: Sequence[float], threshold: float) -> int:
    """Index of the first score below `threshold`, or -1 (ProcessBench style)."""
    for i, s in enumerate(scores):
        if s < threshold:
            return i
    return -1


def _label_badge(value: float, soft: bool) -> str:
    if soft:
        return f'<span title="Monte Carlo label">MC {value:.2f}</span>'
    if value > 0:
        return '<span title="label +1: correct">✓ +1</span>'
    if value < 0:
        return '<span title="label -1: wrong" style="font-weight:700">✗ −1</span>'
    return '<span title="label 0: neutral">○ 0</span>'


def render_rows(
    trace: Trace,
    scores: Sequence[float],
    threshold: float,
    *,
    math: bool = True,
) -> str:
    """The per-step rows as HTML: one `.prm-step` with one `.prm-step-bar` each."""
    labelled_error = trace.first_error() if trace.labels is not None else -1
    predicted = first_below(scores, threshold)
    rows = []
    for i, (step, score) in enumerate(zip(trace.steps, scores)):
        below = score < threshold
        colour = score_color(score)
        classes = ["prm-step"]
        flags = []
        if below:
            classes.append("prm-step-below")
            flags.append(
                f'<span title="score below the threshold {threshold:.2f}">'
                "▼ below</span>"
            )
        first = labelled_error if trace.labels is not None else predicted
        if i == first:
            classes.append("prm-step-first-error")
            by = "label" if trace.labels is not None else "threshold"
            flags.append(
                f'<span style="font-weight:700;color:#b2182b">⚑ first error '
                f"({by})</span>"
            )
        if trace.labels is not None and i == predicted and predicted != labelled_error:
            flags.append("<span>▼ PRM's first</span>")
        label = (
            _label_badge(trace.labels[i], trace.soft)
            if trace.labels is not None
            else ""
        )
        bar_style = f"width:{score * 100:.1f}%;background-color:{colour};height:100%"
        if below:
            bar_style += f";background-image:{_HATCH}"
        row_style = (
            "display:grid;grid-template-columns:2em minmax(8em,1fr) 130px 3em "
            "10em;gap:8px;align-items:center;padding:5px 4px;"
            "border-bottom:1px solid #eee"
        )
        if i == first:
            row_style += ";background:#fdf1ec;border-left:4px solid #b2182b"
        else:
            row_style += ";border-left:4px solid transparent"
        reason = ""
        if trace.reasons is not None and trace.reasons[i]:
            reason = (
                '<div style="font-size:11px;color:#666">'
                f"{esc(trace.reasons[i], math=math)}</div>"
            )
        rows.append(
            f'<div class="{" ".join(classes)}" data-step="{i}" '
            f'data-score="{score:.4f}" style="{row_style}">'
            f'<div style="color:#666;text-align:right">{i + 1}.</div>'
            f'<div class="prm-step-text">{esc(step, math=math)}{reason}</div>'
            '<div class="prm-step-track" style="position:relative;height:14px;'
            'background:#f2f2f2;border:1px solid #8c8c8c;border-radius:2px">'
            f'<div class="prm-step-bar" style="{bar_style}"></div>'
            f'<div title="threshold" style="position:absolute;top:-4px;bottom:-4px;'
            f'left:{threshold * 100:.1f}%;border-left:2px dashed #1a1a1a"></div>'
            "</div>"
            f'<div class="prm-step-score" style="font-variant-numeric:tabular-nums;'
            f'font-weight:600">{score:.2f}</div>'
            f'<div class="prm-step-flags" style="font-size:11px;line-height:1.35;'
            f'white-space:nowrap">'
            f"{label}{'<br>' if label and flags else ''}{'<br>'.join(flags)}</div>"
            "</div>"
        )
    header = (
        '<div style="display:grid;grid-template-columns:2em minmax(8em,1fr) 130px '
        "3em 10em;gap:8px;font-size:11px;color:#666;padding:0 4px 2px 8px;"
        'border-bottom:1px solid #ccc"><div>#</div><div>step</div>'
        "<div>PRM score</div><div></div><div>"
        f"{'label / flags' if trace.labels is not None else 'flags'}</div></div>"
    )
    return (
        f'<div class="prm-step-scores" data-n-steps="{len(trace.steps)}" '
        'style="max-width:980px;background:#ffffff;color:#1a1a1a;line-height:1.4">'
        f"{header}{''.join(rows)}</div>"
    )


def render_legend(threshold: float) -> str:
    stops = ",".join(f"rgb{tuple(rgb)} {x * 100:.0f}%" for x, rgb in SCORE_SCALE)
    return (
        '<div style="display:flex;align-items:center;gap:2px 6px;font-size:11px;'
        'color:#555;margin-top:6px;flex-wrap:wrap;line-height:1.4">'
        '<span>0</span><span style="display:inline-block;width:120px;height:10px;'
        f'background:linear-gradient(to right,{stops});border:1px solid #999">'
        "</span><span>1</span>"
        "<span>(red = likely wrong, blue = likely right; colour-blind-safe "
        "ColorBrewer RdBu)</span>"
        f"<span>┆ dashed line = threshold {threshold:.2f}; hatched bar + ▼ = "
        "below it</span></div>"
    )


def render_aggregates(scores: Sequence[float], threshold: float) -> str:
    cells = []
    for how in AGGREGATIONS:
        value = aggregate(scores, how)
        colour = score_color(value)
        mark = " ▼" if value < threshold else ""
        cells.append(
            f'<div class="prm-aggregate" data-how="{how}" style="border:1px solid '
            f"#ccc;border-radius:4px;padding:3px 8px;border-bottom:4px solid "
            f'{colour}"><span style="color:#666">{how}</span> '
            f"<b>{fmt_score(value, 3)}</b>{mark}</div>"
        )
    return (
        '<div style="display:flex;gap:6px 8px;flex-wrap:wrap;align-items:center;'
        'margin-top:6px;font-size:12px;line-height:1.4"><span>solution score:'
        "</span>" + "".join(cells) + "</div>"
    )


class StepScoreView(StaticHTMLFallback, widgets.VBox):
    """One trace's steps with their PRM scores, a threshold and aggregates.

    Parameters:
      trace: a `Trace`, or a list of step texts (then pass `problem=`).
      scores: one score in [0, 1] per step; leave out when `scorer` is given.
      labels: one label per step (+1 / 0 / -1, or soft fractions with
        soft=True); by default the trace's own labels.
      scorer: a `StepScorer` (e.g. `prm_edu.models.load_prm("equations")`);
        with it, a learner can edit a step's text and see the trace rescored.
      threshold: where the slider starts; steps scored below it are marked.
      title: a heading (e.g. "Trace A").
      math: render `$...$` as math (turn off for text with dollar prices).

    State a notebook can read: `scores`, `threshold`, `below`, `first_error`,
    `predicted_first_error`, `aggregates`; `edit(i, text)` and `reset()` do
    what the editor's buttons do.
    """

    def __init__(
        self,
        trace,
        scores: Sequence[float] | None = None,
        labels: Sequence[float] | None = None,
        *,
        problem: str | None = None,
        soft: bool | None = None,
        scorer: StepScorer | None = None,
        threshold: float = 0.5,
        title: str | None = None,
        math: bool = True,
        show_slider: bool = True,
    ) -> None:
        enable_colab_widgets()
        trace = as_trace(trace, problem)
        if labels is not None:
            labels = list(labels)
            if soft is None:
                soft = any(v not in (-1, 0, 1) for v in labels)
            trace = trace.with_labels(labels, soft=soft)
        if scores is None:
            if scorer is None:
                raise ValueError(
                    "StepScoreView needs the step scores: pass scores=[...] (one "
                    "per step) or a scorer= to compute them."
                )
            scores = scorer.score(trace.problem, list(trace.steps))
        scores = check_scores(scores, len(trace.steps))
        threshold = _check_threshold(threshold)
        self.original = trace
        self.original_scores = list(scores)
        self.trace = trace
        self.scores = list(scores)
        self.scorer = scorer
        self.title = title
        self.math = math

        self.heading = widgets.HTMLMath()
        self.rows = widgets.HTMLMath()
        self.aggregate_view = widgets.HTML()
        self.threshold_slider = widgets.FloatSlider(
            value=threshold,
            min=0.0,
            max=1.0,
            step=0.01,
            description="threshold",
            readout_format=".2f",
            continuous_update=True,
            layout=widgets.Layout(width="340px"),
        )
        if not show_slider:
            self.threshold_slider.layout.display = "none"
        self.threshold_slider.observe(lambda _: self._render(), names="value")
        children = [self.heading, self.rows, self.threshold_slider, self.aggregate_view]

        self.message = widgets.HTML()
        if scorer is not None:
            self.step_picker = widgets.Dropdown(
                options=[(f"step {i + 1}", i) for i in range(len(trace.steps))],
                value=0,
                description="edit",
                layout=widgets.Layout(width="150px"),
            )
            self.step_text = widgets.Text(
                value=trace.steps[0], layout=widgets.Layout(flex="1 1 auto")
            )
            self.rescore_button = widgets.Button(
                description="Rescore", icon="refresh", button_style="primary"
            )
            self.reset_button = widgets.Button(description="Reset", icon="undo")
            self.step_picker.observe(self._on_pick, names="value")
            self.rescore_button.on_click(lambda _: self._edit_from_controls())
            self.reset_button.on_click(lambda _: self.reset())
            children.append(
                widgets.HBox(
                    [
                        self.step_picker,
                        self.step_text,
                        self.rescore_button,
                        self.reset_button,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap", max_width="980px"),
                )
            )
        children.append(self.message)
        super().__init__(children=children)
        self.add_class("prm-step-score-view")
        self._render()

    # -- state --------------------------------------------------------------

    @property
    def threshold(self) -> float:
        return self.threshold_slider.value

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.threshold_slider.value = _check_threshold(value)

    @property
    def steps(self) -> tuple[str, ...]:
        return self.trace.steps

    @property
    def labels(self):
        return self.trace.labels

    @property
    def below(self) -> list[bool]:
        """For each step, whether its score is below the threshold."""
        return [s < self.threshold for s in self.scores]

    @property
    def predicted_first_error(self) -> int:
        """The first step scored below the threshold (-1: none)."""
        return first_below(self.scores, self.threshold)

    @property
    def first_error(self) -> int:
        """The flagged first error: by the labels when there are any, else by
        the threshold (-1: none)."""
        if self.trace.labels is not None:
            return self.trace.first_error()
        return self.predicted_first_error

    @property
    def aggregates(self) -> dict[str, float]:
        """The whole trace's score by min, prod, last and mean."""
        return {how: aggregate(self.scores, how) for how in AGGREGATIONS}

    def edit(self, index: int, text: str) -> list[float]:
        """Replace step `index` (0-based) with `text` and rescore the trace.

        Needs a scorer. The labels are dropped: they were for the old text.
        Returns the new scores.
        """
        if self.scorer is None:
            raise ValueError(
                "this view has no scorer: pass scorer= (e.g. a PRMScorer) to "
                "edit steps and see them rescored."
            )
        if not 0 <= index < len(self.trace.steps):
            raise ValueError(
                f"no step {index}: this trace has steps 0..{len(self.trace.steps) - 1}."
            )
        text = str(text).strip()
        if not text:
            raise ValueError("a step cannot be empty: type the new step's text.")
        steps = list(self.trace.steps)
        old_score = self.scores[index]
        steps[index] = text
        scores = check_scores(
            self.scorer.score(self.trace.problem, steps),
            len(steps),
            what="scores from the scorer",
        )
        self.trace = Trace(self.trace.problem, tuple(steps), meta=self.trace.meta)
        self.scores = scores
        self.message.value = (
            f'<span style="font-size:12px;line-height:1.4">Step {index + 1} rescored: '
            f"{old_score:.2f} → {scores[index]:.2f}. Labels are hidden: they "
            f"belonged to the original text (press Reset to go back).</span>"
        )
        self._render()
        return scores

    def reset(self) -> None:
        """Back to the original trace, scores and labels."""
        self.trace = self.original
        self.scores = list(self.original_scores)
        self.message.value = ""
        if self.scorer is not None:
            self._on_pick({"new": self.step_picker.value})
        self._render()

    def _on_pick(self, change) -> None:
        self.step_text.value = self.trace.steps[change["new"]]

    def _edit_from_controls(self) -> None:
        try:
            self.edit(self.step_picker.value, self.step_text.value)
        except ValueError as err:
            self.message.value = f'<span style="color:#b2182b">{esc(str(err))}</span>'

    # -- drawing ------------------------------------------------------------

    def _heading_html(self) -> str:
        title = f"<b>{esc(self.title)}</b> · " if self.title else ""
        problem = (
            f"<b>Problem:</b> {esc(self.trace.problem, math=self.math)}"
            if self.trace.problem
            else ""
        )
        return (
            '<div style="font-size:14px;margin-bottom:4px;line-height:1.4">'
            f"{title}{problem}</div>"
        )

    def _body_html(self) -> str:
        return render_rows(self.trace, self.scores, self.threshold, math=self.math)

    def _render(self) -> None:
        self.heading.value = self._heading_html()
        self.rows.value = self._body_html()
        self.aggregate_view.value = render_aggregates(
            self.scores, self.threshold
        ) + render_legend(self.threshold)

    def _repr_html_(self) -> str:
        return panel(
            self._heading_html()
            + self._body_html()
            + render_aggregates(self.scores, self.threshold)
            + render_legend(self.threshold),
            css_class="prm-step-score-view",
        )

    # -- side by side -------------------------------------------------------

    @classmethod
    def compare(
        cls,
        trace_a,
        trace_b,
        scores_a: Sequence[float] | None = None,
        scores_b: Sequence[float] | None = None,
        *,
        labels_a: Sequence[float] | None = None,
        labels_b: Sequence[float] | None = None,
        titles: Sequence[str] = ("Trace A", "Trace B"),
        scorer: StepScorer | None = None,
        threshold: float = 0.5,
        math: bool = True,
    ) -> "TraceComparison":
        """Two traces side by side with one shared threshold slider."""
        return TraceComparison(
            [trace_a, trace_b],
            [scores_a, scores_b],
            [labels_a, labels_b],
            titles=titles,
            scorer=scorer,
            threshold=threshold,
            math=math,
        )


class TraceComparison(StaticHTMLFallback, widgets.VBox):
    """Several traces' `StepScoreView`s side by side, one threshold for all.

    `traces`, `scores` and `labels` are parallel lists (a `None` score list
    means "ask the scorer"). `views` holds the individual views.
    """

    def __init__(
        self,
        traces: Sequence,
        scores: Sequence[Sequence[float] | None] | None = None,
        labels: Sequence[Sequence[float] | None] | None = None,
        *,
        titles: Sequence[str] | None = None,
        scorer: StepScorer | None = None,
        threshold: float = 0.5,
        math: bool = True,
    ) -> None:
        n = len(traces)
        if n == 0:
            raise ValueError("no traces to compare: pass a list of traces.")
        scores = list(scores) if scores is not None else [None] * n
        labels = list(labels) if labels is not None else [None] * n
        titles = (
            list(titles)
            if titles is not None
            else [f"Trace {chr(65 + i)}" for i in range(n)]
        )
        for name, values in (
            ("scores", scores),
            ("labels", labels),
            ("titles", titles),
        ):
            if len(values) != n:
                raise ValueError(
                    f"{n} traces need {n} {name} (use None for a missing one), "
                    f"got {len(values)}."
                )
        self.views = []
        for i in range(n):
            try:
                view = StepScoreView(
                    traces[i],
                    scores[i],
                    labels[i],
                    scorer=scorer,
                    threshold=threshold,
                    title=titles[i],
                    math=math,
                    show_slider=False,
                )
            except ValueError as err:
                raise ValueError(f"{titles[i]} (trace {i}): {err}") from None
            view.layout = widgets.Layout(flex="1 1 0", min_width="360px")
            self.views.append(view)
        self.threshold_slider = widgets.FloatSlider(
            value=_check_threshold(threshold),
            min=0.0,
            max=1.0,
            step=0.01,
            description="threshold",
            readout_format=".2f",
            layout=widgets.Layout(width="340px"),
        )
        self.threshold_slider.observe(self._on_threshold, names="value")
        super().__init__(
            children=[
                self.threshold_slider,
                widgets.HBox(
                    self.views,
                    layout=widgets.Layout(
                        flex_flow="row wrap",
                        align_items="flex-start",
                        grid_gap="12px",
                    ),
                ),
            ],
        )
        self.add_class("prm-trace-comparison")

    @property
    def threshold(self) -> float:
        return self.threshold_slider.value

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.threshold_slider.value = _check_threshold(value)

    def _on_threshold(self, change) -> None:
        for view in self.views:
            view.threshold_slider.value = change["new"]

    def _repr_html_(self) -> str:
        inner = "".join(
            f'<div style="flex:1 1 0;min-width:360px">{v._repr_html_()}</div>'
            for v in self.views
        )
        return (
            '<div class="prm-trace-comparison" style="display:flex;gap:12px;'
            f'flex-wrap:wrap">{inner}</div>'
        )


def _check_threshold(value: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"threshold must be a number in [0, 1], got {value!r}."
        ) from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {value}.")
    return value
