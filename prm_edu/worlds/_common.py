"""What the three worlds share: reading a step's phrase, labels, and the
scripted solver loop that injects, propagates and compensates errors.

The scripted loop is world-agnostic: each world supplies a `Policy` that knows
its own states and moves; `run_scripted` decides *when* to make a mistake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from prm_edu.parsing import DEFAULT_LIMITS, ParseError, normalize
from prm_edu.worlds.base import InjectedError, ScriptedSample, StepLabel

S = TypeVar("S")

# The error kinds a scripted generator can inject, named as in the course.
ARITHMETIC_SLIP = "arithmetic slip"
SIGN_ERROR = "sign error"
WRONG_OPERATION = "wrong operation"
COPIED_WRONG_NUMBER = "copied wrong number"
SKIPPED_STEP = "skipped step"
COMPENSATING_ERROR = "compensating error"
ERROR_KINDS = (
    ARITHMETIC_SLIP,
    SIGN_ERROR,
    WRONG_OPERATION,
    COPIED_WRONG_NUMBER,
    SKIPPED_STEP,
)

# Safety net for scripted solutions: no world needs more steps than this.
MAX_SCRIPTED_STEPS = 12


def clean_step(text: str) -> str:
    """A step normalised for reading: ASCII look-alikes, trimmed, no final '.'.

    Raises `ParseError` when the step is too long or has a foreign character.
    """
    text = normalize(text, DEFAULT_LIMITS).strip()
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text


def split_phrase(text: str) -> tuple[str | None, str]:
    """`"Subtract 5 from both sides: 2x = 10"` -> (`"Subtract 5 ..."`, `"2x = 10"`).

    Without a colon the phrase is None. Only the text after the last colon is
    mathematics; the phrase before it describes the move.
    """
    if ":" not in text:
        return None, text.strip()
    phrase, _, body = text.rpartition(":")
    return phrase.strip(), body.strip()


def good(reason: str) -> StepLabel:
    return StepLabel(1, reason)


def neutral(reason: str) -> StepLabel:
    return StepLabel(0, reason)


def bad(reason: str) -> StepLabel:
    return StepLabel(-1, reason)


def unreadable(err: ParseError) -> StepLabel:
    """The label of a step the parser refused: -1 with the parser's reason."""
    return StepLabel(-1, f"cannot read this step: {err}")


# --------------------------------------------------------------------------- #
# The scripted solver loop
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Move(Generic[S]):
    """One step of text and the (written) state it leads to."""

    text: str
    state: S


class Policy(Generic[S]):
    """How a world's scripted solver moves. Each world subclasses this.

    `correct(problem, state, rng)` is the right next move from any written
    state (None when finished or stuck); `errors(...)` offers wrong moves by
    kind; `is_wrong` says whether a written state has lost the solution; and
    `compensate` writes the right state again by a wrong move.
    """

    def start(self, problem) -> S:
        raise NotImplementedError

    def correct(self, problem, state: S, rng: random.Random) -> Move[S] | None:
        raise NotImplementedError

    def errors(
        self, problem, state: S, move: Move[S], rng: random.Random
    ) -> dict[str, Callable[[], Move[S] | None]]:
        """Constructors of wrong moves, by error kind; each may return None
        when that kind does not apply here."""
        raise NotImplementedError

    def is_wrong(self, problem, state: S, true_state: S) -> bool:
        raise NotImplementedError

    def compensate(
        self, problem, state: S, true_move: Move[S], rng: random.Random
    ) -> Move[S] | None:
        raise NotImplementedError


def pick_error(
    policy: Policy, problem: Any, state: S, move: Move[S], rng: random.Random
) -> tuple[str, Move[S] | None]:
    """A wrong move of a random kind that applies here, or ("", None)."""
    makers = policy.errors(problem, state, move, rng)
    kinds = list(makers)
    rng.shuffle(kinds)
    for kind in kinds:
        chosen = makers[kind]()
        if chosen is not None:
            return kind, chosen
    return "", None


def run_scripted(
    policy: Policy,
    problem: Any,
    rng: random.Random,
    error_rate: float,
    compensate_rate: float = 0.25,
    *,
    max_steps: int = MAX_SCRIPTED_STEPS,
) -> ScriptedSample:
    """A stochastic solution with named errors injected at `error_rate` per step.

    After a mistake the solver carries on *correctly from what was written*, so
    the error propagates. While the written state is wrong, each step is, with
    probability `compensate_rate`, a compensating error: a wrong move that
    writes the right state again (right answer, wrong reasoning).
    """
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate must be in [0, 1], got {error_rate!r}.")
    if not 0.0 <= compensate_rate <= 1.0:
        raise ValueError(f"compensate_rate must be in [0, 1], got {compensate_rate!r}.")
    state = policy.start(problem)
    true_state = state
    steps: list[str] = []
    errors: list[InjectedError] = []
    for i in range(max_steps):
        move = policy.correct(problem, state, rng)
        if move is None:
            break
        # The ideal solution is followed alongside, so that a compensating
        # error knows which right state to write.
        true_move = (
            move if state == true_state else policy.correct(problem, true_state, rng)
        )
        chosen: Move | None = None
        kind = ""
        if (
            errors
            and true_move is not None
            and policy.is_wrong(problem, state, true_state)
            and rng.random() < compensate_rate
        ):
            chosen = policy.compensate(problem, state, true_move, rng)
            kind = COMPENSATING_ERROR
        if chosen is None and rng.random() < error_rate:
            kind, chosen = pick_error(policy, problem, state, move, rng)
        if chosen is None:
            chosen, kind = move, ""
        if kind:
            errors.append(InjectedError(i, kind, chosen.text))
        steps.append(chosen.text)
        state = chosen.state
        if true_move is not None:
            true_state = true_move.state
    return ScriptedSample(tuple(steps), tuple(errors))
