"""Rebuild the shipped checkpoints: `python -m prm_edu.build_checkpoints`.

For each world (or `--world W`), seeded, on the CPU:

1. **Generator.** A tokenizer is built from the world's text, and a tiny
   GPT-2 is trained on the scripted generator's solutions, a mix of correct
   ones and ones with injected mistakes (slips, sign errors, skipped steps),
   so that it makes mistakes of the same kinds on its own.
2. **On-policy data.** The trained generator writes several solutions to
   each of a few thousand training problems; the world's checker labels
   every step exactly, and `grade` says whether each final answer is right.
3. **PRM and ORM.** Both are the generator, frozen, with a new 2-label
   head that also reads how surprised the generator is by each step's
   numbers (`SurprisePRM`): the PRM learns every step's label at its "\\n",
   the ORM only the final answer's correctness at the last "\\n". (With
   ``--set scorer=finetune`` they are instead the generator's weights
   fine-tuned with a plain head, as notebook 03 trains one; with
   ``scorer=surprise_tuned``, as game24's, a `SurprisePRM` trained whole,
   with a language-model loss on right steps beside the labels.) Where a recipe
   sets `reference_config`, they start instead from a *reference LM*: the
   generator trained further on correct solutions only, which is surprised
   by the mistakes the generator learnt to make.
4. **Model cards.** Each checkpoint folder gets `model_card.json`: data
   sizes, training steps, wall time, and metrics on held-out problems.

Problems are split by a hash of their text: a tenth are kept for validation
(early stopping, picking thresholds) and a tenth for testing; no model ever
trains on those. Run it in the background, it takes several minutes per
world::

    nohup python -m prm_edu.build_checkpoints > /tmp/logs/build.log 2>&1 &
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import platform
import random
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

import torch

from prm_edu import metrics, worlds
from prm_edu.data.trace import Trace
from prm_edu.generation import sample_solutions
from prm_edu.labels import exact_labels
from prm_edu.models.checkpoints import SHIPPED, load_model, read_card, save_checkpoint
from prm_edu.models.generator import Generator, check_fold_temperature, sharpen
from prm_edu.models.prm import ModelShape, PRMScorer, prm_from_generator
from prm_edu.models.surprise import surprise_prm_from_generator
from prm_edu.models.tokenizer import build_tokenizer
from prm_edu.training import (
    TrainConfig,
    TrainResult,
    pick_device,
    train_generator,
    train_orm,
    train_prm,
)

SPLITS = ("train", "val", "test")


def split_of(problem_text: str) -> str:
    """Which split a problem belongs to, fixed by a hash of its text:
    80% "train", 10% "val", 10% "test"."""
    bucket = hashlib.sha256(problem_text.encode()).digest()[0] % 10
    return "test" if bucket == 0 else "val" if bucket == 1 else "train"


def split_problems(world, n: int, split: str, seed: int, level=None) -> list:
    """`n` problems of `split` (repeats allowed when a world has few problems)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    out, round_ = [], 0
    while len(out) < n:
        batch = world.sample(max(4 * n, 100), seed=seed * 7919 + round_, level=level)
        out += [p for p in batch if split_of(p.text) == split]
        round_ += 1
        if round_ > 50:
            raise RuntimeError(f"{world.name} has too few {split} problems.")
    return out[:n]


def distinct_problems(world, n: int, split: str, seed: int, level=None) -> list:
    """Up to `n` different problems of `split` (fewer if the world has fewer)."""
    seen, out = set(), []
    for p in split_problems(world, 20 * n, split, seed, level):
        if p.text not in seen:
            seen.add(p.text)
            out.append(p)
    return out[:n]


def mixed_problems(
    world, n: int, split: str, seed: int, levels: Sequence[int], distinct=False
) -> list:
    """`n` problems of `split`, an equal share from each of `levels`."""
    pick = distinct_problems if distinct else split_problems
    out = []
    for i, level in enumerate(levels):
        share = n // len(levels) + (i < n % len(levels))
        out += pick(world, share, split, seed + 104729 * i, level)
    random.Random(seed).shuffle(out)
    return out


SCORERS = ("surprise", "surprise_tuned", "finetune")


