"""Models: how good the shipped generator, PRM and ORM are, on held-out problems.

`python -m prm_edu.bench models --json` prints, per world: the shipped PRM's
step AUROC and ProcessBench first-error F1 on fresh generator samples of
held-out problems (threshold picked on the validation split), the ORM's
final-answer AUROC, the generator's accuracy at one sample and pass@16 (on
held-out problems and on problems drawn as the notebooks draw them), the time
to score 1,000 traces in batches (median of three passes), and the time and
step AUROC of the two fresh PRMs notebook 03 trains, with its default
budgets: one fine-tuned from the shipped generator (`fresh_prm`,
`prm_edu.training.NOTEBOOK_03_CONFIG`) and a `SurprisePRM` head on the frozen
generator (`fresh_surprise_prm`, `NOTEBOOK_03_SURPRISE_CONFIG`), on the same
traces. Peak memory is the process's maximum resident set. The shipped
models run on the CPU; the fresh PRMs train on a GPU when one is visible
(their configs' device is "auto").
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import replace

import torch

from prm_edu import worlds
from prm_edu.build_checkpoints import (
    distinct_problems,
    generator_metrics,
    on_policy,
    orm_metrics,
    prm_metrics,
    split_problems,
)
from prm_edu.models import PRMScorer, load_generator, load_orm, load_prm
from prm_edu.models.prm import prm_from_generator
from prm_edu.models.surprise import surprise_prm_from_generator
from prm_edu.training import (
    NOTEBOOK_03_CONFIG,
    NOTEBOOK_03_SURPRISE_CONFIG,
    train_prm,
)

WORLDS = ("equations", "arithmetic", "game24")
SEED = 4_000_037  # fresh samples: not a seed the build used


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--world", choices=WORLDS, action="append")
    parser.add_argument("--problems", type=int, default=60, help="test problems")
    parser.add_argument("--samples", type=int, default=16, help="per problem")
    parser.add_argument("--val-problems", type=int, default=40)
    parser.add_argument(
        "--fresh-problems",
        type=int,
        default=400,
        help="training problems for the fresh PRMs, 4 samples each (as notebook 03)",
    )
    parser.add_argument("--no-fresh", action="store_true", help="skip the fresh PRMs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)


def _peak_mb() -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def bench_world(name: str, args) -> dict:
    world = worlds.get(name)
    seed = SEED + 97 * args.seed
    gen, prm, orm = load_generator(name), load_prm(name), load_orm(name)
    n = args.samples
    test = on_policy(
        world,
        gen,
        distinct_problems(world, args.problems, "test", seed),
        n,
        seed=seed,
    )
    val = on_policy(
        world,
        gen,
        distinct_problems(world, args.val_problems, "val", seed + 1),
        4,
        seed=seed + 1,
    )
    drawn = world.sample(args.problems, seed=seed + 2)  # as the notebooks draw
    anywhere = on_policy(world, gen, drawn, n, seed=seed + 2)
    out = {
        "generator": {
            "held_out": generator_metrics(test, n),
            "as_drawn": generator_metrics(anywhere, n),
            "sampling_s_per_1000_solutions": round(
                1000 * test.sampling_s / (test.problems * n), 2
            ),
        },
        "prm": prm_metrics(prm, val, test),
        "orm": orm_metrics(orm, test),
    }
    batch = [(t.problem, t.steps) for t in (test.traces * 2)[:1000]]
    prm.score_batch(batch[:64])  # warm-up
    passes = []
    for _ in range(3):  # the median of three: shared cores are noisy
        start = time.perf_counter()
        prm.score_batch(batch)
        passes.append(round(time.perf_counter() - start, 3))
    out["prm"]["score_1000_traces_s"] = statistics.median(passes)
    out["prm"]["score_1000_traces_passes_s"] = passes
    if not args.no_fresh:
        out.update(fresh_prms(world, gen, val, test, args, seed))
    out["peak_memory_mb"] = _peak_mb()
    return out


def fresh_prms(world, gen, val, test, args, seed) -> dict:
    """Notebook 03's recipe: on-policy samples labelled exactly, then a PRM
    fine-tuned from the shipped generator and a SurprisePRM head, each within
    the notebook's default budget."""
    data = on_policy(
        world,
        gen,
        split_problems(world, args.fresh_problems, "train", seed + 3),
        4,
        seed=seed + 3,
    )
    tok = gen.tokenizer
    starts = {
        "fresh_prm": (NOTEBOOK_03_CONFIG, lambda: prm_from_generator(gen.model)),
        "fresh_surprise_prm": (
            NOTEBOOK_03_SURPRISE_CONFIG,
            lambda: surprise_prm_from_generator(gen.model, tok),
        ),
    }
    out = {}
    for name, (config, start) in starts.items():
        result = train_prm(
            data.traces,
            replace(config, progress=False),
            tokenizer=tok,
            model=start(),
        )
        ev = prm_metrics(PRMScorer(result.model, tok), val, test)
        out[name] = {
            "train_traces": len(data.traces),
            "sampling_s": round(data.sampling_s, 1),
            "train_s": round(result.wall_time_s, 1),
            "steps": result.steps,
            "stop_reason": result.stop_reason,
            "step_auroc": ev.get("step_auroc"),
            "first_error_f1": ev.get("first_error_f1"),
        }
    return out


def run(args) -> dict:
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    results = {name: bench_world(name, args) for name in (args.world or WORLDS)}
    return {
        "worlds": results,
        "settings": {
            "problems": args.problems,
            "samples": args.samples,
            "threads": args.threads,
            "seed": args.seed,
        },
        "wall_time_s": round(time.perf_counter() - start, 1),
        "peak_memory_mb": _peak_mb(),
    }


def format_text(result: dict) -> str:
    lines = []
    for name, r in result["worlds"].items():
        g, p, o = r["generator"], r["prm"], r["orm"]
        h, d = g["held_out"], g["as_drawn"]
        lines.append(
            f"{name:<11} PRM AUROC {p.get('step_auroc')}  F1 {p.get('first_error_f1')}"
            f"  ORM AUROC {o.get('final_answer_auroc')}  gen acc@1 "
            f"{h['accuracy_at_1']} / pass@16 {h.get('pass_at_16')} held out, "
            f"{d['accuracy_at_1']} / {d.get('pass_at_16')} as drawn"
        )
        lines.append(
            f"{'':<11} PRM scores 1,000 traces in {p['score_1000_traces_s']} s "
            f"(median of {p['score_1000_traces_passes_s']})"
        )
        for key, label in (
            ("fresh_prm", "fine-tuned"),
            ("fresh_surprise_prm", "surprise"),
        ):
            if key in r:
                f = r[key]
                lines.append(
                    f"{'':<11} fresh PRM ({label}): AUROC {f['step_auroc']} "
                    f"in {f['train_s']} s"
                )
    lines.append(
        f"peak memory {result['peak_memory_mb']} MB, {result['wall_time_s']} s"
    )
    return "\n".join(lines)
