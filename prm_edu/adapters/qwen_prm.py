"""Qwen2.5-Math-PRM's convention: a chat, steps ended by ``<extra_0>``, 2 labels.

`Qwen/Qwen2.5-Math-PRM-7B` (Zhang et al., 2025) reads the trace as a chat::

    system:    Please reason step by step, and put your final answer
               within \\boxed{}.
    user:      <problem>
    assistant: <step 1><extra_0><step 2><extra_0>...<step k><extra_0>

rendered by the tokenizer's own chat template. Its head gives 2 logits per
token (0 = bad, 1 = good); a step's score is softmax(logits)[1] at that
step's ``<extra_0>`` token. The real checkpoint ships its own model class
(`Qwen2ForProcessRewardModel`, loaded with ``trust_remote_code=True``); any
token-classification model with 2 labels and the same tokens follows the
same convention, which is what the offline stand-in uses. Defined in
notebook 07.
"""

from __future__ import annotations

from typing import Sequence

import torch

from prm_edu.adapters.base import (
    AdapterScorer,
    Encoded,
    MissingTokenError,
    load_kwargs,
    require_chat_template,
    token_id,
)

SYSTEM_PROMPT = (
    "Please reason step by step, and put your final answer within \\boxed{}."
)
STEP_SEPARATOR = "<extra_0>"


class QwenPRMScorer(AdapterScorer):
    """Step scores from a Qwen2.5-Math-PRM-style model (a `StepScorer`).

    Raises `MissingTokenError` when the tokenizer has no chat template or no
    single ``<extra_0>`` token, or the model's head does not give 2 logits.
    """

    convention = "qwen-prm"
    # The released model code builds a cache it never needs for scoring, in
    # a way that transformers 5 no longer supports: ask for none.
    forward_kwargs = {"use_cache": False}

    def __init__(
        self,
        model,
        tokenizer,
        *,
        system_prompt: str = SYSTEM_PROMPT,
        step_separator: str = STEP_SEPARATOR,
        **kwargs,
    ):
        super().__init__(model, tokenizer, **kwargs)
        require_chat_template(tokenizer, self.convention)
        n_labels = getattr(model.config, "num_labels", 2)
        if n_labels != 2:
            raise MissingTokenError(
                f"the qwen-prm convention reads a 2-label head (bad, good) at "
                f"each {step_separator}, but this model has "
                f"num_labels={n_labels}."
            )
        self.system_prompt = system_prompt
        self.step_separator = step_separator
        self.sep_id = token_id(
            tokenizer, step_separator, "the step separator", self.convention
        )

    def messages(self, problem: str, steps: Sequence[str]) -> list[dict]:
        sep = self.step_separator
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": problem},
            {"role": "assistant", "content": sep.join(steps) + sep},
        ]

    def model_text(self, problem: str, steps: Sequence[str]) -> str:
        return self.tokenizer.apply_chat_template(
            self.messages(problem, steps), tokenize=False, add_generation_prompt=False
        )

    def encode(self, problem: str, steps: Sequence[str]) -> Encoded:
        for i, step in enumerate(steps):
            if self.step_separator in step:
                raise ValueError(
                    f"step {i} ({step!r}) contains {self.step_separator!r}, "
                    f"which marks where scores are read: remove it."
                )
        # The template already holds any start token: add no second one.
        text = self.model_text(problem, steps)
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        positions = [i for i, t in enumerate(ids) if t == self.sep_id]
        if len(positions) != len(steps):
            raise ValueError(
                f"found {len(positions)} {self.step_separator} tokens for "
                f"{len(steps)} steps (is it in the problem or the system "
                f"prompt?): check scorer.model_text(problem, steps)."
            )
        return Encoded(ids, positions)

    def read(self, logits: torch.Tensor) -> torch.Tensor:
        if logits.shape[-1] != 2:
            raise MissingTokenError(
                f"the qwen-prm convention needs 2 logits per token (bad, good), "
                f"but this model gives {logits.shape[-1]}: is it a language "
                f"model (try convention='math-shepherd' or 'rlhflow')?"
            )
        return logits.softmax(-1)[:, 1]


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
    """A `QwenPRMScorer` for a local path or hub name.

    A checkpoint that ships its own model class (the released Qwen PRM)
    needs ``trust_remote_code=True``: read its code first, it runs locally.
    Otherwise the checkpoint is loaded as a 2-label token classifier.
    """
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    config = AutoConfig.from_pretrained(
        path_or_name, trust_remote_code=trust_remote_code
    )
    own_code = "AutoModel" in (getattr(config, "auto_map", None) or {})
    if own_code and not trust_remote_code:
        raise ValueError(
            f"{path_or_name} ships its own model code (config.auto_map), which "
            f"runs on your machine: read it, then pass trust_remote_code=True."
        )
    if getattr(config, "pad_token_id", None) is None:
        # The released model code reads config.pad_token_id, which newer
        # transformers no longer fill in for custom configs.
        eos = getattr(config, "eos_token_id", None)
        config.pad_token_id = eos[0] if isinstance(eos, (list, tuple)) else eos
    tokenizer = AutoTokenizer.from_pretrained(
        path_or_name, trust_remote_code=trust_remote_code
    )
    auto = AutoModel if own_code else AutoModelForTokenClassification
    model = auto.from_pretrained(
        path_or_name,
        config=config,
        trust_remote_code=trust_remote_code,
        **load_kwargs(device, dtype, model_kwargs),
    )
    return QwenPRMScorer(
        model, tokenizer, device=device, batch_size=batch_size, **options
    )