@dataclass(frozen=True)
class Recipe:
    """Everything one world's build uses. The defaults fit 2 shared CPU cores."""

    world: str
    # Levels to train on, an equal share each; None: the world's default level.
    levels: tuple[int, ...] | None = None
    shape: ModelShape = ModelShape(d_model=96, n_layers=4, n_heads=4, context=256)
    vocab_size: int = 512
    # Generator: scripted solutions, `error_rate` mistakes per step.
    gen_problems: int = 20000
    # game24 only: draw the generator's training puzzles with numbers up to
    # this (`Game24World(highest=...)`) instead of the deck's 1-13, for
    # thousands more distinct puzzles (its validation ones stay the deck's).
    gen_highest: int | None = None
    gen_samples_per_problem: int = 1
    error_rate: float = 0.2
    # A sampling temperature folded into the saved generator (`sharpen`), so
    # that every sampler's temperature 1 samples the trained model at this
    # one. At temperature 1 it makes the error_rate mistakes it was trained
    # on; a cooler one makes fewer (and its samples agree more).
    gen_temperature: float = 1.0
    gen_config: TrainConfig = TrainConfig(
        lr=3e-3, batch_size=128, max_steps=4000, eval_every=1000, progress=False
    )
    # On-policy data for the PRM and ORM.
    prm_problems: int = 3000
    samples_per_problem: int = 4
    val_problems: int = 150
    temperature: float = 1.0
    max_steps: int = 8
    prm_extra_layers: int = 0
    # "surprise": the PRM and ORM are the generator, frozen, with a head that
    # also reads its surprise at each step (`SurprisePRM`); "finetune": the
    # generator's weights fine-tuned with a fresh 2-label head.
    scorer: str = "surprise"
    # "surprise_tuned": a SurprisePRM trained whole (not only its head),
    # with `lm_weight` times a language-model loss on the right steps
    # (`training.separator_lm_loss`), so that its surprise stays meaningful,
    # and reading the surprise after each step's `result_marker`.
    lm_weight: float = 1.0
    result_marker: str | None = None
    # A "reference" language model for the scorers to start from instead of
    # the generator: a copy of it trained further on the scripted solver's
    # correct solutions only. The generator learnt the mistakes it makes
    # (error_rate), so it is not surprised by them; the reference is. None:
    # the scorers start from the generator itself.
    reference_config: TrainConfig | None = None
    reference_problems: int = 20000
    prm_config: TrainConfig = TrainConfig(
        lr=5e-3, batch_size=128, max_steps=1000, eval_every=200, progress=False
    )
    orm_config: TrainConfig = TrainConfig(
        lr=5e-3, batch_size=128, max_steps=1200, eval_every=200, progress=False
    )
    seed: int = 0
    # Second phase for the generator: fine-tune it on a mix of these levels
    # (so that it also writes level-1 solutions such as the seed's 2x + 5 = 15).
    tune_levels: tuple[int, ...] | None = None
    tune_config: TrainConfig = TrainConfig(
        lr=1e-3, batch_size=64, max_steps=600, eval_every=200, progress=False
    )
    tune_problems: int = 6000
    # Levels of the PRM's and ORM's on-policy problems; None: tune_levels,
    # else the generator's levels.
    prm_levels: tuple[int, ...] | None = None
    # Other wordings the world's checker accepts (old, new): this share of
    # the PRM's and ORM's on-policy training traces is rewritten with them
    # and relabelled, so that the scorers also read solutions phrased like
    # the seed's ("Divide by 2: x = 5"), not only the generator's own.
    phrase_variants: tuple[tuple[str, str], ...] = ()
    variant_share: float = 0.0
    # Go on from the saved checkpoints instead of starting over: the generator
    # skips its first phase, the PRM and ORM start from the saved ones.
    resume: bool = False

    def __post_init__(self):
        # Checked here, when a recipe is made or overridden with --set, not
        # minutes later after the on-policy sampling.
        if self.scorer not in SCORERS:
            raise ValueError(f"scorer must be one of {SCORERS}, got {self.scorer!r}.")
        if self.lm_weight < 0:
            raise ValueError(f"lm_weight must be >= 0, got {self.lm_weight}.")
        check_fold_temperature(self.gen_temperature, "gen_temperature")
        if self.gen_highest is not None and self.world != "game24":
            raise ValueError(
                f"gen_highest is for game24's numbers; {self.world} has none: "
                f"leave it None."
            )

    def scorer_lm_weight(self) -> float:
        """The language-model loss's weight for the PRM and ORM (0: none)."""
        return self.lm_weight if self.scorer == "surprise_tuned" else 0.0

    def levels_for(self, world) -> tuple[int, ...]:
        return tuple(self.levels) if self.levels else (world.default_level,)

    def scorer_levels(self, world) -> tuple[int, ...]:
        if self.prm_levels:
            return tuple(self.prm_levels)
        return tuple(self.tune_levels) if self.tune_levels else self.levels_for(world)

    def generator_world(self, world):
        """The world the generator's training puzzles come from: `world`, or
        game24 with numbers up to `gen_highest`."""
        if self.gen_highest is None:
            return world
        return type(world)(highest=self.gen_highest)


