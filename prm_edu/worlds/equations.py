"""The equations world: linear equations solved one move at a time.

A problem is `Solve 2x + 5 = 15`; a step names its move and writes the new
equation, in the seed's phrasing::

    Subtract 5 from both sides: 2x = 10
    Divide both sides by 2: x = 5

Moves the checker understands by name: `Subtract E [from both sides]`,
`Add E [to both sides]`, `Multiply [both sides] by E`, `Divide [both sides]
by E` (E a number or an x-term). Any other phrase (`Expand the brackets`,
`Simplify`, `Collect the x terms`), or none, claims only that the new
equation is equivalent to the one before.

Each step is judged twice. **The move:** does the equation follow from the
step before by the named move (or, for other phrases, is it equivalent)?
**The problem:** does the new equation still have the problem's solution?
+1 when both hold and the equation got simpler, 0 when both hold but it did
not (a rewrite), -1 otherwise, with a reason such as "15 - 5 = 10, not 20".
Levels: 1 `ax + b = c` with a positive whole answer; 2 x on both sides or a
negative answer; 3 brackets or a fractional answer. Defined in notebook 01.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Sequence

from prm_edu.parsing import (
    Equation,
    Expr,
    Linear,
    ParseError,
    format_number,
    parse_equation,
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

__all__ = ["EquationProblem", "EquationsWorld"]

_ZERO = Fraction(0)
_X = Linear(Fraction(1), _ZERO)


@dataclass(frozen=True)
class EquationProblem:
    """`Solve <equation>`: its text, level and exact solution."""

    text: str
    level: int
    solution: Fraction
    equation: Equation = field(compare=False, repr=False)


# --------------------------------------------------------------------------- #
# Reading a step
# --------------------------------------------------------------------------- #

_NAMED = (
    (
        "subtract",
        re.compile(r"subtract\s+(?P<e>.+?)(?:\s+from\s+(?:both|each)\s+sides?)?"),
    ),
    ("add", re.compile(r"add\s+(?P<e>.+?)(?:\s+to\s+(?:both|each)\s+sides?)?")),
    (
        "multiply",
        re.compile(r"multiply\s+(?:(?:both|each)\s+sides?\s+)?by\s+(?P<e>.+)"),
    ),
    ("divide", re.compile(r"divide\s+(?:(?:both|each)\s+sides?\s+)?by\s+(?P<e>.+)")),
)
_SYMBOL = {"subtract": "-", "add": "+", "multiply": "*", "divide": "/"}
_VERB = {
    "subtract": "subtracting",
    "add": "adding",
    "multiply": "multiplying",
    "divide": "dividing",
}


@dataclass(frozen=True)
class _Step:
    op: str | None  # one of _NAMED, or None for any other phrase
    operand: Linear | None
    equation: Equation


def _read_step(text: str) -> _Step:
    phrase, body = split_phrase(clean_step(text))
    op, operand = None, None
    if phrase:
        low = phrase.lower()
        for name, pattern in _NAMED:
            if low.startswith(name):
                m = pattern.fullmatch(low)
                if m is None:
                    raise ParseError(
                        f"could not read the move {phrase!r}: write it like "
                        f"'Subtract 5 from both sides' or 'Divide both sides by 2'",
                        text,
                    )
                op = name
                operand = parse_expression(m.group("e")).value
                break
    if not body:
        raise ParseError("the step has no equation after its ':'", text)
    return _Step(op, operand, parse_equation(body))


def _apply(op: str, side: Linear, k: Linear) -> Linear:
    if op == "subtract":
        return side - k
    if op == "add":
        return side + k
    if op == "multiply":
        return side.scale(k.const)
    return side.divide(k.const)


def _shown(k: Linear) -> str:
    text = k.render()
    return f"({text})" if (" " in text or "/" in text or text[0] == "-") else text


def _side_shown(side: Linear, op: str) -> str:
    text = side.render()
    if op in ("multiply", "divide") and " " in text:
        return f"({text})"
    return text


def _describe(solutions: Fraction | str) -> str:
    if solutions == "all":
        return "holds for every x"
    if solutions == "none":
        return "has no solution"
    return f"gives x = {format_number(solutions)}"


def _not_solving(eq: Equation, solutions) -> str:
    if (eq.left == _X and eq.right.is_constant) or (
        eq.right == _X and eq.left.is_constant
    ):
        return f"{eq.render()} is not the solution of"
    return f"{eq.render()} {_describe(solutions)}, which does not solve"


def _judge_move(prev: Equation, step: _Step) -> tuple[bool, str]:
    """Whether the step's equation follows from `prev`, and why not."""
    eq = step.equation
    if step.op is None:
        before, after = prev.solutions(), eq.solutions()
        if before == after:
            return True, ""
        return False, (
            f"{eq.render()} is not equivalent to {prev.render()}: the first "
            f"{_describe(after)}, the second {_describe(before)}"
        )
    op, k = step.op, step.operand
    if op in ("multiply", "divide"):
        if not k.is_constant:
            return False, (
                f"{_VERB[op]} both sides by {k.render()} is not a step that keeps "
                f"a linear equation equivalent: use a number"
            )
        if op == "divide" and k.const == 0:
            return False, "dividing by 0 is undefined"
    want = (_apply(op, prev.left, k), _apply(op, prev.right, k))
    got = (eq.left, eq.right)
    if got == want or got == want[::-1]:
        return True, ""
    # Compare side by side in the orientation that puts x where it was meant.
    if (got[0].coef != 0) != (want[0].coef != 0) and (got[1].coef != 0) == (
        want[0].coef != 0
    ):
        got = got[::-1]
    olds = (prev.left, prev.right)
    wrong = [
        f"{_side_shown(old, op)} {_SYMBOL[op]} {_shown(k)} = {w.render()}, "
        f"not {g.render()}"
        for old, w, g in zip(olds, want, got)
        if w != g
    ]
    return False, "; ".join(wrong)


