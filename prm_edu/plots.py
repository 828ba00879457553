"""The course's shared matplotlib figures, one function per picture.

Every function takes plain numbers (scores, counts, curves) computed in the
notebook, draws one figure and returns it, so a learner can see exactly what
went in. Colours follow the score scale of the widgets (red = likely wrong,
blue = likely right; ColorBrewer RdBu, safe for colour-blind readers).

- `sparse_vs_dense` (notebook 01): one reward at the end vs one per step.
- `credit_by_step` (notebook 01): the credit an outcome reward and a PRM
  give right and wrong steps (credit assignment).
- `orm_vs_prm_scatter` (notebook 01): ORM score against the PRM's weakest
  step, for right, wrong, and right-by-wrong-reasoning solutions.
- `label_agreement` (notebook 02): Monte Carlo labels against exact ones.
- `active_learning` (notebook 02): PRM quality against labels spent.
- `label_mask` (notebook 03): where a PRM's and an ORM's loss applies.
- `training_curves` (notebook 03): training loss and validation metric.
- `reliability_diagram` (notebook 03): calibration of step scores, with ECE.
- `value_by_length` (notebook 04): what each aggregation makes of length.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from prm_edu.widgets.static import score_color

GOOD, BAD, NEUTRAL = "#2166ac", "#b2182b", "#8c8c8c"
ORANGE = "#e08214"


def _axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def sparse_vs_dense(
    steps: Sequence[Sequence[str]],
    prm_scores: Sequence[Sequence[float]],
    outcomes: Sequence[float],
    titles: Sequence[str],
):
    """Per trace, two rows of reward per step: the outcome reward (only at the
    last step; nothing before it) and the PRM's score at every step.

    `steps[t]` are trace t's step texts, `prm_scores[t]` one score per step,
    `outcomes[t]` the single end-of-solution reward (1 right / 0 wrong, or an
    ORM's score). Returns the Figure.
    """
    import matplotlib.pyplot as plt

    n = len(steps)
    width = max(len(s) for s in steps)
    fig, axes = plt.subplots(
        2, n, figsize=(3.4 * n + 1.0, 4.6), sharey=True, squeeze=False
    )
    for t in range(n):
        k = len(steps[t])
        x = list(range(1, k + 1))
        top, bottom = axes[0][t], axes[1][t]
        colours = ["#ffffff"] * (k - 1) + [score_color(outcomes[t])]
        heights = [0.0] * (k - 1) + [outcomes[t]]
        top.bar(x, heights, color=colours, edgecolor="#333333", width=0.6)
        for i in range(k - 1):
            top.text(x[i], 0.05, "no\nsignal", ha="center", fontsize=8, color="#666")
        top.text(x[-1], outcomes[t] + 0.04, f"{outcomes[t]:.2f}", ha="center")
        top.set_title(titles[t], fontsize=11)
        bottom.bar(
            x,
            prm_scores[t],
            color=[score_color(s) for s in prm_scores[t]],
            edgecolor="#333333",
            width=0.6,
        )
        for i, s in enumerate(prm_scores[t]):
            bottom.text(x[i], s + 0.04, f"{s:.2f}", ha="center")
        for ax in (top, bottom):
            ax.set_xticks(x)
            ax.set_xlim(0.4, width + 0.6)
            ax.set_ylim(0, 1.18)
            ax.axhline(0.5, ls="--", lw=0.8, color="#555")
        bottom.set_xlabel("step")
    axes[0][0].set_ylabel("outcome reward\n(sparse: 1 number)")
    axes[1][0].set_ylabel("PRM score\n(dense: 1 per step)")
    fig.tight_layout()
    return fig


def credit_by_step(groups: Mapping[str, tuple[Sequence[float], Sequence[float]]]):
    """Credit assignment as bars: for each group of steps (name -> (outcome
    reward of each step's solution, PRM score of each step)), the mean credit
    each signal gives those steps. Name groups by what the steps truly are:
    a name containing "wrong step" is drawn in red, any other in blue.
    Returns the Figure."""
    import numpy as np

    fig, ax = _axes(None, (7.6, 0.62 * len(groups) + 1.6))
    names = list(groups)
    y = np.arange(len(names))
    outcome = [float(np.mean(groups[k][0])) for k in names]
    prm = [float(np.mean(groups[k][1])) for k in names]
    ax.barh(y - 0.19, outcome, height=0.36, color=ORANGE, label="outcome reward")
    ax.barh(y + 0.19, prm, height=0.36, color=GOOD, label="PRM score")
    for i, (o, p) in enumerate(zip(outcome, prm)):
        ax.text(o + 0.01, i - 0.19, f"{o:.2f}", va="center", fontsize=8)
        ax.text(p + 0.01, i + 0.19, f"{p:.2f}", va="center", fontsize=8)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{k} ({len(groups[k][1])})" for k in names])
    for tick, k in zip(ax.get_yticklabels(), names):
        tick.set_color(BAD if "wrong step" in k else GOOD)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("mean credit given to these steps")
    ax.set_title("Credit assignment: what each step is told")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def orm_vs_prm_scatter(
    orm: Sequence[float],
    prm_min: Sequence[float],
    kinds: Sequence[str],
    *,
    highlight: int | None = None,
):
    """Each solution as a point: ORM score (x) against the PRM's lowest step
    score (y). `kinds[i]` is "right", "wrong answer" or "right answer, wrong
    reasoning"; `highlight` circles one point. Returns the Figure."""
    fig, ax = _axes(None, (6.4, 5.0))
    styles = {
        "right": (GOOD, "o", "right answer, every step right"),
        "wrong answer": (BAD, "x", "wrong answer"),
        "right answer, wrong reasoning": (
            ORANGE,
            "D",
            "right answer, wrong reasoning",
        ),
    }
    for kind, (colour, marker, label) in styles.items():
        idx = [i for i, k in enumerate(kinds) if k == kind]
        if not idx:
            continue
        ax.scatter(
            [orm[i] for i in idx],
            [prm_min[i] for i in idx],
            c=colour,
            marker=marker,
            s=36 if marker == "D" else 22,
            alpha=0.9 if marker == "D" else 0.55,
            label=f"{label} ({len(idx)})",
        )
    if highlight is not None:
        ax.scatter(
            [orm[highlight]],
            [prm_min[highlight]],
            s=260,
            facecolors="none",
            edgecolors="black",
            lw=1.5,
            label="the trace shown below",
        )
    ax.axvline(0.5, ls="--", lw=0.8, color="#555")
    ax.axhline(0.5, ls="--", lw=0.8, color="#555")
    for x, y, text in ((0.76, 0.97, "both accept"), (0.24, 0.03, "both reject"),
                       (0.76, 0.3, "ORM accepts,\nPRM rejects")):
        ax.text(x, y, text, ha="center", va="top" if y > 0.5 else "bottom",
                fontsize=9, color="#555", style="italic")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("ORM score (one number per solution)")
    ax.set_ylabel("PRM: lowest step score (min)")
    ax.set_title("Who accepts what?")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return fig


def label_agreement(
    confusions: Mapping[str, object],
    *,
    baseline: tuple[str, float] | None = None,
):
    """Stacked bars, one per labelling method (name -> `MCConfusion`): steps
    where it agrees with the exact checker, where it calls a wrong step good
    (optimistic) and a right step bad (pessimistic). `baseline` is (name,
    agreement) of a labeller that needs no rollouts, e.g. ("every step bad",
    0.63), drawn as a dotted line: the figure to beat. Returns the Figure."""
    fig, ax = _axes(None, (7.0, 3.2))
    names = list(confusions)
    parts = (
        ("agree", lambda c: (c.both_good + c.both_bad) / c.n_steps, GOOD),
        ("optimistic (wrong step, MC says good)",
         lambda c: c.optimistic / c.n_steps, ORANGE),
        ("pessimistic (right step, MC says bad)",
         lambda c: c.pessimistic / c.n_steps, BAD),
    )
    left = [0.0] * len(names)
    for label, share, colour in parts:
        values = [share(confusions[k]) for k in names]
        ax.barh(names, values, left=left, color=colour, label=label)
        for i, v in enumerate(values):
            if v >= 0.06:
                ax.text(left[i] + v / 2, i, f"{v:.0%}", ha="center", va="center",
                        color="white", fontsize=9)
        left = [a + b for a, b in zip(left, values)]
    if baseline is not None:
        name, value = baseline
        ax.axvline(value, color="black", ls=":", lw=1.2,
                   label=f"'{name}' agrees {value:.0%}")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of steps, against the exact checker")
    ax.set_title("Monte Carlo labels vs exact labels")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


def active_learning(curve):
    """Two panels from an `ActiveLearningCurve`: the PRM's step AUROC on
    held-out steps, and the wrong-answer solutions among those labelled,
    both against the number of solutions labelled. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, points, colour, marker in (
        ("active (convincing wrong answers)", curve.active, GOOD, "o"),
        ("uniform", curve.uniform, NEUTRAL, "s"),
    ):
        n = [p.n_labelled for p in points]
        left.plot(n, [p.auroc for p in points], marker=marker, color=colour,
                  label=name)
        right.plot(n, [p.n_wrong_answer / p.n_labelled for p in points],
                   marker=marker, color=colour, label=name)
    left.set_xlabel("solutions labelled")
    left.set_ylabel("held-out step AUROC")
    left.set_title("PRM quality per label spent")
    right.set_xlabel("solutions labelled")
    right.set_ylabel("share with a wrong final answer")
    right.set_ylim(0, 1)
    right.set_title("What each strategy labelled")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# Notebook 03: training and evaluating a PRM
# --------------------------------------------------------------------------- #


def label_mask(
    tokens: Sequence[str],
    targets: Mapping[str, Sequence[float]],
    *,
    ignore: float = -100,
):
    """Where the loss applies: one panel per model (name -> one target per
    token), the encoded trace drawn one line per problem / step, each token
    in a box. A position with a target is coloured by it (blue 1 = good, red
    0 = bad) and the target is written at the line's end; every other
    position is `ignore` (-100) and grey. A "\\n" box is the step separator,
    a "·" a space. Returns the Figure."""
    import matplotlib.pyplot as plt

    # Split into lines at each "\n", which stays at the end of its line.
    lines, current = [], []
    for i, tok in enumerate(tokens):
        current.append(i)
        if tok == "\n":
            lines.append(current)
            current = []
    if current:
        lines.append(current)
    shown = ["\\n" if t == "\n" else t.replace(" ", "·") for t in tokens]
    width = max(sum(len(shown[i]) + 1 for i in line) for line in lines) + 12
    names = list(targets)
    # x is in characters of a 9-point monospace font (about 0.075 inch each).
    fig, axes = plt.subplots(
        len(names),
        1,
        figsize=(0.08 * width + 0.4, 0.34 * len(lines) * len(names) + 0.6),
        squeeze=False,
    )
    for ax, name in zip((a[0] for a in axes), names):
        row = targets[name]
        n_on = 0
        for y, line in enumerate(lines):
            x = 0.0
            for i in line:
                on = row[i] != ignore
                n_on += on
                face = score_color(row[i]) if on else "#eeeeee"
                colour = "white" if on else "#333333"
                ax.text(
                    x, -y, shown[i], family="monospace", fontsize=9, va="center",
                    color=colour,
                    bbox={"boxstyle": "square,pad=0.15", "fc": face,
                          "ec": "#999999", "lw": 0.5},
                )
                x += len(shown[i]) + 1
            last = row[line[-1]]
            note = f"target {last:g}" if last != ignore else f"{ignore:g}"
            ax.text(width - 10, -y, note, family="monospace", fontsize=9,
                    va="center",
                    color=score_color(last) if last != ignore else "#777777")
        ax.set_xlim(-1, width)
        ax.set_ylim(-len(lines) + 0.4, 0.6)
        ax.axis("off")
        ax.set_title(
            f"{name}: loss at {n_on} of {len(tokens)} positions "
            f"(the rest are {ignore:g})",
            loc="left", fontsize=10,
        )
    fig.tight_layout()
    return fig


def training_curves(histories: Mapping[str, Sequence[Mapping]], *, smooth: int = 5):
    """Training loss (left) and the validation metric (right) against the
    optimisation step, one line per model (name -> a `TrainResult.history`).
    The loss is drawn raw (faint) and as a running mean over `smooth` logs.
    Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    colours = [GOOD, ORANGE, NEUTRAL, BAD]
    for (name, history), colour in zip(histories.items(), colours):
        logs = [h for h in history if "loss" in h]
        steps = [h["step"] for h in logs]
        loss = [h["loss"] for h in logs]
        left.plot(steps, loss, color=colour, alpha=0.25, lw=1)
        left.plot(steps, _running_mean(loss, smooth), color=colour, lw=2, label=name)
        evals = [h for h in history if "loss" not in h]
        metric = next((k for k in (evals[0] if evals else {}) if k != "step"), None)
        if metric:
            right.plot([h["step"] for h in evals], [h[metric] for h in evals],
                       marker="o", color=colour, label=name)
    left.set_xlabel("optimisation step")
    left.set_ylabel("training loss (cross-entropy)")
    left.set_title("Loss at the labelled positions")
    right.set_xlabel("optimisation step")
    right.set_ylabel("validation AUROC")
    right.set_ylim(0.45, 1.02)
    right.axhline(0.5, ls=":", color="#777777", lw=1)
    right.set_title("Validation (held-out problems)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _running_mean(values: Sequence[float], k: int) -> list[float]:
    """The mean of each value and the up to `k` - 1 before it."""
    k = max(1, k)
    return [
        sum(values[max(0, i - k + 1) : i + 1]) / len(values[max(0, i - k + 1) : i + 1])
        for i in range(len(values))
    ]


def reliability_diagram(curves: Mapping[str, object], ece: Mapping[str, float]):
    """Calibration: for each model (name -> `metrics.ReliabilityCurve`), the
    share of good steps against the mean predicted score per bin, with the
    diagonal a calibrated model follows; below, how many predictions fell
    in each bin. `ece[name]` goes in the legend. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(5.6, 6.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], ls="--", color="#555555", lw=1, label="calibrated")
    colours = [GOOD, ORANGE, NEUTRAL, BAD]
    names = list(curves)
    bar_w = 1 / (len(next(iter(curves.values())).counts) * (len(names) + 1))
    for j, (name, colour) in enumerate(zip(names, colours)):
        c = curves[name]
        used = c.counts > 0
        top.plot(c.mean_prob[used], c.frac_positive[used], marker="o",
                 color=colour, label=f"{name} (ECE {ece[name]:.3f})")
        centres = (c.edges[:-1] + c.edges[1:]) / 2
        bottom.bar(centres + (j - (len(names) - 1) / 2) * bar_w, c.counts,
                   width=bar_w, color=colour)
    top.set_ylabel("share of steps that are good")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_title("Reliability diagram (held-out steps)")
    top.grid(alpha=0.3)
    top.legend(fontsize=8, loc="upper left")
    bottom.set_yscale("log")
    bottom.set_xlabel("predicted score (probability the step is good)")
    bottom.set_ylabel("steps")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- #
# Notebook 04: best-of-N and aggregation
# --------------------------------------------------------------------------- #


def value_by_length(
    lengths: Sequence[int],
    values: Mapping[str, Sequence[float]],
    *,
    title: str = "",
):
    """The mean solution value each aggregation (name -> one value per
    solution) gives, against the solution's number of steps (`lengths`),
    with the number of solutions per length as faint bars. Pass right
    solutions only to see a pure length effect. Returns the Figure."""
    fig, ax = _axes(None, (6.4, 3.8))
    by_len: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        by_len.setdefault(int(n), []).append(i)
    xs = sorted(by_len)
    counts = ax.twinx()
    counts.bar(xs, [len(by_len[x]) for x in xs], color="#dddddd", width=0.6)
    counts.set_ylabel("solutions", color="#888888")
    counts.tick_params(axis="y", colors="#888888")
    ax.set_zorder(counts.get_zorder() + 1)
    ax.patch.set_visible(False)
    styles = {"min": "o", "prod": "s", "last": "^", "mean": "D"}
    colours = {"min": GOOD, "prod": BAD, "last": NEUTRAL, "mean": ORANGE}
    for name, vals in values.items():
        ax.plot(xs, [sum(vals[i] for i in by_len[x]) / len(by_len[x]) for x in xs],
                marker=styles.get(name, "o"), color=colours.get(name), label=name)
    ax.set_xticks(xs)
    ax.set_xlabel("steps in the solution")
    ax.set_ylabel("mean solution value")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title or "What each aggregation makes of longer solutions")
    fig.tight_layout()
    return fig
