"""Rollouts for RL: whole solutions sampled token by token, ids kept.

A policy-gradient update needs more than the text of a sample: it needs the
exact token ids the policy drew (re-tokenising the text can give other ids,
with other probabilities) and, for process rewards, which step each token
belongs to. `sample_rollouts` samples `group_size` solutions per problem in
one batch, with a key-value cache, under the same rules as the course's
`Generator` (one step per line, the end token only right after a step's
"\\n", never an empty step), and returns a `Rollouts` batch that holds it all.

`token_logprobs(model, rollouts)` gives log pi(token | text before it) for
every sampled token, under the same rules, in one forward pass: the quantity
GRPO's loss is built from. Defined in notebook 08.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from transformers import PreTrainedTokenizerFast

# The cache-argument shim (transformers 4 vs 5) is shared with the generator
# and the PRM scorer, not copied, so all follow the same version rules.
from prm_edu.models.kv_cache import CACHE_ARG, cache_of
from prm_edu.models.tokenizer import encode_prompt, separator_id

# Which sampling rule applied at a token: it decides which tokens were banned.
FIRST_TOKEN = 0  # first token of the solution: no "\n" (empty step), no end
STEP_START = 1  # first token of a later step: no "\n"; the end token allowed
IN_STEP = 2  # inside a step: no end token (a solution ends after a "\n")


@dataclass
class Rollouts:
    """A batch of sampled solutions, `group_size` per problem, in order.

    Sample i solves `problems[i // group_size]`. `input_ids` holds
    ``prompt + sampled tokens`` per row, padded on the right; `sampled` marks
    the sampled tokens (the ones the loss is about); `step_of` gives each
    sampled token's step number (0-based; the end token counts with the last
    step), -1 elsewhere; `rule` says which sampling rule applied there.
    `steps[i]` are sample i's step texts, `finished[i]` whether it ended with
    the end token (False when cut at `max_steps` or by a runaway step).
    """

    problems: list
    group_size: int
    input_ids: torch.Tensor  # (n, length) long
    attention_mask: torch.Tensor  # (n, length) long
    sampled: torch.Tensor  # (n, length) bool
    step_of: torch.Tensor  # (n, length) long
    rule: torch.Tensor  # (n, length) long
    steps: list[tuple[str, ...]]
    finished: list[bool]

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def n_groups(self) -> int:
        return len(self.problems)

    def problem_of(self, i: int):
        """The problem that sample `i` solves."""
        return self.problems[i // self.group_size]

    @property
    def n_tokens(self) -> int:
        """How many tokens were sampled in all."""
        return int(self.sampled.sum())


def banned_table(tok: PreTrainedTokenizerFast) -> torch.Tensor:
    """A (3, vocab) bool table: which tokens each sampling rule forbids.

    Padding, unknown and start tokens are never sampled. A step never starts
    with "\\n" or a blank token (an empty step can be neither checked nor
    scored), the first step cannot be the end, and the end token only comes
    right after a step's "\\n".
    """
    vocab = len(tok)
    table = torch.zeros((3, vocab), dtype=torch.bool)
    never = [tok.pad_token_id, tok.unk_token_id, tok.bos_token_id]
    table[:, [t for t in never if t is not None]] = True
    specials = set(tok.all_special_ids)
    blank = [
        i for i in range(vocab) if i not in specials and not tok.decode([i]).strip()
    ]  # "\n", " ": nothing a step could start with
    table[FIRST_TOKEN, blank] = True
    table[STEP_START, blank] = True
    table[FIRST_TOKEN, tok.eos_token_id] = True
    table[IN_STEP, tok.eos_token_id] = True
    return table


# no_grad, not inference_mode: the ids are later fed to a forward pass that
# backpropagates, which inference tensors refuse.
@torch.no_grad()
def sample_rollouts(
    model,
    tok: PreTrainedTokenizerFast,
    problems: Sequence,
    group_size: int,
    *,
    temperature: float = 1.0,
    max_steps: int = 6,
    max_step_tokens: int = 32,
    generator: torch.Generator | None = None,
) -> Rollouts:
    """Sample `group_size` solutions for each problem (objects with `.text`).

    Each solution is written token by token: a step ends at "\\n"; right
    after it the model may write its end token (the solution is finished).
    Sampling stops after `max_steps` steps, or when a step reaches
    `max_step_tokens` tokens without a newline (a runaway step, kept, cut).
    `generator` (a seeded `torch.Generator`) makes it reproducible.
    """
    if group_size < 1:
        raise ValueError(f"group_size must be >= 1, got {group_size}.")
    if not temperature > 0:
        raise ValueError(
            f"temperature must be > 0 to sample a group, got {temperature}: "
            f"greedy decoding would give every sample in the group the same text."
        )
    if max_steps < 1 or max_step_tokens < 1:
        raise ValueError(
            f"max_steps and max_step_tokens must be >= 1, got {max_steps} and "
            f"{max_step_tokens}."
        )
    problems = list(problems)
    prompts = [
        encode_prompt(tok, p.text, []) for p in problems for _ in range(group_size)
    ]
    n, width = len(prompts), max(len(p) for p in prompts)
    context = int(model.config.n_positions)
    budget = min(max_steps * max_step_tokens + max_steps, context - width)
    if budget < 1:
        raise ValueError(
            f"a prompt is {width} tokens long, the model's context is {context}: "
            f"there is no room to write a solution."
        )
    device = next(model.parameters()).device
    banned = banned_table(tok).to(device)
    sep, eos, pad = separator_id(tok), tok.eos_token_id, tok.pad_token_id

    # Left padding, so that every prompt ends at the last column and one new
    # column of tokens is added per forward pass.
    ids = torch.full((n, width), pad, dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p)
        mask[i, width - len(p) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(
        input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True
    )

    tokens: list[list[int]] = [[] for _ in range(n)]
    steps_of: list[list[int]] = [[] for _ in range(n)]
    rules: list[list[int]] = [[] for _ in range(n)]
    n_steps = [0] * n  # steps completed (their "\n" written)
    in_step = [0] * n  # tokens written in the current step
    done = [False] * n
    finished = [False] * n
    last_pos = positions[:, -1]
    for _ in range(budget):
        rule = torch.tensor([_rule(n_steps[i], in_step[i]) for i in range(n)])
        rule = rule.to(device)
        logits = out.logits[:, -1].float() / temperature
        logits = logits.masked_fill(banned[rule], -torch.inf)
        nxt = torch.multinomial(logits.softmax(-1).cpu(), 1, generator=generator)
        nxt = nxt.squeeze(1)
        for i in range(n):
            if done[i]:
                continue
            t = int(nxt[i])
            tokens[i].append(t)
            rules[i].append(int(rule[i]))
            if t == eos:  # the end token belongs to the last step
                steps_of[i].append(n_steps[i] - 1)
                done[i] = finished[i] = True
                continue
            steps_of[i].append(n_steps[i])
            if t == sep:
                n_steps[i] += 1
                in_step[i] = 0
                done[i] = n_steps[i] >= max_steps
            else:
                in_step[i] += 1
                if in_step[i] >= max_step_tokens:  # runaway step: cut, count it
                    n_steps[i] += 1
                    done[i] = True
        if all(done):
            break
        alive = torch.tensor([not d for d in done], device=device)
        nxt = torch.where(
            alive, nxt.to(device), torch.full_like(nxt, pad, device=device)
        )
        last_pos = last_pos + 1
        mask = torch.cat([mask, alive.long()[:, None]], dim=1)
        out = model(
            input_ids=nxt[:, None],
            attention_mask=mask,
            position_ids=last_pos[:, None],
            use_cache=True,
            **{CACHE_ARG: cache_of(out)},
        )
    return _pack(tok, problems, group_size, prompts, tokens, steps_of, rules, finished)


def _rule(n_steps: int, in_step: int) -> int:
    """Which sampling rule applies to the next token of a row."""
    if in_step:
        return IN_STEP
    return FIRST_TOKEN if n_steps == 0 else STEP_START


def _pack(tok, problems, group_size, prompts, tokens, steps_of, rules, finished):
    """The sampled rows as right-padded tensors, and each sample's step texts."""
    sep, eos = separator_id(tok), tok.eos_token_id
    n = len(prompts)
    length = max(len(p) + len(t) for p, t in zip(prompts, tokens))
    input_ids = torch.full((n, length), tok.pad_token_id, dtype=torch.long)
    attention = torch.zeros((n, length), dtype=torch.long)
    sampled = torch.zeros((n, length), dtype=torch.bool)
    step_of = torch.full((n, length), -1, dtype=torch.long)
    rule = torch.zeros((n, length), dtype=torch.long)
    texts = []
    for i, (p, t) in enumerate(zip(prompts, tokens)):
        a, b = len(p), len(p) + len(t)
        input_ids[i, :b] = torch.tensor(p + t, dtype=torch.long)
        attention[i, :b] = 1
        sampled[i, a:b] = True
        step_of[i, a:b] = torch.tensor(steps_of[i], dtype=torch.long)
        rule[i, a:b] = torch.tensor(rules[i], dtype=torch.long)
        texts.append(split_steps(tok, t, sep, eos))
    return Rollouts(
        problems,
        group_size,
        input_ids,
        attention,
        sampled,
        step_of,
        rule,
        texts,
        list(finished),
    )


