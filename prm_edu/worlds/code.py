"""The code world: tiny programs, checked line by line by an interpreter
written here. Nothing a model or a learner writes is ever `exec`ed or `eval`ed.

A problem gives whole-number inputs and a formula; a solution is a program,
one line per step::

    Given a = 7, b = 3, c = 2, return (a + b) * c - a

    p = a + b
    q = p * c
    r = q - a
    return r

The language, its whole grammar::

    line   := name "=" expr | "return" expr
    expr   := term (("+" | "-") term)*
    term   := factor ("*" factor)*
    factor := "-" factor | number | name | "(" expr ")"
    name   := a lowercase letter, then lowercase letters or digits
    number := digits

Values are whole numbers; there is no division, no call, no attribute, no
import: anything else is a `ParseError` that says what was not understood.
Inputs are read-only. Lines run as they are read, like a REPL: a line that
cannot be read, or that fails (a name not defined yet, a write to an input,
anything after `return`), changes nothing, and the next line runs on.

**How a line is judged.** The interpreter follows every variable twice: as a
number on the given inputs, and as a polynomial in the inputs, so it can tell
a line that is right for *these* inputs from one that is right for *every*
input. The formula's *parts* are what a program may compute on its way:
any sub-formula, any grouping of the terms of a sum or the factors of a
product (in any order), and their negatives. A line is

- **+1** when it computes a part no variable holds yet (a `return` of the
  whole formula is +1);
- **0** when it is right but adds nothing: a copy of an input or a number, or
  a part some variable already holds;
- **-1** when it fails, or computes something that is not a part: a wrong
  operator or variable, an off-by-one, a value hard-coded from the test
  (right on these inputs, wrong on others), or a value built on an earlier
  wrong line.

The final answer is the number the program returns on the given inputs, and
`grade` compares it with the formula's value: running one unit test. A
program with a hard-coded value passes that test with a wrong line, which an
outcome check cannot see and a process check can. The scripted programmer
(`scripted_sample`) makes the mistakes in `CODE_ERROR_KINDS`; its compensating
error is exactly that, a hard-coded value. Levels: 1 has two operations, 2
three or four, 3 five or six (with numbers, and sometimes a repeated
sub-formula). Defined in notebook 06.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from itertools import combinations
from typing import Sequence

from prm_edu.parsing import DEFAULT_LIMITS, ParseError, normalize
from prm_edu.worlds._common import (
    Move,
    Policy,
    bad,
    good,
    neutral,
    run_scripted,
    unreadable,
)
from prm_edu.worlds.base import ScriptedSample, StepLabel, World

__all__ = [
    "CodeProblem",
    "CodeWorld",
    "Memory",
    "Poly",
    "run_program",
    "CODE_ERROR_KINDS",
    "OFF_BY_ONE",
    "WRONG_OPERATOR",
    "WRONG_VARIABLE",
    "UNDEFINED_NAME",
    "INPUT_OVERWRITTEN",
    "WRONG_RETURN",
]

# The mistakes the scripted programmer makes, named as a code reviewer would.
OFF_BY_ONE = "off by one"
WRONG_OPERATOR = "wrong operator"
WRONG_VARIABLE = "wrong variable"
UNDEFINED_NAME = "undefined name"
INPUT_OVERWRITTEN = "input overwritten"
WRONG_RETURN = "wrong return"
CODE_ERROR_KINDS = (
    OFF_BY_ONE,
    WRONG_OPERATOR,
    WRONG_VARIABLE,
    UNDEFINED_NAME,
    INPUT_OVERWRITTEN,
    WRONG_RETURN,
)

KEYWORD = "return"
MAX_INPUTS = 6
MAX_OPERATIONS = 12  # in a problem's formula
_MAX_TERMS = 64  # of any polynomial a program builds
_MAX_DEGREE = 8
_MAX_BITS = 200  # about 60 decimal digits, for any value
_TEMP_NAMES = "pqrstuvwxyzghjk"


class CodeError(ValueError):
    """A line that reads fine but fails when it runs (or grows too large)."""


# --------------------------------------------------------------------------- #
# Polynomials: what a variable holds, as a function of the inputs
# --------------------------------------------------------------------------- #

Mono = tuple  # sorted input names, repeated for powers: ("a", "a", "b") is a*a*b


def _check_bits(n: int) -> int:
    if n.bit_length() > _MAX_BITS:
        raise CodeError(
            f"a value with more than {_MAX_BITS * 3 // 10} digits: this checker "
            f"refuses numbers that large"
        )
    return n


@dataclass(frozen=True)
class Poly:
    """A polynomial in the inputs with whole coefficients, in canonical form
    (`terms` sorted, no zero coefficients), so equal functions are equal."""

    terms: tuple[tuple[Mono, int], ...] = ()

    @staticmethod
    def number(n: int) -> "Poly":
        return Poly((((), _check_bits(n)),)) if n else Poly()

    @staticmethod
    def variable(name: str) -> "Poly":
        return Poly((((name,), 1),))

    @staticmethod
    def _make(coefs: dict) -> "Poly":
        items = sorted(
            ((m, c) for m, c in coefs.items() if c), key=lambda t: _mono_key(t[0])
        )
        if len(items) > _MAX_TERMS:
            raise CodeError(
                f"a value with more than {_MAX_TERMS} terms: this checker refuses "
                f"formulas that large"
            )
        for _, c in items:
            _check_bits(c)
        return Poly(tuple(items))

    def __add__(self, other: "Poly") -> "Poly":
        coefs = dict(self.terms)
        for m, c in other.terms:
            coefs[m] = coefs.get(m, 0) + c
        return Poly._make(coefs)

    def __neg__(self) -> "Poly":
        return Poly(tuple((m, -c) for m, c in self.terms))

    def __sub__(self, other: "Poly") -> "Poly":
        return self + (-other)

    def __mul__(self, other: "Poly") -> "Poly":
        if len(self.terms) * len(other.terms) > 16 * _MAX_TERMS:
            raise CodeError("a product too large for this checker")
        coefs: dict = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                m = tuple(sorted(m1 + m2))
                if len(m) > _MAX_DEGREE:
                    raise CodeError(
                        f"a product of more than {_MAX_DEGREE} inputs: this "
                        f"checker refuses formulas that large"
                    )
                coefs[m] = coefs.get(m, 0) + c1 * c2
        return Poly._make(coefs)

    @property
    def is_number(self) -> bool:
        return all(not m for m, _ in self.terms)

    @property
    def degree(self) -> int:
        return max((len(m) for m, _ in self.terms), default=0)

    def value(self, inputs: dict[str, int]) -> int:
        total = 0
        for m, c in self.terms:
            for name in m:
                c *= inputs[name]
            total += c
        return total

    def render(self) -> str:
        """The polynomial in the language's own notation: `a * c + b * c - a`."""
        if not self.terms:
            return "0"
        out = []
        for i, (m, c) in enumerate(self.terms):
            factors = list(m)
            mag = abs(c)
            if mag != 1 or not factors:
                factors.insert(0, str(mag))
            text = " * ".join(factors)
            if i == 0:
                out.append(f"-{text}" if c < 0 else text)
            else:
                out.append(f"{'-' if c < 0 else '+'} {text}")
        return " ".join(out)

    def __str__(self) -> str:
        return self.render()


