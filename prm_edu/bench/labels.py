"""Labels: Monte Carlo label agreement, and active learning against uniform picking.

`python -m prm_edu.bench labels [--part mc|active|all] [--json]` measures, on
fresh problems the shipped models never trained on:

- **mc**: hard Monte Carlo labels (Math-Shepherd, `--rollouts` 8) from the
  shipped generator against exact labels, on the generator's own solutions:
  agreement, the two kinds of disagreement, the agreement of always saying
  "good" (so the figure can be judged), and the AUROC of the soft fraction as
  a step score. Target: agreement >= 85%.
- **active**: PRMs fine-tuned from the generator's weights on exactly
  labelled generator solutions picked uniformly or by convincing wrong answer
  (PRM800K), at equal numbers of labelled solutions, averaged over
  `--al-seeds` seeds; `--variants` tries several selection scores and shares
  of uniform picks against the same uniform curve. Target: active reaches the
  uniform PRM's final step AUROC with at most half the labelled solutions.

Each PRM trains for a few minutes on 2 busy CPU cores: the defaults (one seed,
7 trainings) take about 10-15 minutes there; pass `--part mc` for the labels
alone (about 5 minutes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from prm_edu import worlds
from prm_edu.data.trace import Trace
from prm_edu.generation import sample_solutions
from prm_edu.labels import (
    ActiveLearningConfig,
    RolloutConfig,
    active_learning_curve,
    label_traces,
    mc_confusion,
    monte_carlo_labels,
)
from prm_edu.metrics import step_auroc

# Problem seeds of our own; problems come from the splits no shipped model
# trained on (see prm_edu.build_checkpoints.split_of).
_MC_SEED, _POOL_SEED, _EVAL_SEED = 70_001, 70_002, 70_003


def _problems(world, n: int, split: str, seed: int) -> list:
    from prm_edu.build_checkpoints import distinct_problems

    return distinct_problems(world, n, split, seed)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--world", default="equations")
    p.add_argument("--part", choices=("mc", "active", "all"), default="all")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=10, help="steps per solution")
    g = p.add_argument_group("Monte Carlo labels")
    g.add_argument("--mc-problems", type=int, default=100)
    g.add_argument("--mc-samples", type=int, default=2, help="solutions per problem")
    g.add_argument("--rollouts", type=int, default=8)
    g = p.add_argument_group("active learning")
    g.add_argument("--pool-problems", type=int, default=300)
    g.add_argument("--pool-samples", type=int, default=2)
    g.add_argument("--eval-problems", type=int, default=300)
    g.add_argument("--initial", type=int, default=32)
    g.add_argument("--per-round", type=int, default=32)
    g.add_argument("--rounds", type=int, default=3)
    g.add_argument(
        "--variants",
        default="min:0",
        help="selection score and uniform share per variant, e.g. min:0,min:0.5",
    )
    g.add_argument("--train-steps", type=int, default=150)
    g.add_argument("--train-lr", type=float, default=3e-3)
    g.add_argument("--al-seeds", type=int, default=1)
    p.add_argument(
        "--device", default="auto", help="device for training and generating"
    )
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument(
        "--checkpoints",
        default=None,
        help="folder holding <world>/generator/ (default: the shipped one)",
    )


def _solutions(world, generator, problems, n, args, seed) -> list[Trace]:
    texts = [p.text for p in problems]
    done = sample_solutions(
        generator,
        texts,
        n,
        max_steps=args.max_steps,
        temperature=args.temperature,
        seed=seed,
    )
    return [
        Trace(text, c.steps)
        for text, row in zip(texts, done, strict=True)
        for c in row
        if c.steps
    ]


def _auroc_or_none(traces, scores) -> float | None:
    """Step AUROC, or None when the steps are all of one kind."""
    try:
        return round(step_auroc(traces, scores), 4)
    except ValueError:
        return None


def run_mc(args, world, generator) -> dict:
    problems = _problems(world, args.mc_problems, "test", _MC_SEED + args.seed)
    traces = _solutions(world, generator, problems, args.mc_samples, args, args.seed)
    exact = label_traces(world, traces)
    before = generator.usage.snapshot()
    start = time.perf_counter()
    config = RolloutConfig(
        n_rollouts=args.rollouts,
        max_steps=args.max_steps,
        temperature=args.temperature,
        seed=args.seed,
    )
    soft = monte_carlo_labels(world, generator, traces, config, soft=True)
    wall = time.perf_counter() - start
    conf = mc_confusion(soft, exact)
    n_good = conf.both_good + conf.pessimistic
    scores = [list(t.labels) for t in soft]
    used = generator.usage.since(before)
    return {
        "traces": len(traces),
        "steps": conf.n_steps,
        "rollouts": args.rollouts,
        "agreement": round(conf.agreement, 4),
        "optimistic_steps": conf.optimistic,
        "pessimistic_steps": conf.pessimistic,
        "exact_good_fraction": round(n_good / conf.n_steps, 4),
        "always_good_agreement": round(n_good / conf.n_steps, 4),
        "agreement_on_bad_steps": round(
            conf.both_bad / max(1, conf.both_bad + conf.optimistic), 4
        ),
        "agreement_on_good_steps": round(conf.both_good / max(1, n_good), 4),
        "soft_label_step_auroc": _auroc_or_none(exact, scores),
        "generator_accuracy": round(
            sum(world.grade(world.parse_problem(t.problem), t.steps) for t in traces)
            / len(traces),
            4,
        ),
        "generated_tokens": used.tokens,
        "wall_time_s": round(wall, 1),
        "target_agreement": 0.85,
        "meets_target": conf.agreement >= 0.85,
    }


def _trainer(generator, args):
    """Fine-tune a PRM that starts from the generator's weights (as the shipped
    PRM does, and as real PRMs start from a language model) for a fixed small
    number of steps: the same recipe for every strategy and round.

    Results are remembered by (labelled traces, seed): the uniform curve and
    the shared first round are trained once for all selection variants."""
    from prm_edu.models import PRMScorer
    from prm_edu.models.prm import prm_from_generator
    from prm_edu.training import TrainConfig, train_prm

    memo: dict = {}

    def train(traces, seed):
        key = (tuple((t.problem, t.steps) for t in traces), seed)
        if key in memo:
            return memo[key]
        config = TrainConfig(
            lr=args.train_lr,
            max_steps=args.train_steps,
            batch_size=32,
            seed=seed,
            eval_every=10**9,
            progress=False,
            device=args.device,
        )
        model = prm_from_generator(generator.model, seed=seed)
        result = train_prm(traces, config, tokenizer=generator.tokenizer, model=model)
        memo[key] = PRMScorer(result.model, result.tokenizer)
        return memo[key]

    return train


def _variants(text: str) -> list[tuple[str, float]]:
    """ "min:0,last:0.5" -> [("min", 0.0), ("last", 0.5)]."""
    out = []
    for part in text.split(","):
        how, _, share = part.strip().partition(":")
        out.append((how, float(share or 0)))
    return out


def _mean_curve(curves, name: str, field: str) -> list[float]:
    return [
        statistics.fmean(getattr(getattr(c, name)[r], field) for c in curves)
        for r in range(len(curves[0].uniform))
    ]


def run_active(args, world, generator) -> dict:
    start = time.perf_counter()
    pool_problems = _problems(world, args.pool_problems, "val", _POOL_SEED + args.seed)
    eval_problems = _problems(world, args.eval_problems, "test", _EVAL_SEED + args.seed)
    pool = _solutions(world, generator, pool_problems, args.pool_samples, args, 1)
    evals = label_traces(world, _solutions(world, generator, eval_problems, 1, args, 2))
    train = _trainer(generator, args)
    variants = []
    for select_by, share in _variants(args.variants):
        curves = []
        for s in range(args.al_seeds):
            config = ActiveLearningConfig(
                initial=args.initial,
                per_round=args.per_round,
                rounds=args.rounds,
                select_by=select_by,
                uniform_share=share,
                seed=args.seed + s,
            )
            curve = active_learning_curve(
                world, pool, evals, train, config, progress=True
            )
            curves.append(curve)
            print(  # progress for long runs; stdout stays the result alone
                f"{select_by}:{share} seed {config.seed}: active "
                f"{[round(p.auroc, 4) for p in curve.active]} uniform "
                f"{[round(p.auroc, 4) for p in curve.uniform]}",
                file=sys.stderr,
                flush=True,
            )
        n = [p.n_labelled for p in curves[0].uniform]
        active = _mean_curve(curves, "active", "auroc")
        uniform = _mean_curve(curves, "uniform", "auroc")
        target = uniform[-1]
        reach = next((k for k, a in zip(n, active, strict=True) if a >= target), None)
        variants.append(
            {
                "select_by": select_by,
                "uniform_share": share,
                "n_labelled": n,
                "active_auroc": [round(a, 4) for a in active],
                "uniform_auroc": [round(a, 4) for a in uniform],
                "active_wrong_answers": _mean_curve(curves, "active", "n_wrong_answer"),
                "uniform_wrong_answers": _mean_curve(
                    curves, "uniform", "n_wrong_answer"
                ),
                "per_seed": [
                    {
                        "active": [round(p.auroc, 4) for p in c.active],
                        "uniform": [round(p.auroc, 4) for p in c.uniform],
                    }
                    for c in curves
                ],
                "uniform_final_auroc": round(target, 4),
                "active_labelled_to_reach_it": reach,
                "data_efficiency": None if reach is None else round(n[-1] / reach, 2),
                "meets_target": reach is not None and reach <= n[-1] / 2,
            }
        )
    return {
        "pool_solutions": len(pool),
        "pool_wrong_answer_fraction": round(
            sum(not world.grade(world.parse_problem(t.problem), t.steps) for t in pool)
            / len(pool),
            4,
        ),
        "eval_traces": len(evals),
        "eval_bad_step_fraction": round(
            sum(v < 0 for t in evals for v in t.labels)
            / sum(len(t.labels) for t in evals),
            4,
        ),
        "train_steps": args.train_steps,
        "seeds": args.al_seeds,
        "variants": variants,
        "wall_time_s": round(time.perf_counter() - start, 1),
    }


def _load_generator(args):
    """The generator under test: shipped, or from `--checkpoints`."""
    from pathlib import Path

    import torch

    from prm_edu.models import Generator, load_generator
    from prm_edu.models.checkpoints import load_model

    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else None
    device = device or (None if args.device == "auto" else args.device)
    if args.checkpoints is None:
        return load_generator(args.world, device=device)
    path = Path(args.checkpoints) / args.world / "generator"
    return Generator(*load_model(path, "generator"), device=device)


def run(args) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    world = worlds.get(args.world)
    generator = _load_generator(args)
    out: dict = {"world": args.world, "seed": args.seed}
    if args.part in ("mc", "all"):
        out["monte_carlo"] = run_mc(args, world, generator)
    if args.part in ("active", "all"):
        out["active_learning"] = run_active(args, world, generator)
    return out


def format_text(result: dict) -> str:
    lines = [f"world: {result['world']}"]
    mc = result.get("monte_carlo")
    if mc:
        lines += [
            f"Monte Carlo labels ({mc['rollouts']} rollouts, hard) on "
            f"{mc['traces']} traces / {mc['steps']} steps:",
            f"  agreement with exact labels: {mc['agreement']:.1%} "
            f"(target 85%: {'met' if mc['meets_target'] else 'MISSED'}; "
            f"always 'good' would give {mc['always_good_agreement']:.1%})",
            f"  optimistic steps (wrong, MC says good): {mc['optimistic_steps']}; "
            f"pessimistic (good, MC says bad): {mc['pessimistic_steps']}",
            f"  soft label as a step score: AUROC {mc['soft_label_step_auroc']}",
            f"  {mc['generated_tokens']} tokens generated in {mc['wall_time_s']} s",
        ]
    al = result.get("active_learning")
    for v in (al or {}).get("variants", []):
        lines.append(
            f"Active learning (select by {v['select_by']}, uniform share "
            f"{v['uniform_share']}, {al['seeds']} seed(s)): step AUROC on "
            f"{al['eval_traces']} traces"
        )
        lines.append("  labelled  active  uniform")
        for n, a, u in zip(
            v["n_labelled"], v["active_auroc"], v["uniform_auroc"], strict=True
        ):
            lines.append(f"  {n:8d}  {a:.4f}  {u:.4f}")
        lines.append(
            f"  active reaches uniform's final {v['uniform_final_auroc']:.4f} at "
            f"{v['active_labelled_to_reach_it']} labelled "
            f"(target <= {v['n_labelled'][-1] // 2}: "
            f"{'met' if v['meets_target'] else 'MISSED'})"
        )
    return "\n".join(lines)
