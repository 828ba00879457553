"""Rebuild notebook 06's shipped PRM and ORM for the code and plans worlds:
`python -m prm_edu.build_beyond_math [--world code,plans]`.

For each world, seeded:

1. **Problems** of every level, split by a hash of their text: 80% train,
   10% validation (early stopping), 10% test (the model card's numbers).
2. **Data.** The scripted generator (`prm_edu.scripted`) writes solutions
   with named mistakes (`error_rate` per step), and the world's checker (the
   interpreter, the simulator) labels every step exactly.
3. **PRM and ORM.** A tokenizer is built from the training text, then two
   small transformers are trained from scratch with `prm_edu.training`: the
   PRM on every step's label at its "\\n", the ORM on the final outcome (the
   test passes, the goal holds) at the last "\\n".
4. **Checkpoints** go to `prm_edu/checkpoints/<world>/{prm,orm}/` with a
   `model_card.json`: data sizes, training steps, wall time, and held-out
   step AUROC (PRM) and outcome AUROC (ORM).

Notebook 06 trains a PRM live for a few seconds to show the loop; these are
the same models trained for longer. Training is set by steps, not by time,
so a rebuild gives the same quality on any machine: a GPU takes a couple of
minutes per world, 2 CPU cores about an hour (run it in the background)::

    nohup python -m prm_edu.build_beyond_math > /tmp/logs/beyond.log 2>&1 &
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from prm_edu import metrics, worlds
from prm_edu.data.trace import Trace
from prm_edu.labels import label_traces
from prm_edu.models.checkpoints import SHIPPED, save_checkpoint
from prm_edu.models.prm import ModelShape, PRMScorer
from prm_edu.models.tokenizer import build_tokenizer
from prm_edu.scripted import ScriptedGenerator
from prm_edu.training import TrainConfig, TrainResult, train_orm, train_prm

WORLDS = ("code", "plans")
SPLITS = ("train", "val", "test")


def split_of(problem_text: str) -> str:
    """Which split a problem belongs to, fixed by a hash of its text."""
    bucket = hashlib.sha256(problem_text.encode()).digest()[0] % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


@dataclass(frozen=True)
class Recipe:
    """Everything one world's build uses."""

    world: str
    problems_per_level: int = 3000  # training problems at each level 1, 2, 3
    held_out_per_level: int = 100  # validation and test problems per level
    samples_per_problem: int = 2
    error_rate: float = 0.25
    shape: ModelShape = ModelShape(d_model=96, n_layers=4, n_heads=4, context=256)
    vocab_size: int = 512
    prm_config: TrainConfig = TrainConfig(
        lr=2e-3, batch_size=64, max_steps=6000, eval_every=500, progress=False
    )
    orm_config: TrainConfig = TrainConfig(
        lr=2e-3, batch_size=64, max_steps=3000, eval_every=500, progress=False
    )
    seed: int = 0


RECIPES = {name: Recipe(name) for name in WORLDS}


