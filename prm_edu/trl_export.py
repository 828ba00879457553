"""The production path: train a PRM with TRL's PRMTrainer on the course's data.

TRL (Hugging Face's training library) ships a `PRMTrainer` that fine-tunes a
token-classification model on *stepwise supervision* rows::

    {"prompt": "...", "completions": ["step 1", "step 2"], "labels": [True, False]}

It writes ``prompt + step_1 + "\\n" + step_2 + "\\n" ...`` and trains a
2-label head at each step's last token (the "\\n"): the course's own
convention. So any labelled traces from the course export to a
`datasets.Dataset` (`to_trl_dataset`), train with TRL (`train_with_trl`),
and load back into the course's scorer and widgets with
``prm_edu.adapters.load_scorer(path, convention="token-classification")``.

Two details make the round trip exact:

- TRL puts nothing between the prompt and the first step, and the course
  puts "\\n" there, so the exported prompt ends with "\\n";
- TRL starts every row with the tokenizer's BOS token when it has one, and
  the course's scorer does not, so `train_with_trl` hides the BOS token from
  TRL (``keep_bos=True`` keeps TRL's way).

**Soft labels.** TRL trains on good/bad only: its tokenizer turns each label
into ``int(label)``, so a Monte Carlo fraction of 0.8 becomes 0 (bad) and
only 1.0 stays good. `to_trl_dataset` therefore cuts soft labels at an
explicit `threshold` and warns (`SoftLabelWarning`) that the fractions are
lost; `train_with_trl` warns if it is handed fractions anyway. The course's
own trainer (`prm_edu.training`) trains on soft labels directly.

TRL moved PRMTrainer to ``trl.experimental.prm`` in 0.26 and removed it in
1.14; this module finds it in either place and says what to install when it
is gone. Defined in notebook 07.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from prm_edu.data.trace import Trace
from prm_edu.data.trl import to_trl

STEP_SEPARATOR = "\n"


class SoftLabelWarning(UserWarning):
    """Soft Monte Carlo labels were (or will be) cut to good/bad for TRL."""


def to_trl_dataset(
    traces: Iterable[Trace],
    *,
    neutral_as: bool | None = True,
    threshold: float | None = None,
):
    """A `datasets.Dataset` of TRL stepwise rows, one per labelled trace.

    Ratings map +1 -> True, -1 -> False, 0 -> `neutral_as`. Soft labels need
    `threshold` (a step is good when its fraction >= threshold) and raise a
    `SoftLabelWarning`, since TRL cannot train on the fractions themselves.
    Each prompt ends with "\\n", so that TRL's text is the course's.
    """
    from datasets import Dataset

    traces = list(traces)
    soft = sum(t.soft for t in traces)
    rows = to_trl(traces, neutral_as=neutral_as, threshold=threshold)
    if soft:
        warnings.warn(
            f"{soft} of {len(traces)} traces have soft Monte Carlo labels, cut "
            f"at threshold={threshold} for TRL: its PRMTrainer trains on 0/1 "
            f"only (it casts each label with int(), so 0.8 would become 0). "
            f"To train on the fractions, use prm_edu.training.",
            SoftLabelWarning,
            stacklevel=2,
        )
    for row in rows:
        row["prompt"] = row["prompt"] + STEP_SEPARATOR
    return Dataset.from_list(rows)


def prm_trainer_classes():
    """TRL's (PRMConfig, PRMTrainer), wherever this TRL version keeps them."""
    try:
        import trl
    except ImportError:
        raise ImportError(
            "TRL is not installed: pip install 'prm_edu[trl]' (or "
            "pip install 'trl>=0.20,<1.14' datasets accelerate)."
        ) from None
    with warnings.catch_warnings():
        # Importing from trl.experimental warns that its API may change:
        # we know, and pin the versions that have it.
        warnings.simplefilter("ignore")
        try:
            from trl.experimental.prm import PRMConfig, PRMTrainer
        except ImportError:
            try:
                from trl import PRMConfig, PRMTrainer
            except ImportError:
                raise ImportError(
                    f"TRL {trl.__version__} has no PRMTrainer: it was removed "
                    f"in TRL 1.14. Install a version that has it: "
                    f"pip install 'trl>=0.20,<1.14'."
                ) from None
    return PRMConfig, PRMTrainer