def _potential(eq: Equation) -> tuple[int, int]:
    """How far an equation is from `x = c`; smaller is closer.

    First the linear structure (non-zero coefficients, plus one when the x
    coefficient still has to be divided away), then the written size, so
    that expanding brackets or simplifying `15 - 5` counts as progress while
    restating or swapping sides does not.
    """
    (a1, b1), (a2, b2) = (eq.left.coef, eq.left.const), (eq.right.coef, eq.right.const)
    nonzero = sum(v != 0 for v in (a1, b1, a2, b2))
    if a1 != 0 and a2 != 0:
        extra = abs(a1 - a2) != 1
    else:
        extra = (a1 or a2) != 1
    return (nonzero + int(extra), eq.size)


# --------------------------------------------------------------------------- #
# The scripted solver's moves
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class _Plan:
    op: str  # "rewrite", "subtract", "add" or "divide"
    phrase: str
    operand: Linear | None
    before: tuple[Linear, Linear]  # x side first
    after: tuple[Linear, Linear]


def _untidy(side: Expr) -> bool:
    """Whether a side has brackets to expand or more terms than its simplest
    form (the canonical `(1/2)x` is tidy, and so is `x/2`)."""
    canonical = side.value.render()
    if side.render() == canonical:
        return False
    return side.has_group() or side.size > parse_expression(canonical).size


def _plan(eq: Equation) -> _Plan | None:
    """The next move of the standard method, or None when solved or stuck."""
    if isinstance(eq.solutions(), str):  # "all" or "none"
        return None
    left, right = eq.left, eq.right
    if left.coef == 0:  # keep x on the left of what is written
        left, right = right, left
    before = (left, right)
    if _untidy(eq.lhs) or _untidy(eq.rhs):
        phrase = (
            "Expand the brackets"
            if eq.lhs.has_group() or eq.rhs.has_group()
            else ("Simplify")
        )
        return _Plan("rewrite", phrase, None, before, before)
    if right.coef != 0:
        k = Linear(right.coef, _ZERO)
    elif left.const != 0:
        k = Linear(_ZERO, left.const)
    elif left.coef != 1:
        a = left.coef
        k = Linear(_ZERO, a)
        return _Plan(
            "divide",
            f"Divide both sides by {format_number(a)}",
            k,
            before,
            (left.divide(a), right.divide(a)),
        )
    else:
        return None
    after = (left - k, right - k)
    positive = (k.coef or k.const) > 0
    if positive:
        phrase = f"Subtract {k.render()} from both sides"
        return _Plan("subtract", phrase, k, before, after)
    return _Plan("add", f"Add {(-k).render()} to both sides", -k, before, after)


