"""The course's flashcards and quiz questions: `flashcards.yaml`, loaded and checked.

The file keeps the seed's front-matter shape and adds a `topic` per item (the
notebook it belongs to) and numeric answers. Every notebook ends with
`Flashcards(topic=...)` and `Quiz(topic=...)`, which read it through
`load_deck`.

Schema (validated on load; an error names the item's index, the field and
what was expected)::

    flashcards:                 # a list of cards
      - q: "front of the card"  # text, required; math in $...$ renders
        a: "back of the card"   # text, required
        topic: orm_vs_prm       # required, one of TOPICS
    quizzes:                    # a list of questions, of two kinds
      - q: "question text"      # text, required
        topic: best_of_n        # required, one of TOPICS
        explanation: "why"      # text, required: shown after every answer
        # a choice question has:
        options: ["A", "B", "C"]  # at least 2 texts
        answers: [1]              # indices into options (0-based), at least 1;
                                  # one index = single answer, more = multiple
        multiple: true            # optional: show checkboxes even when one
                                  # answer is right (default: len(answers) > 1)
        # a numeric question has instead:
        answer: 0.375             # a number
        tolerance: 0.001          # optional, >= 0 (default 0: exact)

No other keys are allowed, so a typo (`answer:` for `answers:`) is caught.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import yaml

# One topic per notebook, named after it without its number.
TOPICS = (
    "orm_vs_prm",
    "step_labels",
    "train_a_prm",
    "best_of_n",
    "tree_search",
    "beyond_math",
    "real_prms",
    "rl_with_process_rewards",
)

SINGLE, MULTIPLE, NUMERIC = "single", "multiple", "numeric"

_CARD_KEYS = {"q", "a", "topic"}
_QUIZ_KEYS = {"q", "topic", "explanation", "options", "answers", "multiple"}
_NUMERIC_KEYS = {"q", "topic", "explanation", "answer", "tolerance"}


def normalize_topic(topic: str) -> str:
    """The topic name for `topic`, which may also be a notebook's name.

    `"orm_vs_prm"`, `"01_orm_vs_prm"` and `"01_orm_vs_prm.ipynb"` all give
    `"orm_vs_prm"`. An unknown topic is a ValueError listing the known ones.
    """
    if not isinstance(topic, str):
        raise ValueError(
            f"topic must be text, got {topic!r}; known topics: {', '.join(TOPICS)}."
        )
    name = topic.strip()
    name = re.sub(r"\.ipynb$", "", name)
    name = re.sub(r"^\d+_", "", name)
    if name not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; known topics: {', '.join(TOPICS)}.")
    return name


def _card_id(kind: str, question: str) -> str:
    # Progress is keyed by the question's text, so reordering or adding cards
    # to the YAML file keeps every learner's boxes.
    digest = hashlib.sha1(f"{kind}:{question}".encode()).hexdigest()
    return f"{kind}-{digest[:12]}"


@dataclass(frozen=True)
class Flashcard:
    """One card: the front `q`, the back `a`, and its notebook's `topic`."""

    q: str
    a: str
    topic: str
    index: int = 0  # position in the YAML file's `flashcards` list

    @property
    def id(self) -> str:
        """A stable id (from the question text) that progress files use."""
        return _card_id("card", self.q)


@dataclass(frozen=True)
class QuizQuestion:
    """One quiz question: a choice question or a numeric one.

    Choice questions have `options` and `answers` (0-based indices); numeric
    ones have `answer` and `tolerance`. `kind` is "single", "multiple" or
    "numeric".
    """

    q: str
    topic: str
    explanation: str
    options: tuple[str, ...] | None = None
    answers: tuple[int, ...] | None = None
    answer: float | None = None
    tolerance: float = 0.0
    multiple: bool = False
    index: int = 0  # position in the YAML file's `quizzes` list

    @property
    def id(self) -> str:
        return _card_id("quiz", self.q)

    @property
    def kind(self) -> str:
        if self.answer is not None:
            return NUMERIC
        return MULTIPLE if self.multiple else SINGLE

    def is_correct(self, given) -> bool:
        """Whether `given` answers this question.

        `given` is an option index (single), a collection of indices
        (multiple, order ignored) or a number (numeric; text such as "0.5"
        or "3/8" is parsed too).
        """
        if self.kind == NUMERIC:
            value = parse_number(given)
            # A little slack on top of the tolerance so that typing the
            # rounded value a question asks for ("to 2 decimals") counts.
            return abs(value - self.answer) <= self.tolerance + 1e-9
        if self.kind == SINGLE and isinstance(given, int):
            given = [given]
        try:
            chosen = sorted({int(i) for i in given})
        except TypeError:
            raise ValueError(
                f"answer to a {self.kind}-answer question must be option "
                f"indices, got {given!r}."
            ) from None
        return chosen == sorted(self.answers)

    def correct_text(self) -> str:
        """The right answer, written out for feedback."""
        if self.kind == NUMERIC:
            tol = f" (± {self.tolerance:g})" if self.tolerance else ""
            return f"{self.answer:g}{tol}"
        letters = [f"{chr(65 + i)}. {self.options[i]}" for i in self.answers]
        return "; ".join(letters)


