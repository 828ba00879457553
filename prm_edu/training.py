"""Training the course's models: one plain PyTorch loop, shown in notebook 03.

`fit` is the whole loop: shuffle, batch, forward, loss, backward, clip, step,
with a learning rate that warms up then decays (cosine), a tqdm progress bar,
a `history` of losses and validation metrics for plots, a seed, early stopping
and a time budget. Three small functions build the data each model needs and
call it:

- `train_prm(traces, config)`: a PRM, loss only at each step's "\\n" (the
  label of that step), nowhere else (TRL PRMTrainer's convention);
- `train_orm(traces, outcomes, config)`: the same model, loss only at the last
  step's "\\n", against whether the final answer was right;
- `train_generator(traces, config)`: a tiny GPT-2, next-token loss on the
  solution tokens (the problem is given, not learned).

Each returns a `TrainResult`: the model, its tokenizer, the history, and how
long it ran. Step labels follow `prm_edu.metrics`: a step is good (target 1)
when its rating is >= 0, so +1 and neutral 0 count as good and -1 as bad; a
soft Monte Carlo label in [0, 1] is used as the target probability itself.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerFast

from prm_edu import metrics
from prm_edu.data.trace import Trace
from prm_edu.models.generator import GENERATOR_SHAPE, new_generator
from prm_edu.models.prm import PRM_SHAPE, ModelShape, PRMScorer, new_prm
from prm_edu.models.surprise import steps_before
from prm_edu.models.tokenizer import build_tokenizer, encode_traces

IGNORE = -100  # "no label here": the loss skips these positions


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of `fit`, with defaults that suit 2 CPU cores.

    Training runs `num_epochs` passes over the data, or `max_steps` batches
    when that is set, and stops early when `time_budget_s` runs out or the
    validation metric has not improved for `patience` evaluations. The
    learning rate warms up linearly over the first `warmup_frac` of training,
    then decays along a cosine to zero; "training done so far" is the larger
    of the fraction of steps and the fraction of the time budget used, so the
    rate reaches zero by the deadline even on a slow machine.
    """

    lr: float = 2e-3
    num_epochs: int = 10
    max_steps: int | None = None
    batch_size: int = 64
    warmup_frac: float = 0.05
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 0
    time_budget_s: float | None = None
    eval_every: int = 200
    patience: int | None = None
    log_every: int = 20
    device: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        checks = {
            "lr": self.lr > 0,
            "num_epochs": self.num_epochs >= 1,
            "max_steps": self.max_steps is None or self.max_steps >= 1,
            "batch_size": self.batch_size >= 1,
            "warmup_frac": 0 <= self.warmup_frac < 1,
            "weight_decay": self.weight_decay >= 0,
            "time_budget_s": self.time_budget_s is None or self.time_budget_s > 0,
            "eval_every": self.eval_every >= 1,
            "patience": self.patience is None or self.patience >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(
                    f"TrainConfig.{name}={getattr(self, name)!r} is out of range."
                )


# Notebook 03's defaults. First: fine-tune a PRM from the shipped generator
# (`prm_from_generator`) on on-policy traces, stopping after 55 s. The time
# budget drives the schedule, so the rate anneals by the deadline on any CPU.
NOTEBOOK_03_CONFIG = TrainConfig(
    lr=1e-3, batch_size=32, max_steps=3000, time_budget_s=55, eval_every=50
)
# Then the shipped design on the same traces: a `SurprisePRM`, whose frozen
# generator is not trained, only its 2-label head (101 numbers per label):
# a rate 30x higher, and 30 s.
NOTEBOOK_03_SURPRISE_CONFIG = TrainConfig(
    lr=3e-2, batch_size=32, max_steps=3000, time_budget_s=30, eval_every=50
)


@dataclass
class TrainResult:
    """A trained model, its tokenizer, and the record of how it was trained.

    `history` is a list of dicts, one per logged step (``step``, ``loss``,
    ``lr``, ``elapsed_s``) or evaluation (``step`` and the validation metrics),
    ready for `pandas.DataFrame(history)` and a plot. `stop_reason` is
    "finished", "time budget" or "early stop".
    """

    model: torch.nn.Module
    tokenizer: PreTrainedTokenizerFast
    history: list[dict]
    steps: int
    wall_time_s: float
    stop_reason: str
    n_examples: int
    config: TrainConfig = field(repr=False, default_factory=TrainConfig)

    def summary(self) -> dict:
        """The figures a model card records."""
        evals = [h for h in self.history if "loss" not in h]
        return {
            "examples": self.n_examples,
            "steps": self.steps,
            "wall_time_s": round(self.wall_time_s, 1),
            "stop_reason": self.stop_reason,
            "final_loss": next(
                (h["loss"] for h in reversed(self.history) if "loss" in h), None
            ),
            "evals": evals,
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "config": asdict(self.config),
        }


@dataclass
class Example:
    """One training sequence: token ids and one target per token (IGNORE
    where there is none)."""

    input_ids: list[int]
    targets: list[float]


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def collate(
    batch: Sequence[Example], pad_id: int, target_dtype: torch.dtype
) -> dict[str, torch.Tensor]:
    """Pad a batch on the right: ids with `pad_id`, targets with IGNORE."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    targets = torch.full((len(batch), width), IGNORE, dtype=target_dtype)
    for i, e in enumerate(batch):
        n = len(e.input_ids)
        ids[i, :n] = torch.tensor(e.input_ids)
        mask[i, :n] = 1
        targets[i, :n] = torch.tensor(e.targets, dtype=target_dtype)
    return {"input_ids": ids, "attention_mask": mask, "targets": targets}


def learning_rate(config: TrainConfig, done: float) -> float:
    """Linear warm-up, then cosine decay to 0, at fraction `done` of training."""
    if config.warmup_frac and done < config.warmup_frac:
        return config.lr * done / config.warmup_frac
    rest = (done - config.warmup_frac) / (1 - config.warmup_frac)
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, rest)))


def fit(
    model: torch.nn.Module,
    examples: Sequence[Example],
    loss_fn: Callable[[torch.nn.Module, dict], torch.Tensor],
    config: TrainConfig,
    *,
    pad_id: int,
    target_dtype: torch.dtype = torch.float,
    evaluate: Callable[[torch.nn.Module], dict] | None = None,
    monitor: tuple[str, str] = ("val_auroc", "max"),
) -> tuple[list[dict], int, float, str]:
    """Train `model` on `examples` in place; return (history, steps, seconds,
    stop reason).

    `evaluate(model)` returns a dict of validation metrics; it runs every
    `config.eval_every` steps and at the end. `monitor` names the metric that
    early stopping watches and whether higher ("max") or lower ("min") is
    better; the best weights seen are restored at the end.
    """
    if not examples:
        raise ValueError("there is nothing to train on: pass at least one trace.")
    device = pick_device(config.device)
    model.to(device).train()
    torch.manual_seed(config.seed)
    order_rng = torch.Generator().manual_seed(config.seed)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    per_epoch = math.ceil(len(examples) / config.batch_size)
    total = config.max_steps or config.num_epochs * per_epoch
    budget = config.time_budget_s or math.inf
    key, mode = monitor
    best_value, best_state, since_best = None, None, 0
    history: list[dict] = []
    step, running, stop_reason = 0, None, "finished"
    start = time.perf_counter()
    bar = tqdm(total=total, disable=not config.progress, desc="training")

    def run_eval() -> bool:
        """Evaluate, remember the best weights; True when patience runs out."""
        nonlocal best_value, best_state, since_best
        model.eval()
        with torch.no_grad():
            values = evaluate(model)
        model.train()
        history.append({"step": step, **values})
        value = values[key]
        better = best_value is None or (
            value > best_value if mode == "max" else value < best_value
        )
        if better:
            best_value, since_best = value, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        bar.set_postfix(loss=f"{running:.4f}", **{key: f"{value:.4f}"})
        return config.patience is not None and since_best >= config.patience

    while step < total and stop_reason == "finished":
        for idx in torch.randperm(len(examples), generator=order_rng).split(
            config.batch_size
        ):
            elapsed = time.perf_counter() - start
            lr = learning_rate(config, max(step / total, elapsed / budget))
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = collate([examples[i] for i in idx], pad_id, target_dtype)
            batch = {k: v.to(device) for k, v in batch.items()}
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss.item()} at step {step}: lower the "
                    f"learning rate (lr={config.lr}) or check the data for NaN."
                )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            bar.update(1)
            value = loss.item()
            running = value if running is None else 0.9 * running + 0.1 * value
            elapsed = time.perf_counter() - start
            if step % config.log_every == 0 or step == 1:
                history.append(
                    {"step": step, "loss": value, "lr": lr, "elapsed_s": elapsed}
                )
                bar.set_postfix(loss=f"{running:.4f}")
            if elapsed > budget:
                stop_reason = "time budget"
            elif step >= total:
                break
            if evaluate and step % config.eval_every == 0 and step < total:
                if run_eval():
                    stop_reason = "early stop"
            if stop_reason != "finished":
                break
    if evaluate and not any("loss" not in h and h["step"] == step for h in history):
        run_eval()  # the final weights, unless just evaluated
    if stop_reason != "finished":
        end_bar_early(bar, step, stop_reason)
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history, step, time.perf_counter() - start, stop_reason


def end_bar_early(bar, step: int, reason: str) -> None:
    """A planned stop (time budget, early stopping) is not a failure: end
    the bar full at the step reached, saying why. (A notebook draws a bar
    closed short of its total in red, as an error.)"""
    bar.set_description(f"training ({reason})")
    bar.total = step
    container = getattr(bar, "container", None)  # tqdm.notebook's widget row
    if container is not None:
        container.children[1].max = step
    bar.refresh()


# --------------------------------------------------------------------------- #
# PRM and ORM
# --------------------------------------------------------------------------- #


def step_target(label: float, soft: bool) -> float:
    """The probability of "good" a step's label asks for: 1 for ratings >= 0
    (+1 and neutral 0), 0 for -1; a soft label is its own target."""
    if soft:
        return float(label)
    return 1.0 if label >= 0 else 0.0


def prm_examples(
    tok: PreTrainedTokenizerFast,
    traces: Sequence[Trace],
    *,
    outcomes: Sequence[bool] | None = None,
    context: int | None = None,
) -> list[Example]:
    """Token-classification examples: a target at each step's "\\n" only.

    With `outcomes` (ORM), only the last step's "\\n" gets a target: 1 when
    the final answer was right, 0 when not.
    """
    traces = list(traces)
    if outcomes is None:
        for i, t in enumerate(traces):
            if t.labels is None:
                raise ValueError(
                    f"trace {i} has no labels: label the traces first (e.g. "
                    f"prm_edu.labels) or train an ORM with train_orm()."
                )
    elif len(outcomes) != len(traces):
        raise ValueError(
            f"{len(traces)} traces but {len(outcomes)} outcomes: give one "
            f"outcome (final answer right?) per trace."
        )
    encoded = encode_traces(tok, [(t.problem, t.steps) for t in traces])
    out = []
    for i, (t, e) in enumerate(zip(traces, encoded)):
        if context is not None and len(e.input_ids) > context:
            raise ValueError(
                f"trace {i} is {len(e.input_ids)} tokens long, but the model's "
                f"context is {context}: drop it or use a larger context."
            )
        targets = [float(IGNORE)] * len(e.input_ids)
        if outcomes is None:
            for sep, label in zip(e.separators, t.labels):
                targets[sep] = step_target(label, t.soft)
        else:
            targets[e.separators[-1]] = 1.0 if outcomes[i] else 0.0
        out.append(Example(e.input_ids, targets))
    return out


def separator_loss(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    """Cross-entropy at the labelled "\\n" positions only (targets != IGNORE).

    The target is a probability of "good" (1 or 0, or a soft label), so the
    loss is -[y log p(good) + (1 - y) log p(bad)], averaged over the labels.
    """
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).logits
    return _label_loss(logits, batch["targets"])


def _label_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    at = targets != IGNORE
    log_p = logits[at].float().log_softmax(-1)
    y = targets[at]
    return -(y * log_p[:, 1] + (1 - y) * log_p[:, 0]).mean()


def separator_lm_loss(lm_weight: float):
    """`separator_loss` plus `lm_weight` times a language-model loss on the
    tokens of the good prefix (`good_prefix_tokens`), for a `SurprisePRM`
    trained whole: it learns to judge steps, and stays a language model of
    right solutions, whose surprise the head reads."""

    def loss(model: torch.nn.Module, batch: dict) -> torch.Tensor:
        ids, mask = batch["input_ids"], batch["attention_mask"]
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        labels = _label_loss(out.logits, batch["targets"])
        use = good_prefix_tokens(ids, batch["targets"], model.config.step_token_id)
        use &= mask.bool()
        if not use.any():
            return labels
        token_lp = model.token_logprobs(ids, out.hidden_states[-1])
        return labels - lm_weight * token_lp[use].mean()

    return loss


def good_prefix_tokens(
    input_ids: torch.Tensor, targets: torch.Tensor, step_token_id: int
) -> torch.Tensor:
    """True at the solution tokens a language model of right solutions may
    learn from: those whose next label (at their own step's "\\n", or at a
    later one where steps carry no label, as in an ORM's data) comes with no
    bad label at or before it. A PRM's trace is used up to its first bad
    step, an ORM's only when its answer is right; the problem's tokens and
    anything after the last label are never used."""
    labelled = targets != IGNORE
    bad_so_far = (labelled & (targets < 0.5)).long().cumsum(1).float()
    at_labels = torch.where(labelled, bad_so_far, torch.full_like(bad_so_far, 1e9))
    next_label = at_labels.flip(1).cummin(1).values.flip(1)
    return (next_label == 0) & (steps_before(input_ids, step_token_id) >= 1)


def _loss_for(model: torch.nn.Module, lm_weight: float):
    """The scorer's loss: `separator_loss`, with the language-model term when
    `lm_weight` > 0 (which needs a `SurprisePRM` whose transformer trains)."""
    if lm_weight < 0:
        raise ValueError(f"lm_weight must be >= 0, got {lm_weight}.")
    if not lm_weight:
        return separator_loss
    if not hasattr(model, "token_logprobs"):
        raise ValueError(
            f"lm_weight={lm_weight} needs a model with a language model inside "
            f"(a SurprisePRM), not a {type(model).__name__}: pass lm_weight=0."
        )
    if not any(p.requires_grad for p in model.transformer.parameters()):
        raise ValueError(
            f"lm_weight={lm_weight} trains the language model inside the PRM, "
            f"but its transformer is frozen: make it with "
            f"surprise_prm_from_generator(..., frozen=False), or pass lm_weight=0."
        )
    return separator_lm_loss(lm_weight)


def _tokenizer_for(traces: Sequence[Trace], tokenizer) -> PreTrainedTokenizerFast:
    if tokenizer is not None:
        return tokenizer
    return build_tokenizer(text for t in traces for text in (t.problem, *t.steps))


def train_prm(
    traces: Sequence[Trace],
    config: TrainConfig | None = None,
    *,
    val_traces: Sequence[Trace] | None = None,
    tokenizer: PreTrainedTokenizerFast | None = None,
    model: torch.nn.Module | None = None,
    shape: ModelShape = PRM_SHAPE,
    lm_weight: float = 0.0,
) -> TrainResult:
    """Train a PRM on labelled traces (loss at each step's "\\n" only;
    `lm_weight` > 0 adds `separator_lm_loss`'s language-model term).

    With `val_traces`, the step AUROC on them is measured every
    `config.eval_every` steps (``val_auroc`` in the history), early stopping
    watches it, and the best model is kept. Without `tokenizer` one is built
    from the traces; without `model` a new one of size `shape` is made.
    """
    config = config or TrainConfig()
    tok = _tokenizer_for(traces, tokenizer)
    model = model if model is not None else new_prm(tok, shape, seed=config.seed)
    loss = _loss_for(model, lm_weight)
    context = model.config.n_positions
    examples = prm_examples(tok, traces, context=context)
    evaluate = None
    if val_traces:
        val = list(val_traces)
        kinds = {step_target(v, t.soft) >= 0.5 for t in val for v in t.labels}
        if len(kinds) < 2:
            raise ValueError(
                "val_traces must hold both good and bad steps to measure AUROC, "
                f"but every step is {'good' if True in kinds else 'bad'}."
            )

        def evaluate(m):
            scores = PRMScorer(m, tok).score_batch([(t.problem, t.steps) for t in val])
            return {"val_auroc": metrics.step_auroc(val, scores)}

    history, steps, wall, reason = fit(
        model,
        examples,
        loss,
        config,
        pad_id=tok.pad_token_id,
        evaluate=evaluate,
    )
    return TrainResult(model, tok, history, steps, wall, reason, len(examples), config)


def train_orm(
    traces: Sequence[Trace],
    outcomes: Sequence[bool],
    config: TrainConfig | None = None,
    *,
    val_traces: Sequence[Trace] | None = None,
    val_outcomes: Sequence[bool] | None = None,
    tokenizer: PreTrainedTokenizerFast | None = None,
    model: torch.nn.Module | None = None,
    shape: ModelShape = PRM_SHAPE,
    lm_weight: float = 0.0,
) -> TrainResult:
    """Train an ORM: the PRM's model, with one label per trace, at its last
    step: `outcomes[i]` says whether trace i's final answer was right
    (`lm_weight` as in `train_prm`: its language model then learns from the
    right-answer traces only).

    With `val_traces` and `val_outcomes`, ``val_auroc`` is the AUROC of the
    last-step score against the outcome.
    """
    config = config or TrainConfig()
    tok = _tokenizer_for(traces, tokenizer)
    model = model if model is not None else new_prm(tok, shape, seed=config.seed)
    loss = _loss_for(model, lm_weight)
    examples = prm_examples(
        tok, traces, outcomes=outcomes, context=model.config.n_positions
    )
    evaluate = None
    if val_traces:
        if val_outcomes is None or len(val_outcomes) != len(val_traces):
            raise ValueError("give one val_outcome per val_trace.")
        val = list(val_traces)
        truth = [int(bool(o)) for o in val_outcomes]

        def evaluate(m):
            scores = PRMScorer(m, tok).score_batch([(t.problem, t.steps) for t in val])
            return {"val_auroc": metrics.auroc([s[-1] for s in scores], truth)}

    history, steps, wall, reason = fit(
        model,
        examples,
        loss,
        config,
        pad_id=tok.pad_token_id,
        evaluate=evaluate,
    )
    return TrainResult(model, tok, history, steps, wall, reason, len(examples), config)


# --------------------------------------------------------------------------- #
# Generator
# --------------------------------------------------------------------------- #


def generator_examples(
    tok: PreTrainedTokenizerFast, traces: Sequence[Trace], context: int
) -> list[Example]:
    """Causal-LM examples: ``problem \\n step_1 \\n ... step_k \\n <eos>``,
    with a next-token target on every solution token (the problem's tokens
    are given, not predicted: IGNORE)."""
    encoded = encode_traces(tok, [(t.problem, t.steps) for t in traces])
    first_sep = tok.convert_tokens_to_ids("\n")
    out = []
    for i, e in enumerate(encoded):
        ids = [*e.input_ids, tok.eos_token_id]
        if len(ids) > context:
            raise ValueError(
                f"trace {i} is {len(ids)} tokens long with its end token, but "
                f"the model's context is {context}: drop it or use a larger one."
            )
        prompt_len = e.input_ids.index(first_sep) + 1
        targets = [IGNORE] * prompt_len + ids[prompt_len:]
        out.append(Example(ids, targets))
    return out


def lm_loss(model: torch.nn.Module, batch: dict) -> torch.Tensor:
    """Next-token cross-entropy on the solution tokens: the logits at position
    t predict the token at t + 1, so targets shift left by one."""
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).logits
    return torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(),
        batch["targets"][:, 1:].flatten(),
        ignore_index=IGNORE,
    )


def train_generator(
    traces: Sequence[Trace],
    config: TrainConfig | None = None,
    *,
    val_traces: Sequence[Trace] | None = None,
    tokenizer: PreTrainedTokenizerFast | None = None,
    model: torch.nn.Module | None = None,
    shape: ModelShape = GENERATOR_SHAPE,
) -> TrainResult:
    """Train a step generator on solutions (their labels are not used).

    It learns to write what it is shown: train it on a mix of correct
    solutions and flawed ones, and it makes mistakes of the same kinds.
    With `val_traces`, ``val_loss`` (per token) is measured and monitored.
    """
    config = config or TrainConfig()
    tok = _tokenizer_for(traces, tokenizer)
    model = model if model is not None else new_generator(tok, shape, config.seed)
    context = model.config.n_positions
    examples = generator_examples(tok, traces, context)
    evaluate = None
    if val_traces:
        val = generator_examples(tok, val_traces, context)

        def evaluate(m):
            device = next(m.parameters()).device
            total, count = 0.0, 0
            for start in range(0, len(val), 256):
                batch = collate(val[start : start + 256], tok.pad_token_id, torch.long)
                batch = {k: v.to(device) for k, v in batch.items()}
                n = int((batch["targets"][:, 1:] != IGNORE).sum())
                total += lm_loss(m, batch).item() * n
                count += n
            return {"val_loss": total / count}

    history, steps, wall, reason = fit(
        model,
        examples,
        lm_loss,
        config,
        pad_id=tok.pad_token_id,
        target_dtype=torch.long,
        evaluate=evaluate,
        monitor=("val_loss", "min"),
    )
    return TrainResult(model, tok, history, steps, wall, reason, len(examples), config)
