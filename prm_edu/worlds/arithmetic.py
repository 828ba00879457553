"""The arithmetic world: multi-step word problems, one computation per step.

A problem is a short story in a fixed grammar (GSM8K-like), for example::

    Maya has 3 boxes of apples, with 12 apples in each box. She gives 7
    apples to a friend. How many apples does Maya have now?

and a solution writes one computation per step, optionally after a short
phrase: `3 * 12 = 36`, `36 - 7 = 29` (or `Apples left: 36 - 7 = 29`). The
final answer is the last step's result.

Each step is judged on its **move** (is the arithmetic right, and is every
number in it from the problem or an earlier step?) and on the **problem**
(are the numbers it uses true quantities of the story, and is its result
one?). +1 when both hold and the result is a new quantity on the way to the
answer, 0 when it only repeats a known one, -1 otherwise, with a reason
("3 * 12 = 36, not 38"). The quantities of a story are the ones its
computation needs, plus the sums of consecutive gains and losses in any
order, so adding the 5 and the 3 first is as good as adding them in turn.

Sentences the grammar knows (`SENTENCES` lists them with their templates):
a start (`has`, `has_groups`), events (`buys`, `finds`, `gives`, `loses`,
`buys_groups`, `gives_each`, `halves`, `doubles`, `triples`), and an ending
(`ask_total`, or `share` + `ask_each`, or `sell` + `ask_money`). Levels count
the computations: 1 has one or two, 2 three or four, 3 five or more.
Defined in notebook 01.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import combinations
from typing import Sequence

from prm_edu.parsing import (
    Expr,
    ParseError,
    format_number,
    normalize,
    parse_expression,
)
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
    split_phrase,
    unreadable,
)
from prm_edu.worlds.base import ScriptedSample, StepLabel, World

__all__ = ["ArithmeticProblem", "ArithmeticWorld", "SENTENCES"]

# --------------------------------------------------------------------------- #
# The story grammar
# --------------------------------------------------------------------------- #

SENTENCES: dict[str, str] = {
    "has": "{name} has {a} {items}.",
    "has_groups": "{name} has {a} {boxes} of {items}, with {b} {items} in each {box}.",
    "buys": "{P} buys {a} more {items}.",
    "finds": "{P} finds {a} {items}.",
    "gives": "{P} gives {a} {items} to a friend.",
    "loses": "{P} loses {a} {items}.",
    "buys_groups": "{P} buys {a} more {boxes} with {b} {items} in each.",
    "gives_each": "{P} gives {a} {items} to each of {b} friends.",
    "halves": "{P} gives away half of {poss} {items}.",
    "doubles": "{P} doubles {poss} {items}.",
    "triples": "{P} triples {poss} {items}.",
    "share": "{P} shares them equally among {a} friends.",
    "sell": "{P} sells them all for {a} dollars each.",
    "ask_total": "How many {items} does {name} have now?",
    "ask_each": "How many {items} does each friend get?",
    "ask_money": "How many dollars does {name} get?",
}
_STARTS = ("has", "has_groups")
_EVENTS = (
    "buys",
    "finds",
    "gives",
    "loses",
    "buys_groups",
    "gives_each",
    "halves",
    "doubles",
    "triples",
)
_SLOT_PATTERNS = {
    "name": r"[A-Z][a-z]{1,15}",
    "P": r"She|He",
    "poss": r"her|his",
    "items": r"[a-z]{2,20}",
    "boxes": r"[a-z]{2,20}",
    "box": r"[a-z]{2,20}",
    "a": r"[0-9]{1,6}",
    "b": r"[0-9]{1,6}",
}


def _compile(template: str) -> re.Pattern:
    out, seen, pos = [], set(), 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos : m.start()]))
        slot = m.group(1)
        if slot in seen:
            out.append(f"(?P={slot})")
        else:
            out.append(f"(?P<{slot}>{_SLOT_PATTERNS[slot]})")
            seen.add(slot)
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out))


_PATTERNS = {kind: _compile(t) for kind, t in SENTENCES.items()}
_SENTENCE_SPLIT = re.compile(r"(?<=[.?])\s+")

_NAMES = (
    ("Ava", "She"),
    ("Bea", "She"),
    ("Cara", "She"),
    ("Dina", "She"),
    ("Emma", "She"),
    ("Gita", "She"),
    ("Maya", "She"),
    ("Nora", "She"),
    ("Priya", "She"),
    ("Rosa", "She"),
    ("Ben", "He"),
    ("Dev", "He"),
    ("Finn", "He"),
    ("Hugo", "He"),
    ("Jon", "He"),
    ("Leo", "He"),
    ("Noah", "He"),
    ("Omar", "He"),
    ("Sam", "He"),
    ("Tom", "He"),
)
_ITEMS = (
    "apples",
    "pencils",
    "stickers",
    "marbles",
    "cookies",
    "books",
    "cards",
    "shells",
    "stamps",
    "eggs",
    "crayons",
    "buttons",
)
_BOXES = (("box", "boxes"), ("bag", "bags"), ("pack", "packs"), ("jar", "jars"))


@dataclass(frozen=True)
class _Node:
    """One computation of the story: `left op right`.

    An operand is ("given", value) or ("node", index of an earlier node).
    """

    op: str
    left: tuple[str, Fraction | int]
    right: tuple[str, Fraction | int]
    value: Fraction


@dataclass(frozen=True)
class ArithmeticProblem:
    """A word problem: its text, level and exact answer.

    `plan` is the computation the story asks for, one node per step;
    `givens` the numbers the text states or implies (half -> 2);
    `quantities` every value a correct step may produce.
    """

    text: str
    level: int
    answer_value: Fraction
    plan: tuple[_Node, ...] = field(compare=False, repr=False)
    givens: frozenset = field(compare=False, repr=False)
    quantities: frozenset = field(compare=False, repr=False)


def _apply(op: str, a: Fraction, b: Fraction) -> Fraction | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return None if b == 0 else a / b


def _fmt(value: Fraction) -> str:
    return format_number(value)


def _plan_story(sentences: list[tuple[str, dict]], text: str):
    """The computation a parsed story asks for, with its quantities."""
    nodes: list[_Node] = []
    givens: set[Fraction] = set()
    # Additive runs: (total before the run, [signed amounts]) for alternatives.
    runs: list[tuple[Fraction, list[Fraction]]] = []
    run: list[Fraction] = []
    run_start = Fraction(0)

    def number(slots, key) -> Fraction:
        value = Fraction(int(slots[key]))
        givens.add(value)
        return value

    def add(op, left, right) -> tuple[str, int]:
        def val(ref):
            return ref[1] if ref[0] == "given" else nodes[ref[1]].value

        value = _apply(op, val(left), val(right))
        if value is None:
            raise ParseError("the story divides by zero", text)
        if value < 0:
            raise ParseError(
                f"the story goes below zero ({_fmt(val(left))} {op} "
                f"{_fmt(val(right))}): give away less than there is",
                text,
            )
        if value.denominator != 1:
            raise ParseError(
                f"the story needs {_fmt(val(left))} {op} {_fmt(val(right))}, "
                f"which is not a whole number",
                text,
            )
        nodes.append(_Node(op, left, right, value))
        return ("node", len(nodes) - 1)

    def value_of(ref) -> Fraction:
        return ref[1] if ref[0] == "given" else nodes[ref[1]].value

    def close_run():
        nonlocal run
        if len(run) >= 2:
            runs.append((run_start, run))
        run = []

    total: tuple[str, Fraction | int] | None = None
    for kind, slots in sentences:
        if kind == "has":
            total = ("given", number(slots, "a"))
        elif kind == "has_groups":
            total = add(
                "*", ("given", number(slots, "a")), ("given", number(slots, "b"))
            )
        elif kind in ("buys", "finds", "gives", "loses", "buys_groups", "gives_each"):
            if kind in ("buys_groups", "gives_each"):
                amount = add(
                    "*", ("given", number(slots, "a")), ("given", number(slots, "b"))
                )
            else:
                amount = ("given", number(slots, "a"))
            op = "+" if kind in ("buys", "finds", "buys_groups") else "-"
            if not run:
                run_start = value_of(total)
            run.append(value_of(amount) * (1 if op == "+" else -1))
            total = add(op, total, amount)
        else:
            close_run()
            if kind in ("halves", "doubles", "triples"):
                k = Fraction({"halves": 2, "doubles": 2, "triples": 3}[kind])
                givens.add(k)
                total = add("/" if kind == "halves" else "*", total, ("given", k))
            elif kind in ("share", "sell"):
                op = "/" if kind == "share" else "*"
                total = add(op, total, ("given", number(slots, "a")))
    close_run()
    quantities = {node.value for node in nodes}
    for start, amounts in runs:
        for r in range(1, len(amounts) + 1):
            for subset in combinations(amounts[:6], r):
                quantities.add(start + sum(subset))
                if r >= 2:
                    quantities.add(abs(sum(subset)))
    return nodes, value_of(total), frozenset(givens), frozenset(quantities)


def _read_story(text: str) -> list[tuple[str, dict]]:
    body = " ".join(normalize(text).split())
    if not body:
        raise ParseError("the problem is empty: write a short story", text)
    parts = _SENTENCE_SPLIT.split(body)
    out: list[tuple[str, dict]] = []
    for i, sentence in enumerate(parts, 1):
        for kind, pattern in _PATTERNS.items():
            m = pattern.fullmatch(sentence)
            if m is not None:
                out.append((kind, m.groupdict()))
                break
        else:
            raise ParseError(
                f"sentence {i} ({sentence!r}) is not one this world knows; "
                f"use sentences like {SENTENCES['has']!r}, {SENTENCES['buys']!r} "
                f"and {SENTENCES['ask_total']!r} (see arithmetic.SENTENCES)",
                text,
            )
    _check_order(out, text)
    return out


def _check_order(story: list[tuple[str, dict]], text: str) -> None:
    kinds = [k for k, _ in story]
    if kinds[0] not in _STARTS:
        raise ParseError(
            f"the story must start with what someone has, like {SENTENCES['has']!r}",
            text,
        )
    ending = kinds[-1]
    if ending not in ("ask_total", "ask_each", "ask_money"):
        raise ParseError(
            f"the story must end with its question, like {SENTENCES['ask_total']!r}",
            text,
        )
    middle = kinds[1:-1]
    if ending == "ask_each":
        if not middle or middle[-1] != "share":
            raise ParseError(
                "'How many ... does each friend get?' needs a 'shares'", text
            )
        middle = middle[:-1]
    if ending == "ask_money":
        if not middle or middle[-1] != "sell":
            raise ParseError("'How many dollars ...' needs a 'sells them all'", text)
        middle = middle[:-1]
    for k in middle:
        if k not in _EVENTS:
            raise ParseError(
                f"the sentence {SENTENCES[k]!r} cannot come in the middle of a story",
                text,
            )
    items = {s["items"] for _, s in story if "items" in s}
    if len(items) > 1:
        raise ParseError(
            f"the story talks about {sorted(items)}: use one kind of thing", text
        )
    names = {s["name"] for _, s in story if "name" in s}
    if len(names) > 1:
        raise ParseError(f"the story names {sorted(names)}: use one person", text)


def _render(story: list[tuple[str, dict]]) -> str:
    return " ".join(SENTENCES[kind].format(**slots) for kind, slots in story)


def _classify(n_steps: int) -> int:
    return 1 if n_steps <= 2 else 2 if n_steps <= 4 else 3


# --------------------------------------------------------------------------- #
# Reading a step
# --------------------------------------------------------------------------- #

_RESULT = re.compile(
    r"\s*(?P<sign>-?)\s*(?P<num>[0-9]{1,30})(?:\.(?P<dec>[0-9]{1,30}))?"
    r"(?:/(?P<den>[0-9]{1,30}))?(?:\s+[A-Za-z][A-Za-z ]*)?\s*"
)


def _result(m: re.Match, text: str) -> Fraction:
    dec = m.group("dec") or ""
    value = Fraction(int(m.group("num") + dec), 10 ** len(dec))
    if m.group("den"):
        if int(m.group("den")) == 0:
            raise ParseError("the result divides by zero", text)
        value /= int(m.group("den"))
    return -value if m.group("sign") else value


@dataclass(frozen=True)
class _Step:
    expr: Expr
    result: Fraction


def _numbers_used(expr: Expr) -> list[Fraction]:
    """The numbers a computation uses, a minus sign in front kept (-4 + 20)."""
    if expr.kind == "num":
        return [expr.value.const]
    if expr.kind == "neg" and expr.parts[0].kind == "num":
        return [expr.value.const]
    out: list[Fraction] = []
    for part in expr.parts:
        out.extend(_numbers_used(part[1] if isinstance(part, tuple) else part))
    return out


def _read_step(text: str) -> _Step:
    _, body = split_phrase(clean_step(text))
    if "=" not in body:
        raise ParseError("a computation needs '=', like '3 * 12 = 36'", text)
    lhs, _, rhs = body.partition("=")
    if "=" in rhs:
        raise ParseError("one computation per step: only one '=' please", text)
    if not lhs.strip():
        raise ParseError("nothing is computed before '='", text)
    m = _RESULT.fullmatch(rhs)
    if m is None:
        raise ParseError(
            f"after '=' write the result as a number, like '= 36', not {rhs.strip()!r}",
            text,
        )
    expr = parse_expression(lhs, variable=None)
    return _Step(expr, _result(m, text))


# --------------------------------------------------------------------------- #
# The scripted solver: a state is the tuple of values written for the nodes
# --------------------------------------------------------------------------- #


def _operands(problem: ArithmeticProblem, state: tuple, node: _Node):
    def val(ref):
        if ref[0] == "given":
            return Fraction(ref[1])
        return state[ref[1]] if ref[1] < len(state) else problem.plan[ref[1]].value

    return val(node.left), val(node.right)


def _text(a: Fraction, op: str, b: Fraction, r: Fraction) -> str:
    return f"{_fmt(a)} {op} {_fmt(b)} = {_fmt(r)}"


def _miscopy(v: Fraction, rng: random.Random) -> Fraction:
    n = v.numerator
    digits = str(abs(n))
    if (
        v.denominator == 1
        and len(digits) >= 2
        and digits[0] != digits[1]
        and rng.random() < 0.5
    ):
        return Fraction(int(digits[1] + digits[0] + digits[2:]) * (1 if n >= 0 else -1))
    return v + rng.choice((1, -1, 10, 2))


class _ArithmeticPolicy(Policy):
    def start(self, problem):
        return ()

    def correct(self, problem, state, rng):
        if len(state) >= len(problem.plan):
            return None
        node = problem.plan[len(state)]
        a, b = _operands(problem, state, node)
        r = _apply(node.op, a, b)
        if r is None:
            return None
        return Move(_text(a, node.op, b, r), state + (r,))

    def is_wrong(self, problem, state, true_state):
        return state != true_state

    def compensate(self, problem, state, true_move, rng):
        node = problem.plan[len(state)]
        a, b = _operands(problem, state, node)
        if _apply(node.op, a, b) == node.value:
            return None  # this step does not use the wrong number
        return Move(_text(a, node.op, b, node.value), state + (node.value,))

    def errors(self, problem, state, move, rng):
        k = len(state)
        node = problem.plan[k]
        a, b = _operands(problem, state, node)
        r = _apply(node.op, a, b)
        known = problem.givens | set(state)
        legit = problem.quantities | problem.givens

        def slip():
            wrong = r + rng.choice((1, -1, 2, -2, 10, -10))
            return Move(_text(a, node.op, b, wrong), state + (wrong,))

        def sign():
            if node.op in "+-":
                wrong = a - b if node.op == "+" else a + b
            else:
                wrong = -r
            if wrong == r:
                return None
            return Move(_text(a, node.op, b, wrong), state + (wrong,))

        def wrong_op():
            options = []
            for op in "+-*/":
                value = _apply(op, a, b)
                if op == node.op or value is None or value.denominator != 1:
                    continue
                if value != r and value not in legit and value >= 0:
                    options.append((op, value))
            if not options:
                return None
            op, value = rng.choice(options)
            return Move(_text(a, op, b, value), state + (value,))

        def copied():
            which = rng.randrange(2)
            v = (a, b)[which]
            wrong = _miscopy(v, rng)
            if wrong in known or wrong <= 0:
                return None
            x, y = (wrong, b) if which == 0 else (a, wrong)
            value = _apply(node.op, x, y)
            if value is None or value.denominator != 1 or value == r:
                return None
            return Move(_text(x, node.op, y, value), state + (value,))

        def skipped():
            # Leave this computation out and use its first number in the next
            # one instead of its result.
            if k + 1 >= len(problem.plan):
                return None
            nxt = problem.plan[k + 1]
            if ("node", k) not in (nxt.left, nxt.right):
                return None
            base = a
            filled = state + (base,)
            x, y = _operands(problem, filled, nxt)
            value = _apply(nxt.op, x, y)
            if value is None or value.denominator != 1 or value in legit:
                return None
            return Move(_text(x, nxt.op, y, value), filled + (value,))

        def mistake(maker):
            def make():
                move = maker()
                if move is None or not _is_mistake(problem, state, move.text):
                    return None
                return move

            return make

        return {
            ARITHMETIC_SLIP: mistake(slip),
            SIGN_ERROR: mistake(sign),
            WRONG_OPERATION: mistake(wrong_op),
            COPIED_WRONG_NUMBER: mistake(copied),
            SKIPPED_STEP: mistake(skipped),
        }


def _is_mistake(problem: ArithmeticProblem, state: tuple, text: str) -> bool:
    """Whether a step is wrong in itself after the written `state`."""
    step = _read_step(text)
    known = problem.givens | set(state)
    return (
        step.expr.value.const != step.result
        or any(n not in known for n in _numbers_used(step.expr))
        or step.result not in problem.quantities
    )


# --------------------------------------------------------------------------- #
# The world
# --------------------------------------------------------------------------- #


class ArithmeticWorld(World):
    """Word problems with one computation per step (see module doc)."""

    name = "arithmetic"
    levels = (1, 2, 3)
    default_level = 2

    def parse_problem(self, text: str) -> ArithmeticProblem:
        """A problem from its story text, in the grammar of `SENTENCES`."""
        story = _read_story(text)
        canonical = _render(story)
        nodes, answer, givens, quantities = _plan_story(story, text)
        if not nodes:
            raise ParseError(
                "there is nothing to compute in this story: add an event, like "
                f"{SENTENCES['buys']!r}",
                text,
            )
        return ArithmeticProblem(
            canonical,
            _classify(len(nodes)),
            answer,
            tuple(nodes),
            givens,
            quantities,
        )

    def _sample_one(self, rng: random.Random, level: int) -> ArithmeticProblem:
        while True:
            try:
                problem = self.parse_problem(_draw(rng, level))
            except ParseError:
                continue  # e.g. the story went below zero: draw again
            if problem.level == level:
                return problem

    def solve(self, problem: ArithmeticProblem) -> list[str]:
        policy, state, steps = _ArithmeticPolicy(), (), []
        rng = random.Random(0)  # unused: the correct move is deterministic
        while (move := policy.correct(problem, state, rng)) is not None:
            steps.append(move.text)
            state = move.state
        return steps

    def check(
        self, problem: ArithmeticProblem, steps: Sequence[str]
    ) -> list[StepLabel]:
        known: dict[Fraction, int | None] = {g: None for g in problem.givens}
        true_values = problem.quantities | problem.givens
        # Steps that found each value; a value may be found as often as the
        # plan needs it (two computations can share a value).
        found: dict[Fraction, list[int]] = {}
        labels: list[StepLabel] = []
        for i, text in enumerate(steps):
            try:
                step = _read_step(text)
            except ParseError as err:
                labels.append(unreadable(err))
                continue
            labels.append(self._judge(step, known, true_values, found, problem, i))
            known.setdefault(step.result, i)
        return labels

    @staticmethod
    def _judge(step, known, true_values, found, problem, i) -> StepLabel:
        shown = step.expr.render()
        value, result = step.expr.value.const, step.result
        if value != result:
            return bad(f"{shown} = {_fmt(value)}, not {_fmt(result)}")
        for n in _numbers_used(step.expr):
            if n not in known:
                return bad(
                    f"{_fmt(n)} is not a number in the problem or an earlier "
                    f"result: check which numbers the story gives"
                )
        for n in _numbers_used(step.expr):
            if n not in true_values:
                where = known[n]
                return bad(
                    f"the arithmetic is right, but {_fmt(n)} (from step "
                    f"{where + 1}) is wrong: an earlier error carries forward"
                )
        needed = max(1, sum(node.value == result for node in problem.plan))
        if len(found.get(result, ())) >= needed:
            return neutral(
                f"correct, but {_fmt(result)} was already found in step "
                f"{found[result][0] + 1}"
            )
        if result in problem.quantities:
            found.setdefault(result, []).append(i)
            return good(f"correct: {shown} = {_fmt(result)}, a quantity of the story")
        if result in problem.givens:
            return neutral(f"correct, but it only restates {_fmt(result)}")
        return bad(
            f"{shown} = {_fmt(result)} is right, but {_fmt(result)} is not a "
            f"quantity in this problem: check which operation the story asks for"
        )

    def extract_answer(self, problem, steps: Sequence[str]) -> str | None:
        if not steps:
            return None
        try:
            return _fmt(_read_step(steps[-1]).result)
        except ParseError:
            return None

    def answer(self, problem: ArithmeticProblem) -> str:
        return _fmt(problem.answer_value)

    def _scripted_policy(self) -> Policy:
        return _ArithmeticPolicy()

    def _written_state(self, problem: ArithmeticProblem, steps: Sequence[str]):
        """The results written so far, one per computation of the plan."""
        out = []
        for text in steps:
            try:
                out.append(_read_step(text).result)
            except ParseError:
                continue
        return tuple(out[: len(problem.plan)])

    def scripted_sample(
        self,
        problem: ArithmeticProblem,
        rng: random.Random,
        error_rate: float,
        *,
        compensate_rate: float = 0.25,
    ) -> ScriptedSample:
        return run_scripted(
            _ArithmeticPolicy(), problem, rng, error_rate, compensate_rate
        )


# --------------------------------------------------------------------------- #
# Drawing problems
# --------------------------------------------------------------------------- #

_STEPS_PER_KIND = {
    "has": 0,
    "has_groups": 1,
    "buys": 1,
    "finds": 1,
    "gives": 1,
    "loses": 1,
    "buys_groups": 2,
    "gives_each": 2,
    "halves": 1,
    "doubles": 1,
    "triples": 1,
    "share": 1,
    "sell": 1,
    "ask_total": 0,
    "ask_each": 0,
    "ask_money": 0,
}
_TARGET = {1: (1, 2), 2: (3, 4), 3: (5, 6)}
_BIG = {1: 20, 2: 50, 3: 100}


def _draw(rng: random.Random, level: int) -> str:
    """One candidate story at `level` (it may fail its checks: draw again)."""
    name, pronoun = rng.choice(_NAMES)
    poss = "her" if pronoun == "She" else "his"
    items = rng.choice(_ITEMS)
    box, boxes = rng.choice(_BOXES)
    big = _BIG[level]
    lo, hi = _TARGET[level]
    target = rng.randint(lo, hi)
    base = dict(name=name, P=pronoun, poss=poss, items=items, box=box, boxes=boxes)

    def slots(**numbers) -> dict:
        return {**base, **{k: str(v) for k, v in numbers.items()}}

    story: list[tuple[str, dict]] = []
    if level > 1 and rng.random() < 0.5:
        story.append(("has_groups", slots(a=rng.randint(2, 9), b=rng.randint(2, 12))))
        total = int(story[-1][1]["a"]) * int(story[-1][1]["b"])
    else:
        total = rng.randint(5, big)
        story.append(("has", slots(a=total)))
    count = _STEPS_PER_KIND[story[0][0]]
    ending = rng.choice(("ask_total", "ask_total", "share", "sell"))
    reserve = 0 if ending == "ask_total" else 1
    while count < target - reserve:
        room = target - reserve - count
        kind = rng.choice([k for k in _EVENTS if _STEPS_PER_KIND[k] <= room])
        if kind in ("buys", "finds"):
            a = rng.randint(2, big)
            total += a
            story.append((kind, slots(a=a)))
        elif kind in ("gives", "loses"):
            if total < 3:
                continue
            a = rng.randint(1, min(big, total - 1))
            total -= a
            story.append((kind, slots(a=a)))
        elif kind == "buys_groups":
            a, b = rng.randint(2, 6), rng.randint(2, 12)
            total += a * b
            story.append((kind, slots(a=a, b=b)))
        elif kind == "gives_each":
            a, b = rng.randint(1, 6), rng.randint(2, 5)
            if a * b >= total:
                continue
            total -= a * b
            story.append((kind, slots(a=a, b=b)))
        elif kind == "halves":
            if total % 2:
                continue
            total //= 2
            story.append((kind, slots()))
        else:
            if total > 300:
                continue
            total *= 2 if kind == "doubles" else 3
            story.append((kind, slots()))
        count += _STEPS_PER_KIND[kind]
    if ending == "share":
        divisors = [d for d in range(2, 11) if total % d == 0]
        if not divisors:
            ending = "ask_total"
        else:
            story.append(("share", slots(a=rng.choice(divisors))))
            story.append(("ask_each", slots()))
    if ending == "sell":
        story.append(("sell", slots(a=rng.randint(2, 9))))
        story.append(("ask_money", slots()))
    if ending == "ask_total":
        story.append(("ask_total", slots()))
    return _render(story)
