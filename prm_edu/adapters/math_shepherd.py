"""Math-Shepherd's convention: a language model that answers "+" or "-" at a tag.

`peiyi9979/math-shepherd-mistral-7b-prm` (Wang et al., 2024) is a causal LM,
not a classifier. Its input is the problem, a space, then the steps, each
written ``"Step i: <step> ки"`` and joined by newlines::

    Solve 2x + 5 = 15. Step 1: Subtract 5 from both sides: 2x = 10 ки
    Step 2: Divide by 2: x = 5 ки

It was trained to predict ``+`` (good) or ``-`` (bad) as the token after
each step tag ``ки``. So a step's score is read from the logits *at the tag's
position* (the prediction of the next token), keeping only the ``+`` and
``-`` entries: P(good) = softmax([logit(+), logit(-)])[0]. The whole trace
is one forward pass, as on the model card. Defined in notebook 07.
"""

from __future__ import annotations

import re
from typing import Sequence

import torch

from prm_edu.adapters.base import AdapterScorer, Encoded, MissingTokenError

STEP_TAG = "ки"
GOOD_TOKEN, BAD_TOKEN = "+", "-"
_NUMBERED = re.compile(r"^Step \d+:")


class MathShepherdScorer(AdapterScorer):
    """Step scores from a Math-Shepherd-style PRM (a `StepScorer`).

    `number_steps` writes ``"Step i: "`` before each step that lacks it, as
    in the model's training data. Raises `MissingTokenError` when the
    tokenizer cannot write the step tag or ``+``/``-`` as single tokens.
    """

    convention = "math-shepherd"

    def __init__(
        self,
        model,
        tokenizer,
        *,
        step_tag: str = STEP_TAG,
        good_token: str = GOOD_TOKEN,
        bad_token: str = BAD_TOKEN,
        number_steps: bool = True,
        **kwargs,
    ):
        super().__init__(model, tokenizer, **kwargs)
        self.step_tag = step_tag
        self.number_steps = number_steps
        self.good_id, self.bad_id = _candidate_ids(tokenizer, good_token, bad_token)
        tag_ids = tokenizer.encode(step_tag, add_special_tokens=False)
        self.tag_id = tag_ids[-1] if tag_ids else None
        if (
            self.tag_id is None
            or self.tag_id == tokenizer.unk_token_id
            or (step_tag not in tokenizer.decode([self.tag_id]))
        ):
            raise MissingTokenError(
                f"the math-shepherd convention marks each step with the tag "
                f"{step_tag!r}, but this tokenizer has no token for it "
                f"(it reads it as {tokenizer.convert_ids_to_tokens(tag_ids)}): "
                f"pass step_tag= with the model's own tag, or another "
                f"`convention=`."
            )

    def model_text(self, problem: str, steps: Sequence[str]) -> str:
        lines = []
        for i, step in enumerate(steps, start=1):
            step = step.strip()
            if self.number_steps and not _NUMBERED.match(step):
                step = f"Step {i}: {step}"
            lines.append(f"{step} {self.step_tag}")
        return f"{problem} " + "\n".join(lines)

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        for i, step in enumerate(steps):
            if self.step_tag in step:
                raise ValueError(
                    f"step {i} ({step!r}) contains the step tag "
                    f"{self.step_tag!r}, which marks where scores are read: "
                    f"remove it from the step."
                )
        # The card's tokenizer.encode(text): with the tokenizer's BOS.
        ids = self.tokenizer(self.model_text(problem, steps))["input_ids"]
        positions = [i for i, t in enumerate(ids) if t == self.tag_id]
        if len(positions) != len(steps):
            raise ValueError(
                f"found {len(positions)} step tags for {len(steps)} steps: "
                f"the tokenizer merged {self.step_tag!r} with a neighbour in "
                f"this text (or the problem contains it); check "
                f"scorer.model_text(problem, steps)."
            )
        return Encoded(ids, positions)

    def read(self, logits: torch.Tensor) -> torch.Tensor:
        pair = logits[:, [self.good_id, self.bad_id]]
        return pair.softmax(-1)[:, 0]


def _candidate_ids(tokenizer, good: str, bad: str) -> tuple[int, int]:
    """The ids of the good and bad answer tokens, as the model predicts them."""
    # As on the model card: both in one string, so that each gets the form
    # the model predicts after the tag (SentencePiece's leading space).
    pair = tokenizer.encode(f"{good} {bad}", add_special_tokens=False)
    if len(pair) == 2 and pair[0] != pair[1] and tokenizer.unk_token_id not in pair:
        return pair[0], pair[1]
    # Tokenizers that keep the space as its own token: each one alone.
    alone = [tokenizer.encode(t, add_special_tokens=False) for t in (good, bad)]
    if all(len(ids) == 1 and ids[0] != tokenizer.unk_token_id for ids in alone):
        return alone[0][0], alone[1][0]
    raise MissingTokenError(
        f"the math-shepherd convention reads the logits of {good!r} and "
        f"{bad!r}, each one token, but this tokenizer reads them as "
        f"{[tokenizer.convert_ids_to_tokens(ids) for ids in alone]}: this is "
        f"not a Math-Shepherd-style PRM (try another `convention=`)."
    )


def load(
    path_or_name: str,
    *,
    device: str,
    dtype=None,
    batch_size: int = 8,
    trust_remote_code: bool = False,
    model_kwargs=None,
    **options,
):
    """A `MathShepherdScorer` for a causal LM at a local path or hub name."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prm_edu.adapters.base import load_kwargs

    tokenizer = AutoTokenizer.from_pretrained(
        path_or_name, trust_remote_code=trust_remote_code
    )
    model = AutoModelForCausalLM.from_pretrained(
        path_or_name,
        trust_remote_code=trust_remote_code,
        **load_kwargs(device, dtype, model_kwargs),
    )
    return MathShepherdScorer(
        model, tokenizer, device=device, batch_size=batch_size, **options
    )
