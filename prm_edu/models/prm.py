"""A small process reward model (PRM) and the scorer that reads its step scores.

The PRM is a tiny GPT-2 with a 2-label token-classification head
(`GPT2ForTokenClassification`, which `AutoModelForTokenClassification` loads
with no custom code). It reads ``problem + "\\n" + step_1 + "\\n" + ...`` and,
at each step's separator ``"\\n"``, says how likely the step is good:
``softmax(logits)[1]`` (label 1 = good, 0 = bad), as in TRL's PRMTrainer.

It is causal (each token sees only the tokens before it), like the real PRMs
built on language models: a step's score depends on the problem and the steps
up to it, never on later ones, so scoring a partial solution during search
gives the same numbers as scoring the finished one.

An ORM is the same model trained on the last step's label only (was the
final answer right?); read its score at the last step. Defined in notebook 03.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from transformers import GPT2Config, GPT2ForTokenClassification, PreTrainedTokenizerFast

from prm_edu.models.tokenizer import encode_traces
from prm_edu.protocols import State, Usage

GOOD_LABEL = 1  # index of "good" in the 2-label head
ID2LABEL = {0: "bad", 1: "good"}
# The config fields of every 2-label step classifier (PRM, ORM, SurprisePRM).
HEAD_FIELDS = {
    "num_labels": 2,
    "id2label": ID2LABEL,
    "label2id": {v: k for k, v in ID2LABEL.items()},
}


@dataclass(frozen=True)
class ModelShape:
    """How big a small transformer is: width, depth, heads and context.

    `context` is the most tokens one trace (problem and all steps) may have.
    """

    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    context: int = 256
    dropout: float = 0.0

    def gpt2_config(self, tok: PreTrainedTokenizerFast, **extra) -> GPT2Config:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be a multiple of n_heads={self.n_heads}."
            )
        return GPT2Config(
            vocab_size=len(tok),
            n_positions=self.context,
            n_embd=self.d_model,
            n_layer=self.n_layers,
            n_head=self.n_heads,
            # GPT-2's own tanh-approximated GELU, as one fused torch kernel
            # (the same function as "gelu_new", which takes seven separate
            # operations: 15% of sampling time on a CPU).
            activation_function="gelu_pytorch_tanh",
            resid_pdrop=self.dropout,
            embd_pdrop=self.dropout,
            attn_pdrop=self.dropout,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
            **extra,
        )


PRM_SHAPE = ModelShape(d_model=96, n_layers=4, n_heads=4, context=256)


def new_prm(
    tok: PreTrainedTokenizerFast, shape: ModelShape = PRM_SHAPE, seed: int = 0
) -> GPT2ForTokenClassification:
    """A freshly initialised PRM (or ORM) sized by `shape`, seeded."""
    config = shape.gpt2_config(
        tok,
        **HEAD_FIELDS,
        classifier_dropout=shape.dropout,
    )
    torch.manual_seed(seed)
    return GPT2ForTokenClassification(config)


def prm_from_generator(
    generator, extra_layers: int = 0, seed: int = 0
) -> GPT2ForTokenClassification:
    """A PRM whose transformer starts as a copy of a trained generator's.

    Real PRMs are language models fine-tuned to judge steps (Math-Shepherd
    and Qwen2.5-Math-PRM start from their math LMs): what the generator
    learned about the task (which numbers follow from which) is where the PRM
    starts. The 2-label head is new, and so are `extra_layers` transformer
    blocks stacked on top: a language model's last layer *predicts* the next
    token, and comparing that prediction with the token actually written
    ("was this number a surprise?") takes layers above it. They start as
    identity maps (zero output projections), so training begins from the
    generator's own features.
    """
    config = GPT2Config.from_dict(
        {
            **generator.config.to_dict(),
            "n_layer": generator.config.n_layer + extra_layers,
            **HEAD_FIELDS,
            "classifier_dropout": generator.config.resid_pdrop,
            "architectures": None,
        }
    )
    torch.manual_seed(seed)
    prm = GPT2ForTokenClassification(config)
    missing, unexpected = prm.transformer.load_state_dict(
        generator.transformer.state_dict(), strict=False
    )
    if unexpected or any(not k.startswith("h.") for k in missing):
        raise ValueError(f"generator and PRM do not match: {missing} {unexpected}")
    with torch.no_grad():
        for block in prm.transformer.h[generator.config.n_layer :]:
            block.attn.c_proj.weight.zero_()
            block.mlp.c_proj.weight.zero_()
    return prm.to(generator.device)


def context_of(model) -> int:
    return int(model.config.n_positions)


def check_length(n_tokens: int, model, what: str) -> None:
    limit = context_of(model)
    if n_tokens > limit:
        raise ValueError(
            f"{what} is {n_tokens} tokens long, but the model's context is "
            f"{limit} tokens: use fewer or shorter steps."
        )


class PRMScorer:
    """Step scores from a token-classification PRM (a `StepScorer`).

    `score(problem, steps)` gives, for each step, the probability that it is
    good, from one forward pass over the whole trace. `score_batch(items)`
    does many traces, padded into batches of up to `batch_size`. `usage`
    counts forward passes and tokens read, so searches can report their cost.

    Refused with an error that says why: an empty step list, an empty step,
    a step with a newline, characters the tokenizer cannot represent
    (`UnknownCharacterError`), a trace longer than the model's context, and
    a model that produces NaN.
    """

    def __init__(
        self,
        model,
        tokenizer: PreTrainedTokenizerFast,
        *,
        batch_size: int = 64,
        device: str | torch.device | None = None,
    ):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = torch.device(device) if device else model.device
        self.model.to(self.device)
        self.usage = Usage()

    def score(self, problem: str, steps: Sequence[str]) -> list[float]:
        """P(good) for each step of one trace."""
        return self.score_batch([(problem, steps)])[0]

    def score_batch(self, items: Sequence[State]) -> list[list[float]]:
        """P(good) for each step of each (problem, steps) pair."""
        encoded = encode_traces(self.tokenizer, list(items))
        for i, e in enumerate(encoded):
            check_length(len(e.input_ids), self.model, f"trace {i}")
        # Similar lengths together: less padding, fewer wasted tokens.
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))
        out: list[list[float]] = [[] for _ in encoded]
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            probs = self._good_probs([encoded[i].input_ids for i in chunk])
            for row, i in enumerate(chunk):
                out[i] = probs[row, encoded[i].separators].tolist()
        return out

    @torch.inference_mode()
    def _good_probs(self, rows: list[list[int]]) -> torch.Tensor:
        ids, mask = pad_right(rows, self.tokenizer.pad_token_id)
        logits = self.model(
            input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
        ).logits.float()
        self.usage.forward_passes += 1
        self.usage.tokens += int(mask.sum())
        real = logits[mask.to(self.device).bool()]
        if not torch.isfinite(real).all():
            raise FloatingPointError(
                "the model produced NaN or infinite logits: its weights are "
                "broken (reload the checkpoint or retrain it)."
            )
        return logits.softmax(-1)[..., GOOD_LABEL].cpu()


def pad_right(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of token ids as one padded tensor and its attention mask."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = 1
    return ids, mask


def n_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())