def _write(phrase: str, sides: tuple[Linear, Linear]) -> Move[Equation] | None:
    left, right = sides
    if left.coef == 0 and right.coef != 0:
        left, right = right, left
    text = f"{phrase}: {left.render()} = {right.render()}"
    return Move(text, parse_equation(text.rpartition(":")[2]))


def _nudge(rng: random.Random) -> Fraction:
    return Fraction(rng.choice((1, 2, 3, 10)) * rng.choice((1, -1)))


class _EquationPolicy(Policy):
    def start(self, problem: EquationProblem) -> Equation:
        return problem.equation

    def correct(self, problem, state, rng):
        plan = _plan(state)
        return None if plan is None else _write(plan.phrase, plan.after)

    def is_wrong(self, problem, state, true_state) -> bool:
        return state.solutions() != problem.solution

    def compensate(self, problem, state, true_move, rng):
        # Write the right equation again, as if the mistake had not happened.
        if _judge_move(state, _read_step(true_move.text))[0]:
            return None
        return true_move

    def errors(self, problem, state, move, rng):
        plan = _plan(state)
        (x_side, c_side), (x_new, c_new) = plan.before, plan.after

        def written(sides):
            return _write(plan.phrase, sides)

        def slip():
            return written((x_new, c_new + Linear(_ZERO, _nudge(rng))))

        def sign():
            if plan.op in ("subtract", "add"):
                k = plan.operand if plan.op == "add" else -plan.operand
                if not k.is_constant:  # collecting x terms: flip it on the x side
                    return written((x_side - k, c_new))
                return written((x_new, c_side - k))
            if plan.op == "divide" and c_new.const != 0 and c_new.coef == 0:
                return written((x_new, -c_new))
            if plan.op == "rewrite" and x_new.const != 0:
                return written((Linear(x_new.coef, -x_new.const), c_new))
            return None

        def wrong_op():
            k = plan.operand
            if plan.op in ("subtract", "add") and k.is_constant and abs(k.const) > 1:
                c = c_side.const
                ratio = Fraction(c) / k.const
                other = ratio if ratio.denominator == 1 else c * k.const
                return written((x_new, Linear(c_side.coef, other)))
            if plan.op == "divide" and c_side.is_constant:
                return written((x_new, Linear(_ZERO, c_side.const - k.const)))
            return None

        def copied():
            if x_new.coef not in (0, 1):
                step = rng.choice((1, -1))
                coef = (
                    x_new.coef + step if x_new.coef + step != 0 else x_new.coef - step
                )
                return written((Linear(coef, x_new.const), c_new))
            if x_new.const != 0:
                return written((Linear(x_new.coef, x_new.const + _nudge(rng)), c_new))
            return None

        def skipped():
            after = _write(plan.phrase, plan.after)
            nxt = _plan(after.state)
            if nxt is None or nxt.op == "rewrite" or plan.op == "rewrite":
                return None
            # Do the next move, but on the constant side as it was before this
            # one: the effect of the skipped move is simply lost.
            k = nxt.operand
            sides = (nxt.after[0], _apply(nxt.op, c_side, k))
            if sides == nxt.after or sides == nxt.after[::-1]:
                return None
            return _write(nxt.phrase, sides)

        def mistake(maker):
            # Only a move that does not follow from what was written counts as
            # an injected error (a slip that happens to be right is not one).
            def make():
                move = maker()
                if move is None or _judge_move(state, _read_step(move.text))[0]:
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


