"""RL: GRPO with outcome vs process (PRM) vs exact rewards, at equal steps.

`python -m prm_edu.bench rl --world equations --seeds 0,1,2 --json`
fine-tunes the shipped generator once per reward and seed with
`prm_edu.rl.train_rl` (everything else equal: same training problems per
seed, same held-out problems) and reports, per reward, the curve of held-out
accuracy at 1 sample (as `RLConfig` evaluates it: the share right among a
few samples per problem at the evaluation temperature, or one greedy
solution at temperature 0) against training steps (mean, min and max over
seeds, and each seed's), the area under it (higher = rose sooner), the
paired per-seed gap "process minus outcome" in that area, and the
reward-hacking view at the end: the PRM's mean step score of the policy's
samples next to their true accuracy. ``--plot PATH`` saves the accuracy
figure, ``--hacking-plot PATH`` the reward-hacking one.
"""

from __future__ import annotations

import argparse
import math
import time

from prm_edu.rl.grpo import RLConfig

WORLDS = ("equations", "arithmetic", "game24")
REWARD_NAMES = ("outcome", "process", "exact")
_DEFAULT = RLConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", default="equations", choices=WORLDS)
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument(
        "--rewards", default=",".join(REWARD_NAMES), help="comma-separated rewards"
    )
    parser.add_argument("--steps", type=int, default=_DEFAULT.steps)
    parser.add_argument(
        "--problems-per-step", type=int, default=_DEFAULT.problems_per_step
    )
    parser.add_argument("--group-size", type=int, default=_DEFAULT.group_size)
    parser.add_argument("--lr", type=float, default=_DEFAULT.lr)
    parser.add_argument("--kl-coef", type=float, default=_DEFAULT.kl_coef)
    parser.add_argument("--credit", default=_DEFAULT.credit, choices=("to_go", "step"))
    parser.add_argument("--temperature", type=float, default=_DEFAULT.temperature)
    parser.add_argument("--max-steps", type=int, default=_DEFAULT.max_steps)
    parser.add_argument("--level", type=int, default=None, help="world level")
    parser.add_argument("--eval-every", type=int, default=_DEFAULT.eval_every)
    parser.add_argument("--eval-problems", type=int, default=_DEFAULT.eval_problems)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--plot", default=None, help="save the accuracy figure here")
    parser.add_argument(
        "--hacking-plot", default=None, help="save the reward-hacking figure here"
    )