# The reference LM goes on from the generator at a third of its rate.
REFERENCE_CONFIG = TrainConfig(
    lr=1e-3, batch_size=64, max_steps=1500, eval_every=500, progress=False
)
# Four times as long, on `LONG_REFERENCE_PROBLEMS` solutions: a reference LM
# that believes fewer mistakes. On `arithmetic` 1,500 steps on 20,000
# solutions left it sure of some misplaced carries ("195 + 34 = 239"), and
# its PRM's and ORM's best-of-64 were 0.89 and 0.88 on 300 held-out
# problems; 6,000 on 80,000 took them to 0.94 and 0.96 (36 minutes on 2
# cores). On `equations`: from 0.94 and 0.95 to 0.98 and 0.96.
LONG_REFERENCE = replace(REFERENCE_CONFIG, max_steps=6000, eval_every=1000)
LONG_REFERENCE_PROBLEMS = 80000


def head_config(max_steps: int) -> TrainConfig:
    """Training for a `SurprisePRM` head: only the head learns (202 weights),
    so it takes a far larger rate than a whole model, as in notebook 03."""
    return TrainConfig(
        lr=3e-2, batch_size=64, max_steps=max_steps, eval_every=250, progress=False
    )


# The error rates were picked on the validation split so that the generator's
# accuracy at one sample lands in 25-60% with pass@16 >= 85% (see the cards).
RECIPES = {
    "equations": Recipe(
        "equations",
        error_rate=0.3,
        tune_levels=(1, 2, 3),
        phrase_variants=(
            ("Divide both sides by", "Divide by"),
            ("Multiply both sides by", "Multiply by"),
        ),
        variant_share=0.5,
        reference_config=LONG_REFERENCE,
        reference_problems=LONG_REFERENCE_PROBLEMS,
        prm_config=head_config(2000),
        orm_config=head_config(2000),
    ),
    "arithmetic": Recipe(
        "arithmetic",
        error_rate=0.15,
        reference_config=LONG_REFERENCE,
        reference_problems=LONG_REFERENCE_PROBLEMS,
        prm_config=head_config(1500),
        orm_config=head_config(1500),
    ),
    # A move's result is fixed by the two numbers it combines, but which two
    # is a free choice, and a right move can still leave numbers from which
    # 24 cannot be reached, which no surprise shows. So game24's scorers read
    # the reference LM's surprise at each move's result (after " =") and are
    # trained whole, so that they also learn which moves lead to 24; the
    # language-model loss keeps them language models of right moves. (Fine-
    # tuned whole with a plain head, held-out step AUROC was 0.907.)
    # The deck's train split holds only 402 level-2 puzzles, which a generator
    # trained on them alone memorises (held-out acc@1 0.12, pass@16 0.70). It
    # trains on every level and on practice puzzles with numbers up to 20
    # (4,474 distinct), and is sampled at 0.7, the warmest of 1, 0.85, 0.7 and
    # 0.5 that met the target on the validation puzzles (acc@1 0.26, pass@16
    # 0.86); the PRM and ORM stay on the default level.
    "game24": Recipe(
        "game24",
        levels=(1, 2, 3),
        gen_problems=40000,
        gen_highest=20,
        gen_temperature=0.7,
        prm_levels=(2,),
        error_rate=0.12,
        scorer="surprise_tuned",
        result_marker=" =",
        reference_config=REFERENCE_CONFIG,
        prm_config=TrainConfig(
            lr=2e-3, batch_size=128, max_steps=2000, eval_every=250, progress=False
        ),
        orm_config=TrainConfig(
            lr=2e-3, batch_size=128, max_steps=1000, eval_every=250, progress=False
        ),
    ),
}