@dataclass
class TRLConfig:
    """The knobs of a TRL PRM run; `extra` goes to TRL's PRMConfig as is.

    TRL's own default learning rate (1e-5) suits fine-tuning a 7B model; the
    course's tiny models learn faster with a larger one.
    """

    output_dir: str | Path
    max_steps: int = 50
    learning_rate: float = 1e-3
    batch_size: int = 8
    seed: int = 0
    keep_bos: bool = False
    logging_steps: int = 5
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TRLRun:
    """Where the trained PRM was saved, and its training losses."""

    path: Path
    steps: list[int]
    losses: list[float]


def train_with_trl(model, tokenizer, dataset, config: TRLConfig) -> TRLRun:
    """Train `model` (a 2-label token classifier) with TRL's PRMTrainer.

    Saves the model and `tokenizer` to `config.output_dir` (safetensors), so
    ``load_scorer(run.path, convention="token-classification")`` gives the
    course's scorer for it.
    """
    import torch

    PRMConfig, PRMTrainer = prm_trainer_classes()
    _warn_if_soft(dataset)
    if getattr(model.config, "num_labels", None) != 2:
        raise ValueError(
            f"PRMTrainer trains a 2-label token classifier (bad, good), but "
            f"this model has num_labels={getattr(model.config, 'num_labels', None)}"
            f": load it with AutoModelForTokenClassification(..., num_labels=2)."
        )
    cuda = torch.cuda.is_available()
    # Small models: memory is not the limit, so no activation checkpointing.
    # transformers 5 renamed the option; TRL sets the old name by default.
    names = {f.name for f in dataclasses.fields(PRMConfig)}
    no_checkpointing = (
        {"activation_checkpointing": False}
        if "activation_checkpointing" in names
        else {"gradient_checkpointing": False}
    )
    args = PRMConfig(
        output_dir=str(config.output_dir),
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=config.batch_size,
        seed=config.seed,
        logging_steps=config.logging_steps,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=not cuda,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        **no_checkpointing,
        max_length=_context(model),
        dataloader_num_workers=0,
        **config.extra,
    )
    trainer = PRMTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer if config.keep_bos else _without_bos(tokenizer),
    )
    bos = model.config.bos_token_id
    trainer.train()
    # The trainer aligns the model's config with the tokenizer it was given,
    # which had its BOS token hidden: put it back before saving.
    trainer.model.config.bos_token_id = bos
    path = Path(config.output_dir)
    trainer.model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    logged = [e for e in trainer.state.log_history if "loss" in e]
    run = TRLRun(path, [e["step"] for e in logged], [e["loss"] for e in logged])
    _write_card(path, run, config)
    return run


def _without_bos(tokenizer):
    """A copy of `tokenizer` that TRL sees without a BOS token."""
    if tokenizer.bos_token_id is None:
        return tokenizer
    tok = copy.deepcopy(tokenizer)
    tok.bos_token = None
    return tok


def _warn_if_soft(dataset) -> None:
    fractions = {x for labels in dataset["labels"] for x in labels if x not in (0, 1)}
    if fractions:
        warnings.warn(
            f"this dataset holds labels that are not 0/1 (e.g. "
            f"{sorted(fractions)[:3]}): TRL's PRMTrainer casts each with int(), "
            f"so every fraction below 1 trains as 'bad'. Cut them with "
            f"to_trl_dataset(traces, threshold=...) or train with "
            f"prm_edu.training.",
            SoftLabelWarning,
            stacklevel=3,
        )


def _context(model) -> int | None:
    for name in ("n_positions", "max_position_embeddings"):
        value = getattr(model.config, name, None)
        if isinstance(value, int):
            return value
    return None


def _write_card(path: Path, run: TRLRun, config: TRLConfig) -> None:
    import trl

    card = {
        "convention": "token-classification",
        "trained_with": f"trl {trl.__version__} PRMTrainer",
        "max_steps": config.max_steps,
        "learning_rate": config.learning_rate,
        "final_loss": run.losses[-1] if run.losses else None,
    }
    (path / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