def run(args) -> dict:
    import torch

    from prm_edu.models import load_generator, load_prm
    from prm_edu.rl import area_under, compare_rewards, curves

    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rewards = [r for r in args.rewards.split(",") if r]
    for r in rewards:
        if r not in REWARD_NAMES:
            raise SystemExit(f"unknown reward {r!r}: choose from {REWARD_NAMES}.")
    config = RLConfig(
        steps=args.steps,
        problems_per_step=args.problems_per_step,
        group_size=args.group_size,
        lr=args.lr,
        kl_coef=args.kl_coef,
        credit=args.credit,
        temperature=args.temperature,
        max_steps=args.max_steps,
        level=args.level,
        eval_every=args.eval_every,
        eval_problems=args.eval_problems,
        progress=False,
    )
    start = time.perf_counter()
    generator, prm = load_generator(args.world), load_prm(args.world)
    results = compare_rewards(
        generator, args.world, prm, rewards=rewards, seeds=seeds, config=config
    )
    acc = curves(results)
    summary = {}
    for reward in rewards:
        runs = [results[reward, s] for s in seeds]
        last = [r.history[-1] for r in runs]
        summary[reward] = {
            "start_accuracy": acc[reward]["mean"][0],
            "final_accuracy": acc[reward]["mean"][-1],
            "final_accuracy_per_seed": [h["held_out_accuracy"] for h in last],
            "area_under_curve": round(area_under(acc[reward]), 4),
            "final_held_out_prm_score": _mean(
                h.get("held_out_prm_score") for h in last
            ),
            "final_sample_prm_score": _mean(
                _tail(r.history, "prm_score") for r in runs
            ),
            "final_sample_accuracy": _mean(_tail(r.history, "accuracy") for r in runs),
            "final_kl": _mean(_tail(r.history, "kl") for r in runs),
            "final_steps_per_solution": _mean(h.get("held_out_steps") for h in last),
            "wall_time_s": round(sum(r.wall_time_s for r in runs), 1),
        }
    out = {
        "world": args.world,
        "checkpoints": _fingerprints(args.world),
        "seeds": seeds,
        "config": {
            k: v for k, v in vars(config).items() if k not in ("reward", "seed")
        },
        "held_out": held_out_text(config),
        "curves": acc,
        "summary": summary,
        "wall_time_s": round(time.perf_counter() - start, 1),
    }
    if "process" in rewards and "outcome" in rewards:
        gaps = [
            area_under(_one(acc["process"], s)) - area_under(_one(acc["outcome"], s))
            for s in seeds
        ]
        out["process_minus_outcome_area"] = {
            "per_seed": [round(g, 4) for g in gaps],
            "mean": round(sum(gaps) / len(gaps), 4),
            "process_faster_in_seeds": sum(g > 0 for g in gaps),
        }
    if args.plot or args.hacking_plot:
        import matplotlib

        matplotlib.use("Agg")
        from prm_edu.rl import plot_accuracy, plot_reward_hacking

        if args.plot:
            plot_accuracy(results).savefig(args.plot, dpi=120)
        if args.hacking_plot:
            plot_reward_hacking(results).savefig(args.hacking_plot, dpi=120)
    return out


def held_out_text(config) -> str:
    """How held-out accuracy at 1 sample was measured, in words."""
    if config.eval_temperature > 0:
        return (
            f"{config.eval_problems} test-split problems, {config.eval_samples} "
            f"solutions each sampled at T={config.eval_temperature}: the share "
            "right is the expected accuracy of one sample"
        )
    return f"{config.eval_problems} test-split problems, one greedy solution each"


def format_text(result: dict) -> str:
    lines = [
        f"GRPO on {result['world']}, seeds {result['seeds']}, "
        f"{result['config']['steps']} steps; held-out accuracy@1 "
        f"({result['held_out']}):",
        f"{'reward':<9} {'start':>6} {'final':>6} {'area':>6} "
        f"{'PRM score':>9} {'sample acc':>10} {'KL':>7}",
    ]
    for reward, s in result["summary"].items():
        lines.append(
            f"{reward:<9} {s['start_accuracy']:>6.3f} {s['final_accuracy']:>6.3f} "
            f"{s['area_under_curve']:>6.3f} {s['final_sample_prm_score']:>9.3f} "
            f"{s['final_sample_accuracy']:>10.3f} {s['final_kl']:>7.4f}"
        )
    gap = result.get("process_minus_outcome_area")
    if gap:
        lines.append(
            f"process - outcome (area under the curve): {gap['mean']:+.4f}, "
            f"process faster in {gap['process_faster_in_seeds']} of "
            f"{len(gap['per_seed'])} seeds"
        )
    lines.append(f"wall time {result['wall_time_s']} s")
    return "\n".join(lines)


def _fingerprints(world: str) -> dict:
    """The first 12 hex digits of the SHA-256 of each model used, so that a
    result can be matched with the checkpoints that produced it."""
    import hashlib

    from prm_edu.models import shipped_path

    out = {}
    for role in ("generator", "prm"):
        weights = shipped_path(world, role) / "model.safetensors"
        out[role] = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    return out


def _one(curve: dict, seed: int) -> dict:
    return {"mean": curve["per_seed"][str(seed)]}


def _tail(history: list[dict], key: str, n: int = 5) -> float:
    """The mean of `key` over the last `n` training steps (samples are noisy)."""
    values = [h[key] for h in history if key in h][-n:]
    return _mean(values)


def _mean(values) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return round(sum(values) / len(values), 4) if values else math.nan
