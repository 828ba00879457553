"""A tiny GPT-2 that writes solutions one step at a time (a `StepGenerator`).

It reads ``problem + "\\n" + step_1 + "\\n" + ... + step_k + "\\n"`` and samples
the next step token by token until it writes ``"\\n"``. Right after a step's
``"\\n"`` it may write its end-of-sequence token instead of a new step: that
ends the solution (`GeneratedStep.final`). Many states are sampled together,
left-padded into one batch, with a key-value cache so each new token costs
one small forward pass. Defined in notebook 04.

How "end here" is sampled: after a step's "\\n" the scorer looks at the next
token's distribution once and ends the solution with probability
P(EOS). When it goes on, the next call samples the following step with EOS
masked out, i.e. from the model's distribution given "not the end", so the
pair of calls samples exactly what the model would.
"""

from __future__ import annotations

from typing import Sequence

import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

from prm_edu.models.kv_cache import CACHE_ARG, cache_of
from prm_edu.models.prm import ModelShape, context_of
from prm_edu.models.tokenizer import encode_traces, separator_id
from prm_edu.protocols import GeneratedStep, State, Usage

GENERATOR_SHAPE = ModelShape(d_model=128, n_layers=4, n_heads=4, context=256)


def new_generator(
    tok: PreTrainedTokenizerFast, shape: ModelShape = GENERATOR_SHAPE, seed: int = 0
) -> GPT2LMHeadModel:
    """A freshly initialised generator sized by `shape`, seeded."""
    torch.manual_seed(seed)
    return GPT2LMHeadModel(shape.gpt2_config(tok))


def sharpen(model: GPT2LMHeadModel, temperature: float) -> GPT2LMHeadModel:
    """Fold a sampling temperature into `model`, in place: its logits become
    the old ones divided by `temperature`, so that sampling it at
    temperature t samples the old model at t * `temperature`. GPT-2's logits
    are linear in the output of its final layer norm, so dividing that norm's
    weight and bias divides them exactly. Returns `model`."""
    check_fold_temperature(temperature, "temperature to fold in")
    norm = model.transformer.ln_f
    with torch.no_grad():
        norm.weight.div_(temperature)
        norm.bias.div_(temperature)
    return model


def check_fold_temperature(value: float, name: str) -> None:
    """Refuse a temperature `sharpen` cannot fold in: 0, negatives, NaN, inf."""
    if not (0 < value < float("inf")):
        raise ValueError(
            f"{name} must be a positive number, got {value}; 1 leaves the "
            f"generator as trained."
        )