def parse_number(given) -> float:
    """A learner's numeric answer as a float: a number, or text like "0.5",
    "3/8", "1e-3" or "37.5%". Never evaluates the text as code."""
    if isinstance(given, bool):
        raise ValueError(f"expected a number, got {given!r}.")
    if isinstance(given, (int, float)):
        value = float(given)
    else:
        text = str(given).strip().replace(",", "").replace(" ", "")
        percent = text.endswith("%")
        if percent:
            text = text[:-1]
        try:
            value = float(Fraction(text))
        except (ValueError, ZeroDivisionError):
            raise ValueError(
                f"{given!r} is not a number: type e.g. 0.5, 3/8 or 37.5%."
            ) from None
        if percent:
            value /= 100
    if math.isnan(value):
        raise ValueError("NaN is not an answer: type a number.")
    return value


@dataclass(frozen=True)
class Deck:
    """All flashcards and quiz questions of the course, or of some topics."""

    flashcards: tuple[Flashcard, ...]
    quizzes: tuple[QuizQuestion, ...]
    source: str = ""

    def for_topic(self, topic: str | Iterable[str] | None) -> "Deck":
        """The cards and questions of `topic` (a name, several, or None for all)."""
        if topic is None:
            return self
        names = [topic] if isinstance(topic, str) else list(topic)
        wanted = {normalize_topic(t) for t in names}
        return Deck(
            tuple(c for c in self.flashcards if c.topic in wanted),
            tuple(q for q in self.quizzes if q.topic in wanted),
            self.source,
        )

    def topics(self) -> dict[str, tuple[int, int]]:
        """(flashcards, quiz questions) per topic, in course order."""
        return {
            t: (
                sum(c.topic == t for c in self.flashcards),
                sum(q.topic == t for q in self.quizzes),
            )
            for t in TOPICS
        }


def default_path() -> Path:
    """Where the course's `flashcards.yaml` lives (inside the package)."""
    return Path(str(resources.files("prm_edu") / "flashcards.yaml"))


def load_deck(path: str | Path | None = None) -> Deck:
    """Read and validate a flashcards file (the course's own by default)."""
    path = Path(path) if path is not None else default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no flashcards file at {path}: pass path= to a flashcards.yaml."
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ValueError(f"{path.name} is not valid YAML: {err}") from None
    return parse_deck(data, source=path.name)


def parse_deck(data, *, source: str = "flashcards.yaml") -> Deck:
    """Validate already-parsed YAML (a dict) and build a `Deck`."""
    if not isinstance(data, dict):
        raise ValueError(
            f"{source}: the top level must be a mapping with `flashcards:` and "
            f"`quizzes:` lists, got {type(data).__name__}."
        )
    unknown = set(data) - {"flashcards", "quizzes"}
    if unknown:
        raise ValueError(
            f"{source}: unknown top-level key(s) {sorted(unknown)}; expected "
            f"`flashcards:` and `quizzes:`."
        )
    cards = tuple(
        _parse_card(i, item, source)
        for i, item in enumerate(_as_list(data, "flashcards", source))
    )
    quizzes = tuple(
        _parse_quiz(i, item, source)
        for i, item in enumerate(_as_list(data, "quizzes", source))
    )
    _check_unique(cards, "flashcards", source)
    _check_unique(quizzes, "quizzes", source)
    return Deck(cards, quizzes, source)


def _as_list(data: dict, key: str, source: str) -> list:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError(
            f"{source}: `{key}:` must be a list of items, got {type(items).__name__}."
        )
    return items


class _Where:
    """Names an item in error messages: `quizzes[3] ("Which search...")`."""

    def __init__(self, source: str, section: str, index: int, item) -> None:
        q = item.get("q") if isinstance(item, dict) else None
        about = f' ("{q[:50]}")' if isinstance(q, str) else ""
        self.prefix = f"{source}: {section}[{index}]{about}"

    def error(self, field: str, message: str) -> ValueError:
        return ValueError(f"{self.prefix}, field `{field}`: {message}")


def _text(where: _Where, item: dict, key: str) -> str:
    if key not in item:
        raise where.error(key, "missing; expected a text.")
    value = item[key]
    if not isinstance(value, str) or not value.strip():
        raise where.error(key, f"expected a non-empty text, got {value!r}.")
    return value.strip()


