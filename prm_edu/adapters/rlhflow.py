"""RLHFlow's convention: each step a user turn, the assistant judges it "+".

`RLHFlow/Llama3.1-8B-PRM-Deepseek-Data` and `...-Mistral-Data` (Xiong et
al., 2024) are chat models fine-tuned to answer ``+`` (good) or ``-`` (bad)
after each step. The trace is a conversation rendered by the tokenizer's
chat template::

    user:      <problem> <step 1>
    assistant: +
    user:      <step 2>
    assistant: +
    ...

A step's score is P(+) at the place where the assistant's answer to it is
predicted: the logits of the token just *before* that answer, keeping only
the ``+`` and ``-`` entries, softmax([logit(+), logit(-)])[0]. (RLHFlow's
scripts read the last step at position -3 of a Llama-3.1 conversation: the
same place.) Because the model is causal, one forward pass over the whole
conversation scores every step, each seeing only the steps before it.
Defined in notebook 07.
"""

from __future__ import annotations

from typing import Sequence

import torch

from prm_edu.adapters.base import (
    AdapterScorer,
    Encoded,
    load_kwargs,
    require_chat_template,
    token_id,
)

GOOD_TOKEN, BAD_TOKEN = "+", "-"


class RLHFlowScorer(AdapterScorer):
    """Step scores from an RLHFlow-style PRM (a `StepScorer`).

    Raises `MissingTokenError` when the tokenizer has no chat template or
    cannot write ``+`` and ``-`` as single tokens.
    """

    convention = "rlhflow"

    def __init__(
        self,
        model,
        tokenizer,
        *,
        good_token: str = GOOD_TOKEN,
        bad_token: str = BAD_TOKEN,
        **kwargs,
    ):
        super().__init__(model, tokenizer, **kwargs)
        require_chat_template(tokenizer, self.convention)
        self.good_token = good_token
        self.good_id = token_id(tokenizer, good_token, "the answer", self.convention)
        self.bad_id = token_id(tokenizer, bad_token, "the answer", self.convention)

    def messages(self, problem: str, steps: Sequence[str]) -> list[dict]:
        conversation = []
        for k, step in enumerate(steps):
            text = f"{problem} {step}" if k == 0 else step
            conversation.append({"role": "user", "content": text})
            conversation.append({"role": "assistant", "content": self.good_token})
        return conversation

    def model_text(self, problem: str, steps: Sequence[str]) -> str:
        return self._render(self.messages(problem, steps), answer_next=False)

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        conversation = self.messages(problem, steps)
        text = self._render(conversation, answer_next=False)
        enc = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True
        )
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        starts = {start: i for i, (start, end) in enumerate(offsets) if end > start}
        positions = []
        for k in range(len(steps)):
            # Everything up to the k-th assistant answer, and where it starts.
            prefix = self._render(conversation[: 2 * k + 1], answer_next=True)
            where = starts.get(len(prefix))
            if not text.startswith(prefix) or where is None or where == 0:
                raise ValueError(
                    f"cannot find the assistant's answer to step {k}: this "
                    f"chat template does not render a conversation as its "
                    f"prefixes (check scorer.model_text(problem, steps))."
                )
            if ids[where] != self.good_id:
                raise ValueError(
                    f"the assistant's answer to step {k} was tokenized as "
                    f"{self.tokenizer.convert_ids_to_tokens([ids[where]])}, "
                    f"not {self.good_token!r} alone: this template glues the "
                    f"answer to its neighbours."
                )
            positions.append(where - 1)  # the logits that predict the answer
        return Encoded(ids, positions)

    def read(self, logits: torch.Tensor) -> torch.Tensor:
        pair = logits[:, [self.good_id, self.bad_id]]
        return pair.softmax(-1)[:, 0]

    def _render(self, conversation: list[dict], *, answer_next: bool) -> str:
        return self.tokenizer.apply_chat_template(
            conversation, tokenize=False, add_generation_prompt=answer_next
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
    """An `RLHFlowScorer` for a chat causal LM at a local path or hub name."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        path_or_name, trust_remote_code=trust_remote_code
    )
    model = AutoModelForCausalLM.from_pretrained(
        path_or_name,
        trust_remote_code=trust_remote_code,
        **load_kwargs(device, dtype, model_kwargs),
    )
    return RLHFlowScorer(
        model, tokenizer, device=device, batch_size=batch_size, **options
    )