@dataclass
class OnPolicy:
    """Generator samples labelled exactly: traces, and whether each is right."""

    traces: list[Trace]
    correct: list[bool]
    problems: int
    samples_per_problem: int
    unfinished: int = 0
    sampling_s: float = 0.0
    per_problem: list[list[int]] = field(default_factory=list)  # trace indices


def scripted_traces(world, problems, per_problem: int, error_rate: float, seed: int):
    """The scripted generator's solutions, `per_problem` for each problem."""
    rng = random.Random(seed)
    return [
        Trace(p.text, world.scripted_sample(p, rng, error_rate).steps)
        for p in problems
        for _ in range(per_problem)
    ]


def scripted_data(world, n, levels, error_rate, seed, per_problem=1, train_world=None):
    """Training data for a language model: the scripted generator's solutions
    to `n` "train" problems of `levels` (`per_problem` each; drawn from
    `train_world` when given), and to 200 "val" problems of `world` (one
    each), with `error_rate` mistakes per step."""
    source = train_world or world
    train = scripted_traces(
        source,
        mixed_problems(source, n, "train", seed, levels),
        per_problem,
        error_rate,
        seed,
    )
    val = scripted_traces(
        world, mixed_problems(world, 200, "val", seed, levels), 1, error_rate, seed + 1
    )
    return train, val


def on_policy(
    world,
    generator: Generator,
    problems: Sequence,
    n: int,
    *,
    seed: int,
    temperature: float = 1.0,
    max_steps: int = 8,
) -> OnPolicy:
    """`n` generator solutions per problem, each labelled by the world's checker.

    A sample whose first step came out empty has nothing to label and is
    dropped (counted in `unfinished`, as are samples cut at `max_steps`).
    """
    start = time.perf_counter()
    samples = sample_solutions(
        generator,
        [p.text for p in problems],
        n,
        max_steps=max_steps,
        temperature=temperature,
        seed=seed,
    )
    traces, correct, per_problem, unfinished = [], [], [], 0
    for p, completions in zip(problems, samples):
        idx = []
        for c in completions:
            unfinished += not c.finished
            if not c.steps:
                continue
            idx.append(len(traces))
            traces.append(exact_labels(world, p, c.steps))
            correct.append(world.grade(p, c.steps))
        per_problem.append(idx)
    return OnPolicy(
        traces,
        correct,
        len(problems),
        n,
        unfinished,
        time.perf_counter() - start,
        per_problem,
    )


def rephrase(world, data: OnPolicy, variants, share: float, seed: int) -> int:
    """Rewrite `share` of `data`'s traces with `variants` ((old, new) pairs of
    wording), in place, relabelled by the world's checker; the number changed.

    Only the wording changes, never a number, so whether the final answer is
    right stays as it was; the labels are recomputed all the same, so that
    they are exact for the text the scorers will read.
    """
    if not variants or share <= 0:
        return 0
    rng, changed = random.Random(seed), 0
    for i, t in enumerate(data.traces):
        if rng.random() >= share:
            continue
        steps = list(t.steps)
        for old, new in variants:
            steps = [s.replace(old, new) for s in steps]
        if steps != list(t.steps):
            data.traces[i] = exact_labels(world, t.problem, steps)
            changed += 1
    return changed


def generator_metrics(data: OnPolicy, k: int) -> dict:
    """Accuracy of one sample, and pass@k, from `data`'s samples per problem."""
    if data.samples_per_problem < k:
        raise ValueError(f"pass@{k} needs >= {k} samples per problem.")
    accs, passes = [], []
    for idx in data.per_problem:
        c = sum(data.correct[i] for i in idx)
        n = data.samples_per_problem  # dropped samples count as wrong
        accs.append(c / n)
        passes.append(metrics.pass_at_k(n, c, k))
    return {
        "accuracy_at_1": round(sum(accs) / len(accs), 4),
        f"pass_at_{k}": round(sum(passes) / len(passes), 4),
        "problems": len(accs),
        "samples_per_problem": data.samples_per_problem,
        "unfinished_share": round(data.unfinished / max(1, len(data.correct)), 4),
    }


def score(scorer: PRMScorer, traces: Sequence[Trace]) -> list[list[float]]:
    return scorer.score_batch([(t.problem, t.steps) for t in traces])


