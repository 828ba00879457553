"""Saving and loading models, in safetensors only, with checks a learner can read.

A checkpoint is a folder written by `save_pretrained`: ``config.json``,
``model.safetensors``, ``tokenizer.json``, ``tokenizer_config.json`` and a
``model_card.json`` that says how the model was made. Weights are never
pickled: a pickle can run code when it is loaded, so a folder holding
``pytorch_model.bin`` or any other pickle is refused, and ``model.safetensors``
must really be safetensors. A missing or damaged file gives a
`CheckpointError` naming it. Defined in notebook 03.

The course's trained checkpoints ship in the package, under
``prm_edu/checkpoints/<world>/{generator,prm,orm}/``; `load_prm`, `load_orm`
and `load_generator` open them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch
from safetensors import safe_open
from tokenizers import Tokenizer
from transformers import (
    AutoModelForCausalLM,
    AutoModelForTokenClassification,
    PreTrainedTokenizerFast,
)
from transformers.utils import logging as hf_logging

from prm_edu.models.generator import Generator
from prm_edu.models.prm import PRMScorer
from prm_edu.models.surprise import SurprisePRM  # noqa: F401 (registers it with the Auto classes)
from prm_edu.models.tokenizer import check_tokenizer

SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints"
ROLES = ("generator", "prm", "orm")
WEIGHTS = "model.safetensors"
REQUIRED = ("config.json", WEIGHTS, "tokenizer.json", "tokenizer_config.json")
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
CARD = "model_card.json"


class CheckpointError(ValueError):
    """A checkpoint folder is missing a file, or holds a damaged or unsafe one."""


def save_checkpoint(
    model,
    tokenizer: PreTrainedTokenizerFast,
    path: str | Path,
    *,
    card: dict | None = None,
    dtype: torch.dtype | None = None,
) -> Path:
    """Write `model` and `tokenizer` to the folder `path`, as safetensors.

    `dtype=torch.float16` halves the file size (the model is loaded back in
    float32). `card` is written to ``model_card.json``.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    to_save = model
    if dtype is not None:
        to_save = copy.deepcopy(model).to(dtype)
    to_save.save_pretrained(path)
    tokenizer.save_pretrained(path)
    if card is not None:
        (path / CARD).write_text(json.dumps(card, indent=2) + "\n")
    check_checkpoint(path)
    return path


def check_checkpoint(path: str | Path) -> Path:
    """Refuse a checkpoint folder that is missing, incomplete, damaged or pickled.

    Returns the folder as a `Path` when it is sound.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(
            f"no checkpoint folder at {path}: check the path, or save one with "
            f"save_checkpoint()."
        )
    pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(
            f"{path / pickles[0]} is a pickle file: prm_edu never loads pickled "
            f"weights, because loading a pickle can run arbitrary code. Save "
            f"the model with save_pretrained() (safetensors) and delete "
            f"{', '.join(pickles)}."
        )
    for name in REQUIRED:
        if not (path / name).is_file():
            raise CheckpointError(
                f"{path / name} is missing: a checkpoint needs "
                f"{', '.join(REQUIRED)}. Save it again with save_checkpoint()."
            )
    for name in ("config.json", "tokenizer_config.json"):
        try:
            json.loads((path / name).read_text())
        except (ValueError, UnicodeDecodeError) as err:
            raise CheckpointError(
                f"{path / name} is corrupt (not valid JSON: {err}): save the "
                f"checkpoint again."
            ) from None
    _check_weights(path / WEIGHTS)
    try:
        Tokenizer.from_file(str(path / "tokenizer.json"))
    except Exception as err:  # tokenizers raises a bare Exception
        raise CheckpointError(
            f"{path / 'tokenizer.json'} is corrupt ({err}): save the checkpoint again."
        ) from None
    return path


def _check_weights(file: Path) -> None:
    head = file.read_bytes()[:8] if file.stat().st_size >= 8 else b""
    # torch.save writes a zip ("PK") or a raw pickle (protocol byte 0x80).
    if head.startswith(b"PK") or head[:1] == b"\x80":
        raise CheckpointError(
            f"{file} is a pickle (torch.save) file, not safetensors: prm_edu "
            f"never loads pickled weights. Re-save the model with "
            f"save_pretrained()."
        )
    try:
        with safe_open(str(file), framework="pt") as f:
            names = list(f.keys())
            for name in names:
                tensor = f.get_tensor(name)
                if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                    raise CheckpointError(
                        f"{file} holds NaN or infinite values in {name!r}: the "
                        f"weights are broken; retrain or rebuild the checkpoint."
                    )
    except CheckpointError:
        raise
    except Exception as err:  # safetensors raises its own SafetensorError
        raise CheckpointError(
            f"{file} is corrupt or truncated ({err}): save the checkpoint again."
        ) from None
    if not names:
        raise CheckpointError(f"{file} holds no tensors: save the checkpoint again.")


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerFast:
    """The tokenizer saved in a checkpoint folder."""
    tok = PreTrainedTokenizerFast.from_pretrained(str(check_checkpoint(path)))
    check_tokenizer(tok)
    return tok


def load_model(path: str | Path, role: str):
    """The model and tokenizer in a checkpoint folder; `role` is one of
    "generator", "prm", "orm"."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}.")
    path = check_checkpoint(path)
    if role == "generator":
        auto = AutoModelForCausalLM
    else:
        auto = AutoModelForTokenClassification
    # A few dozen small tensors: no "Loading weights" bar wherever a shipped
    # model loads (benchmarks, builds, scripts; `env.start` hides bars in the
    # notebooks). The caller's setting is restored after.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = auto.from_pretrained(
            str(path), use_safetensors=True, dtype=torch.float32
        )
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return model.eval(), load_tokenizer(path)


def read_card(path: str | Path) -> dict:
    """The `model_card.json` of a checkpoint folder ({} when it has none)."""
    file = Path(path) / CARD
    return json.loads(file.read_text()) if file.is_file() else {}


def shipped_path(world: str, role: str) -> Path:
    """Where the course's checkpoint for `world` and `role` lives."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}.")
    path = SHIPPED / world / role
    if not path.is_dir():
        have = sorted(p.name for p in SHIPPED.iterdir()) if SHIPPED.is_dir() else []
        raise CheckpointError(
            f"no shipped {role} for world {world!r}; shipped worlds: {have}. "
            f"Build them with `python -m prm_edu.build_checkpoints`."
        )
    return path


def load_prm(world: str, **scorer_kwargs) -> PRMScorer:
    """The shipped PRM for `world` ("equations", "arithmetic", "game24")."""
    return PRMScorer(*load_model(shipped_path(world, "prm"), "prm"), **scorer_kwargs)


def load_orm(world: str, **scorer_kwargs) -> PRMScorer:
    """The shipped ORM for `world`: read its score at the last step."""
    return PRMScorer(*load_model(shipped_path(world, "orm"), "orm"), **scorer_kwargs)


def load_generator(world: str, **generator_kwargs) -> Generator:
    """The shipped step generator for `world`."""
    model, tok = load_model(shipped_path(world, "generator"), "generator")
    return Generator(model, tok, **generator_kwargs)
