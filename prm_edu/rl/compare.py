"""Outcome vs process vs exact rewards, at equal training steps, over seeds.

`compare_rewards` runs `train_rl` once per (reward, seed) with everything
else equal (same starting generator, same training problems for a seed, same
held-out problems), and `curves` summarises the held-out accuracy curves for
plots and JSON. Defined in notebook 08.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Sequence

from prm_edu.rl.grpo import RLConfig, RLResult, train_rl
from prm_edu.rl.rewards import REWARDS

Results = dict[tuple[str, int], RLResult]


def compare_rewards(
    generator,
    world,
    prm,
    *,
    rewards: Sequence[str] = REWARDS,
    seeds: Sequence[int] = (0,),
    config: RLConfig | None = None,
) -> Results:
    """Fine-tune `generator` once per reward and seed; `config` sets every
    other knob (its `reward` and `seed` are replaced). Returns
    ``{(reward, seed): RLResult}``."""
    config = config or RLConfig()
    results: Results = {}
    for seed in seeds:
        for reward in rewards:
            run = replace(config, reward=reward, seed=seed)
            results[reward, seed] = train_rl(generator, world, run, prm=prm)
    return results


def history_rows(results: Results) -> list[dict]:
    """Every history row of every run, tagged with its reward and seed
    (``pandas.DataFrame(history_rows(results))`` for plots)."""
    return [
        {"reward": reward, "seed": seed, **row}
        for (reward, seed), result in results.items()
        for row in result.history
    ]


def curves(results: Results, key: str = "held_out_accuracy") -> dict:
    """For each reward: the steps where `key` was measured, its value per seed,
    and the mean and min/max over seeds at each of those steps."""
    out: dict[str, dict] = {}
    for reward in dict.fromkeys(r for r, _ in results):
        runs = {s: res.history for (r, s), res in results.items() if r == reward}
        steps = sorted({h["step"] for hist in runs.values() for h in hist if key in h})
        per_seed = {
            str(seed): [_at(hist, step, key) for step in steps]
            for seed, hist in runs.items()
        }
        columns = list(zip(*per_seed.values()))
        out[reward] = {
            "steps": steps,
            "per_seed": per_seed,
            "mean": [_mean(c) for c in columns],
            "min": [min(c) for c in columns],
            "max": [max(c) for c in columns],
        }
    return out


def area_under(curve: dict) -> float:
    """The mean of a curve's mean over its measured steps: one number that is
    higher for a curve that rises sooner (steps are evenly spaced)."""
    return _mean(curve["mean"])


def _at(history: list[dict], step: int, key: str) -> float:
    return next((h[key] for h in history if h["step"] == step and key in h), math.nan)


def _mean(values) -> float:
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan
