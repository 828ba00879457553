"""Search: accuracy against compute for every reranker and tree search.

`python -m prm_edu.bench search --world equations --problems 100 --seed 0
--json` samples a pool of max(budgets) solutions per held-out problem with the
shipped generator, scores it once with the shipped PRM and ORM, evaluates the
rerankers at every budget by subsampling the pool, runs beam search, ToT BFS,
DFS and DVTS once per budget, and prints one row per (method, budget):
accuracy with a 95% bootstrap interval over problems, mean generated tokens
per problem, and seconds (for rerankers, the pool's measured generation and
scoring time scaled by N / pool size). ``choices`` lists each method's chosen
final step for every problem (for rerankers: trial 0, the first N samples), so
that a reader can re-grade them with the world. ``--plot PATH`` saves the
accuracy-vs-tokens figure with the pass@N ceiling.

``--seeds 0,1,2,3,4`` runs the benchmark on each of several draws of
problems: the JSON then holds one such result per draw (``draws``, each with
its ``seed``) and ``pooled``, every method's accuracy over the distinct
problems of all the draws (`prm_edu.evaluation.pool_draws`); ``--summary``
gives the paired gaps per draw and pooled.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from prm_edu.evaluation import (
    RERANK_METHODS,
    SEARCH_METHODS,
    paired_gap,
    plot_accuracy,
    pool_draws,
    records,
    rerank_curve,
    search_curve,
    search_runner,
    tokens_to_match,
)
from prm_edu.search.answers import answer_fn, grade_fn
from prm_edu.search.pool import PoolConfig, sample_pool

METHODS = (*RERANK_METHODS, *SEARCH_METHODS)
WORLDS = ("equations", "arithmetic", "game24")
# Seeds for drawing benchmark problems; which problems count as held out is
# decided by `prm_edu.build_checkpoints.split_of` (a hash of the text).
HELD_OUT_SEED = 7_000_001


def held_out_problems(world, n: int, seed: int, level=None) -> list:
    """Up to `n` distinct problems of the "test" split, which the shipped
    models never trained or picked thresholds on (fewer when the world has
    fewer, e.g. game24)."""
    from prm_edu.build_checkpoints import split_of

    seen, out, idle = set(), [], 0
    for round_ in range(50):
        batch = world.sample(
            12 * n + 50, seed=HELD_OUT_SEED + 1000 * seed + round_, level=level
        )
        before = len(out)
        for p in batch:
            if p.text not in seen and split_of(p.text) == "test":
                seen.add(p.text)
                out.append(p)
        idle = idle + 1 if len(out) == before else 0
        if len(out) >= n or idle == 3:  # enough, or the world has no more
            break
    return out[:n]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", default="equations", choices=WORLDS)
    parser.add_argument(
        "--problems", type=int, default=100, help="held-out (test split) problems"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        default=None,
        help="comma-separated draws, e.g. 0,1,2,3,4 (instead of --seed): the "
        "benchmark on each, then every method over their distinct problems",
    )
    parser.add_argument("--level", type=int, default=None, help="world level")
    parser.add_argument(
        "--budgets", default="1,2,4,8,16,32,64", help="comma-separated N values"
    )
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated methods"
    )
    parser.add_argument("--trials", type=int, default=16, help="subsets per N")
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 is fastest for these tiny models on shared cores)",
    )
    parser.add_argument("--plot", default=None, help="save the figure here (PNG)")
    parser.add_argument(
        "--summary",
        default=None,
        help="write the issue's targets (paired gaps, token ratios) as JSON here",
    )


def parse_list(
    text: str, what: str, allowed: Sequence[str] | None = None, *, least: int = 1
) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise SystemExit(f"--{what} is empty: give a comma-separated list.")
    if allowed is None:
        try:
            values = [int(t) for t in items]
        except ValueError:
            raise SystemExit(
                f"--{what} must be whole numbers like 1,2,4,8, got {text!r}."
            ) from None
        if any(v < least for v in values):
            raise SystemExit(f"--{what} must be >= {least}, got {text!r}.")
        return sorted(set(values))
    unknown = [t for t in items if t not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what} {unknown}: choose from {', '.join(allowed)}.")
    return items


def run(args: argparse.Namespace) -> dict:
    import torch

    from prm_edu import worlds
    from prm_edu.models import load_generator, load_orm, load_prm

    if args.threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {args.threads}.")
    torch.set_num_threads(args.threads)

    budgets = parse_list(args.budgets, "budgets")
    methods = parse_list(args.methods, "methods", METHODS)
    if args.problems < 1:
        raise SystemExit(f"--problems must be >= 1, got {args.problems}.")
    seeds = (
        [args.seed] if args.seeds is None else parse_list(args.seeds, "seeds", least=0)
    )
    if args.plot and len(seeds) > 1:
        raise SystemExit("--plot draws one draw: give --seed, not --seeds.")
    world = worlds.get(args.world)
    models = load_generator(args.world), load_prm(args.world), load_orm(args.world)
    draws = []
    for seed in seeds:
        problems = held_out_problems(world, args.problems, seed, args.level)
        texts = [p.text for p in problems]
        result, curves = benchmark(
            args.world,
            texts,
            *models,
            answer_of=answer_fn(world),
            grade=grade_fn(world),
            budgets=budgets,
            methods=methods,
            trials=args.trials,
            seed=seed,
            max_steps=args.max_steps,
            temperature=args.temperature,
        )
        draws.append((seed, texts, result, curves))
    if args.plot:
        fig = plot_accuracy(
            curves,
            title=f"{args.world}: accuracy vs generated tokens "
            f"({len(problems)} held-out problems)",
        )
        fig.savefig(args.plot, dpi=120, bbox_inches="tight")
    if len(draws) == 1:
        summaries = summary(curves, max(budgets))
    else:
        pooled = pool_draws([(t, c) for _, t, _, c in draws], seed=seeds[0])
        result = {
            "world": args.world,
            "draws": [{"seed": sd, **r} for sd, _, r, _ in draws],
            "pooled": [
                {
                    "method": r.method,
                    "n": int(r.n),
                    "accuracy": round(float(r.accuracy), 4),
                    "ci_low": round(float(r.ci_low), 4),
                    "ci_high": round(float(r.ci_high), 4),
                    "problems": int(r.problems),
                }
                for r in pooled.itertuples(index=False)
            ],
        }
        summaries = {
            "draws": [
                {"seed": sd, **summary(c, max(budgets))} for sd, _, _, c in draws
            ],
            "pooled": summary(pooled, max(budgets)),
        }
    if args.summary:
        import json

        with open(args.summary, "w") as f:
            json.dump(summaries, f, indent=2)
    return result


def benchmark(
    world: str,
    problems: Sequence[str],
    generator,
    prm,
    orm,
    *,
    answer_of,
    grade,
    budgets: Sequence[int],
    methods: Sequence[str] = METHODS,
    trials: int = 16,
    seed: int = 0,
    max_steps: int = 10,
    temperature: float = 1.0,
):
    """The benchmark on any generator and scorers: (JSON-ready dict, curves)."""
    import pandas as pd

    reranks = [m for m in methods if m in RERANK_METHODS]
    searches = [m for m in methods if m in SEARCH_METHODS]
    frames = []
    tokens_per_sample = None
    if reranks or "dfs" in searches:
        need_orm = "orm" in reranks
        pool = sample_pool(
            problems,
            generator,
            prm=prm,
            orm=orm if need_orm else None,
            config=PoolConfig(
                n=max(budgets),
                max_steps=max_steps,
                temperature=temperature,
                seed=seed,
            ),
            answer_of=answer_of,
            grade=grade,
        )
        tokens_per_sample = float(pool.tokens().mean())
        if reranks:
            frames.append(
                rerank_curve(pool, reranks, budgets, trials=trials, seed=seed)
            )
    for m in searches:
        run = search_runner(
            m,
            generator,
            prm,
            answer_of=answer_of,
            max_depth=max_steps,
            tokens_per_sample=tokens_per_sample,
            temperature=temperature,
            seed=seed,
        )
        frames.append(search_curve(m, run, problems, grade, budgets, seed=seed))
    curves = pd.concat(frames, ignore_index=True)
    choices = [
        {"method": row.method, "n": int(row.n), "problem": p, "final_step": step}
        for row in curves.itertuples(index=False)
        for p, step in zip(problems, row.final_steps)
    ]
    return {"world": world, "results": records(curves), "choices": choices}, curves


def summary(curves, n: int) -> dict:
    """The issue's targets at budget `n`, from benchmark curves: the paired
    gaps PRM - ORM and ORM - majority, PRM / pass@n, and the share of
    best-of-n's tokens beam search needs to match it."""
    out = {}
    have = set(curves["method"])
    if {"prm_min", "orm", "majority"} <= have:
        out["prm_min-orm"] = paired_gap(curves, "prm_min", "orm", n)
        out["orm-majority"] = paired_gap(curves, "orm", "majority", n)
    if {"oracle", "orm"} <= have:  # the room a perfect verifier has
        out["oracle-orm"] = paired_gap(curves, "oracle", "orm", n)
    if {"prm_min", "oracle"} <= have:
        prm = curves[(curves.method == "prm_min") & (curves.n == n)].accuracy.iloc[0]
        top = curves[(curves.method == "oracle") & (curves.n == n)].accuracy.iloc[0]
        out["prm_min/pass@n"] = float(prm / top) if top else None
    if "tokens_generated" not in curves:  # pooled over draws: accuracy only
        return out
    if {"beam", "prm_min"} <= have:
        out["beam_vs_prm_min"] = tokens_to_match(curves, "beam", "prm_min", n)
    if {"tot_bfs", "majority"} <= have and 1 in set(curves["n"]):
        out["tot_bfs_vs_single_samples"] = _tot_vs_single(curves)
    return out


