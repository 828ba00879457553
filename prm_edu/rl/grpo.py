"""GRPO fine-tuning of the step generator, in plain PyTorch.

One training step of `train_rl`:

1. draw `problems_per_step` fresh problems and sample a group of
   `group_size` solutions for each with the current policy (`sample_rollouts`);
2. judge them (`judge`): final answers graded, steps checked exactly and,
   with a PRM, scored;
3. turn the chosen reward into token advantages, normalised within each group
   (`prm_edu.rl.rewards.advantages`);
4. minimise `grpo_loss`: the policy-gradient term, clipped as in PPO, plus
   ``kl_coef`` times a KL penalty to the frozen starting model;
5. every `eval_every` steps, measure held-out accuracy at 1 sample.

With one update per batch (``updates_per_batch=1``) the probability ratio is
exactly 1 when the gradient is taken, so clipping never bites and the loss is
REINFORCE with a group baseline plus the KL term. `history` records one row
per step for plots. Defined in notebook 08.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from prm_edu.build_checkpoints import split_of
from prm_edu.generation import complete
from prm_edu.models.generator import Generator
from prm_edu.rl.rewards import CREDITS, REWARDS, advantages, judge
from prm_edu.rl.rollout import Rollouts, banned_table, sample_rollouts, token_logprobs

# Problems are split by a hash of their text, as the shipped models were
# built: RL trains on "train" problems and is evaluated on "test" ones, which
# neither the generator nor the PRM ever saw.
HELD_OUT_SEED = 7_000_001
TRAIN_SEED = 5_000_000


def held_out_problems(world, n: int, level: int | None = None) -> list:
    """`n` different held-out ("test" split) problems, the same every time."""
    return problems_of_split(world, n, "test", HELD_OUT_SEED, level, distinct=True)


def training_problems(world, n: int, step: int, seed: int = 0, level=None) -> list:
    """The `n` "train" split problems of training step `step` for run `seed`:
    the same for every reward, so that rewards are compared on equal terms."""
    return problems_of_split(
        world, n, "train", TRAIN_SEED + 100_000 * seed + step, level
    )


def problems_of_split(
    world, n: int, split: str, seed: int, level=None, *, distinct: bool = False
) -> list:
    """`n` problems of `split` ("train", "val" or "test", by a hash of their
    text, as `prm_edu.build_checkpoints` splits them), drawn from `seed`."""
    out, seen = [], set()
    for round_ in range(1000):
        if len(out) >= n:
            break
        for p in world.sample(max(2 * n, 16), seed=seed * 1_009 + round_, level=level):
            if split_of(p.text) == split and not (distinct and p.text in seen):
                seen.add(p.text)
                out.append(p)
    if len(out) < n:
        raise ValueError(
            f"{getattr(world, 'name', 'the world')} has fewer than {n} "
            f"{'different ' * distinct}{split} problems at level {level}: "
            f"ask for fewer."
        )
    return out[:n]


@dataclass
class RLConfig:
    """Every knob of `train_rl`, with defaults that suit 2 CPU cores.

    - `reward`: "outcome", "process" (the PRM's step scores) or "exact" (the
      exact checker's step labels); `credit`: how step rewards reach tokens,
      "to_go" (sum of this and later steps, DeepSeekMath) or "step".
    - `steps` training steps, each on `problems_per_step` problems times a
      group of `group_size` samples at `temperature`.
    - `lr` (AdamW), `grad_clip`; `kl_coef` weighs the KL penalty to the
      starting model; `clip_eps` is PPO's ratio clip, which only matters with
      `updates_per_batch` > 1.
    - `max_steps`, `max_step_tokens`: the longest solution and step sampled.
    - `level`: the world's difficulty level (None: its default).
    - `eval_every` steps, `eval_problems` held-out problems (never seen in
      training, by the generator or the PRM) are solved `eval_samples` times
      each at `eval_temperature` (accuracy at 1 sample = the share right),
      or once greedily when `eval_temperature` is 0; `eval_greedy` adds the
      greedy accuracy to a sampled evaluation.
    - `adv_eps`: added to the group's std when normalising rewards.
    """

    reward: str = "process"
    credit: str = "to_go"
    steps: int = 40
    problems_per_step: int = 8
    group_size: int = 8
    lr: float = 3e-4
    kl_coef: float = 0.04
    clip_eps: float = 0.2
    updates_per_batch: int = 1
    grad_clip: float = 1.0
    temperature: float = 1.0
    max_steps: int = 8
    max_step_tokens: int = 32
    level: int | None = None
    adv_eps: float = 1e-4
    seed: int = 0
    eval_every: int = 10
    eval_problems: int = 100
    eval_temperature: float = 1.0
    eval_samples: int = 2
    eval_greedy: bool = False
    device: str = "cpu"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.reward not in REWARDS:
            raise ValueError(
                f"RLConfig.reward={self.reward!r}: choose one of {REWARDS}."
            )
        if self.credit not in CREDITS:
            raise ValueError(
                f"RLConfig.credit={self.credit!r}: choose one of {CREDITS}."
            )
        checks = {
            "steps": self.steps >= 0,
            "problems_per_step": self.problems_per_step >= 1,
            "group_size": self.group_size >= 2,
            "lr": self.lr > 0,
            "kl_coef": self.kl_coef >= 0,
            "clip_eps": self.clip_eps > 0,
            "updates_per_batch": self.updates_per_batch >= 1,
            "grad_clip": self.grad_clip > 0,
            "temperature": self.temperature > 0,
            "max_steps": self.max_steps >= 1,
            "max_step_tokens": self.max_step_tokens >= 1,
            "adv_eps": self.adv_eps >= 0,
            "eval_every": self.eval_every >= 1,
            "eval_problems": self.eval_problems >= 0,
            "eval_temperature": self.eval_temperature >= 0,
            "eval_samples": self.eval_samples >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                hint = " (a group needs 2 samples to compare)" * (name == "group_size")
                raise ValueError(
                    f"RLConfig.{name}={getattr(self, name)!r} is out of range{hint}."
                )


@dataclass
class RLResult:
    """The fine-tuned generator and the record of its training.

    `history` is a list of dicts, one per step (step 0 is the start), ready
    for `pandas.DataFrame(history)`: ``loss``, ``reward`` (mean raw reward
    of the samples), ``prm_score`` (their mean PRM step score), ``accuracy``
    (their true accuracy), ``step_accuracy`` (the share of their steps the
    exact checker accepts), ``prm_auroc`` (how well the PRM separates their
    good steps from bad ones), ``kl`` (per token, to the starting model),
    ``n_steps``, ``n_tokens`` (per sample), ``elapsed_s``; on evaluation
    steps also ``held_out_accuracy`` (accuracy at 1 sample on held-out
    problems, see `evaluate`), ``held_out_prm_score``, ``held_out_steps``
    and, with ``eval_greedy``, ``held_out_greedy_accuracy``.
    """

    generator: Generator
    history: list[dict]
    wall_time_s: float
    config: RLConfig = field(repr=False, default_factory=RLConfig)


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """GRPO's per-token KL estimate to the reference model (Schulman's k3):
    ``exp(ref - logp) - (ref - logp) - 1``, never negative, 0 where the two
    models agree, and unbiased for KL(policy || reference)."""
    diff = ref_logp - logp
    return torch.exp(diff) - diff - 1


def grpo_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    ref_logp: torch.Tensor,
    adv: torch.Tensor,
    where: torch.Tensor,
    *,
    kl_coef: float,
    clip_eps: float = 0.2,
) -> tuple[torch.Tensor, dict]:
    """GRPO's objective, negated to be minimised, and its parts.

    All tensors are (n, length) token tables (`where` marks sampled tokens).
    Per token: ``-min(ratio * A, clip(ratio, 1 +- eps) * A) + kl_coef * KL``,
    with ``ratio = exp(logp - old_logp)``; averaged over each solution's
    tokens, then over solutions (as in the DeepSeekMath paper).
    """
    ratio = torch.exp(logp - old_logp)
    clipped = ratio.clamp(1 - clip_eps, 1 + clip_eps)
    pg = -torch.minimum(ratio * adv, clipped * adv)
    kl = kl_k3(logp, ref_logp)
    per_token = (pg + kl_coef * kl) * where
    n_tokens = where.sum(-1).clamp(min=1)
    loss = (per_token.sum(-1) / n_tokens).mean()
    with torch.no_grad():
        stats = {
            "kl": float((kl * where).sum() / where.sum().clamp(min=1)),
            "pg_loss": float(((pg * where).sum(-1) / n_tokens).mean()),
        }
    return loss, stats


def train_rl(
    generator: Generator, world, config: RLConfig | None = None, *, prm=None
) -> RLResult:
    """Fine-tune a copy of `generator` with GRPO on `world`'s problems.

    `generator` is a course `Generator` (e.g. `load_generator("equations")`);
    it stays unchanged and serves as the frozen reference of the KL penalty.
    `world` is a world or its name. `prm` (e.g. `load_prm("equations")`) is
    needed for ``reward="process"``; with any reward it is used to record the
    PRM's score of the samples next to their true accuracy.
    """
    config = config or RLConfig()
    if isinstance(world, str):
        from prm_edu import worlds

        world = worlds.get(world)
    if config.reward == "process" and prm is None:
        raise ValueError('reward="process" needs a PRM: pass prm=load_prm(world).')
    device = torch.device(config.device)
    tok = generator.tokenizer
    torch.manual_seed(config.seed)
    # Dropout off throughout (eval mode): the ratio must be exactly 1 and the
    # KL exactly 0 before the first update, and the rollouts deterministic.
    policy = copy.deepcopy(generator.model).to(device).eval()
    reference = copy.deepcopy(generator.model).to(device).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=config.lr, weight_decay=0.0)
    banned = banned_table(tok)
    rng = torch.Generator().manual_seed(config.seed)
    held_out = held_out_problems(world, config.eval_problems, config.level)
    evaluator = Generator(
        policy, tok, max_step_tokens=config.max_step_tokens, device=device
    )

    start = time.perf_counter()
    history = [{"step": 0, **evaluate(evaluator, world, held_out, config, prm)}]
    bar = tqdm(
        total=config.steps, disable=not config.progress, desc=f"GRPO ({config.reward})"
    )
    for step in range(1, config.steps + 1):
        problems = training_problems(
            world, config.problems_per_step, step, config.seed, config.level
        )
        rollouts = sample_rollouts(
            policy,
            tok,
            problems,
            config.group_size,
            temperature=config.temperature,
            max_steps=config.max_steps,
            max_step_tokens=config.max_step_tokens,
            generator=rng,
        )
        verdict = judge(world, rollouts, prm)
        adv = advantages(
            config.reward, verdict, rollouts, config.credit, config.adv_eps
        ).to(device)
        row = update(policy, reference, optimizer, rollouts, adv, banned, config)
        row = {
            "step": step,
            **row,
            "reward": verdict.mean_reward(config.reward),
            "prm_score": _mean_of_means(verdict.prm_scores),
            "accuracy": _mean([float(c) for c in verdict.correct]),
            "step_accuracy": _mean([float(v >= 0) for r in verdict.labels for v in r]),
            "prm_auroc": verdict.prm_step_auroc(),
            "n_steps": _mean([len(s) for s in rollouts.steps]),
            "n_tokens": rollouts.n_tokens / len(rollouts),
        }
        if step % config.eval_every == 0 or step == config.steps:
            row.update(evaluate(evaluator, world, held_out, config, prm))
        row["elapsed_s"] = time.perf_counter() - start
        history.append(row)
        bar.update(1)
        bar.set_postfix(
            acc=f"{row['accuracy']:.2f}",
            held_out=f"{_last(history, 'held_out_accuracy'):.2f}",
            kl=f"{row['kl']:.3f}",
        )
    bar.close()
    policy.eval()
    return RLResult(evaluator, history, time.perf_counter() - start, config)


def update(
    policy, reference, optimizer, rollouts: Rollouts, adv, banned, config
) -> dict:
    """`config.updates_per_batch` gradient steps on one batch of rollouts;
    returns the loss and KL of the first (the one taken at ratio 1)."""
    device = next(policy.parameters()).device
    where = rollouts.sampled[:, 1:].to(device).float()
    with torch.no_grad():
        ref = token_logprobs(reference, rollouts, banned, config.temperature)
    old, first = None, None
    for _ in range(config.updates_per_batch):
        logp = token_logprobs(policy, rollouts, banned, config.temperature)
        if old is None:  # the policy that sampled: the ratio starts at 1
            old = logp.detach()
        loss, stats = grpo_loss(
            logp, old, ref, adv, where, kl_coef=config.kl_coef, clip_eps=config.clip_eps
        )
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the GRPO loss became {loss.item()}: lower the learning rate "
                f"(lr={config.lr})."
            )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
        optimizer.step()
        if first is None:
            first = {"loss": loss.item(), **stats}
    return first


@torch.no_grad()
def evaluate(generator: Generator, world, problems, config: RLConfig, prm=None) -> dict:
    """Held-out accuracy at 1 sample, and what the PRM thinks of those samples.

    ``held_out_accuracy``: with `config.eval_temperature` > 0, the share of
    right answers among `config.eval_samples` solutions per problem sampled
    at that temperature (the expected accuracy of one sample); with 0, of one
    greedy solution per problem. With `config.eval_greedy` (and a sampling
    temperature) ``held_out_greedy_accuracy`` is measured too. With a `prm`,
    ``held_out_prm_score`` is the PRM's mean step score of the same samples.
    """
    if not problems:
        return {}
    if config.eval_temperature > 0:
        out = _sampled(generator, world, problems, config, prm)
        if config.eval_greedy:
            out["held_out_greedy_accuracy"] = _greedy(
                generator, world, problems, config
            )["held_out_accuracy"]
        return out
    return _greedy(generator, world, problems, config, prm)


def _sampled(generator, world, problems, config, prm) -> dict:
    rollouts = sample_rollouts(
        generator.model,
        generator.tokenizer,
        problems,
        config.eval_samples,
        temperature=config.eval_temperature,
        max_steps=config.max_steps,
        max_step_tokens=config.max_step_tokens,
        # The same draws at every evaluation: differences between steps and
        # between rewards are then less noisy.
        generator=torch.Generator().manual_seed(HELD_OUT_SEED),
    )
    verdict = judge(world, rollouts, prm)
    return {
        "held_out_accuracy": _mean([float(c) for c in verdict.correct]),
        "held_out_steps": _mean([len(s) for s in rollouts.steps]),
        **(
            {}
            if prm is None
            else {"held_out_prm_score": _mean_of_means(verdict.prm_scores)}
        ),
    }


def _greedy(generator, world, problems, config, prm=None) -> dict:
    done = complete(
        generator,
        [(p.text, []) for p in problems],
        max_steps=config.max_steps,
        temperature=0.0,
    )
    steps = [list(c.steps) for c in done]
    out = {
        "held_out_accuracy": _mean(
            [float(world.grade(p, s)) for p, s in zip(problems, steps)]
        ),
        "held_out_steps": _mean([len(s) for s in steps]),
    }
    if prm is not None:
        scored = [(p.text, s) for p, s in zip(problems, steps) if s]
        scores = prm.score_batch(scored) if scored else []
        # A solution with no step at all counts as scored 0.
        out["held_out_prm_score"] = _mean(
            [_mean(s) for s in scores] + [0.0] * (len(steps) - len(scored))
        )
    return out


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else math.nan


def _mean_of_means(rows) -> float:
    return math.nan if rows is None else _mean(_mean(r) for r in rows)


def _last(history: list[dict], key: str) -> float:
    return next((h[key] for h in reversed(history) if key in h), math.nan)