# --------------------------------------------------------------------------- #
# The world
# --------------------------------------------------------------------------- #

_PREFIX = re.compile(r"\s*(?:solve\b\s*(?:for\s+x\b\s*)?:?)?\s*", re.IGNORECASE)


def _classify(eq: Equation, solution: Fraction) -> int:
    if eq.lhs.has_group() or eq.rhs.has_group() or solution.denominator != 1:
        return 3
    if (eq.left.coef != 0 and eq.right.coef != 0) or solution <= 0:
        return 2
    return 1


def _is_number(expr) -> bool:
    return expr.kind == "num" or (expr.kind == "neg" and expr.parts[0].kind == "num")


class EquationsWorld(World):
    """Linear equations in one unknown x, checked exactly (see module doc)."""

    name = "equations"
    levels = (1, 2, 3)
    default_level = 2

    # -- problems ------------------------------------------------------------ #
    def parse_problem(self, text: str) -> EquationProblem:
        """A problem from `"2x + 5 = 15"` or `"Solve 2x + 5 = 15"`."""
        body = clean_step(text)
        body = body[_PREFIX.match(body).end() :]
        eq = parse_equation(body)
        if eq.left.is_constant and eq.right.is_constant:
            raise ParseError(
                "there is no x in this equation: write one to solve, like 2x + 5 = 15",
                text,
            )
        solution = eq.solutions()
        if isinstance(solution, str):  # "all" or "none"
            raise ParseError(
                f"{eq.render()} {_describe(solution)}: give an equation with "
                f"exactly one solution",
                text,
            )
        for a, b in ((eq.lhs, eq.rhs), (eq.rhs, eq.lhs)):
            if a.kind == "var" and _is_number(b):
                raise ParseError(
                    f"{eq.render()} is already solved: give an equation to solve",
                    text,
                )
        solution = Fraction(solution)
        return EquationProblem(
            f"Solve {eq.render()}", _classify(eq, solution), solution, eq
        )

    def _sample_one(self, rng: random.Random, level: int) -> EquationProblem:
        while True:
            problem = self.parse_problem(_draw(rng, level))
            x = problem.solution
            # Keep answers readable: small numerators, denominators up to 6.
            if problem.level == level and abs(x.numerator) <= 40 and x.denominator <= 6:
                return problem

    # -- solving and checking ----------------------------------------------- #
    def solve(self, problem: EquationProblem) -> list[str]:
        steps, state = [], problem.equation
        for _ in range(8):
            plan = _plan(state)
            if plan is None:
                break
            move = _write(plan.phrase, plan.after)
            steps.append(move.text)
            state = move.state
        return steps

    def check(self, problem: EquationProblem, steps: Sequence[str]) -> list[StepLabel]:
        x0 = problem.solution
        start = problem.text[len("Solve ") :]
        prev = problem.equation
        best = _potential(prev)
        labels: list[StepLabel] = []
        for text in steps:
            try:
                step = _read_step(text)
            except ParseError as err:
                labels.append(unreadable(err))
                continue
            eq = step.equation
            move_ok, why = _judge_move(prev, step)
            solutions = eq.solutions()
            right = solutions == x0
            if not move_ok:
                if right:
                    why += (
                        " (the equation has the right solution, but this step "
                        "does not get there correctly)"
                    )
                labels.append(bad(why))
            elif not right:
                if prev.solutions() == x0:
                    labels.append(
                        bad(
                            f"the move is allowed, but {eq.render()} "
                            f"{_describe(solutions)}: it lost the solution of {start}"
                        )
                    )
                else:
                    labels.append(
                        bad(
                            f"the move is right, but {_not_solving(eq, solutions)} "
                            f"{start}: an earlier error carries forward"
                        )
                    )
            else:
                here = _potential(eq)
                if here < best:
                    done = (eq.left == _X and eq.right.is_constant) or (
                        eq.right == _X and eq.left.is_constant
                    )
                    labels.append(
                        good(
                            f"correct: x = {format_number(x0)} solves it"
                            if done
                            else f"correct: {eq.render()} follows and is simpler"
                        )
                    )
                else:
                    labels.append(
                        neutral(
                            f"correct, but no progress: {eq.render()} is no "
                            f"simpler than what was already written"
                        )
                    )
                best = min(best, here)
            prev = eq
        return labels

    def extract_answer(self, problem, steps: Sequence[str]) -> str | None:
        if not steps:
            return None
        try:
            eq = _read_step(steps[-1]).equation
        except ParseError:
            return None
        for a, b in ((eq.left, eq.right), (eq.right, eq.left)):
            if a == _X and b.is_constant:
                return format_number(b.const)
        return None

    def answer(self, problem: EquationProblem) -> str:
        return format_number(problem.solution)

    def _scripted_policy(self) -> Policy:
        return _EquationPolicy()

    def _written_state(self, problem: EquationProblem, steps: Sequence[str]):
        """The last equation the steps wrote (the problem's, if none)."""
        for text in reversed(steps):
            try:
                return _read_step(text).equation
            except ParseError:
                continue
        return problem.equation

    def scripted_sample(
        self,
        problem: EquationProblem,
        rng: random.Random,
        error_rate: float,
        *,
        compensate_rate: float = 0.25,
    ) -> ScriptedSample:
        return run_scripted(
            _EquationPolicy(), problem, rng, error_rate, compensate_rate
        )