def _tot_vs_single(curves) -> list[dict]:
    """ToT BFS at each budget against one sample (n = 1) and against majority
    vote over the most samples that cost no more tokens than ToT did."""
    single = curves[(curves.method == "majority") & (curves.n == 1)].iloc[0]
    votes = curves[curves.method == "majority"].sort_values("tokens_generated")
    rows = []
    for tot in curves[curves.method == "tot_bfs"].sort_values("n").itertuples():
        cheaper = votes[votes.tokens_generated <= tot.tokens_generated]
        vote = cheaper.iloc[-1] if len(cheaper) else single
        rows.append(
            {
                "n": int(tot.n),
                "tokens": float(tot.tokens_generated),
                "accuracy": float(tot.accuracy),
                "single_sample_accuracy": float(single.accuracy),
                "ratio_to_single": (
                    float(tot.accuracy / single.accuracy) if single.accuracy else None
                ),
                "majority_n_within_tokens": int(vote.n),
                "majority_accuracy": float(vote.accuracy),
            }
        )
    return rows


def format_text(result: dict) -> str:
    if "draws" in result:
        return "\n\n".join([*map(format_text, result["draws"]), _format_pooled(result)])
    seed = f", seed {result['seed']}" if "seed" in result else ""
    lines = [f"search benchmark, world {result['world']}{seed}"]
    lines.append(
        f"{'method':<13}{'n':>4}{'accuracy':>10}{'95% CI':>16}{'tokens':>10}"
        f"{'seconds':>9}"
    )
    for r in result["results"]:
        ci = f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        lines.append(
            f"{r['method']:<13}{r['n']:>4}{r['accuracy']:>10.3f}{ci:>16}"
            f"{r['tokens_generated']:>10.1f}{r['seconds']:>9.2f}"
        )
    return "\n".join(lines)


def _format_pooled(result: dict) -> str:
    seeds = ",".join(str(d["seed"]) for d in result["draws"])
    size = result["pooled"][0]["problems"]
    lines = [f"pooled over the {size} distinct problems of seeds {seeds}"]
    lines.append(f"{'method':<13}{'n':>4}{'accuracy':>10}{'95% CI':>16}")
    for r in result["pooled"]:
        ci = f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
        lines.append(f"{r['method']:<13}{r['n']:>4}{r['accuracy']:>10.3f}{ci:>16}")
    return "\n".join(lines)
