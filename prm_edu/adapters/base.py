"""What every published-PRM adapter shares: load, batch, read one score per step.

A published PRM is a Hugging Face model plus a *convention*: how (problem,
steps) is written as text, which token positions carry a step's verdict, and
how the logits there become P(good). An adapter's subclass supplies the three
pieces (`model_text`, `encode`, `read`); `AdapterScorer` does the rest, the
same way for all of them: one forward pass per batch of traces, right
padding, scores read only at the step positions, cost counted in `usage`.
That makes every adapter a `StepScorer`, so best-of-N, beam search and the
widgets run with a published PRM exactly as with the course's own.
Defined in notebook 07.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch

from prm_edu.protocols import State, Usage


class MissingTokenError(ValueError):
    """The tokenizer lacks a token (or a chat template) its convention needs."""


@dataclass(frozen=True)
class Encoded:
    """Token ids of one trace in a model's convention, and the index of the
    token whose logits hold each step's verdict (one per step, in order)."""

    input_ids: list[int]
    positions: list[int]


class AdapterScorer:
    """A `StepScorer` around a Hugging Face model and its scoring convention.

    Subclasses define `model_text(problem, steps)` (what the model reads),
    `encode(problem, steps) -> Encoded` and `read(logits) -> P(good)` for the
    logits gathered at the step positions. `score_batch` pads up to
    `batch_size` traces into one forward pass. `usage.forward_passes` counts
    those passes and `usage.tokens` the (unpadded) tokens read.
    """

    convention = "?"
    # Extra keyword arguments for the forward pass (e.g. use_cache=False).
    forward_kwargs: dict[str, Any] = {}

    def __init__(
        self,
        model,
        tokenizer,
        *,
        device: str | torch.device | None = None,
        batch_size: int = 8,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}.")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        if device is not None and not getattr(model, "hf_device_map", None):
            self.model.to(device)
        self.device = next(model.parameters()).device
        self.usage = Usage()
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else (tokenizer.eos_token_id or 0)

    # -- the convention: subclasses fill these in ---------------------------

    def model_text(self, problem: str, steps: Sequence[str]) -> str:
        raise NotImplementedError

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        raise NotImplementedError

    def read(self, logits: torch.Tensor) -> torch.Tensor:
        """P(good) per step from the logits at the step positions [k, V]."""
        raise NotImplementedError

    # -- the StepScorer protocol --------------------------------------------

    def score(self, problem: str, steps: Sequence[str]) -> list[float]:
        """P(good) for each step of one trace."""
        return self.score_batch([(problem, steps)])[0]

    def score_batch(self, items: Sequence[State]) -> list[list[float]]:
        """P(good) for each step of each (problem, steps) pair."""
        encoded = [self._checked(problem, steps) for problem, steps in items]
        out: list[list[float]] = [[] for _ in encoded]
        todo = list(range(len(encoded)))
        # Similar lengths together: less padding, fewer wasted tokens.
        todo.sort(key=lambda i: len(encoded[i].input_ids))
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            logits = self._forward([encoded[i].input_ids for i in chunk])
            for row, i in enumerate(chunk):
                picked = logits[row, encoded[i].positions].float()
                out[i] = self.read(picked).cpu().tolist()
        return out

    # -- for learners: where the scores come from ----------------------------

    def read_positions(self, problem: str, steps: Sequence[str]) -> list[tuple]:
        """(position, token) for each step: where its score is read."""
        enc = self.encode(problem, steps)
        tokens = self.tokenizer.convert_ids_to_tokens(enc.input_ids)
        return [(p, tokens[p]) for p in enc.positions]

    def __repr__(self) -> str:
        name = getattr(self.model.config, "_name_or_path", "") or "?"
        return (
            f"{type(self).__name__}({name!r}, convention={self.convention!r}, "
            f"device={str(self.device)!r})"
        )

    # -- internals -----------------------------------------------------------

    def _checked(self, problem: str, steps: Sequence[str]) -> Encoded:
        if not isinstance(problem, str):
            raise TypeError(
                f"problem must be text, got {type(problem).__name__}: pass "
                f"problem.text."
            )
        if isinstance(steps, str):
            raise TypeError("steps must be a list of step texts, not one string.")
        for i, step in enumerate(steps):
            if not isinstance(step, str) or not step.strip():
                raise ValueError(f"step {i} is {step!r}: every step needs text.")
        if not steps:
            raise ValueError(
                "the step list is empty: a PRM scores steps, so pass at least one."
            )
        enc = self.encode(problem, steps)
        limit = max_positions(self.model)
        if limit is not None and len(enc.input_ids) > limit:
            raise ValueError(
                f"this trace is {len(enc.input_ids)} tokens in the "
                f"{self.convention} convention, but the model reads at most "
                f"{limit}: use fewer or shorter steps."
            )
        return enc

    @torch.inference_mode()
    def _forward(self, rows: list[list[int]]) -> torch.Tensor:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            # Right padding: positions 0.. are the same as unpadded, so a
            # causal model gives every real token exactly its unbatched logits.
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = 1
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            **self.forward_kwargs,
        )
        logits = out.logits if hasattr(out, "logits") else out[0]
        self.usage.forward_passes += 1
        self.usage.tokens += int(mask.sum())
        if not torch.isfinite(logits[mask.to(logits.device).bool()]).all():
            raise FloatingPointError(
                "the model produced NaN or infinite logits: try dtype=float32, "
                "or reload the checkpoint."
            )
        return logits


def max_positions(model) -> int | None:
    """How many tokens the model can read, when its config says."""
    config = model.config
    for name in ("max_position_embeddings", "n_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def token_id(tokenizer, text: str, what: str, convention: str) -> int:
    """The id of `text` when the tokenizer has it as exactly one known token."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    unk = tokenizer.unk_token_id
    if len(ids) != 1 or (unk is not None and ids[0] == unk):
        pieces = tokenizer.convert_ids_to_tokens(ids)
        raise MissingTokenError(
            f"the {convention} convention needs {what} {text!r} as one token, "
            f"but this tokenizer reads it as {pieces}: this model was not "
            f"trained in the {convention} convention (pick another "
            f"`convention=`, or add the token and fine-tune)."
        )
    return ids[0]


def require_chat_template(tokenizer, convention: str) -> None:
    if not getattr(tokenizer, "chat_template", None):
        raise MissingTokenError(
            f"the {convention} convention writes the trace as a chat, but this "
            f"tokenizer has no chat template: load the tokenizer that ships "
            f"with the PRM, or set tokenizer.chat_template."
        )


def require_two_labels(model, convention: str) -> None:
    n = getattr(model.config, "num_labels", None)
    if n != 2:
        raise MissingTokenError(
            f"the {convention} convention reads a 2-label head (bad, good) at "
            f"each step, but this model has num_labels={n}: load a PRM trained "
            f"with 2 labels."
        )


def load_kwargs(device: str, dtype, extra: dict | None = None) -> dict:
    """from_pretrained keywords: on a GPU the checkpoint's own dtype (bf16 for
    the 7B PRMs), loaded straight into GPU memory (a 7B model would not fit in
    a Colab machine's RAM on the way); float32 on the CPU. `extra` (the
    caller's `model_kwargs`, e.g. a quantization config) wins."""
    if dtype is None:
        dtype = "auto" if device == "cuda" else torch.float32
    if isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    out = {"dtype": dtype}
    if device == "cuda":
        out["device_map"] = device
    return {**out, **(extra or {})}
