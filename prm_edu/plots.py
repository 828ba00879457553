"""The course's shared matplotlib figures, one function per picture.

Every function takes plain numbers (scores, counts, curves) computed in the
notebook, draws one figure and returns it, so a learner can see exactly what
went in. Colours follow the score scale of the widgets (red = likely wrong,
blue = likely right; ColorBrewer RdBu, safe for colour-blind readers).

- `sparse_vs_dense` (notebook 01): one reward at the end vs one per step.
- `first_error_finding` (notebook 01): how often each signal points at the
  step that went wrong (credit assignment).
- `orm_vs_prm_scatter` (notebook 01): ORM score against the PRM's weakest
  step, for right, wrong, and right-by-wrong-reasoning solutions.
- `label_agreement` (notebook 02): Monte Carlo labels against exact ones.
- `active_learning` (notebook 02): PRM quality against labels spent.
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


def first_error_finding(rates: Mapping[str, float], n: int, *, title: str = ""):
    """Bars: for each signal (name -> fraction), how often it names the exact
    first wrong step of `n` failed solutions. Returns the Figure."""
    fig, ax = _axes(None, (6.4, 3.4))
    names = list(rates)
    values = [rates[k] for k in names]
    colours = [GOOD if "PRM" in k else ORANGE if "ORM" in k else NEUTRAL for k in names]
    bars = ax.barh(names, values, color=colours)
    for bar, v in zip(bars, values):
        ax.text(v + 0.01, bar.get_y() + bar.get_height() / 2, f"{v:.0%}", va="center")
    ax.set_xlim(0, 1.1)
    ax.invert_yaxis()
    ax.set_xlabel(f"first wrong step found exactly ({n} failed solutions)")
    ax.set_title(title or "Credit assignment: which step is to blame?")
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
    ax.text(0.98, 0.02, "ORM: accept\nPRM: reject", ha="right", va="bottom",
            transform=ax.transAxes, fontsize=9, color="#555")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel("ORM score (one number per solution)")
    ax.set_ylabel("PRM: lowest step score (min)")
    ax.set_title("Who accepts what?")
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return fig


def label_agreement(
    confusions: Mapping[str, object], *, always_good: float | None = None
):
    """Stacked bars, one per labelling method (name -> `MCConfusion`): steps
    where it agrees with the exact checker, where it calls a wrong step good
    (optimistic) and a right step bad (pessimistic). `always_good` draws the
    agreement of labelling every step good, the baseline to beat. Returns
    the Figure."""
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
    if always_good is not None:
        ax.axvline(always_good, color="black", ls=":", lw=1.2,
                   label=f"'every step good' agrees {always_good:.0%}")
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