def split_steps(tok, tokens: Sequence[int], sep: int, eos: int) -> tuple[str, ...]:
    """The step texts of a sampled token list (without "\\n" and the end)."""
    steps, current = [], []
    for t in tokens:
        if t == eos:
            break
        if t == sep:
            steps.append(tok.decode(current))
            current = []
        else:
            current.append(t)
    if current:  # a runaway step, cut without its "\n"
        steps.append(tok.decode(current))
    return tuple(steps)


def token_logprobs(
    model, rollouts: Rollouts, banned: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """log pi(token) for every sampled token, as an (n, length - 1) tensor.

    Entry [i, t] is the log-probability of token t + 1 of row i given the
    tokens before it, under the rules it was sampled with (`banned`, from
    `banned_table`) at `temperature`; zero where no token was sampled. One
    forward pass; gradients flow when they are enabled.
    """
    device = next(model.parameters()).device
    ids = rollouts.input_ids.to(device)
    logits = (
        model(input_ids=ids, attention_mask=rollouts.attention_mask.to(device))
        .logits[:, :-1]
        .float()
        / temperature
    )
    # The logits at column t predict the token in column t + 1.
    target, where = ids[:, 1:], rollouts.sampled[:, 1:].to(device)
    rule = rollouts.rule[:, 1:].to(device)
    logits = logits.masked_fill(banned.to(device)[rule] & where[..., None], -torch.inf)
    logp = logits.log_softmax(-1).gather(-1, target[..., None]).squeeze(-1)
    return torch.where(where, logp, torch.zeros_like(logp))