def _mono_key(m: Mono):
    return (-len(m), m)


# --------------------------------------------------------------------------- #
# Reading: tokens, syntax trees, one recursive-descent parser
# --------------------------------------------------------------------------- #

_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|//|[-+*/%()=^])|(?P<bad>\S))"
)
_NAME = re.compile(r"[a-z][a-z0-9]*")
_NOT_HERE = {
    "/": "there is no division in this language: it has +, - and * only",
    "//": "there is no division in this language: it has +, - and * only",
    "%": "there is no % in this language: it has +, - and * only",
    "**": "there is no power operator: write a * a",
    "^": "there is no power operator: write a * a",
}


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos, end = 0, len(text)
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:  # only trailing whitespace is left
            break
        kind = m.lastgroup
        value = m.group(kind)
        start = m.start(kind)
        if kind == "bad":
            raise ParseError(f"unexpected character {value!r}", text, start)
        if kind == "op" and value in _NOT_HERE:
            raise ParseError(_NOT_HERE[value], text, start)
        if kind == "num" and len(value) > DEFAULT_LIMITS.max_digits:
            raise ParseError(
                f"a number with {len(value)} digits; at most "
                f"{DEFAULT_LIMITS.max_digits} are accepted",
                text,
                start,
            )
        if kind == "name" and value.lower() != KEYWORD and not _NAME.fullmatch(value):
            raise ParseError(
                f"{value!r} is not a name in this language: names are lowercase "
                f"letters and digits, starting with a letter (p, t1, total)",
                text,
                start,
            )
        out.append((kind, value, start))
        pos = m.end()
    return out


@dataclass(frozen=True)
class Node:
    """A syntax tree: `kind` is "num", "name", "neg", "+", "-" or "*"."""

    kind: str
    text: str = ""  # the literal, for "num" and "name"
    children: tuple["Node", ...] = ()

    @property
    def is_leaf(self) -> bool:
        return self.kind in ("num", "name")

    def names(self) -> list[str]:
        if self.kind == "name":
            return [self.text]
        return [n for child in self.children for n in child.names()]

    def operations(self) -> int:
        own = self.kind in ("+", "-", "*")
        return own + sum(c.operations() for c in self.children)

    def render(self) -> str:
        """Canonical text with as few brackets as the tree needs."""
        if self.is_leaf:
            return self.text
        if self.kind == "neg":
            (child,) = self.children
            inner = child.render()
            return f"-{inner}" if _prec(child) >= 3 else f"-({inner})"
        left, right = self.children
        p = _prec(self)
        lt = left.render() if _prec(left) >= p else f"({left.render()})"
        # Brackets on the right at equal precedence keep the tree's shape.
        rt = right.render() if _prec(right) > p else f"({right.render()})"
        return f"{lt} {self.kind} {rt}"

    def replace(self, old: str, new: str) -> "Node":
        """The same tree with the name `old` written as `new` (first one only)."""
        done = [False]

        def walk(node: Node) -> Node:
            if done[0]:
                return node
            if node.kind == "name" and node.text == old:
                done[0] = True
                return Node("name", new)
            if node.is_leaf:
                return node
            return Node(node.kind, node.text, tuple(walk(c) for c in node.children))

        return walk(self)