# --------------------------------------------------------------------------- #
# Drawing problems
# --------------------------------------------------------------------------- #


def _lin(a: int, b: int) -> str:
    return Linear(Fraction(a), Fraction(b)).render()


def _bracket(m: int, b: int) -> str:
    return f"{m}({_lin(1, b)})"


def _plus(text: str, c: int) -> str:
    return f"{text} + {c}" if c > 0 else f"{text} - {-c}"


def _draw(rng: random.Random, level: int) -> str:
    """Statement text of one candidate problem at `level` (may be re-drawn)."""
    r = rng.randint
    if level == 1:
        a = 1 if rng.random() < 0.1 else r(2, 9)
        x, b = r(1, 12), r(1, 20)
        form = rng.randrange(5)
        if form == 0:
            return f"{_lin(a, b)} = {a * x + b}"
        if form == 1:
            return f"{_lin(a, -b)} = {a * x - b}"
        if form == 2:
            return f"{b} + {_lin(a, 0)} = {a * x + b}"
        if form == 3:
            return f"{a * x + b} = {_lin(a, b)}"
        return f"{_lin(max(a, 2), 0)} = {max(a, 2) * x}"
    if level == 2:
        if rng.random() < 0.3:  # one side, answer zero or negative
            a, x, b = r(2, 9), r(-12, 0), r(-20, 20)
            return f"{_lin(a, b)} = {a * x + b}"
        a, c = r(1, 9), r(-6, 9)
        if c == 0 or a == c:
            c = a + r(1, 4)
        x, b = r(-10, 10), r(-15, 15)
        d = (a - c) * x + b
        return f"{_lin(a, b)} = {_lin(c, d)}"
    # level 3: brackets, and fractional or negative answers
    form = rng.randrange(4)
    m = rng.choice((2, 3, 4, 5, -2, -3))
    b, c, d, e = r(-9, 9) or 1, r(-12, 12), r(1, 7), r(-20, 20)
    if form == 0:  # a(x + b) = c
        return f"{_bracket(m, b)} = {c}"
    if form == 1:  # a(x + b) + c = dx + e
        if d == m:
            d += 1
        return f"{_plus(_bracket(m, b), c or 1)} = {_lin(d, e)}"
    if form == 2:  # a(x + b) = d(x + e)
        n = rng.choice((2, 3, 4, 5, 6))
        if n == m:
            n += 1
        return f"{_bracket(m, b)} = {_bracket(n, r(-6, 6) or 2)}"
    a, k = r(2, 9), r(-20, 20)  # ax + b = c with a fractional answer
    return f"{_lin(a, k)} = {r(-20, 20)}"
