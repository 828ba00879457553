"""A PRM that reads a language model's surprise: `SurprisePRM`.

A language model trained on mostly-right solutions has a sharp opinion on
what number comes next: after ``2x + 5 = 15`` and ``Subtract 5 from both
sides: 2x =`` it expects ``10``. When a solution writes ``20`` instead, the
model is *surprised*: the token's log-probability is very low. That surprise
is a strong signal of a wrong step, and it is already in the generator's
weights; a PRM trained from scratch (or fine-tuned with a fresh head) on a
few thousand labelled traces struggles to relearn it.

`SurprisePRM` keeps the generator's transformer (frozen, or trained whole:
see below) and gives its 2-label head, besides the usual hidden state at
each position, four numbers: the lowest log-probability of any token so far

- in the current step and in the whole solution, among the *checked*
  tokens, those without letters (digits, signs, ``=``, ``/``: where this
  course's mistakes show) and the ``"\\n"`` that ends a step (a number cut
  short, "108 / 3 = 3" for 36, shows only there), and
- the same two among the word tokens (a skipped or out-of-order move shows
  in its words, but so does a harmless rewording such as "Divide by 2" for
  "Divide both sides by 2").

The solution-wide minimum is there because an error carries forward: a step
that builds on a wrong one is wrong too. The head learns from the labels how
much each number can be trusted.
The problem statement itself is never checked: its numbers are given, not
predicted.

Whose surprise: `surprise_prm_from_generator` takes any GPT-2 language model
trained with the tokenizer. Notebook 03 gives it the generator itself. The
generator, though, learnt from solutions with mistakes mixed in, and is not
surprised by the mistakes it has learnt to make ("Divide both sides by 5"
before subtracting); the shipped equations and arithmetic PRMs and ORMs
therefore read a *reference LM*, the generator trained further on correct
solutions only (`prm_edu.build_checkpoints`, `Recipe.reference_config`).

Two more numbers where a step writes a **result** after a marker (`` =``
in "4 + 4 = 8 (left: 6 8 8)"): the lowest log-probability among the tokens
after it, in this step and in the solution. Which two numbers a Game of 24
move combines is a free choice, and a surprising choice is no mistake; what
follows its ``=`` is fixed by that choice, so surprise *there* is a slip.
`surprise_prm_from_generator(..., result_marker=" =")` turns them on.

Trained like any PRM, with the label at each step's ``"\\n"`` only, and
either with the language model frozen (only the head learns), or whole
(``frozen=False``): then the language model also learns to tell good moves
from dead ends, and `prm_edu.training.train_prm`'s ``lm_weight`` keeps it a
language model of right solutions, so that its surprise still means
something. `AutoModelForTokenClassification` loads it once `prm_edu.models`
is imported (it registers the class). Defined in notebook 03.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    GPT2Config,
    GPT2Model,
    GPT2PreTrainedModel,
    PreTrainedTokenizerFast,
)
from transformers.modeling_outputs import TokenClassifierOutput

from prm_edu.models.kv_cache import CACHE_ARG
from prm_edu.models.prm import HEAD_FIELDS
from prm_edu.models.tokenizer import encode_traces, separator_id

FLOOR = -20.0  # log-probabilities below this are "certainly wrong" alike
SCALE = 4.0  # features in units of 4 nats: about the hidden state's scale
_SEGMENT = 1000.0  # offset that separates steps in the step-wise running min


class SurprisePRMConfig(GPT2Config):
    """GPT-2's configuration plus what the surprise features need:
    `step_token_id` (the ``"\\n"`` separator), `checked_token_ids` (tokens
    without letters, and the separator: `token_kinds`), `word_token_ids`
    (the other real tokens) and `result_token_id` (the token after which a
    step writes its result, or None: no result features)."""

    model_type = "prm_edu_surprise_prm"

    def __init__(
        self,
        step_token_id: int = 0,
        checked_token_ids=(),
        word_token_ids=(),
        result_token_id: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.step_token_id = int(step_token_id)
        self.checked_token_ids = [int(i) for i in checked_token_ids]
        self.word_token_ids = [int(i) for i in word_token_ids]
        self.result_token_id = None if result_token_id is None else int(result_token_id)


class SurprisePRM(GPT2PreTrainedModel):
    """A GPT-2 language model with a 2-label head that also sees how
    surprised the model was by each step's checked tokens (and results)."""

    config_class = SurprisePRMConfig

    def __init__(self, config: SurprisePRMConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.classifier = nn.Linear(config.n_embd + self.n_features, config.num_labels)
        self.post_init()

    @property
    def n_features(self) -> int:
        return 4 if self.config.result_token_id is None else 6

    def token_logprobs(self, input_ids: torch.Tensor, hidden: torch.Tensor):
        """(batch, length): the log-probability the language model gave each
        token, from the position before it (0 for the first token)."""
        logits = hidden @ self.transformer.wte.weight.T
        logp = logits.float().log_softmax(-1)
        token_lp = torch.zeros(input_ids.shape, device=input_ids.device)
        token_lp[:, 1:] = logp[:, :-1].gather(-1, input_ids[:, 1:, None])[..., 0]
        return token_lp

    def surprise_features(
        self, input_ids: torch.Tensor, hidden: torch.Tensor
    ) -> torch.Tensor:
        """(batch, length, 4 or 6): the lowest log-probability so far of a
        checked token in this step and in the solution, then the same for
        word tokens, then (with a result marker) for the tokens after the
        step's marker; in units of `SCALE` nats, clipped at `FLOOR`."""
        token_lp = self.token_logprobs(input_ids, hidden).clamp(min=FLOOR)
        seps_before = steps_before(input_ids, self.config.step_token_id)
        in_solution = seps_before >= 1  # after the problem's "\n"
        # Later steps are shifted down by far more than any log-probability,
        # so a running min over the shifted values restarts at each step.
        shift = _SEGMENT * seps_before

        def lowest(counted):
            v = torch.where(counted, token_lp, torch.zeros_like(token_lp))
            return [(v - shift).cummin(1).values + shift, v.cummin(1).values]

        out = []
        for ids in (self.config.checked_token_ids, self.config.word_token_ids):
            # Built here, not kept as a buffer: Hugging Face creates models on
            # the meta device when loading them, and a buffer that is not
            # saved would come back uninitialised.
            kind = torch.zeros(
                self.config.vocab_size, dtype=torch.bool, device=input_ids.device
            )
            kind[ids] = True
            out += lowest(kind[input_ids] & in_solution)
        if self.config.result_token_id is not None:
            out += lowest(in_solution & after_marker(input_ids, self.config))
        return torch.stack(out, -1) / SCALE

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_hidden_states: bool | None = None,
        position_ids: torch.Tensor | None = None,
        **kwargs,
    ) -> TokenClassifierOutput:
        # With a cache of the problem's keys and values (`PRMScorer` shares
        # them), `input_ids` starts at the problem's "\n": the features of
        # every later token come out as over the whole text, since the
        # problem is never checked and its "\n" starts the step count.
        hidden = self.transformer(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            **{CACHE_ARG: kwargs.get(CACHE_ARG)},
        ).last_hidden_state
        features = self.surprise_features(input_ids, hidden)
        logits = self.classifier(torch.cat([hidden, features.to(hidden.dtype)], -1))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.view(-1, self.num_labels).float(), labels.view(-1)
            )
        return TokenClassifierOutput(
            loss=loss,
            logits=logits,
            # Only the last layer's: what the language-model loss needs.
            hidden_states=(hidden,) if output_hidden_states else None,
        )