def _topic(where: _Where, item: dict) -> str:
    if "topic" not in item:
        raise where.error("topic", f"missing; expected one of {', '.join(TOPICS)}.")
    try:
        return normalize_topic(item["topic"])
    except ValueError as err:
        raise where.error("topic", str(err)) from None


def _check_keys(where: _Where, item: dict, allowed: set[str]) -> None:
    extra = set(item) - allowed
    if extra:
        raise where.error(
            sorted(extra)[0],
            f"unknown key(s) {sorted(extra)}; allowed keys are {sorted(allowed)}.",
        )


def _parse_card(index: int, item, source: str) -> Flashcard:
    where = _Where(source, "flashcards", index, item)
    if not isinstance(item, dict):
        raise where.error("q", f"expected a mapping with q, a, topic; got {item!r}.")
    _check_keys(where, item, _CARD_KEYS)
    return Flashcard(
        q=_text(where, item, "q"),
        a=_text(where, item, "a"),
        topic=_topic(where, item),
        index=index,
    )


def _number(where: _Where, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise where.error(field, f"expected a number, got {value!r}.")
    if math.isnan(value) or math.isinf(value):
        raise where.error(field, f"expected a finite number, got {value!r}.")
    return float(value)


def _parse_quiz(index: int, item, source: str) -> QuizQuestion:
    where = _Where(source, "quizzes", index, item)
    if not isinstance(item, dict):
        raise where.error("q", f"expected a mapping with q, topic, ...; got {item!r}.")
    q = _text(where, item, "q")
    topic = _topic(where, item)
    is_numeric = "answer" in item or "tolerance" in item
    if is_numeric and ("options" in item or "answers" in item):
        raise where.error(
            "answer",
            "a question is either a choice question (options + answers) or a "
            "numeric one (answer + tolerance), not both.",
        )
    _check_keys(where, item, _NUMERIC_KEYS if is_numeric else _QUIZ_KEYS)
    explanation = _text(where, item, "explanation")
    if is_numeric:
        if "answer" not in item:
            raise where.error("answer", "missing; a numeric question needs a number.")
        answer = _number(where, "answer", item["answer"])
        tolerance = _number(where, "tolerance", item.get("tolerance", 0.0))
        if tolerance < 0:
            raise where.error("tolerance", f"expected a number >= 0, got {tolerance}.")
        return QuizQuestion(
            q=q,
            topic=topic,
            explanation=explanation,
            answer=answer,
            tolerance=tolerance,
            index=index,
        )
    options = item.get("options")
    if options is None:
        raise where.error(
            "options",
            "missing; a choice question needs `options:` (a list of texts) and "
            "`answers:` (indices), a numeric one `answer:`.",
        )
    if not isinstance(options, list) or len(options) < 2:
        raise where.error("options", f"expected a list of >= 2 texts, got {options!r}.")
    for j, option in enumerate(options):
        if isinstance(option, bool) or not isinstance(option, (str, int, float)):
            raise where.error("options", f"option {j} must be text, got {option!r}.")
    options = tuple(str(o) for o in options)
    if "answers" not in item:
        raise where.error(
            "answers", "missing; expected a list of option indices, e.g. [1]."
        )
    answers = item["answers"]
    if isinstance(answers, int) and not isinstance(answers, bool):
        answers = [answers]
    if not isinstance(answers, list) or not answers:
        raise where.error(
            "answers", f"expected a non-empty list of option indices, got {answers!r}."
        )
    for value in answers:
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error("answers", f"expected option indices, got {value!r}.")
        if not 0 <= value < len(options):
            raise where.error(
                "answers",
                f"index {value} is out of range: there are {len(options)} "
                f"options, so indices go from 0 to {len(options) - 1}.",
            )
    if len(set(answers)) != len(answers):
        raise where.error("answers", f"repeated index in {answers}.")
    multiple = item.get("multiple", len(answers) > 1)
    if not isinstance(multiple, bool):
        raise where.error("multiple", f"expected true or false, got {multiple!r}.")
    if not multiple and len(answers) > 1:
        raise where.error(
            "multiple", "is false but several answers are right; drop it or set true."
        )
    return QuizQuestion(
        q=q,
        topic=topic,
        explanation=explanation,
        options=options,
        answers=tuple(answers),
        multiple=multiple,
        index=index,
    )


def _check_unique(items: Sequence, section: str, source: str) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.q in seen:
            raise ValueError(
                f"{source}: {section}[{item.index}], field `q`: the same question "
                f"as {section}[{seen[item.q]}]; progress is kept per question, so "
                f"each must be unique."
            )
        seen[item.q] = item.index
