"""Any Hugging Face causal LM as a step generator, through ``generate``.

Search needs a generator that writes *one step* at a time: the next step for
many partial solutions at once. `HFGenerator` builds each prompt (the
model's chat template when it has one, else the course's plain text
``problem + sep + step_1 + sep + ...``), left-pads the batch, and calls
``model.generate`` with a stopping rule that ends each row at the step
separator (``"\\n"`` in the course, ``"\\n\\n"`` for most chat models).

How a solution ends: the model writes its end-of-sequence token instead of
another step. So after the separator, one more token is sampled (a *peek*):
if it is EOS the step is `final`, otherwise it is dropped and the next call
starts the next step afresh, with EOS forbidden as its first token. That is
how the course's own generator samples, too. Defined in notebook 07.
"""

from __future__ import annotations

from typing import Sequence

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from prm_edu.protocols import GeneratedStep, State, Usage


def build_prompt(
    tokenizer,
    problem: str,
    steps: Sequence[str],
    *,
    separator: str = "\n",
    chat: bool | None = None,
    system_prompt: str | None = None,
) -> str:
    """The text a generator continues to write the next step.

    With a chat template (`chat` None means: when the tokenizer has one) the
    problem is the user's message and the steps so far are the start of the
    assistant's answer, each followed by `separator`. Without one it is the
    course's convention: ``problem + sep + step_1 + sep + ...``.
    """
    done = "".join(step + separator for step in steps)
    if chat is None:
        chat = bool(getattr(tokenizer, "chat_template", None))
    if not chat:
        return problem + separator + done
    messages = [{"role": "user", "content": problem}]
    if system_prompt:
        messages.insert(0, {"role": "system", "content": system_prompt})
    head = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=True
    )
    return head + done


class HFGenerator:
    """A `StepGenerator` around a causal LM and its tokenizer.

    `next_steps(states, temperature=1.0, seed=None)` returns one
    `GeneratedStep(text, n_tokens, final)` per state, sampling up to
    `batch_size` states per ``generate`` call. Temperature 0 is greedy. A
    step that reaches `max_step_tokens` without a separator is cut there and
    ends the solution (final=True), as the course's generator does.
    `usage.tokens` counts tokens generated (the peek included);
    `usage.forward_passes` counts decoding passes (one per new token of the
    longest row in each batch).
    """

    def __init__(
        self,
        model,
        tokenizer,
        *,
        separator: str = "\n",
        chat: bool | None = None,
        system_prompt: str | None = None,
        max_step_tokens: int = 64,
        batch_size: int = 16,
        device: str | torch.device | None = None,
        generate_kwargs: dict | None = None,
    ):
        if not separator:
            raise ValueError("separator must be non-empty, e.g. '\\n'.")
        if max_step_tokens < 1:
            raise ValueError(f"max_step_tokens must be >= 1, got {max_step_tokens}.")
        self.model = model.eval()
        self.tokenizer = tokenizer
        if device is not None and not getattr(model, "hf_device_map", None):
            self.model.to(device)
        self.device = next(model.parameters()).device
        self.separator = separator
        self.chat = chat
        self.system_prompt = system_prompt
        self.max_step_tokens = max_step_tokens
        self.batch_size = batch_size
        self.generate_kwargs = dict(generate_kwargs or {})
        self.usage = Usage()
        self.eos_ids = _eos_ids(model, tokenizer)
        if not self.eos_ids:
            raise ValueError(
                "this model has no end-of-sequence token, so a solution could "
                "never end: set tokenizer.eos_token."
            )
        pad = tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.eos_ids[0]
        # Never written inside a solution: padding and "unknown" (unless the
        # model uses the same token as an end of sequence, as Qwen does).
        self.banned = sorted(
            {t for t in (pad, tokenizer.unk_token_id) if t is not None}
            - set(self.eos_ids)
        )

    def prompt(self, problem: str, steps: Sequence[str]) -> str:
        """The text the model continues for this state."""
        return build_prompt(
            self.tokenizer,
            problem,
            steps,
            separator=self.separator,
            chat=self.chat,
            system_prompt=self.system_prompt,
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
        if seed is not None:
            # generate() samples from torch's global generator.
            torch.manual_seed(seed)
        out: list[GeneratedStep] = []
        for start in range(0, len(states), self.batch_size):
            chunk = states[start : start + self.batch_size]
            out.extend(self._generate(chunk, temperature))
        return out

    @torch.inference_mode()
    def _generate(self, states: Sequence[State], temperature: float):
        chat = self.chat
        if chat is None:
            chat = bool(getattr(self.tokenizer, "chat_template", None))
        rows = [
            self.tokenizer(self.prompt(p, s), add_special_tokens=not chat)["input_ids"]
            for p, s in states
        ]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):  # left padding: every prompt ends at -1
            ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r) :] = 1
        stopper = _StepStop(self.tokenizer, self.separator, self.eos_ids, width)
        sampling = (
            {"do_sample": True, "temperature": float(temperature)}
            if temperature > 0
            else {"do_sample": False}
        )
        generated = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            max_new_tokens=self.max_step_tokens + 1,  # + the peek
            stopping_criteria=StoppingCriteriaList([stopper]),
            # Rows that are done get EOS, not the pad token: transformers then
            # cannot mistake them for unmasked padding.
            pad_token_id=self.eos_ids[0],
            eos_token_id=self.eos_ids,
            # A step must have text: EOS may only follow a separator.
            begin_suppress_tokens=self.eos_ids,
            suppress_tokens=self.banned or None,
            **sampling,
            **self.generate_kwargs,
        )
        new = generated[:, width:].cpu()
        self.usage.forward_passes += int(new.shape[1])
        # Rows that stopped early were padded after their stop: drop that.
        return [
            self._step(row.tolist()[: stopper.stopped_at.get(i, len(row))])
            for i, row in enumerate(new)
        ]

    def _step(self, tokens: list[int]) -> GeneratedStep:
        cut = _first(tokens, self.eos_ids)
        body = tokens if cut is None else tokens[:cut]
        n_tokens = len(body) + (cut is not None)
        self.usage.tokens += n_tokens
        text = self.tokenizer.decode(body, skip_special_tokens=True)
        head, sep, rest = text.partition(self.separator)
        if sep:
            # EOS right after the separator ends the solution; anything else
            # after it was the peek, the start of a step not taken here.
            final = cut is not None and not rest.strip()
        else:
            # EOS inside a step ends it and the solution; running out of
            # tokens without a separator also ends it (a runaway step).
            final = True
        return GeneratedStep(text=head.strip(), n_tokens=n_tokens, final=final)