def steps_before(input_ids: torch.Tensor, step_token_id: int) -> torch.Tensor:
    """(batch, length): how many "\\n" come before each token. A "\\n" ends
    its own step, so 0 is the problem (its "\\n" included), 1 the first step."""
    is_sep = (input_ids == step_token_id).long()
    return is_sep.cumsum(1) - is_sep


def after_marker(input_ids: torch.Tensor, config) -> torch.Tensor:
    """True at the tokens after the first result marker of their step, up to
    (not including) the step's "\\n"."""
    is_sep = input_ids == config.step_token_id
    is_marker = (input_ids == config.result_token_id).long()
    markers = is_marker.cumsum(1)
    # Markers counted up to the last "\n" so far: where this step started.
    at_start = torch.where(is_sep, markers, torch.zeros_like(markers))
    at_start = at_start.cummax(1).values
    return (markers - is_marker - at_start > 0) & ~is_sep


@torch.no_grad()
def step_surprise(
    model: SurprisePRM, tok: PreTrainedTokenizerFast, problem: str, steps
) -> list[dict]:
    """Per step, the lowest log-probability (nats) the generator inside
    `model` gave any of its checked tokens and any of its word tokens: the
    numbers `model`'s head reads at the step's end."""
    e = encode_traces(tok, [(problem, list(steps))])[0]
    ids = torch.tensor([e.input_ids], device=model.device)
    hidden = model.transformer(input_ids=ids).last_hidden_state
    f = model.surprise_features(ids, hidden)[0] * SCALE
    return [
        {
            "step": text,
            "checked": round(f[s, 0].item(), 2),
            "words": round(f[s, 2].item(), 2),
        }
        for text, s in zip(steps, e.separators)
    ]