def _both_kinds(data: OnPolicy) -> bool:
    good = {v >= 0 for t in data.traces for v in t.labels}
    return len(good) == 2 and len(set(data.correct)) == 2


def prm_metrics(scorer: PRMScorer, val: OnPolicy, test: OnPolicy) -> dict:
    """Step AUROC on test traces; first-error F1 at the threshold that is best
    on the validation traces (ProcessBench's protocol). Empty when the traces
    lack good or bad steps (an untrained generator)."""
    if not (_both_kinds(val) and _both_kinds(test)):
        return {}
    val_scores, test_scores = score(scorer, val.traces), score(scorer, test.traces)
    threshold = metrics.pick_threshold(val.traces, val_scores)
    fe = metrics.first_error_f1(test.traces, test_scores, threshold)
    good = [int(v >= 0) for t in test.traces for v in t.labels]
    flat = [s for row in test_scores for s in row]
    return {
        "step_auroc": round(metrics.step_auroc(test.traces, test_scores), 4),
        "first_error_f1": round(fe.f1, 4),
        "first_error_accuracy": round(fe.error_accuracy, 4),
        "correct_accuracy": round(fe.correct_accuracy, 4),
        "threshold": round(threshold, 4),
        "ece": round(metrics.expected_calibration_error(flat, good), 4),
        "test_traces": len(test.traces),
        "test_steps": len(flat),
    }


def orm_metrics(scorer: PRMScorer, test: OnPolicy) -> dict:
    """AUROC of the last-step score against final-answer correctness."""
    if not _both_kinds(test):
        return {}
    last = [row[-1] for row in score(scorer, test.traces)]
    return {
        "final_answer_auroc": round(metrics.auroc(last, test.correct), 4),
        "test_traces": len(test.traces),
        "right_share": round(sum(test.correct) / len(test.correct), 4),
    }


def _card(
    recipe: Recipe,
    role: str,
    result: TrainResult,
    data: dict,
    ev: dict,
    earlier: dict | None = None,
):
    card = {
        "world": recipe.world,
        "role": role,
        "levels": list(recipe.levels) if recipe.levels else "default",
        "tune_levels": list(recipe.tune_levels) if recipe.tune_levels else None,
        "built_by": "python -m prm_edu.build_checkpoints",
        "architecture": type(result.model).__name__,
        "data": data,
        "training": result.summary(),
        "metrics": ev,
        "shape": asdict(recipe.shape),
        "storage": "safetensors, float16 (loaded as float32)",
        "built_on": _machine(
            (recipe.gen_config if role == "generator" else recipe.prm_config).device
        ),
    }
    if role != "generator":  # how the scorer was made, as the recipe said
        card["scorer"] = {
            "kind": recipe.scorer,
            "lm_weight": recipe.scorer_lm_weight(),
            "result_marker": recipe.result_marker,
        }
    if earlier:
        card["earlier"] = earlier  # the checkpoint this one went on from
    return card


def _machine(device: str) -> dict:
    out = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": device,
        "cpu_threads": torch.get_num_threads(),
    }
    if device != "cpu" and torch.cuda.is_available():
        out["gpu"] = torch.cuda.get_device_name()
    return out


