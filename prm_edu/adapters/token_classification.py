"""The course's own convention, which is also TRL PRMTrainer's.

A token-classification model with 2 labels reads
``problem + "\\n" + step_1 + "\\n" + ... + step_k + "\\n"`` and gives each
step's score as softmax(logits)[1] at that step's ``"\\n"``. The course's
PRMs (`prm_edu.models`) and any PRM trained with TRL's PRMTrainer (see
`prm_edu.trl_export`) follow it, so loading one gives the course's own
`PRMScorer`: the same scorer, widgets and searches, on any such checkpoint.
Defined in notebook 07.
"""

from __future__ import annotations

from typing import Sequence

import torch

from prm_edu.adapters.base import (
    AdapterScorer,
    Encoded,
    MissingTokenError,
    load_kwargs,
    require_two_labels,
)

STEP_SEPARATOR = "\n"


class TokenClassificationScorer(AdapterScorer):
    """The course's convention for any tokenizer (a `StepScorer`).

    `load` returns the course's own `PRMScorer` when the tokenizer is built
    like the course's; this class reads the same positions for tokenizers
    that spell "\n" differently inside (byte-level BPE writes it "Ċ").
    """

    convention = "token-classification"

    def __init__(self, model, tokenizer, **kwargs):
        super().__init__(model, tokenizer, **kwargs)
        require_two_labels(model, self.convention)
        self.sep_id = check_tokenizer(tokenizer)

    def model_text(self, problem: str, steps: Sequence[str]) -> str:
        return STEP_SEPARATOR.join([problem, *steps]) + STEP_SEPARATOR

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        for i, step in enumerate(steps):
            if STEP_SEPARATOR in step:
                raise ValueError(
                    f"step {i} ({step!r}) contains a newline, but a newline is "
                    f"the step separator: split it into two steps."
                )
        text = self.model_text(problem, steps)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        seps = [i for i, t in enumerate(ids) if t == self.sep_id]
        if len(seps) != len(steps) + 1 + problem.count(STEP_SEPARATOR):
            raise ValueError(
                f"found {len(seps)} separator tokens for {len(steps)} steps: "
                f"the tokenizer merged '\\n' with a neighbour in this text."
            )
        return Encoded(ids, seps[-len(steps) :])  # earlier ones end the problem

    def read(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.softmax(-1)[:, 1]


def load(
    path_or_name: str,
    *,
    device: str,
    dtype=None,
    batch_size: int = 8,
    trust_remote_code: bool = False,
    model_kwargs=None,
):
    """The course's `PRMScorer` around a 2-label token classifier.

    Raises `MissingTokenError` when the model does not have 2 labels or its
    tokenizer cannot write "\\n" as one token.
    """
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from prm_edu.models.prm import PRMScorer

    tokenizer = AutoTokenizer.from_pretrained(
        path_or_name, trust_remote_code=trust_remote_code
    )
    check_tokenizer(tokenizer)
    model = AutoModelForTokenClassification.from_pretrained(
        path_or_name,
        trust_remote_code=trust_remote_code,
        **load_kwargs(device, dtype, model_kwargs),
    )
    require_two_labels(model, "token-classification")
    if _course_style(tokenizer):
        return PRMScorer(model, tokenizer, batch_size=batch_size, device=device)
    return TokenClassificationScorer(
        model, tokenizer, batch_size=batch_size, device=device
    )


def _course_style(tokenizer) -> bool:
    """True when the course's `PRMScorer` reads this tokenizer's separators."""
    from prm_edu.models.tokenizer import separator_id

    return separator_id(tokenizer) == check_tokenizer(tokenizer)


def check_tokenizer(tokenizer) -> int:
    """The id of "\\n"; refuses a tokenizer that cannot follow the convention."""
    ids = tokenizer.encode(STEP_SEPARATOR, add_special_tokens=False)
    if len(ids) != 1 or ids[0] == tokenizer.unk_token_id:
        raise MissingTokenError(
            f"the token-classification convention reads each score at the "
            f"step separator '\\n', which must be one token, but this "
            f"tokenizer reads it as {tokenizer.convert_ids_to_tokens(ids)}."
        )
    if tokenizer.pad_token_id is None:
        # Batches need a padding id; it is never read (attention mask 0).
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if tokenizer.pad_token_id is None:
        raise MissingTokenError(
            "this tokenizer has no pad, end or unknown token to pad batches "
            "with: set tokenizer.pad_token."
        )
    return ids[0]