def token_kinds(tok: PreTrainedTokenizerFast) -> tuple[list[int], list[int]]:
    """Ids of the checked tokens (no letters, and the step separator) and of
    the word tokens (with letters); other whitespace and special tokens are
    neither. The separator is checked because a number cut short ends its
    step where the language model expected another digit: "108 / 3 = 3"
    surprises it at the "\\n", not before."""
    special = set(tok.all_special_ids)
    separator = separator_id(tok)
    checked, words = [], []
    for text, i in sorted(tok.get_vocab().items(), key=lambda kv: kv[1]):
        if i in special or (not text.strip() and i != separator):
            continue
        (words if any(c.isalpha() for c in text) else checked).append(i)
    return checked, words


def surprise_prm_from_generator(
    generator,
    tok: PreTrainedTokenizerFast,
    seed: int = 0,
    *,
    frozen: bool = True,
    result_marker: str | None = None,
) -> SurprisePRM:
    """A `SurprisePRM` whose transformer is a copy of `generator`'s (a GPT-2
    language model trained with `tok`), frozen unless ``frozen=False``; only
    the head is new. `result_marker` (e.g. ``" ="``, one token) adds the two
    result features."""
    checked, words = token_kinds(tok)
    marker = None
    if result_marker is not None:
        ids = tok(result_marker, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise ValueError(
                f"result_marker {result_marker!r} is {len(ids)} tokens for this "
                f"tokenizer, not one: pass the single token that comes before a "
                f"step's result, e.g. ' ='."
            )
        marker = ids[0]
    config = SurprisePRMConfig(
        step_token_id=separator_id(tok),
        checked_token_ids=checked,
        word_token_ids=words,
        result_token_id=marker,
        **{
            **generator.config.to_dict(),
            **HEAD_FIELDS,
            "architectures": None,
            "model_type": SurprisePRMConfig.model_type,
        },
    )
    torch.manual_seed(seed)
    prm = SurprisePRM(config)
    prm.transformer.load_state_dict(generator.transformer.state_dict())
    prm.transformer.requires_grad_(not frozen)
    with torch.no_grad():  # start from "no opinion": training sets every weight
        prm.classifier.weight.zero_()
        prm.classifier.bias.zero_()
    return prm.to(generator.device)


AutoConfig.register(SurprisePRMConfig.model_type, SurprisePRMConfig)
AutoModelForTokenClassification.register(SurprisePRMConfig, SurprisePRM)
