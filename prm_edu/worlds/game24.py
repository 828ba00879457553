"""The Game of 24 (the Tree-of-Thoughts benchmark): make 24 from four numbers.

A problem is four numbers, `4 4 6 8`. Each step combines two of the numbers
left with + - * / and lists what is left, as in Tree of Thoughts::

    4 + 8 = 12 (left: 4 6 12)
    12 - 6 = 6 (left: 4 6)
    4 * 6 = 24 (left: 24)

A step is +1 only if its **move** is right (both numbers are among those
left, the arithmetic is exact, the list of numbers left is right) *and* the
**problem** can still be solved: the numbers left are the ones the problem
really leaves after these moves, and 24 can still be reached from them. A
right move into a dead end is -1 ("24 can no longer be reached from ..."):
a PRM scores progress, not only validity. Writing only `(left: ...)` to
restate the numbers is 0 (correct, no progress).

The final answer is the last number written, once all four numbers are
used; `grade` is stricter than comparing it with 24: the moves, replayed
exactly from the four numbers, must really make 24, so a solution that
only *claims* 24 after a slip is not graded right. Levels: by how many distinct
solutions the numbers have (`count_solutions`): 1 has 12 or more, 2 has 5 to
11, 3 has 1 to 4. Only solvable problems
are sampled, from the cards 1 to 13 (`Game24World(highest=20)` draws practice
puzzles with numbers up to 20; any four numbers up to 99 can be posed).
Defined in notebook 05.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from math import gcd
from typing import Sequence

from prm_edu.parsing import ParseError, format_number, normalize
from prm_edu.worlds._common import (
    ARITHMETIC_SLIP,
    COPIED_WRONG_NUMBER,
    SIGN_ERROR,
    SKIPPED_STEP,
    WRONG_OPERATION,
    Move,
    Policy,
    bad,
    clean_step,
    good,
    neutral,
    run_scripted,
    unreadable,
)
from prm_edu.worlds.base import ScriptedSample, StepLabel, World

__all__ = [
    "Game24Problem",
    "Game24World",
    "reachable",
    "count_solutions",
    "LEVEL_SOLUTIONS",
]

TARGET = Fraction(24)
# Level by number of distinct solutions (see `count_solutions`): level 1 has
# at least LEVEL_SOLUTIONS[0], level 2 at least LEVEL_SOLUTIONS[1], level 3
# fewer. Chosen so the 1,362 solvable sets of 1..13 split into rough thirds
# (518 / 465 / 379).
LEVEL_SOLUTIONS = (12, 5)
_MAX_NUMBER = 99
State = tuple  # sorted tuple of Fractions: the numbers left


@dataclass(frozen=True)
class Game24Problem:
    """Four numbers to make 24 from; `text` is them sorted, `"4 4 6 8"`."""

    text: str
    level: int
    numbers: tuple[int, ...]


# --------------------------------------------------------------------------- #
# Exact search over states
# --------------------------------------------------------------------------- #


def _combine(
    a: Fraction, b: Fraction
) -> list[tuple[str, Fraction, Fraction, Fraction]]:
    """Every way to combine a and b: (op, left, right, result), distinct results."""
    out = [("+", a, b, a + b), ("*", a, b, a * b), ("-", a, b, a - b)]
    if a != b:
        out.append(("-", b, a, b - a))
    if b != 0:
        out.append(("/", a, b, a / b))
    if a != 0 and a != b:
        out.append(("/", b, a, b / a))
    seen, unique = set(), []
    for move in out:
        if move[3] not in seen:
            seen.add(move[3])
            unique.append(move)
    return unique


def _children(state: State):
    """(op, left, right, result, next state) for every distinct move."""
    seen = set()
    n = len(state)
    for i in range(n):
        for j in range(i + 1, n):
            pair = (state[i], state[j])
            if pair in seen:
                continue
            seen.add(pair)
            rest = state[:i] + state[i + 1 : j] + state[j + 1 :]
            for op, x, y, r in _combine(*pair):
                yield op, x, y, r, tuple(sorted(rest + (r,)))


# The search runs on (numerator, denominator) pairs of plain ints: exact like
# Fraction, but an order of magnitude faster to add, compare and hash.
Pair = tuple[int, int]


def _pair(p: int, q: int) -> Pair:
    if q < 0:
        p, q = -p, -q
    g = gcd(p, q)
    return (p // g, q // g) if g > 1 else (p, q)


def _pair_results(a: Pair, b: Pair) -> set[Pair]:
    (p1, q1), (p2, q2) = a, b
    out = {
        _pair(p1 * q2 + p2 * q1, q1 * q2),
        _pair(p1 * q2 - p2 * q1, q1 * q2),
        _pair(p2 * q1 - p1 * q2, q1 * q2),
        _pair(p1 * p2, q1 * q2),
    }
    if p2:
        out.add(_pair(p1 * q2, q1 * p2))
    if p1:
        out.add(_pair(p2 * q1, q2 * p1))
    return out


def _pair_children(key: tuple[Pair, ...]):
    seen = set()
    n = len(key)
    for i in range(n):
        for j in range(i + 1, n):
            if (key[i], key[j]) in seen:
                continue
            seen.add((key[i], key[j]))
            rest = key[:i] + key[i + 1 : j] + key[j + 1 :]
            for r in _pair_results(key[i], key[j]):
                yield tuple(sorted(rest + (r,)))


_24 = (24, 1)


@lru_cache(maxsize=400_000)
def _count_key(key: tuple[Pair, ...]) -> int:
    if len(key) == 1:
        return int(key[0] == _24)
    if len(key) == 2:  # distinct results: at most one of them is 24
        return int(_24 in _pair_results(*key))
    return sum(_count_key(child) for child in _pair_children(key))


@lru_cache(maxsize=400_000)
def _reachable_key(key: tuple[Pair, ...]) -> bool:
    if len(key) <= 2:
        return _count_key(key) > 0
    return any(_reachable_key(child) for child in _pair_children(key))


def _key(state) -> tuple[Pair, ...]:
    return tuple(
        sorted((Fraction(v).numerator, Fraction(v).denominator) for v in state)
    )


def _reachable(state: State) -> bool:
    return _reachable_key(_key(state))


def _state(numbers) -> State:
    return tuple(sorted(Fraction(v) for v in numbers))


def reachable(numbers: Sequence) -> bool:
    """Whether 24 can be made from `numbers` (each used once, + - * /)."""
    return _reachable_key(_key(numbers))


def count_solutions(numbers: Sequence) -> int:
    """How many distinct solutions: sequences of moves (pair of values, result)
    that end in 24. The measure of difficulty behind the levels."""
    return _count_key(_key(numbers))


def _level(n_solutions: int) -> int:
    if n_solutions >= LEVEL_SOLUTIONS[0]:
        return 1
    return 2 if n_solutions >= LEVEL_SOLUTIONS[1] else 3


# --------------------------------------------------------------------------- #
# Reading a step
# --------------------------------------------------------------------------- #

_NUM = r"-?[0-9]{1,30}(?:/[0-9]{1,30})?"
_SPACED = re.compile(
    rf"(?P<a>{_NUM})\s+(?P<op>[-+*/xX])\s+(?P<b>{_NUM})\s*=\s*(?P<c>{_NUM})"
)
_TIGHT = re.compile(
    r"(?P<a>-?[0-9]{1,30})\s*(?P<op>[-+*/xX])\s*(?P<b>-?[0-9]{1,30})"
    rf"\s*=\s*(?P<c>{_NUM})"
)
_LEFT = re.compile(r"\s*:\s*(?P<nums>[^()]*?)\s*\)?")
_EXAMPLE = "'13 - 9 = 4 (left: 4 4 6)'"


def _number(text: str, whole: str) -> Fraction:
    if re.fullmatch(_NUM, text) is None:
        raise ParseError(f"{text!r} is not a number (write 7, -2 or 3/4)", whole)
    num, _, den = text.partition("/")
    if den and int(den) == 0:
        raise ParseError(f"{text!r} divides by zero", whole)
    return Fraction(int(num), int(den) if den else 1)


@dataclass(frozen=True)
class _Step:
    move: tuple[Fraction, str, Fraction, Fraction] | None  # None: a restatement
    left: State


def _read_step(text: str) -> _Step:
    body = clean_step(text)
    at = body.lower().rfind("left")
    if at < 0:
        raise ParseError(f"a step ends with the numbers left, like {_EXAMPLE}", text)
    m = _LEFT.fullmatch(body, at + 4)
    if m is None:
        raise ParseError(
            f"could not read the numbers left; write them like {_EXAMPLE}", text
        )
    tokens = m.group("nums").replace(",", " ").split()
    if not tokens:
        raise ParseError("no numbers are listed after 'left:'", text)
    if len(tokens) > 4:
        raise ParseError(f"{len(tokens)} numbers left, but a problem has only 4", text)
    left = tuple(sorted(_number(t, text) for t in tokens))
    head = body[:at].rstrip().rstrip("(").rstrip().rstrip(",").strip()
    if not head:
        return _Step(None, left)
    c = _SPACED.fullmatch(head) or _TIGHT.fullmatch(head)
    if c is None:
        raise ParseError(
            f"could not read the computation {head!r}: write one operation on two "
            f"numbers, like {_EXAMPLE}",
            text,
        )
    op = "*" if c.group("op") in "xX" else c.group("op")
    a, b, r = (_number(c.group(k), text) for k in "abc")
    return _Step((a, op, b, r), left)


def _show(state: Sequence[Fraction]) -> str:
    return " ".join(format_number(v) for v in sorted(state))


def _minus(state: State, *values: Fraction) -> State | None:
    """`state` without `values` (as a multiset), or None if one is missing."""
    have = Counter(state)
    for v in values:
        if have[v] == 0:
            return None
        have[v] -= 1
    return tuple(sorted(have.elements()))


def _do(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _step_text(a, op, b, r, left) -> str:
    f = format_number
    return f"{f(a)} {op} {f(b)} = {f(r)} (left: {_show(left)})"


# --------------------------------------------------------------------------- #
# The scripted solver
# --------------------------------------------------------------------------- #


def _nice(move) -> bool:
    r = move[3]
    return r.denominator == 1 and r >= 0


def _sorted_moves(state: State) -> list:
    """Every distinct move, whole non-negative results first (readable ones)."""
    moves = list(_children(state))
    return [m for m in moves if _nice(m)] + [m for m in moves if not _nice(m)]


class _Game24Policy(Policy):
    def start(self, problem):
        return _state(problem.numbers)

    def correct(self, problem, state, rng):
        if len(state) <= 1:
            return None
        moves = _sorted_moves(state)
        good_moves = [m for m in moves if _reachable(m[4])] or moves
        nice = [m for m in good_moves if _nice(m)] or good_moves
        op, a, b, r, after = rng.choice(nice)
        return Move(_step_text(a, op, b, r, after), after)

    def is_wrong(self, problem, state, true_state):
        return state != true_state

    def compensate(self, problem, state, true_move, rng):
        return true_move if _is_mistake(state, true_move.text) else None

    def errors(self, problem, state, move, rng):
        a, op, b, r = _read_step(move.text).move

        def write(x, o, y, value, left):
            return Move(_step_text(x, o, y, value, left), left)

        rest = _minus(state, a, b)

        def slip():
            wrong = r + rng.choice((1, -1, 2, -2))
            return write(a, op, b, wrong, tuple(sorted(rest + (wrong,))))

        def sign():
            if r == 0:
                return None
            return write(a, op, b, -r, tuple(sorted(rest + (-r,))))

        def dead_end():
            traps = [
                m for m in _sorted_moves(state) if not _reachable(m[4]) and _nice(m)
            ]
            if not traps:
                return None
            o, x, y, value, after = rng.choice(traps)
            return write(x, o, y, value, after)

        def copied():
            wrong = b + rng.choice((1, -1))
            if wrong in state or wrong <= 0:
                return None
            value = _do(op, a, wrong)
            if value is None:
                return None
            return write(a, op, wrong, value, tuple(sorted(rest + (value,))))

        def skipped():
            if not rest:
                return None
            dropped = list(rest)
            dropped.pop(rng.randrange(len(dropped)))
            return write(a, op, b, r, tuple(sorted(tuple(dropped) + (r,))))

        def mistake(maker):
            def make():
                out = maker()
                return out if out is not None and _is_mistake(state, out.text) else None

            return make

        return {
            ARITHMETIC_SLIP: mistake(slip),
            SIGN_ERROR: mistake(sign),
            WRONG_OPERATION: mistake(dead_end),
            COPIED_WRONG_NUMBER: mistake(copied),
            SKIPPED_STEP: mistake(skipped),
        }


def _is_mistake(state: State, text: str) -> bool:
    """Whether a step is a wrong move from `state`, or a move into a dead end."""
    step = _read_step(text)
    if step.move is None:
        return step.left != state
    a, op, b, r = step.move
    rest = _minus(state, a, b)
    if rest is None or _do(op, a, b) != r:
        return True
    after = tuple(sorted(rest + (r,)))
    return after != step.left or not _reachable(after)


# --------------------------------------------------------------------------- #
# The world
# --------------------------------------------------------------------------- #


class Game24World(World):
    """Make 24 from four numbers (see module doc)."""

    name = "game24"
    levels = (1, 2, 3)
    default_level = 2

    def __init__(self, highest: int = 13):
        """`highest`: the largest number `sample` draws (a deck's 13 by
        default; more gives more distinct puzzles, e.g. for training)."""
        if not isinstance(highest, int) or not 13 <= highest <= _MAX_NUMBER:
            raise ValueError(
                f"highest must be a whole number from 13 to {_MAX_NUMBER}, "
                f"got {highest!r}."
            )
        self.highest = highest

    def parse_problem(self, text: str) -> Game24Problem:
        """A problem from four whole numbers, `"4 4 6 8"` (commas allowed)."""
        body = normalize(text).replace(",", " ").strip()
        tokens = body.split()
        if len(tokens) != 4:
            raise ParseError(
                f"a game24 problem is four whole numbers like '4 4 6 8', got "
                f"{len(tokens)} item(s)",
                text,
            )
        for t in tokens:
            if not t.isascii() or not t.isdigit() or int(t) > _MAX_NUMBER:
                raise ParseError(
                    f"{t!r} is not a whole number from 0 to {_MAX_NUMBER}", text
                )
        numbers = tuple(sorted(int(t) for t in tokens))
        n = count_solutions(numbers)
        if n == 0:
            raise ParseError(
                f"24 cannot be made from {' '.join(map(str, numbers))}: "
                f"pick four other numbers",
                text,
            )
        return Game24Problem(" ".join(map(str, numbers)), _level(n), numbers)

    def _sample_one(self, rng: random.Random, level: int) -> Game24Problem:
        while True:
            numbers = sorted(rng.randint(1, self.highest) for _ in range(4))
            n = count_solutions(numbers)
            if n and _level(n) == level:
                return Game24Problem(" ".join(map(str, numbers)), level, tuple(numbers))

    def solve(self, problem: Game24Problem) -> list[str]:
        state, steps = _state(problem.numbers), []
        while len(state) > 1:
            op, a, b, r, after = next(
                m for m in _sorted_moves(state) if _reachable(m[4])
            )
            steps.append(_step_text(a, op, b, r, after))
            state = after
        return steps

    def check(self, problem: Game24Problem, steps: Sequence[str]) -> list[StepLabel]:
        written = _state(problem.numbers)  # what the last step said is left
        true: State | None = written  # what the moves really leave
        labels: list[StepLabel] = []
        for text in steps:
            try:
                step = _read_step(text)
            except ParseError as err:
                labels.append(unreadable(err))
                continue
            labels.append(self._judge(step, written, true))
            true = self._really(step, true)
            written = step.left
        return labels

    @staticmethod
    def _really(step: _Step, true: State | None) -> State | None:
        """The numbers the problem really leaves after this step's move."""
        if true is None or step.move is None:
            return true
        a, op, b, _ = step.move
        rest = _minus(true, a, b)
        value = _do(op, a, b)
        if rest is None or value is None:
            return None
        return tuple(sorted(rest + (value,)))

    def _judge(self, step: _Step, written: State, true: State | None) -> StepLabel:
        f = format_number
        if step.move is None:  # only restates the numbers left
            if step.left != written:
                return bad(
                    f"the numbers left are {_show(written)}, not {_show(step.left)}"
                )
            if true != written:
                return bad(
                    "these numbers are not what the problem leaves: an earlier error"
                )
            if not _reachable(written):
                return bad(f"24 cannot be reached from {_show(written)}")
            return neutral(
                "correct, but no progress: it only restates the numbers left"
            )
        a, op, b, r = step.move
        value = _do(op, a, b)
        if value is None:
            return bad("dividing by 0 is not allowed")
        if value != r:
            return bad(f"{f(a)} {op} {f(b)} = {f(value)}, not {f(r)}")
        rest = _minus(written, a, b)
        if rest is None:
            missing = a if _minus(written, a) is None else b
            return bad(f"{f(missing)} is not among the numbers left ({_show(written)})")
        after = tuple(sorted(rest + (r,)))
        if after != step.left:
            return bad(
                f"the numbers left should be {_show(after)}, not {_show(step.left)}"
            )
        if true != written:
            return bad(
                f"the move is right, but {_show(written)} were not the numbers left: "
                f"an earlier error carries forward"
            )
        if not _reachable(after):
            if _reachable(written):
                return bad(
                    f"the arithmetic is right, but 24 can no longer be reached "
                    f"from {_show(after)}"
                )
            return bad(
                f"24 can no longer be reached from {_show(after)}: an earlier step "
                f"made it impossible"
            )
        if len(after) == 1:
            return good("correct: 24 is reached")
        return good(f"correct: 24 can still be reached from {_show(after)}")

    @staticmethod
    def _replay(problem: Game24Problem, steps: Sequence[str]):
        """(last number written, value the moves really compute), once one
        number is left; None when the steps do not combine all four numbers.

        Each step's numbers are matched against those written so far and the
        arithmetic is redone exactly, whatever result was written.
        """
        # Pairs (written value, true value) of the numbers left.
        left = [(Fraction(v), Fraction(v)) for v in problem.numbers]
        for text in steps:
            try:
                step = _read_step(text)
            except ParseError:
                return None
            if step.move is None:
                continue
            a, op, b, r = step.move
            picked = []
            for want in (a, b):
                k = next((i for i, (w, _) in enumerate(left) if w == want), None)
                if k is None:
                    return None
                picked.append(left.pop(k)[1])
            value = _do(op, *picked)
            if value is None:
                return None
            left.append((r, value))
        return left[0] if len(left) == 1 else None

    def extract_answer(
        self, problem: Game24Problem, steps: Sequence[str]
    ) -> str | None:
        """The last number written, once the steps have combined all four
        numbers (None before that, or when a step uses a number not there)."""
        replayed = self._replay(problem, steps)
        return None if replayed is None else format_number(replayed[0])

    def grade(self, problem: Game24Problem, steps: Sequence[str]) -> bool:
        """Whether the steps end in 24 *and* their moves really make 24.

        Stricter than comparing answers: a solution that writes 24 after a
        slip in its arithmetic does not count (`extract_answer` gives what was
        written, so the two can differ).
        """
        replayed = self._replay(problem, steps)
        return replayed is not None and replayed[0] == TARGET == replayed[1]

    def answer(self, problem: Game24Problem) -> str:
        return "24"

    def _scripted_policy(self) -> Policy:
        return _Game24Policy()

    def _written_state(self, problem: Game24Problem, steps: Sequence[str]) -> State:
        """The numbers the last readable step says are left."""
        for text in reversed(steps):
            try:
                return _read_step(text).left
            except ParseError:
                continue
        return _state(problem.numbers)

    def scripted_sample(
        self,
        problem: Game24Problem,
        rng: random.Random,
        error_rate: float,
        *,
        compensate_rate: float = 0.25,
    ) -> ScriptedSample:
        return run_scripted(_Game24Policy(), problem, rng, error_rate, compensate_rate)