def build_generator(recipe: Recipe, out_dir: Path = SHIPPED, log=print) -> dict:
    """Stage 1: train the world's tokenizer and generator, save them."""
    r = recipe
    world = worlds.get(r.world)
    levels = r.levels_for(world)
    path = out_dir / r.world / "generator"
    earlier = read_card(path) if r.resume else None
    data: dict = {"error_rate_per_step": r.error_rate}
    if r.resume and not r.tune_levels:
        raise SystemExit(f"{r.world}: resume=True with no tune_levels trains nothing.")
    if r.resume and r.gen_temperature != 1:
        raise SystemExit(
            f"{r.world}: resume=True goes on from a saved generator that is "
            f"already sharpened; set gen_temperature=1 so it is not sharpened twice."
        )
    if r.resume:
        model, tok = load_model(path, "generator")
        model.to(pick_device(r.tune_config.device))
        log(f"[{r.world}] going on from the saved generator")
    else:
        log(f"[{r.world}] levels {levels}: building the tokenizer and generator data")
        scripted, val = scripted_data(
            world,
            r.gen_problems,
            levels,
            r.error_rate,
            r.seed,
            r.gen_samples_per_problem,
            train_world=r.generator_world(world),
        )
        texts = (text for t in scripted for text in (t.problem, *t.steps))
        tok = build_tokenizer(texts, r.vocab_size)
        log(f"[{r.world}] training the generator on {len(scripted)} solutions")
        gen = train_generator(
            scripted, r.gen_config, val_traces=val, tokenizer=tok, shape=r.shape
        )
        log(f"[{r.world}] generator: {gen.steps} steps, {gen.wall_time_s:.0f} s")
        model = gen.model
        data.update(_scripted_card(world, scripted, levels, tok))
        data["distinct_problems"] = len({t.problem for t in scripted})
        if r.gen_highest is not None:
            data["numbers_up_to"] = r.gen_highest
    if r.tune_levels:
        scripted, val = scripted_data(
            world, r.tune_problems, r.tune_levels, r.error_rate, r.seed + 11
        )
        log(f"[{r.world}] tuning the generator on levels {r.tune_levels}")
        gen = train_generator(
            scripted, r.tune_config, val_traces=val, tokenizer=tok, model=model
        )
        log(f"[{r.world}] tuned: {gen.steps} steps, {gen.wall_time_s:.0f} s")
        data["tuning"] = _scripted_card(world, scripted, r.tune_levels, tok)
    if r.gen_temperature != 1:
        sharpen(gen.model, r.gen_temperature)
        data["temperature_folded_in"] = r.gen_temperature
    generator = Generator(gen.model, tok)

    def sample(problems, n, seed):
        return on_policy(
            world,
            generator,
            problems,
            n,
            seed=seed,
            temperature=r.temperature,
            max_steps=r.max_steps,
        )

    default = world.default_level
    test = sample(
        distinct_problems(world, r.val_problems, "test", r.seed + 3, default),
        16,
        r.seed + 3,
    )
    drawn = sample(
        world.sample(r.val_problems, seed=r.seed + 4, level=default), 16, r.seed + 4
    )
    ev = {
        "level": default,
        "held_out": generator_metrics(test, 16),
        "as_drawn": generator_metrics(drawn, 16),
    }
    for level in sorted(set(levels) | set(r.scorer_levels(world))):
        if level != default:
            other = sample(
                distinct_problems(world, 50, "test", r.seed + 5, level), 4, r.seed + 5
            )
            ev[f"held_out_level_{level}"] = generator_metrics(other, 4)
    log(f"[{r.world}] generator: {ev}")
    card = _card(r, "generator", gen, data, ev, earlier)
    save_checkpoint(gen.model, tok, path, dtype=torch.float16, card=card)
    return ev


def _scorer_start(r: Recipe, out_dir: Path, role: str, gen_model, tok):
    """Where a PRM or ORM starts: the saved one (resume), else `gen_model`
    (the generator, or the reference LM trained from it)."""
    if r.resume:
        model, _ = load_model(out_dir / r.world / role, role)
        return model
    if r.scorer == "finetune":
        return prm_from_generator(gen_model, r.prm_extra_layers)
    return surprise_prm_from_generator(
        gen_model,
        tok,
        frozen=r.scorer == "surprise",
        result_marker=r.result_marker,
    )


def train_reference(r: Recipe, world, gen_model, tok, log=print):
    """The reference LM: a copy of the generator trained further with
    `r.reference_config` on the scripted solver's correct solutions (error
    rate 0) to problems of the scorers' levels. Returns it and its card."""
    levels = r.scorer_levels(world)
    clean, val = scripted_data(world, r.reference_problems, levels, 0.0, r.seed + 21)
    log(f"[{r.world}] training the reference LM on {len(clean)} correct solutions")
    result = train_generator(
        clean,
        r.reference_config,
        val_traces=val,
        tokenizer=tok,
        model=copy.deepcopy(gen_model),
    )
    log(f"[{r.world}] reference: {result.steps} steps, {result.wall_time_s:.0f} s")
    card = {**_scripted_card(world, clean, levels, tok), "training": result.summary()}
    return result.model, card


def _earlier(r: Recipe, out_dir: Path, role: str) -> dict | None:
    return read_card(out_dir / r.world / role) if r.resume else None


