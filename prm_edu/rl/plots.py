"""The two pictures of notebook 08: accuracy against training steps, and the
reward-hacking view (what the PRM thinks of the samples next to the truth)."""

from __future__ import annotations

import math

from prm_edu.rl.compare import Results, curves

COLOURS = {"outcome": "tab:blue", "process": "tab:orange", "exact": "tab:green"}


def plot_accuracy(
    results: Results,
    *,
    key: str = "held_out_accuracy",
    ax=None,
    title: str | None = None,
):
    """Held-out accuracy at 1 sample against training steps, one line per
    reward (the mean over seeds), each seed's run drawn thin. Returns the
    Figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.2))
    else:
        fig = ax.figure
    n_seeds = len({s for _, s in results})
    config = next(iter(results.values())).config
    how = (
        "greedy"
        if config.eval_temperature == 0 or key == "held_out_greedy_accuracy"
        else f"sampled at T={config.eval_temperature:g}"
    )
    ylabel = f"held-out accuracy at 1 sample ({how})"
    for reward, c in curves(results, key).items():
        colour = COLOURS.get(reward)
        for values in c["per_seed"].values():
            if n_seeds > 1:
                ax.plot(c["steps"], values, color=colour, lw=0.8, alpha=0.35)
        ax.plot(
            c["steps"],
            c["mean"],
            marker="o",
            ms=4,
            color=colour,
            label=f"{reward} reward",
        )
    ax.set_xlabel("training steps")
    ax.set_ylabel(ylabel)
    seeds = f", mean of {n_seeds} seeds" if n_seeds > 1 else ""
    ax.set_title(title or f"GRPO: which reward teaches fastest?{seeds}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_reward_hacking(results: Results, *, seed: int | None = None, smooth: int = 5):
    """One panel per reward: the PRM's mean step score of the policy's samples
    next to their true accuracy (exact grading), the share of their steps
    the exact checker accepts, and how well the PRM still ranks their steps
    (step AUROC), against training steps (running mean over `smooth` steps).
    A PRM score that climbs while the truth stays flat or falls is reward
    hacking. Uses the first seed unless `seed` is given.
    Returns the Figure."""
    import matplotlib.pyplot as plt

    seed = min(s for _, s in results) if seed is None else seed
    runs = [(r, res) for (r, s), res in results.items() if s == seed]
    if not runs:
        raise ValueError(
            f"no run with seed={seed}: seeds are {sorted({s for _, s in results})}."
        )
    fig, axes = plt.subplots(
        1, len(runs), figsize=(4.2 * len(runs), 3.6), sharey=True, squeeze=False
    )
    for ax, (reward, res) in zip(axes[0], runs):
        rows = [h for h in res.history if "accuracy" in h]
        steps = [h["step"] for h in rows]
        for key, label, style in (
            ("prm_score", "PRM mean step score", "-"),
            ("step_accuracy", "steps the checker accepts", ":"),
            ("accuracy", "true accuracy", "--"),
            ("prm_auroc", "PRM step AUROC on them", "-."),
        ):
            if all(math.isnan(h.get(key, math.nan)) for h in rows):
                continue
            values = _running_mean([h.get(key, math.nan) for h in rows], smooth)
            ax.plot(steps, values, style, lw=2, label=label)
        ax.set_title(f"{reward} reward")
        ax.set_xlabel("training steps")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("the policy's samples (training problems)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.suptitle("Reward hacking shows as the PRM's score parting from the truth")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _running_mean(values: list[float], window: int) -> list[float]:
    out = []
    for i in range(len(values)):
        part = [v for v in values[max(0, i - window + 1) : i + 1] if not math.isnan(v)]
        out.append(sum(part) / len(part) if part else math.nan)
    return out


def group_table(rollouts, verdict, group: int = 0):
    """One group of sampled solutions as a table: the steps, whether the final
    answer is right, the exact checker's label and the PRM's score per step
    (a `pandas.DataFrame`; `verdict` comes from `prm_edu.rl.judge`)."""
    import pandas as pd

    g = rollouts.group_size
    rows = []
    for i in range(group * g, (group + 1) * g):
        scores = verdict.prm_scores[i] if verdict.prm_scores is not None else []
        rows.append(
            {
                "steps": " | ".join(rollouts.steps[i]),
                "right": "yes" if verdict.correct[i] else "no",
                "exact labels": " ".join(f"{v:+d}" for v in verdict.labels[i]),
                "PRM scores": " ".join(f"{s:.2f}" for s in scores),
            }
        )
    return pd.DataFrame(rows)