def _prec(node: Node) -> int:
    if node.is_leaf:
        return 4
    return {"neg": 3, "*": 2, "+": 1, "-": 1}[node.kind]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def error(self, reason: str, tok=None) -> ParseError:
        tok = tok if tok is not None else self.peek()
        pos = tok[2] if tok is not None else len(self.text)
        return ParseError(reason, self.text, pos)

    def is_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "op" and tok[1] in ops

    def enter(self) -> None:
        self.depth += 1
        if self.depth > DEFAULT_LIMITS.max_depth:
            raise self.error(
                f"brackets or signs nested more than {DEFAULT_LIMITS.max_depth} deep"
            )

    def line(self) -> tuple[str, Node]:
        """(target, expression): target is a name, or "return"."""
        tok = self.peek()
        if tok is None:
            raise self.error("the line is empty: write `name = ...` or `return ...`")
        if tok[0] == "name" and tok[1].lower() == KEYWORD:
            self.i += 1
            if self.peek() is None:
                raise self.error("`return` needs a value: `return r`")
            target = KEYWORD
        elif tok[0] == "name":
            self.i += 1
            if self.is_op("("):
                raise self.error(
                    f"{tok[1]!r}(...) is a call, and this language has no calls"
                )
            if not self.is_op("="):
                nxt = self.peek()
                what = "the line ends" if nxt is None else f"got {nxt[1]!r}"
                raise self.error(
                    f"expected '=' after {tok[1]!r} ({what}): a line is "
                    f"`name = ...` or `return ...`",
                    nxt,
                )
            self.i += 1
            target = tok[1]
        else:
            raise self.error(
                f"a line starts with a name or `return`, not {tok[1]!r}", tok
            )
        expr = self.expr()
        self.finish()
        return target, expr

    def finish(self) -> None:
        tok = self.peek()
        if tok is not None:
            if tok[1] == "=":
                raise self.error("one '=' per line: `name = ...`", tok)
            if tok[1] == ")":
                raise self.error("a ')' without its '('", tok)
            raise self.error(f"unexpected {tok[1]!r}", tok)

    def expr(self) -> Node:
        node = self.term()
        while self.is_op("+", "-"):
            op = self.peek()[1]
            self.i += 1
            node = Node(op, children=(node, self.term()))
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.is_op("*"):
            self.i += 1
            node = Node("*", children=(node, self.factor()))
        return node

    def factor(self) -> Node:
        # Signs are read in a loop (not by recursion) and count towards the
        # depth bound, so "- - - ... 5" cannot exhaust the stack.
        signs = 0
        while self.is_op("-", "+"):
            signs += self.peek()[1] == "-"
            self.enter()
            self.i += 1
        node = self.atom()
        for _ in range(signs):
            node = Node("neg", children=(node,))
        return node

    def atom(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("the line ends too early")
        kind, text, _ = tok
        if kind == "num":
            self.i += 1
            return Node("num", str(int(text)))
        if kind == "name":
            if text.lower() == KEYWORD:
                raise self.error("`return` starts a line; it is not a value", tok)
            self.i += 1
            if self.is_op("("):
                raise self.error(
                    f"{text!r}(...) is a call, and this language has no calls", tok
                )
            return Node("name", text)
        if text == "(":
            self.i += 1
            self.enter()
            inner = self.expr()
            self.depth -= 1
            if not self.is_op(")"):
                raise self.error("a '(' is never closed", tok)
            self.i += 1
            return inner
        if text == ")":
            raise self.error("a ')' without its '('", tok)
        raise self.error(f"expected a number, a name or '(' but got {text!r}", tok)


def _clean(text: str) -> str:
    text = normalize(text, DEFAULT_LIMITS).strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def parse_line(text: str) -> tuple[str, Node]:
    """A program line as (target, syntax tree); target is a name or "return".

    Raises `ParseError` for anything outside the grammar (see module doc).
    """
    return _Parser(_clean(text)).line()


def parse_formula(text: str) -> Node:
    """An expression of the language, e.g. `(a + b) * c - a`."""
    parser = _Parser(_clean(text))
    if not parser.toks:
        raise ParseError("the formula is empty", text)
    node = parser.expr()
    parser.finish()
    return node


# --------------------------------------------------------------------------- #
# Running: memory, evaluation, the judge of one line
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Memory:
    """What a program has done so far: each variable's polynomial and value
    (sorted by name), the lines that ran, and what it returned (if it has)."""

    variables: tuple[tuple[str, Poly, int], ...] = ()
    returned: tuple[Poly, int] | None = None
    lines: int = 0  # lines read so far

    def get(self, name: str) -> tuple[Poly, int] | None:
        for n, p, v in self.variables:
            if n == name:
                return p, v
        return None

    def names(self) -> list[str]:
        return [n for n, _, _ in self.variables]

    def assign(self, name: str, poly: Poly, value: int) -> "Memory":
        rest = [(n, p, v) for n, p, v in self.variables if n != name]
        out = tuple(sorted([*rest, (name, poly, value)]))
        return Memory(out, self.returned, self.lines)


def _evaluate(node: Node, inputs: dict[str, int], memory: Memory) -> tuple[Poly, int]:
    k = node.kind
    if k == "num":
        n = int(node.text)
        return Poly.number(n), n
    if k == "name":
        if node.text in inputs:
            return Poly.variable(node.text), inputs[node.text]
        held = memory.get(node.text)
        if held is None:
            raise CodeError(f"{node.text} is not defined: no line has assigned it yet")
        return held
    if k == "neg":
        p, v = _evaluate(node.children[0], inputs, memory)
        return -p, -v
    (lp, lv), (rp, rv) = (_evaluate(c, inputs, memory) for c in node.children)
    if k == "+":
        return lp + rp, _check_bits(lv + rv)
    if k == "-":
        return lp - rp, _check_bits(lv - rv)
    return lp * rp, _check_bits(lv * rv)


def run_program(problem: "CodeProblem", steps: Sequence[str]) -> Memory:
    """Run the lines REPL-style (failed lines change nothing); the memory."""
    memory = Memory()
    for text in steps:
        memory = _judge(problem, memory, text)[1]
    return memory


def _judge(
    problem: "CodeProblem", memory: Memory, text: str
) -> tuple[StepLabel, Memory]:
    """The label of one line run on `memory`, and the memory after it."""
    after = Memory(memory.variables, memory.returned, memory.lines + 1)
    try:
        target, expr = parse_line(text)
    except ParseError as err:
        return unreadable(err), after
    if memory.returned is not None:
        return bad("this line never runs: the program has already returned"), after
    if target in problem.inputs_map:
        return (
            bad(
                f"{target} is an input, and inputs are read-only: assign the "
                f"result to a new name"
            ),
            after,
        )
    try:
        poly, value = _evaluate(expr, problem.inputs_map, memory)
    except CodeError as err:
        return bad(f"this line fails: {err}"), after
    shown = expr.render()
    if target == KEYWORD:
        after = Memory(after.variables, (poly, value), after.lines)
        return _judge_return(problem, memory, expr, poly, value), after
    after = after.assign(target, poly, value)
    return _judge_assign(problem, memory, target, shown, expr, poly, value), after


def _suspects(problem: "CodeProblem", memory: Memory, expr: Node) -> list[str]:
    """Variables the line reads that hold something the formula has no use for."""
    out = []
    for name in dict.fromkeys(expr.names()):
        held = memory.get(name)
        if name not in problem.inputs_map and held is not None:
            if held[0] not in problem.parts and held[0] not in problem.leaves:
                out.append(name)
    return out


def _judge_assign(problem, memory, target, shown, expr, poly, value) -> StepLabel:
    formula = problem.formula
    if poly in problem.parts:
        holders = [n for n, p, _ in memory.variables if p == poly]
        what = "the whole formula" if poly == problem.target else problem.shown[poly]
        if holders:
            return neutral(
                f"correct, but no progress: {holders[0]} already holds {what}"
            )
        if poly == problem.target:
            return good(f"correct: {target} = {value}, the whole formula")
        return good(f"correct: {target} = {what} = {value}, a part of {formula}")
    if poly in problem.leaves:
        return neutral(
            f"correct, but no progress: {target} is only a copy of {poly.render()}"
        )
    return bad(_why_not(problem, memory, expr, poly, value, f"{target} = {shown}"))


def _why_not(problem, memory, expr, poly, value, line: str) -> str:
    """Why a line that computes `poly` is wrong, for a learner."""
    suspects = _suspects(problem, memory, expr)
    if suspects:
        names = " and ".join(suspects)
        verb = "hold" if len(suspects) > 1 else "holds"
        return (
            f"{line} runs, but {names} {verb} a wrong value from an earlier "
            f"line: the error carries forward"
        )
    twin = problem.values.get(value)
    if twin is not None and poly.is_number:
        return (
            f"{line} hard-codes {value}, the value of {twin} on this "
            f"test: for other inputs it would be wrong"
        )
    if twin is not None:
        return (
            f"{line} computes {poly.render()}: equal to {twin} on this "
            f"test ({value}), but not for other inputs"
        )
    return (
        f"{line} computes {poly.render()} = {value}, which {problem.formula} "
        f"never needs"
    )


def _judge_return(problem, memory, expr, poly, value) -> StepLabel:
    want = problem.value
    if poly == problem.target:
        return good(f"correct: returns {problem.formula} = {want}")
    line = f"return {expr.render()}"
    if value == want:
        if poly.is_number:
            return bad(
                f"{line} hard-codes the answer {want}: it passes this test, but "
                f"for other inputs it would be wrong"
            )
        return bad(
            f"{line} gives {want} on this test, but computes {poly.render()}, "
            f"not {problem.formula}: for other inputs it would be wrong"
        )
    suspects = _suspects(problem, memory, expr)
    why = f"{line} returns {value}, but the formula gives {want}"
    if suspects:
        names = " and ".join(suspects)
        return bad(f"{why}: {names} went wrong on an earlier line")
    return bad(why)


# --------------------------------------------------------------------------- #
# Problems: the formula, its parts, and the reference program
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class CodeProblem:
    """`Given a = 7, b = 3, return (a + b) * 2`: inputs, formula and answer."""

    text: str
    level: int
    inputs: tuple[tuple[str, int], ...]
    formula: str  # canonical text of the formula
    value: int  # the formula on the inputs: the answer
    tree: Node = field(compare=False, repr=False)
    target: Poly = field(compare=False, repr=False)
    parts: frozenset = field(compare=False, repr=False)
    leaves: frozenset = field(compare=False, repr=False)
    values: dict = field(compare=False, repr=False)  # value -> a part with it
    shown: dict = field(compare=False, repr=False)  # part -> how it is written
    program: tuple = field(compare=False, repr=False)  # the reference lines

    @property
    def inputs_map(self) -> dict[str, int]:
        return dict(self.inputs)


def _poly(node: Node, memo: dict | None = None) -> Poly:
    """The polynomial a formula's (sub)tree computes; `memo` caches by node."""
    if memo is not None and id(node) in memo:
        return memo[id(node)]
    if node.kind == "num":
        out = Poly.number(int(node.text))
    elif node.kind == "name":
        out = Poly.variable(node.text)
    elif node.kind == "neg":
        out = -_poly(node.children[0], memo)
    else:
        left, right = (_poly(c, memo) for c in node.children)
        if node.kind == "+":
            out = left + right
        elif node.kind == "-":
            out = left - right
        else:
            out = left * right
    if memo is not None:
        memo[id(node)] = out
    return out


def _sum_terms(node: Node, sign: int) -> list[tuple[int, Node]]:
    if node.kind == "+":
        return _sum_terms(node.children[0], sign) + _sum_terms(node.children[1], sign)
    if node.kind == "-":
        return _sum_terms(node.children[0], sign) + _sum_terms(node.children[1], -sign)
    if node.kind == "neg":
        return _sum_terms(node.children[0], -sign)
    return [(sign, node)]


def _factors(node: Node) -> list[Node]:
    if node.kind == "*":
        return _factors(node.children[0]) + _factors(node.children[1])
    return [node]


def _groups(n: int):
    """Index groups of a chain of n items: every subset of 2 or more for short
    chains, and every run of neighbours for long ones."""
    if n <= 6:
        for k in range(2, n + 1):
            yield from combinations(range(n), k)
    else:
        for i in range(n):
            for j in range(i + 2, n + 1):
                yield tuple(range(i, j))


def _written(texts: list[str]) -> str:
    """`["- b", "+ c"]` -> `"-b + c"`: items with their operators, as a chain."""
    op, _, head = texts[0].partition(" ")
    return " ".join([f"-{head}" if op == "-" else head, *texts[1:]])


def _flipped(texts: list[str]) -> list[str]:
    return [("+ " if t[0] == "-" else "- ") + t[2:] for t in texts]


def _chain_parts(out: dict, polys: list, texts: list, combine) -> None:
    """Add every group of a chain (see `_groups`): its polynomial and text,
    and for a sum also its negative (`b + c` for the terms `-b - c`).

    `texts[i]` is item i written with its operator (`"+ b"`, `"- c"`, `"* c"`);
    groups are built by adding one item to a smaller group, so each costs one
    `combine`.
    """
    made: dict[tuple, Poly] = {(i,): polys[i] for i in range(len(polys))}
    for group in _groups(len(polys)):
        total = made[group] = combine(made[group[:-1]], polys[group[-1]])
        items = [texts[i] for i in group]
        out.setdefault(total, _written(items))
        if items[0][0] != "*":
            out.setdefault(-total, _written(_flipped(items)))


def _collect_parts(node: Node, out: dict, memo: dict) -> None:
    """Every part of the formula under `node`: polynomial -> how it is written."""
    if node.is_leaf:
        return
    out.setdefault(_poly(node, memo), node.render())
    if node.kind in ("+", "-", "neg"):
        terms = _sum_terms(node, 1)
        if len(terms) == 1:  # a negated product or leaf
            _collect_parts(terms[0][1], out, memo)
            return
        polys = [_poly(n, memo) if sg > 0 else -_poly(n, memo) for sg, n in terms]
        texts = [f"{'+-'[sg < 0]} {n.render()}" for sg, n in terms]
        _chain_parts(out, polys, texts, Poly.__add__)
        for _, n in terms:
            _collect_parts(n, out, memo)
        return
    factors = _factors(node)
    polys = [_poly(n, memo) for n in factors]
    texts = [f"* {_bracketed(n, 2)}" for n in factors]
    _chain_parts(out, polys, texts, Poly.__mul__)
    for n in factors:
        _collect_parts(n, out, memo)


def _bracketed(node: Node, prec: int) -> str:
    return node.render() if _prec(node) >= prec else f"({node.render()})"


def _leaves(node: Node) -> set:
    if node.is_leaf:
        return {_poly(node)}
    return set().union(*(_leaves(c) for c in node.children))


@dataclass(frozen=True)
class _Line:
    name: str  # "return" for the last line
    text: str
    poly: Poly
    needs: tuple[str, ...]  # the earlier lines' names it reads


def _reference(tree: Node, inputs: dict, memo: dict) -> tuple[_Line, ...]:
    """The reference program: one operation per line, each sub-formula once."""
    names = iter(n for n in _TEMP_NAMES if n not in inputs)
    lines: list[_Line] = []
    made: dict[Poly, str] = {}

    def operand(node: Node, right: bool) -> tuple[str, tuple[str, ...]]:
        if node.is_leaf:
            return node.text, ()
        if node.kind == "neg" and node.children[0].is_leaf:
            text = f"-{node.children[0].text}"
            return (f"({text})" if right else text), ()
        name = line_for(node)
        return name, (name,)

    def line_for(node: Node) -> str:
        poly = _poly(node, memo)
        if poly in made:
            return made[poly]
        if node.kind == "neg":
            inner, needs = operand(node.children[0], False)
            text = f"-{inner}"
        else:
            (lt, ln), (rt, rn) = (
                operand(node.children[0], False),
                operand(node.children[1], True),
            )
            text, needs = f"{lt} {node.kind} {rt}", ln + rn
        if poly in made:  # a sub-formula that cancels down to an earlier one
            return made[poly]
        name = next(names)
        made[poly] = name
        lines.append(_Line(name, f"{name} = {text}", poly, needs))
        return name

    last = line_for(tree)
    lines.append(_Line(KEYWORD, f"return {last}", _poly(tree, memo), (last,)))
    return tuple(lines)


_PROBLEM = re.compile(
    r"given\s+(?P<inputs>.*?)\s*,?\s+return\s+(?P<formula>.+)", re.IGNORECASE
)
_INPUT = re.compile(r"\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>-?[0-9]+)\s*")
_EXAMPLE = "'Given a = 7, b = 3, return (a + b) * 2'"


def _level(n_lines: int) -> int:
    return 1 if n_lines <= 2 else (2 if n_lines <= 4 else 3)


# --------------------------------------------------------------------------- #
# The scripted programmer
# --------------------------------------------------------------------------- #


def _move(problem: CodeProblem, memory: Memory, text: str) -> Move[Memory]:
    return Move(text, _judge(problem, memory, text)[1])


class _CodePolicy(Policy):
    def start(self, problem):
        return Memory()

    def correct(self, problem, state: Memory, rng):
        if state.returned is not None:
            return None
        plan = problem.program
        done = set(state.names())
        ready = [
            line
            for line in plan[:-1]
            if line.name not in done and all(n in done for n in line.needs)
        ]
        if ready:
            return _move(problem, state, rng.choice(ready).text)
        if all(line.name in done for line in plan[:-1]):
            return _move(problem, state, plan[-1].text)
        return None  # stuck: a line it needs can never be written

    def is_wrong(self, problem, state: Memory, true_state: Memory) -> bool:
        for name, poly, _ in state.variables:
            held = true_state.get(name)
            if held is None or held[0] != poly:
                return True
        return state.returned is not None and state.returned != true_state.returned

    def compensate(self, problem, state, true_move, rng):
        # Type in the value the right line would compute: right on this test.
        target, _ = parse_line(true_move.text)
        if target == KEYWORD:
            value = true_move.state.returned[1]
            text = f"return {value}"
        else:
            value = true_move.state.get(target)[1]
            text = f"{target} = {value}"
        label = _judge(problem, state, text)[0]
        return _move(problem, state, text) if label.value < 0 else None

    def errors(self, problem, state: Memory, move: Move, rng):
        target, expr = parse_line(move.text)
        inputs = problem.inputs_map
        defined = list(inputs) + state.names()
        plan = problem.program

        def write(t: str, e: Node) -> Move:
            head = f"{KEYWORD} " if t == KEYWORD else f"{t} = "
            return _move(problem, state, head + e.render())

        def off_by_one():
            delta = rng.choice((1, -1))
            nums = [n for n in _walk(expr) if n.kind == "num"]
            if nums and rng.random() < 0.5:
                old = nums[0]
                new = Node("num", str(max(0, int(old.text) + delta)))
                return write(target, _swap_node(expr, old, new))
            op = "+" if delta > 0 else "-"
            return write(target, Node(op, children=(expr, Node("num", "1"))))

        def wrong_operator():
            if expr.kind not in ("+", "-", "*"):
                return None
            op = rng.choice([o for o in "+-*" if o != expr.kind])
            return write(target, Node(op, children=expr.children))

        def wrong_variable():
            used = list(dict.fromkeys(expr.names()))
            if not used:
                return None
            old = rng.choice(used)
            others = [n for n in defined if n != old and n not in used]
            if not others:
                return None
            return write(target, expr.replace(old, rng.choice(others)))

        def undefined():
            used = list(dict.fromkeys(expr.names()))
            if not used:
                return None
            later = [ln.name for ln in plan[:-1] if ln.name not in defined]
            free = [n for n in _TEMP_NAMES if n not in defined and n not in inputs]
            new = rng.choice(later or free[:1])
            return write(target, expr.replace(rng.choice(used), new))

        def overwrite():
            if target == KEYWORD:
                return None
            used = [n for n in dict.fromkeys(expr.names()) if n in inputs]
            if not used:
                return None
            return write(rng.choice(used), expr)

        def wrong_return():
            if target != KEYWORD:
                return None
            others = [n for n in state.names() if n not in expr.names()]
            if not others:
                return None
            return write(KEYWORD, Node("name", rng.choice(others)))

        def mistake(maker):
            # Only a line the checker calls wrong counts as an injected error.
            def make():
                out = maker()
                if out is None or _judge(problem, state, out.text)[0].value >= 0:
                    return None
                return out

            return make

        return {
            OFF_BY_ONE: mistake(off_by_one),
            WRONG_OPERATOR: mistake(wrong_operator),
            WRONG_VARIABLE: mistake(wrong_variable),
            UNDEFINED_NAME: mistake(undefined),
            INPUT_OVERWRITTEN: mistake(overwrite),
            WRONG_RETURN: mistake(wrong_return),
        }


def _walk(node: Node):
    yield node
    for c in node.children:
        yield from _walk(c)


def _swap_node(node: Node, old: Node, new: Node) -> Node:
    if node is old:
        return new
    if node.is_leaf:
        return node
    children = tuple(_swap_node(c, old, new) for c in node.children)
    return Node(node.kind, node.text, children)


# --------------------------------------------------------------------------- #
# The world
# --------------------------------------------------------------------------- #


class CodeWorld(World):
    """Tiny programs checked by an interpreter (see module doc)."""

    name = "code"
    levels = (1, 2, 3)
    default_level = 2

    # -- problems ------------------------------------------------------------ #
    def __init__(self) -> None:
        self._parsed: dict[str, CodeProblem] = {}  # searches parse the same text

    def parse_problem(self, text: str) -> CodeProblem:
        """A problem from `"Given a = 7, b = 3, return (a + b) * 2"`."""
        hit = self._parsed.get(text) if isinstance(text, str) else None
        if hit is None:
            hit = self._parse(text)
            if len(self._parsed) >= 4096:
                self._parsed.clear()
            self._parsed[text] = hit
        return hit

    def _parse(self, text: str) -> CodeProblem:
        body = _clean(text)
        m = _PROBLEM.fullmatch(body)
        if m is None:
            raise ParseError(f"write a problem like {_EXAMPLE}", text)
        inputs: dict[str, int] = {}
        for item in m.group("inputs").split(","):
            im = _INPUT.fullmatch(item)
            if im is None:
                raise ParseError(
                    f"could not read the input {item.strip()!r}: write inputs "
                    f"like 'a = 7, b = 3'",
                    text,
                )
            name, value = im.group("name"), int(im.group("value"))
            if not _NAME.fullmatch(name) or name == KEYWORD:
                raise ParseError(
                    f"{name!r} is not a name in this language: use lowercase "
                    f"letters and digits",
                    text,
                )
            if name in inputs:
                raise ParseError(f"the input {name} is given twice", text)
            if abs(value) > 10**6:
                raise ParseError(f"the input {name} = {value} is too large", text)
            inputs[name] = value
        if len(inputs) > MAX_INPUTS:
            raise ParseError(
                f"{len(inputs)} inputs; at most {MAX_INPUTS} are accepted", text
            )
        tree = parse_formula(m.group("formula"))
        unknown = [n for n in tree.names() if n not in inputs]
        if unknown:
            raise ParseError(
                f"the formula uses {unknown[0]!r}, which is not an input", text
            )
        n_ops = tree.operations()
        if n_ops == 0:
            raise ParseError(
                "the formula has no operation: there is nothing to compute", text
            )
        if n_ops > MAX_OPERATIONS:
            raise ParseError(
                f"the formula has {n_ops} operations; at most {MAX_OPERATIONS} "
                f"are accepted",
                text,
            )
        try:
            memo: dict = {}
            target = _poly(tree, memo)
            shown_parts: dict[Poly, str] = {}
            _collect_parts(tree, shown_parts, memo)
        except CodeError as err:
            raise ParseError(str(err), text) from None
        for p, t in list(shown_parts.items()):
            shown_parts.setdefault(-p, f"-({t})")
        parts = set(shown_parts)
        leaves = frozenset(_leaves(tree) - parts)
        formula = tree.render()
        values: dict[int, Poly] = {}
        for p in sorted(parts, key=lambda p: (p.degree, len(p.terms), p.render())):
            if not p.is_number:
                values.setdefault(p.value(inputs), shown_parts[p])
        shown = ", ".join(f"{k} = {v}" for k, v in inputs.items())
        program = _reference(tree, inputs, memo)
        return CodeProblem(
            text=f"Given {shown}, return {formula}",
            level=_level(len(program) - 1),
            inputs=tuple(inputs.items()),
            formula=formula,
            value=target.value(inputs),
            tree=tree,
            target=target,
            parts=frozenset(parts),
            leaves=leaves,
            values=values,
            shown=shown_parts,
            program=program,
        )

    def _sample_one(self, rng: random.Random, level: int) -> CodeProblem:
        while True:
            problem = self._parse(_draw(rng, level))
            if problem.level == level and _tidy(problem):
                return problem

    # -- solving and checking ----------------------------------------------- #
    def solve(self, problem: CodeProblem) -> list[str]:
        return [line.text for line in problem.program]

    def check(self, problem: CodeProblem, steps: Sequence[str]) -> list[StepLabel]:
        memory = Memory()
        labels = []
        for text in steps:
            label, memory = _judge(problem, memory, text)
            labels.append(label)
        return labels

    def extract_answer(self, problem: CodeProblem, steps: Sequence[str]) -> str | None:
        """The number the program returns on the problem's inputs, or None."""
        returned = run_program(problem, steps).returned
        return None if returned is None else str(returned[1])

    def answer(self, problem: CodeProblem) -> str:
        return str(problem.value)

    def _scripted_policy(self) -> Policy:
        return _CodePolicy()

    def _written_state(self, problem: CodeProblem, steps: Sequence[str]) -> Memory:
        return run_program(problem, steps)

    def scripted_sample(
        self,
        problem: CodeProblem,
        rng: random.Random,
        error_rate: float,
        *,
        compensate_rate: float = 0.25,
    ) -> ScriptedSample:
        sample = run_scripted(_CodePolicy(), problem, rng, error_rate, compensate_rate)
        return sample


# --------------------------------------------------------------------------- #
# Drawing problems
# --------------------------------------------------------------------------- #

_SHAPES = {1: (2, 2), 2: (3, 4), 3: (5, 6)}
_INPUT_NAMES = "abcd"


def _tree(rng: random.Random, ops: int, leaves: list[Node], numbers: bool) -> Node:
    if ops == 0:
        if numbers and rng.random() < 0.2:
            return Node("num", str(rng.randint(2, 9)))
        return rng.choice(leaves)
    left = rng.randint(0, ops - 1)
    op = rng.choices("+-*", weights=(4, 3, 3))[0]
    return Node(
        op,
        children=(
            _tree(rng, left, leaves, numbers),
            _tree(rng, ops - 1 - left, leaves, numbers),
        ),
    )


def _draw(rng: random.Random, level: int) -> str:
    """Statement text of one candidate problem at `level` (may be re-drawn)."""
    lo, hi = _SHAPES[level]
    ops = rng.randint(lo, hi)
    n_inputs = {1: rng.choice((2, 2, 3)), 2: 3, 3: rng.choice((3, 4))}[level]
    names = list(_INPUT_NAMES[:n_inputs])
    leaves = [Node("name", n) for n in names]
    repeat = level == 3 and rng.random() < 0.3
    while True:
        if repeat:
            # A repeated sub-formula: the program can compute it once.
            inner = _tree(rng, 1, leaves, False)
            rest = _tree(rng, ops - 3, leaves, True)
            op = rng.choice("+-*")
            pair = (Node("*", children=(inner, inner)), rest)
            if op != "-" and rng.random() < 0.5:
                pair = pair[::-1]
            tree = Node(op, children=pair)
        else:
            tree = _tree(rng, ops, leaves, level > 1)
        if set(tree.names()) == set(names):  # every input used
            break
    top = 9 if level == 1 else 12
    shown = ", ".join(f"{n} = {rng.randint(1, top)}" for n in names)
    return f"Given {shown}, return {tree.render()}"


def _tidy(problem: CodeProblem) -> bool:
    """Whether a drawn problem reads well: every input used, no sub-formula
    that is zero, a plain number, or a copy of an input."""
    if set(problem.tree.names()) != set(problem.inputs_map):
        return False
    leaves = _leaves(problem.tree)
    for line in problem.program[:-1]:
        if line.poly.is_number or line.poly in leaves or -line.poly in leaves:
            return False
    # Sub-formulas that differ in writing must differ in value (no a - a).
    memo: dict = {}
    subtrees = {
        n.render(): _poly(n, memo) for n in _walk(problem.tree) if not n.is_leaf
    }
    if len(set(subtrees.values())) != len(subtrees):
        return False
    return abs(problem.value) <= 5000
