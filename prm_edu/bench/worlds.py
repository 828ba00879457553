"""Worlds: how long each world's exact checker takes per step.

`python -m prm_edu.bench worlds [--steps 10000] [--json]` checks `--steps`
scripted steps per world (all levels, `--error-rate` of them wrong, so every
kind of label and reason is produced) and reports the time to check 10,000
steps: the cost of every exact label, Monte Carlo grade and RL reward in the
course. The best of `--repeats` runs is reported, as machines are noisy.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from prm_edu import worlds
from prm_edu.scripted import ScriptedGenerator


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=10_000, help="steps per world")
    p.add_argument("--error-rate", type=float, default=0.3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--world", choices=worlds.names(), action="append")


def _workload(world, n_steps: int, error_rate: float, seed: int):
    """(problem, steps) pairs with at least `n_steps` steps, levels mixed."""
    gen = ScriptedGenerator(world, error_rate=error_rate, seed=seed)
    pairs, total, batch = [], 0, 0
    while total < n_steps:
        for level in world.levels:
            problems = world.sample(200, seed=seed * 1000 + batch, level=level)
            for trace, problem in zip(gen.sample(problems), problems):
                if total >= n_steps:
                    break
                steps = trace.steps[: n_steps - total]
                pairs.append((problem, steps))
                total += len(steps)
        batch += 1
    return pairs, total


def run(args) -> dict:
    rows = []
    for name in args.world or worlds.names():
        world = worlds.get(name)
        pairs, n = _workload(world, args.steps, args.error_rate, args.seed)
        times, labels = [], []
        for _ in range(max(1, args.repeats)):
            start = time.perf_counter()
            labels = [world.check(problem, steps) for problem, steps in pairs]
            times.append(time.perf_counter() - start)
        values = [label.value for trace in labels for label in trace]
        best = min(times)
        rows.append(
            {
                "world": name,
                "steps": n,
                "traces": len(pairs),
                "seconds_best": round(best, 3),
                "seconds_median": round(statistics.median(times), 3),
                "seconds_per_10k_steps": round(best * 10_000 / n, 3),
                "us_per_step": round(best * 1e6 / n, 1),
                "label_share": {
                    str(v): round(values.count(v) / len(values), 3) for v in (1, 0, -1)
                },
            }
        )
    return {
        "worlds": rows,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def format_text(result: dict) -> str:
    lines = [
        f"{'world':<11} {'steps':>7} {'s / 10k steps':>14} {'us / step':>10}  "
        f"labels +1/0/-1",
    ]
    for r in result["worlds"]:
        share = r["label_share"]
        lines.append(
            f"{r['world']:<11} {r['steps']:>7} {r['seconds_per_10k_steps']:>14.3f} "
            f"{r['us_per_step']:>10.1f}  {share['1']:.2f}/{share['0']:.2f}/"
            f"{share['-1']:.2f}"
        )
    lines.append(f"(best of repeats; Python {result['python']} on {result['machine']})")
    return "\n".join(lines)