def _scripted_card(world, scripted, levels, tok) -> dict:
    right = sum(world.grade(world.parse_problem(t.problem), t.steps) for t in scripted)
    return {
        "scripted_solutions": len(scripted),
        "levels": list(levels),
        "right_answer_share": round(right / len(scripted), 4),
        "tokenizer_vocab": len(tok),
    }


def build_scorers(recipe: Recipe, out_dir: Path = SHIPPED, log=print) -> dict:
    """Stage 2: sample the saved generator on-policy, label exactly, train and
    save the PRM and ORM (both start from the generator's weights)."""
    r = recipe
    world = worlds.get(r.world)
    levels = r.scorer_levels(world)
    gen_model, tok = load_model(out_dir / r.world / "generator", "generator")
    gen_model.to(pick_device(r.prm_config.device))
    generator = Generator(gen_model, tok)

    def sample(problems, n, seed):
        return on_policy(
            world,
            generator,
            problems,
            n,
            seed=seed,
            temperature=r.temperature,
            max_steps=r.max_steps,
        )

    log(f"[{r.world}] sampling on-policy data")
    train_data = sample(
        mixed_problems(world, r.prm_problems, "train", r.seed + 1, levels),
        r.samples_per_problem,
        r.seed + 1,
    )
    val = sample(
        mixed_problems(world, r.val_problems, "val", r.seed + 2, levels, True),
        r.samples_per_problem,
        r.seed + 2,
    )
    test = sample(
        mixed_problems(world, r.val_problems, "test", r.seed + 3, levels, True),
        r.samples_per_problem,
        r.seed + 3,
    )
    rephrased = rephrase(
        world, train_data, r.phrase_variants, r.variant_share, r.seed + 6
    )
    base, reference = gen_model, None
    if r.reference_config and not r.resume:
        base, reference = train_reference(r, world, gen_model, tok, log)
    steps = [v for t in train_data.traces for v in t.labels]
    log(
        f"[{r.world}] {len(train_data.traces)} train traces "
        f"({sum(train_data.correct) / len(train_data.correct):.0%} right), "
        f"sampled in {train_data.sampling_s:.0f} s"
    )
    data = {
        "train_problems": train_data.problems,
        "samples_per_problem": r.samples_per_problem,
        "train_traces": len(train_data.traces),
        "train_steps_labelled": len(steps),
        "bad_step_share": round(sum(v < 0 for v in steps) / len(steps), 4),
        "right_answer_share": round(
            sum(train_data.correct) / len(train_data.correct), 4
        ),
        "rephrased_traces": rephrased,
        "phrase_variants": [list(v) for v in r.phrase_variants],
        "val_traces": len(val.traces),
        "test_traces": len(test.traces),
        "sampling_s": round(train_data.sampling_s, 1),
        "labels": "exact, world.check (+1/0 good, -1 bad); outcomes: world.grade",
        "starts_from": "saved scorer"
        if r.resume
        else "reference LM"
        if reference
        else "generator",
    }
    if reference:
        data["reference_lm"] = reference
    usable = _both_kinds(val)  # else no validation: the generator is too weak
    log(f"[{r.world}] training the PRM")
    prm = train_prm(
        train_data.traces,
        r.prm_config,
        val_traces=val.traces if usable else None,
        tokenizer=tok,
        model=_scorer_start(r, out_dir, "prm", base, tok),
        lm_weight=r.scorer_lm_weight(),
    )
    prm_ev = prm_metrics(PRMScorer(prm.model, tok), val, test)
    log(f"[{r.world}] PRM: {prm.steps} steps, {prm.wall_time_s:.0f} s, {prm_ev}")
    save_checkpoint(
        prm.model,
        tok,
        out_dir / r.world / "prm",
        dtype=torch.float16,
        card=_card(r, "prm", prm, data, prm_ev, _earlier(r, out_dir, "prm")),
    )
    log(f"[{r.world}] training the ORM")
    orm = train_orm(
        train_data.traces,
        train_data.correct,
        r.orm_config,
        val_traces=val.traces if usable else None,
        val_outcomes=val.correct,
        tokenizer=tok,
        model=_scorer_start(r, out_dir, "orm", base, tok),
        lm_weight=r.scorer_lm_weight(),
    )
    orm_ev = orm_metrics(PRMScorer(orm.model, tok), test)
    log(f"[{r.world}] ORM: {orm.steps} steps, {orm.wall_time_s:.0f} s, {orm_ev}")
    save_checkpoint(
        orm.model,
        tok,
        out_dir / r.world / "orm",
        dtype=torch.float16,
        card=_card(r, "orm", orm, data, orm_ev, _earlier(r, out_dir, "orm")),
    )
    return {"prm": prm_ev, "orm": orm_ev}