class _StepStop(StoppingCriteria):
    """Stops each row one token after its separator, or at EOS."""

    def __init__(self, tokenizer, separator: str, eos_ids: list[int], width: int):
        self.tokenizer = tokenizer
        self.separator = separator
        self.eos_ids = set(eos_ids)
        self.width = width
        self.sep_end: dict[int, int] = {}  # row -> tokens up to the separator
        self.stopped_at: dict[int, int] = {}  # row -> its tokens when it stopped

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        new = input_ids[:, self.width :].tolist()
        stop = []
        for row, tokens in enumerate(new):
            if row in self.stopped_at:
                stop.append(True)
                continue
            if self.eos_ids.intersection(tokens):
                done = True
            else:
                if row not in self.sep_end:
                    text = self.tokenizer.decode(tokens, skip_special_tokens=True)
                    if self.separator in text:
                        self.sep_end[row] = len(tokens)
                end = self.sep_end.get(row)
                done = end is not None and len(tokens) > end
            if done:
                self.stopped_at[row] = len(tokens)
            stop.append(done)
        return torch.tensor(stop, dtype=torch.bool, device=input_ids.device)


def _eos_ids(model, tokenizer) -> list[int]:
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if ids is None:
        ids = tokenizer.eos_token_id
    if ids is None:
        return []
    ids = [ids] if isinstance(ids, int) else list(ids)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def _first(tokens: list[int], wanted: list[int]) -> int | None:
    for i, t in enumerate(tokens):
        if t in wanted:
            return i
    return None


def load_generator(
    path_or_name: str,
    *,
    separator: str = "\n",
    chat: bool | None = None,
    system_prompt: str | None = None,
    device: str | None = None,
    dtype=None,
    trust_remote_code: bool = False,
    model_kwargs: dict | None = None,
    **options,
) -> HFGenerator:
    """An `HFGenerator` for the causal LM at a local path or hub name.

    For a chat model that writes steps as paragraphs (e.g.
    Qwen/Qwen2.5-Math-1.5B-Instruct) pass ``separator="\\n\\n"``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from prm_edu.adapters.base import load_kwargs
    from prm_edu.env import pick_device

    device = pick_device(device)
    tokenizer = AutoTokenizer.from_pretrained(
        str(path_or_name), trust_remote_code=trust_remote_code
    )
    model = AutoModelForCausalLM.from_pretrained(
        str(path_or_name),
        trust_remote_code=trust_remote_code,
        **load_kwargs(device, dtype, model_kwargs),
    )
    return HFGenerator(
        model,
        tokenizer,
        separator=separator,
        chat=chat,
        system_prompt=system_prompt,
        device=device,
        **options,
    )
