"""The course's tokenizer: small, word- and number-aware, built offline.

A tokenizer turns text into the ids a model reads. Ours is a tiny BPE
(`tokenizers`) over a regular-expression pre-tokenizer, wrapped as a
Hugging Face `PreTrainedTokenizerFast` and saved next to every model:

- every digit is its own token (with an optional leading space, ``" 1"``), so
  the models see numbers digit by digit, the way arithmetic is done;
- frequent words become one token each (``"Subtract"``, ``" both"``);
  rarer words fall back to their letters, so nothing that is spelled with
  known characters is ever lost;
- each other symbol is one token (``" ="``, ``":"``);
- ``"\\n"`` is one token, the step separator (TRL PRMTrainer's convention:
  ``problem + "\\n" + step_1 + "\\n" + step_2 + "\\n" ...``).

Characters outside the tokenizer's alphabet (printable ASCII plus whatever
the training text used) become ``<unk>``. The models refuse such text with
an `UnknownCharacterError` naming the character, rather than score something
they cannot read. Defined in notebook 03.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Iterable, Sequence

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

STEP_SEPARATOR = "\n"
PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)

# One piece per word (with its leading space), per digit, per symbol; "\n"
# alone, so that it is always a single token and BPE never merges across it.
_PIECES = r" ?[A-Za-z]+| ?[0-9]| ?[^A-Za-z0-9\s]|\n|\s"
# Printable ASCII without the whitespace that the course never uses.
BASE_ALPHABET = tuple(sorted(set(string.printable) - set("\t\r\x0b\x0c")))


class UnknownCharacterError(ValueError):
    """Text holds a character the tokenizer cannot represent."""


def build_tokenizer(
    texts: Iterable[str], vocab_size: int = 512, min_frequency: int = 2
) -> PreTrainedTokenizerFast:
    """Train a small BPE tokenizer on `texts` (problems and steps).

    The alphabet is printable ASCII plus every character in `texts`, so any
    text spelled with those characters can be encoded; `vocab_size` bounds how
    many whole words and word pieces it learns on top. The same texts in the
    same order give the same tokenizer.
    """
    if vocab_size < len(BASE_ALPHABET) + len(SPECIAL_TOKENS):
        raise ValueError(
            f"vocab_size={vocab_size} is too small: the alphabet alone needs "
            f"{len(BASE_ALPHABET) + len(SPECIAL_TOKENS)} tokens."
        )
    texts = list(texts)
    extra = sorted({c for t in texts for c in t} - set(BASE_ALPHABET))
    core = Tokenizer(models.BPE(unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(_PIECES), behavior="isolated")
    core.decoder = decoders.Fuse()  # spaces are inside the tokens already
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=[*BASE_ALPHABET, *extra],
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer)
    return wrap(core)


def wrap(core: Tokenizer) -> PreTrainedTokenizerFast:
    """A `tokenizers.Tokenizer` as a Hugging Face tokenizer with our specials."""
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=EOS,
        clean_up_tokenization_spaces=False,
    )
    check_tokenizer(tok)
    return tok


def check_tokenizer(tok: PreTrainedTokenizerFast) -> None:
    """Refuse a tokenizer that breaks the course's conventions."""
    ids = tok(STEP_SEPARATOR, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(
            f"the step separator '\\n' must be one token, but this tokenizer "
            f"splits it into {len(ids)}: build it with build_tokenizer()."
        )
    for name in ("pad", "unk", "eos"):
        if getattr(tok, f"{name}_token_id") is None:
            raise ValueError(f"the tokenizer has no {name} token: rebuild it.")


def separator_id(tok: PreTrainedTokenizerFast) -> int:
    return tok.convert_tokens_to_ids(STEP_SEPARATOR)


@dataclass(frozen=True)
class EncodedTrace:
    """Token ids of ``problem + "\\n" + step_1 + "\\n" + ...``, and where each
    step's separator sits (``separators[i]`` is the index of step i's "\\n")."""

    input_ids: list[int]
    separators: list[int]


def check_state(problem, steps, *, allow_no_steps: bool = False) -> None:
    """Refuse a problem or steps that cannot be written as model text."""
    if not isinstance(problem, str):
        raise TypeError(
            f"the problem must be its statement as text, got "
            f"{type(problem).__name__} ({problem!r}): pass problem.text."
        )
    if not problem.strip():
        raise ValueError("the problem is empty: pass its statement as text.")
    if STEP_SEPARATOR in problem:
        raise ValueError(
            f"the problem {problem!r} contains a newline, but a newline is the "
            f"step separator: write the problem on one line."
        )
    if isinstance(steps, str):
        raise TypeError(
            f"steps must be a list of step texts, got one string ({steps!r}): "
            f"split it into steps, e.g. text.split('\\n')."
        )
    steps = list(steps)
    if not steps and not allow_no_steps:
        raise ValueError(
            "the step list is empty: a PRM scores steps, so pass at least one."
        )
    for i, step in enumerate(steps):
        if not isinstance(step, str):
            raise TypeError(
                f"step {i} must be text, got {type(step).__name__} ({step!r})."
            )
        if not step.strip():
            raise ValueError(f"step {i} is empty: every step needs some text.")
        if STEP_SEPARATOR in step:
            raise ValueError(
                f"step {i} ({step!r}) contains a newline, but a newline is the "
                f"step separator: split it into two steps."
            )


def model_text(problem: str, steps: Sequence[str]) -> str:
    """The text a model reads: problem and steps, each followed by "\\n"."""
    return STEP_SEPARATOR.join([problem, *steps]) + STEP_SEPARATOR


def encode_traces(
    tok: PreTrainedTokenizerFast,
    items: Sequence[tuple[str, Sequence[str]]],
    *,
    allow_no_steps: bool = False,
) -> list[EncodedTrace]:
    """Encode many (problem, steps) pairs at once, checking each.

    Raises `UnknownCharacterError` naming the first character the tokenizer
    cannot represent.
    """
    for problem, steps in items:
        check_state(problem, steps, allow_no_steps=allow_no_steps)
    texts = [model_text(p, s) for p, s in items]
    enc = tok(texts, add_special_tokens=False, return_offsets_mapping=True)
    sep, unk = separator_id(tok), tok.unk_token_id
    out = []
    for text, ids, offsets in zip(texts, enc["input_ids"], enc["offset_mapping"]):
        if unk in ids:
            start, end = offsets[ids.index(unk)]
            raise UnknownCharacterError(_unknown_message(text, start, end))
        seps = [i for i, t in enumerate(ids) if t == sep]
        out.append(EncodedTrace(ids, seps[1:]))  # seps[0] ends the problem
    return out


def _unknown_message(text: str, start: int, end: int) -> str:
    char = text[start:end]
    where = text[max(0, start - 15) : end + 15].replace("\n", "\\n")
    return (
        f"the character {char!r} (U+{ord(char[0]):04X}) at position {start} "
        f"cannot be represented by this tokenizer (near ...{where}...): "
        f"rewrite it with plain ASCII, e.g. '-' for a minus sign."
    )


def encode_prompt(
    tok: PreTrainedTokenizerFast, problem: str, steps: Sequence[str]
) -> list[int]:
    """Token ids of a generator prompt: problem and steps so far, each + "\\n"."""
    return encode_traces(tok, [(problem, steps)], allow_no_steps=True)[0].input_ids