def build_world(
    recipe: Recipe, out_dir: Path = SHIPPED, log=print, stage: str = "all"
) -> dict:
    """Train, evaluate and save one world's generator, then its PRM and ORM."""
    t0 = time.perf_counter()
    out = {}
    if stage in ("all", "generator"):
        out["generator"] = build_generator(recipe, out_dir, log)
    if stage in ("all", "scorers"):
        out.update(build_scorers(recipe, out_dir, log))
    out["wall_time_s"] = round(time.perf_counter() - t0, 1)
    log(f"[{recipe.world}] done in {out['wall_time_s']:.0f} s")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m prm_edu.build_checkpoints", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--world", choices=sorted(RECIPES), action="append")
    parser.add_argument("--out", type=Path, default=SHIPPED)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (1 is fastest on busy shared cores)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every data size and step count (e.g. 0.05 for a smoke test)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a recipe field, e.g. error_rate=0.3 or gen_config.lr=2e-3",
    )
    parser.add_argument(
        "--stage",
        choices=("all", "generator", "scorers"),
        default="all",
        help="scorers: retrain only the PRM and ORM from the saved generator",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    for name in args.world or list(RECIPES):
        recipe = scaled(override(RECIPES[name], args.set), args.scale, args.device)
        results[name] = build_world(recipe, args.out, log=_log, stage=args.stage)
    args.out.mkdir(parents=True, exist_ok=True)
    print(json.dumps(results, indent=2))
    return 0


def override(r: Recipe, settings: Sequence[str]) -> Recipe:
    """`r` with `KEY=VALUE` settings applied (`part.key` for nested configs)."""
    for item in settings:
        key, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--set needs KEY=VALUE, got {item!r}.")
        *outer, name = key.split(".")
        target = getattr(r, outer[0]) if outer else r
        if not hasattr(target, name):
            raise SystemExit(f"--set: the recipe has no field {key!r}.")
        value = _parse_setting(getattr(target, name), text, name)
        try:
            target = replace(target, **{name: value})
            r = replace(r, **{outer[0]: target}) if outer else target
        except ValueError as e:  # a value the recipe or its config refuses
            raise SystemExit(f"--set {item}: {e}") from None
    return r


def scaled(r: Recipe, scale: float, device: str) -> Recipe:
    """`r` with data sizes and step counts multiplied by `scale`."""

    def cfg(c: TrainConfig) -> TrainConfig:
        steps = max(2, round(c.max_steps * scale))
        return replace(
            c,
            max_steps=steps,
            eval_every=max(1, round(c.eval_every * scale)),
            device=device,
        )

    def n(x: int) -> int:
        return max(8, round(x * scale))

    return replace(
        r,
        gen_problems=n(r.gen_problems),
        prm_problems=n(r.prm_problems),
        val_problems=max(4, round(r.val_problems * min(1.0, scale * 4))),
        reference_problems=n(r.reference_problems),
        gen_config=cfg(r.gen_config),
        reference_config=cfg(r.reference_config) if r.reference_config else None,
        prm_config=cfg(r.prm_config),
        orm_config=cfg(r.orm_config),
    )


def _parse_setting(current, text: str, name: str = ""):
    """A `--set` value, read as the type the field already has."""
    if text == "None":
        return None
    if name == "result_marker":  # text, spaces and all: "result_marker= ="
        return text
    if name.endswith("levels"):  # "1,2,3" or "2"
        return tuple(int(x) for x in text.split(","))
    if isinstance(current, bool):
        if text not in ("True", "False"):
            raise SystemExit(f"--set: expected True or False, got {text!r}.")
        return text == "True"
    if isinstance(current, (int, float, str)):
        return type(current)(text)
    if current is None:  # an optional number, e.g. time_budget_s
        return float(text) if "." in text or "e" in text else int(text)
    raise SystemExit(f"--set cannot set a {type(current).__name__}: set its fields.")


def _log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


if __name__ == "__main__":
    sys.exit(main())