class Generator:
    """Samples the next step of many partial solutions in one batch.

    `next_steps(states, temperature=1.0, seed=None)` returns one
    `GeneratedStep(text, n_tokens, final)` per state (text without the "\\n").
    Temperature 0 is greedy. A step that reaches `max_step_tokens` without a
    newline (or fills the context) is cut there and ends the solution
    (final=True): the model has lost its way and a runaway step cannot be
    continued sensibly. A state already too long for the context gets an
    empty step, which `prm_edu.generation.complete` treats as "cannot go on".
    `usage.tokens` counts tokens generated (each step's tokens, its "\\n" and
    the EOS when it ends); `usage.forward_passes` counts batched passes.
    """

    def __init__(
        self,
        model: GPT2LMHeadModel,
        tokenizer: PreTrainedTokenizerFast,
        *,
        max_step_tokens: int = 48,
        batch_size: int = 256,
        device: str | torch.device | None = None,
    ):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_step_tokens = max_step_tokens
        self.batch_size = batch_size
        self.device = torch.device(device) if device else model.device
        self.model.to(self.device)
        self.usage = Usage()
        self._sep = separator_id(tokenizer)
        self._eos = tokenizer.eos_token_id
        # Never sampled inside a step: padding, unknown, start, and EOS (whose
        # chance is read separately, right after each "\n").
        self._banned = sorted(
            {tokenizer.pad_token_id, tokenizer.unk_token_id, self._eos}
            | {tokenizer.bos_token_id}
        )

    def next_steps(
        self,
        states: Sequence[State],
        *,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> list[GeneratedStep]:
        """The next step for each (problem, steps so far) state."""
        if not (temperature >= 0):  # also refuses NaN
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        prompts = [
            e.input_ids
            for e in encode_traces(self.tokenizer, list(states), allow_no_steps=True)
        ]
        rng = torch.Generator().manual_seed(
            seed if seed is not None else int(torch.randint(2**31, ()).item())
        )
        out: list[GeneratedStep | None] = [None] * len(prompts)
        # Room for the prompt, at least one token and the look at EOS; a
        # state with no room left gets an empty step (it cannot go on).
        room = context_of(self.model) - 2
        for i, p in enumerate(prompts):
            if len(p) > room:
                out[i] = GeneratedStep(text="", n_tokens=0, final=False)
        order = sorted(
            (i for i in range(len(prompts)) if out[i] is None),
            key=lambda i: len(prompts[i]),
        )
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            steps = self._sample([prompts[i] for i in chunk], temperature, rng)
            for i, step in zip(chunk, steps):
                out[i] = step
        return out  # type: ignore[return-value]

    @torch.inference_mode()
    def _sample(
        self, prompts: list[list[int]], temperature: float, rng: torch.Generator
    ) -> list[GeneratedStep]:
        n = len(prompts)
        # Identical prompts (the N samples of best-of-N before their first
        # step, a beam's children) are read once and their cache shared.
        unique: dict[tuple[int, ...], int] = {}
        row_of = torch.tensor(
            [unique.setdefault(tuple(p), len(unique)) for p in prompts]
        )
        width = max(len(p) for p in prompts)
        budget = min(self.max_step_tokens, context_of(self.model) - width - 1)
        ids = torch.full(
            (len(unique), width), self.tokenizer.pad_token_id, dtype=torch.long
        )
        mask = torch.zeros((len(unique), width), dtype=torch.long)
        for i, p in enumerate(unique):  # left padding: every prompt ends at -1
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        dev = self.device
        out = self.model(
            input_ids=ids.to(dev),
            attention_mask=mask.to(dev),
            position_ids=positions.to(dev),
            use_cache=True,
        )
        self.usage.forward_passes += 1
        cache, last_logits = cache_of(out), out.logits[:, -1]
        if len(unique) < n:
            cache.reorder_cache(row_of.to(dev))
            last_logits, mask, positions = (
                last_logits[row_of.to(dev)],
                mask[row_of],
                positions[row_of],
            )
        tokens: list[list[int]] = [[] for _ in range(n)]
        final = [False] * n
        done = torch.zeros(n, dtype=torch.bool)
        peeking = torch.zeros(n, dtype=torch.bool)  # wrote "\n", decide EOS next
        last_pos = positions[:, -1]
        first = True
        for _ in range(budget + 1):
            logits = last_logits.float().cpu()
            # After a "\n": end with probability P(EOS) at this temperature.
            for i in torch.nonzero(peeking & ~done).flatten().tolist():
                final[i] = self._ends(logits[i], temperature, rng)
                done[i] = True
            if bool(done.all()):
                break
            logits[:, self._banned] = -torch.inf
            if first:  # a step has some text: never an empty step
                logits[:, self._sep] = -torch.inf
                first = False
            nxt = _draw(logits, temperature, rng)
            nxt[done] = self.tokenizer.pad_token_id
            for i in torch.nonzero(~done).flatten().tolist():
                tokens[i].append(int(nxt[i]))
                if nxt[i] == self._sep:
                    peeking[i] = True
                elif len(tokens[i]) >= budget:
                    final[i] = done[i] = True  # runaway step: cut and end
            last_pos = last_pos + 1
            mask = torch.cat([mask, (~done).long()[:, None]], dim=1)
            out = self.model(
                input_ids=nxt[:, None].to(dev),
                attention_mask=mask.to(dev),
                position_ids=last_pos[:, None].to(dev),
                use_cache=True,
                **{CACHE_ARG: cache},
            )
            self.usage.forward_passes += 1
            cache, last_logits = cache_of(out), out.logits[:, -1]
        steps = []
        for toks, fin in zip(tokens, final):
            body = toks[:-1] if toks and toks[-1] == self._sep else toks
            text = self.tokenizer.decode(body)
            ended_by_eos = fin and bool(toks) and toks[-1] == self._sep
            n_tok = len(toks) + int(ended_by_eos)
            self.usage.tokens += n_tok
            steps.append(GeneratedStep(text=text, n_tokens=n_tok, final=fin))
        return steps

    def _ends(self, logits: torch.Tensor, temperature: float, rng) -> bool:
        if temperature == 0:
            return int(logits.argmax()) == self._eos
        probs = (logits / temperature).softmax(-1)
        return bool(torch.rand((), generator=rng) < probs[self._eos])


def _draw(logits: torch.Tensor, temperature: float, rng) -> torch.Tensor:
    if temperature == 0:
        return logits.argmax(-1)
    probs = (logits / temperature).softmax(-1)
    return torch.multinomial(probs, 1, generator=rng).squeeze(1)
