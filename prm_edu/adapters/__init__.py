"""Published PRMs and any Hugging Face or served generator, behind the course's
interfaces, so the same search and widgets run with real models.

A published PRM is a model plus a *convention*: how the trace is written and
where each step's score is read. `load_scorer(path_or_name, convention=...)`
loads one from a local folder or the Hugging Face Hub and returns a
`StepScorer` (``score(problem, steps) -> [P(good) per step]``):

==========================  ==================================================
``"math-shepherd"``         steps tagged ``ки``, P(+) from the ``+``/``-``
                            logits at each tag (math-shepherd-mistral-7b-prm)
``"qwen-prm"``              chat template, steps ended by ``<extra_0>``,
                            2-label head (Qwen/Qwen2.5-Math-PRM-7B)
``"rlhflow"``               each step a user turn answered ``+``; P(+) from
                            the logits (RLHFlow/Llama3.1-8B-PRM-*)
``"token-classification"``  the course's own convention, and TRL
                            PRMTrainer's: 2 labels read at each ``"\\n"``
==========================  ==================================================

Generators: `HFGenerator` (any causal LM through ``generate``, one step at a
time) and `OpenAIGenerator` (a model served by vLLM, TGI or SGLang, over
HTTP). `standins` builds tiny random models in each convention, for tests
and for running notebook 07 offline. Defined in notebook 07.
"""

from __future__ import annotations

from prm_edu.adapters.base import AdapterScorer, Encoded, MissingTokenError
from prm_edu.adapters.generator import HFGenerator, load_generator
from prm_edu.adapters.math_shepherd import MathShepherdScorer
from prm_edu.adapters.openai_client import OpenAIGenerator, ServerError
from prm_edu.adapters.qwen_prm import QwenPRMScorer
from prm_edu.adapters.rlhflow import RLHFlowScorer
from prm_edu.adapters.token_classification import TokenClassificationScorer

CONVENTIONS = ("math-shepherd", "qwen-prm", "rlhflow", "token-classification")

# Published checkpoints in each convention, for notebook 07's real-model mode.
KNOWN_MODELS = {
    "peiyi9979/math-shepherd-mistral-7b-prm": "math-shepherd",
    "Qwen/Qwen2.5-Math-PRM-7B": "qwen-prm",
    "Qwen/Qwen2.5-Math-PRM-72B": "qwen-prm",
    "RLHFlow/Llama3.1-8B-PRM-Deepseek-Data": "rlhflow",
    "RLHFlow/Llama3.1-8B-PRM-Mistral-Data": "rlhflow",
}


def load_scorer(
    path_or_name: str,
    convention: str | None = None,
    *,
    device: str | None = None,
    dtype=None,
    batch_size: int = 8,
    trust_remote_code: bool = False,
    model_kwargs: dict | None = None,
    **options,
):
    """A `StepScorer` for the PRM at `path_or_name` in its `convention`.

    `convention` is one of `CONVENTIONS`; it may be left out for the
    checkpoints in `KNOWN_MODELS`. `device` defaults to the GPU when there is
    one; `dtype` to the checkpoint's own on a GPU and float32 on the CPU.
    `model_kwargs` go to ``from_pretrained`` (e.g. a quantization config);
    other keywords go to the scorer (e.g. ``system_prompt=`` for qwen-prm,
    ``step_tag=`` for math-shepherd). Raises `MissingTokenError` when the
    model lacks the tokens its convention needs.
    """
    from prm_edu.adapters import math_shepherd, qwen_prm, rlhflow
    from prm_edu.adapters import token_classification as token_cls
    from prm_edu.env import pick_device

    if convention is None:
        convention = KNOWN_MODELS.get(str(path_or_name))
        if convention is None:
            raise ValueError(
                f"say which convention {path_or_name!r} follows: "
                f"load_scorer(..., convention=one of {CONVENTIONS})."
            )
    loaders = {
        "math-shepherd": math_shepherd.load,
        "qwen-prm": qwen_prm.load,
        "rlhflow": rlhflow.load,
        "token-classification": token_cls.load,
    }
    if convention not in loaders:
        raise ValueError(
            f"unknown convention {convention!r}: pick one of {CONVENTIONS}."
        )
    if convention == "token-classification" and options:
        raise TypeError(
            f"the token-classification convention takes no options, got "
            f"{sorted(options)}."
        )
    return loaders[convention](
        str(path_or_name),
        device=pick_device(device),
        dtype=dtype,
        batch_size=batch_size,
        trust_remote_code=trust_remote_code,
        model_kwargs=model_kwargs,
        **options,
    )


__all__ = [
    "AdapterScorer",
    "CONVENTIONS",
    "Encoded",
    "HFGenerator",
    "KNOWN_MODELS",
    "MathShepherdScorer",
    "MissingTokenError",
    "OpenAIGenerator",
    "QwenPRMScorer",
    "RLHFlowScorer",
    "ServerError",
    "TokenClassificationScorer",
    "load_generator",
    "load_scorer",
]
