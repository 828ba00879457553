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
from transformers import (
    GPT2Config,
    GPT2ForTokenClassification,
    GPT2Model,
    PreTrainedTokenizerFast,
)

from prm_edu.models.kv_cache import CACHE_ARG, cache_of
from prm_edu.models.tokenizer import encode_traces, separator_id
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


# Share each problem's keys and values when that cuts the work by at least a
# quarter: the work counted in tokens run (padding included) plus
# `PASS_TOKENS` per forward pass, what one call costs beyond its tokens (a
# 4-layer PRM on 2 CPU cores: 4 ms for one 10-token row, 84 ms for 64 rows
# of 67 tokens). The shared plan runs two passes per batch, and grouping
# traces by problem pads more: hence a quarter, not any saving.
SHARE_BELOW = 0.75
PASS_TOKENS = 200


class PRMScorer:
    """Step scores from a token-classification PRM (a `StepScorer`).

    `score(problem, steps)` gives, for each step, the probability that it is
    good, from one forward pass over the whole trace. `score_batch(items)`
    does many traces, padded into batches of up to `batch_size`. `usage`
    counts forward passes and tokens read, so searches can report their cost.

    Traces of the same problem share its keys and values when that saves
    work (`plan_batches`): the problem runs once per batch and each trace's
    steps run on top of it, with the same scores (the model is causal: the
    problem's tokens never see the steps). Best-of-N scores N traces of each
    problem, so an arithmetic problem (more than half of its traces' tokens)
    is read once, not N times. Only GPT-2 models share (the course's PRMs,
    ORMs and `SurprisePRM`); ``share_prefix=False`` turns it off.

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
        share_prefix: bool = True,
    ):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.device = torch.device(device) if device else model.device
        self.model.to(self.device)
        self.share_prefix = share_prefix and isinstance(model.base_model, GPT2Model)
        self.usage = Usage()

    def score(self, problem: str, steps: Sequence[str]) -> list[float]:
        """P(good) for each step of one trace."""
        return self.score_batch([(problem, steps)])[0]

    def score_batch(self, items: Sequence[State]) -> list[list[float]]:
        """P(good) for each step of each (problem, steps) pair."""
        encoded = encode_traces(self.tokenizer, list(items))
        for i, e in enumerate(encoded):
            check_length(len(e.input_ids), self.model, f"trace {i}")
        rows = [e.input_ids for e in encoded]
        # The problem is everything before its own "\n" (the first one).
        sep = separator_id(self.tokenizer)
        cuts = [r.index(sep) if self.share_prefix else 0 for r in rows]
        batches, shared = plan_batches(rows, cuts, self.batch_size)
        out: list[list[float]] = [[] for _ in encoded]
        for chunk in batches:
            if shared:
                probs = self._good_probs_shared(
                    [rows[i][: cuts[i]] for i in chunk],
                    [rows[i][cuts[i] :] for i in chunk],
                )
            else:
                probs = self._good_probs([rows[i] for i in chunk])
            for row, i in enumerate(chunk):
                start = cuts[i] if shared else 0
                at = [s - start for s in encoded[i].separators]
                out[i] = probs[row, at].tolist()
        return out

    @torch.inference_mode()
    def _good_probs(self, rows: list[list[int]]) -> torch.Tensor:
        ids, mask = pad_right(rows, self.tokenizer.pad_token_id)
        logits = self.model(
            input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
        ).logits
        self.usage.forward_passes += 1
        self.usage.tokens += int(mask.sum())
        return self._read(logits, mask)

    @torch.inference_mode()
    def _good_probs_shared(
        self, problems: list[list[int]], rest: list[list[int]]
    ) -> torch.Tensor:
        """Like `_good_probs`, for rows ``problems[i] + rest[i]``: each
        distinct problem runs once, the rest on its cached keys and values;
        the result's columns are the positions in `rest`."""
        dev = self.device
        distinct = list(dict.fromkeys(map(tuple, problems)))
        index = {p: k for k, p in enumerate(distinct)}
        which = torch.tensor([index[tuple(p)] for p in problems])
        p_ids, p_mask = pad_right(
            [list(p) for p in distinct], self.tokenizer.pad_token_id
        )
        out = self.model.base_model(
            input_ids=p_ids.to(dev), attention_mask=p_mask.to(dev), use_cache=True
        )
        cache = cache_of(out)
        cache.reorder_cache(which.to(dev))  # one copy of its problem per row
        ids, mask = pad_right(rest, self.tokenizer.pad_token_id)
        # Positions go on from each row's own problem length (not the padding).
        positions = p_mask.sum(1)[which, None] + torch.arange(ids.shape[1])
        logits = self.model(
            input_ids=ids.to(dev),
            attention_mask=torch.cat([p_mask[which], mask], 1).to(dev),
            position_ids=positions.to(dev),
            **{CACHE_ARG: cache},
        ).logits
        self.usage.forward_passes += 2
        self.usage.tokens += int(p_mask.sum() + mask.sum())
        return self._read(logits, mask)

    def _read(self, logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = logits.float()
        real = logits[mask.to(logits.device).bool()]
        if not torch.isfinite(real).all():
            raise FloatingPointError(
                "the model produced NaN or infinite logits: its weights are "
                "broken (reload the checkpoint or retrain it)."
            )
        return logits.softmax(-1)[..., GOOD_LABEL].cpu()


def plan_batches(
    rows: Sequence[Sequence[int]], cuts: Sequence[int], batch_size: int
) -> tuple[list[list[int]], bool]:
    """Batches of row indices for scoring, and whether to share prefixes.

    Alone: rows sorted by length, so that similar lengths pad together.
    Shared: the rows of each prefix (``rows[i][:cuts[i]]``, the problem)
    together, each prefix run once per batch. Counting the tokens each plan
    runs, padding included, and `PASS_TOKENS` per forward pass, the shared
    plan is taken when it costs under `SHARE_BELOW` of the other. So a few
    candidate steps of one problem (a tree search's depth) run alone, and
    best-of-N's many traces of long problems share. A cut of 0 means no
    prefix to share.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    n = len(rows)
    alone = _chunks(sorted(range(n), key=lambda i: len(rows[i])), batch_size)
    cost_alone = sum(PASS_TOKENS + len(b) * max(len(rows[i]) for i in b) for b in alone)
    if 0 in cuts:
        return alone, False
    prefixes = [tuple(r[:c]) for r, c in zip(rows, cuts)]
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(prefixes):
        groups.setdefault(p, []).append(i)
    rest = [len(rows[i]) - cuts[i] for i in range(n)]
    for g in groups.values():
        g.sort(key=lambda i: rest[i])
    # Problems whose traces are alike in length next to each other.
    order = sorted(groups.values(), key=lambda g: rest[g[len(g) // 2]])
    shared = _chunks([i for g in order for i in g], batch_size)
    cost_shared = sum(
        2 * PASS_TOKENS
        + len({prefixes[i] for i in b}) * max(cuts[i] for i in b)
        + len(b) * max(rest[i] for i in b)
        for b in shared
    )
    if cost_shared < SHARE_BELOW * cost_alone:
        return shared, True
    return alone, False


def _chunks(order: list[int], size: int) -> list[list[int]]:
    return [order[s : s + size] for s in range(0, len(order), size)]


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