def _level_problems(args) -> dict[str, list[str]]:
    name, level, want, seed = args
    world = worlds.get(name)
    got: dict[str, dict[str, None]] = {split: {} for split in SPLITS}
    batch = max(100, want["train"] // 2)
    for round_ in range(200):
        for p in world.sample(batch, seed=seed * 7919 + round_, level=level):
            split = split_of(p.text)
            if len(got[split]) < want[split]:
                got[split].setdefault(p.text, None)
        if all(len(got[s]) >= want[s] for s in SPLITS):
            break
    return {split: list(texts) for split, texts in got.items()}


def split_problems(recipe: Recipe, pool=None) -> dict[str, list[str]]:
    """Different problems of each split at every level (statements), as many
    as the recipe asks: a problem's split is fixed by its text."""
    world = worlds.get(recipe.world)
    want = {
        "train": recipe.problems_per_level,
        "val": recipe.held_out_per_level,
        "test": recipe.held_out_per_level,
    }
    jobs = [(recipe.world, level, want, recipe.seed) for level in world.levels]
    parts = list((pool.map if pool else map)(_level_problems, jobs))
    return {split: [t for part in parts for t in part[split]] for split in SPLITS}


def _labelled_chunk(args) -> list[tuple[Trace, bool]]:
    name, texts, n, error_rate, seed = args
    world = worlds.get(name)
    generator = ScriptedGenerator(world, error_rate=error_rate, seed=seed)
    traces = label_traces(world, generator.sample(texts, n=n))
    return [(t, world.grade(world.parse_problem(t.problem), t.steps)) for t in traces]


def labelled_traces(
    name: str, texts, n: int, error_rate: float, seed: int, pool=None, chunks=1
) -> tuple[list[Trace], list[bool]]:
    """`n` scripted solutions per problem, each step labelled by the checker,
    and whether each one's outcome is right.

    The generator's traces depend only on the seed and the problem, so the
    work splits across a process `pool` without changing the result.
    """
    texts = list(texts)
    size = max(1, -(-len(texts) // max(1, chunks)))
    jobs = [
        (name, texts[i : i + size], n, error_rate, seed)
        for i in range(0, len(texts), size)
    ]
    pairs = [
        x for chunk in (pool.map if pool else map)(_labelled_chunk, jobs) for x in chunk
    ]
    return [t for t, _ in pairs], [ok for _, ok in pairs]


def _card(recipe, role, result: TrainResult, data: dict, scores: dict) -> dict:
    return {
        "world": recipe.world,
        "role": role,
        "built_by": "python -m prm_edu.build_beyond_math",
        "what": (
            "a PRM: P(step is good) at each step's '\\n'"
            if role == "prm"
            else "an ORM: P(final outcome is right), read at the last step's '\\n'"
        ),
        "data": data,
        "training": result.summary(),
        "test": scores,
        "recipe": asdict(recipe),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
        "device": str(next(result.model.parameters()).device),
    }


def build(
    recipe: Recipe,
    out: Path,
    *,
    device: str = "auto",
    workers: int = 1,
    log=print,
) -> dict:
    """Build one world's PRM and ORM into `out/<world>/{prm,orm}`; the cards."""
    start = time.perf_counter()
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        problems = split_problems(recipe, pool)
        data, outcomes = {}, {}
        for i, (split, texts) in enumerate(problems.items()):
            data[split], outcomes[split] = labelled_traces(
                recipe.world,
                texts,
                recipe.samples_per_problem,
                recipe.error_rate,
                recipe.seed + i,
                pool,
                chunks=4 * workers,
            )
    finally:
        if pool is not None:
            pool.shutdown()
    sizes = {f"{split}_traces": len(ts) for split, ts in data.items()} | {
        "train_steps": sum(len(t.steps) for t in data["train"]),
        "train_bad_step_share": round(
            sum(v < 0 for t in data["train"] for v in t.labels)
            / max(1, sum(len(t.steps) for t in data["train"])),
            4,
        ),
        "train_right_outcome_share": round(
            sum(outcomes["train"]) / max(1, len(outcomes["train"])), 4
        ),
        "error_rate": recipe.error_rate,
        "data_seconds": round(time.perf_counter() - start, 1),
    }
    log(f"[{recipe.world}] data: {json.dumps(sizes)}")
    tok = build_tokenizer(
        (text for t in data["train"] for text in (t.problem, *t.steps)),
        vocab_size=recipe.vocab_size,
    )
    cards = {}
    items = [(t.problem, t.steps) for t in data["test"]]

    prm_config = replace(recipe.prm_config, device=device, seed=recipe.seed)
    prm = train_prm(
        data["train"],
        prm_config,
        val_traces=data["val"],
        tokenizer=tok,
        shape=recipe.shape,
    )
    scores = PRMScorer(prm.model, tok).score_batch(items)
    prm_scores = {
        "step_auroc": round(metrics.step_auroc(data["test"], scores), 4),
        "traces": len(items),
    }
    log(
        f"[{recipe.world}] PRM: {prm.steps} steps, {prm.wall_time_s:.0f}s, {prm_scores}"
    )
    cards["prm"] = _card(recipe, "prm", prm, sizes, prm_scores)
    save_checkpoint(
        prm.model,
        tok,
        out / recipe.world / "prm",
        card=cards["prm"],
        dtype=torch.float16,
    )

    orm_config = replace(recipe.orm_config, device=device, seed=recipe.seed + 1)
    orm = train_orm(
        data["train"],
        outcomes["train"],
        orm_config,
        val_traces=data["val"],
        val_outcomes=outcomes["val"],
        tokenizer=tok,
        shape=recipe.shape,
    )
    last = [s[-1] for s in PRMScorer(orm.model, tok).score_batch(items)]
    orm_scores = {
        "outcome_auroc": round(
            metrics.auroc(last, [int(o) for o in outcomes["test"]]), 4
        ),
        "traces": len(items),
    }
    log(
        f"[{recipe.world}] ORM: {orm.steps} steps, {orm.wall_time_s:.0f}s, {orm_scores}"
    )
    cards["orm"] = _card(recipe, "orm", orm, sizes, orm_scores)
    save_checkpoint(
        orm.model,
        tok,
        out / recipe.world / "orm",
        card=cards["orm"],
        dtype=torch.float16,
    )
    return cards


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m prm_edu.build_beyond_math", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--world", default=",".join(WORLDS), help="e.g. code,plans")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads")
    parser.add_argument("--workers", type=int, default=1, help="data processes")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply problems and training steps (0.01 for a smoke test)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="a safety cap on each PRM's training time (the ORM gets half)",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [w for w in args.world.split(",") if w]
    unknown = [w for w in names if w not in RECIPES]
    if unknown:
        parser.error(f"unknown world {unknown[0]!r}: choose from {', '.join(WORLDS)}")
    for name in names:
        recipe = RECIPES[name]
        if args.scale != 1.0:
            recipe = _scaled(recipe, args.scale)
        if args.max_seconds:
            recipe = replace(
                recipe,
                prm_config=replace(recipe.prm_config, time_budget_s=args.max_seconds),
                orm_config=replace(
                    recipe.orm_config, time_budget_s=args.max_seconds / 2
                ),
            )
        build(recipe, args.out, device=args.device, workers=args.workers)
        sys.stdout.flush()


def _scaled(recipe: Recipe, k: float) -> Recipe:
    def steps(config: TrainConfig) -> TrainConfig:
        n = max(2, int(config.max_steps * k))
        return replace(config, max_steps=n, eval_every=max(1, n // 4))

    return replace(
        recipe,
        problems_per_level=max(10, int(recipe.problems_per_level * k)),
        held_out_per_level=max(10, int(recipe.held_out_per_level * k)),
        prm_config=steps(recipe.prm_config),
        orm_config=steps(recipe.orm_config),
    )


if __name__ == "__main__":
    main()
