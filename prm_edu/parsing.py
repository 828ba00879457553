"""Safe parsing of step text into exact numbers: one explicit grammar, no `eval`.

Every world reads steps written by a model or a learner. That text is never
handed to `eval`, `exec`, `sympify` or `parse_expr`: a small recursive-descent
parser turns it into exact `fractions.Fraction` values and linear forms
`a*x + b`, and refuses everything else with a `ParseError` that says what was
wrong and where. Defined in notebook 02 (why a checker must be safe).

The grammar (after `normalize`)::

    equation := expr "=" expr
    expr     := term (("+" | "-") term)*
    term     := sign* power (("*" | "/") sign* power | power)*
    power    := atom [("^" | "**") sign* power]      (numbers only, right-assoc.)
    atom     := number | unknown | "(" expr ")"
    number   := digits ["." digits]
    sign     := "+" | "-"

A sign covers the whole product (`-2x` is `-(2x)`). Writing two factors side
by side multiplies them (`2x`, `3(x + 1)`), with the same precedence as `*`
and `/`, left to right, so `1/2x` is `(1/2)x`. Only linear results are
accepted: `x * x` or `1/x` are refused.

Bounds (see `Limits`): text length, bracket/sign nesting, digits per number,
digits of any intermediate value, and the size of exponents. `9**9**9`, ten
thousand brackets or a megabyte of text all end in a `ParseError` in
microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

__all__ = [
    "ParseError",
    "Limits",
    "DEFAULT_LIMITS",
    "LOOKALIKES",
    "normalize",
    "check_length",
    "Linear",
    "Expr",
    "Equation",
    "parse_expression",
    "parse_equation",
    "parse_number",
    "format_number",
]


class ParseError(ValueError):
    """Text that is not in the grammar, or outside its bounds.

    `reason` says what was wrong, `position` where (0-based, or None), and
    `text` is the (possibly shortened) text that was parsed.
    """

    def __init__(self, reason: str, text: str = "", position: int | None = None):
        self.reason = reason
        self.position = position
        self.text = _shorten(text)
        where = "" if position is None else f" at position {position}"
        shown = f" in {self.text!r}" if text else ""
        super().__init__(f"{reason}{where}{shown}")


@dataclass(frozen=True)
class Limits:
    """How much the parser accepts before it refuses (all counts inclusive)."""

    max_length: int = 2000  # characters of one text
    max_depth: int = 40  # nested brackets plus stacked signs
    max_digits: int = 30  # digits in one written number
    max_value_digits: int = 120  # digits of any numerator/denominator computed
    max_exponent: int = 16  # |n| in a ** n


DEFAULT_LIMITS = Limits()

# Unicode look-alikes a learner (or a model) may type, mapped to the grammar's
# ASCII. Anything else outside ASCII is refused with its code point named.
LOOKALIKES: dict[str, str] = {
    "\u2212": "-",  # − minus sign
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash
    "\u2010": "-",  # ‐ hyphen
    "\u2011": "-",  # ‑ non-breaking hyphen
    "\ufe63": "-",  # ﹣ small hyphen-minus
    "\uff0d": "-",  # － fullwidth hyphen-minus
    "\u00d7": "*",  # × multiplication sign
    "\u22c5": "*",  # ⋅ dot operator
    "\u00b7": "*",  # · middle dot
    "\u2217": "*",  # ∗ asterisk operator
    "\u2715": "*",  # ✕ multiplication x
    "\uff0a": "*",  # ＊ fullwidth asterisk
    "\u00f7": "/",  # ÷ division sign
    "\u2215": "/",  # ∕ division slash
    "\u2044": "/",  # ⁄ fraction slash
    "\uff0f": "/",  # ／ fullwidth solidus
    "\uff0b": "+",  # ＋ fullwidth plus
    "\uff1d": "=",  # ＝ fullwidth equals
    "\uff08": "(",  # （ fullwidth bracket
    "\uff09": ")",  # ） fullwidth bracket
    "\uff1a": ":",  # ： fullwidth colon
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u3000": " ",  # ideographic space
    "\t": " ",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
}
_LOOKALIKE_TABLE = str.maketrans(LOOKALIKES)
_PRINTABLE_ASCII = re.compile(r"[ -~]*")


def _shorten(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def check_length(text: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse text that is not a string or is longer than `limits.max_length`."""
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > limits.max_length:
        raise ParseError(
            f"the text is {len(text):,} characters long; at most "
            f"{limits.max_length:,} are accepted: write one step per line",
            text,
        )


def normalize(text: str, limits: Limits = DEFAULT_LIMITS) -> str:
    """`text` with look-alike characters mapped to ASCII (see `LOOKALIKES`).

    Raises `ParseError` for text that is too long or for any other character
    outside printable ASCII, naming it and its position.
    """
    check_length(text, limits)
    out = text.translate(_LOOKALIKE_TABLE)
    if _PRINTABLE_ASCII.fullmatch(out) is None:
        for i, ch in enumerate(out):
            if not (" " <= ch <= "~"):
                hint = ""
                if ch in "\u00b2\u00b3\u00b9" or "\u2070" <= ch <= "\u209f":
                    hint = ": write powers as ^ (e.g. 2^3)"
                elif ch.isdigit():
                    hint = ": write digits as 0-9"
                raise ParseError(
                    f"unexpected character {ch!r} (U+{ord(ch):04X}){hint}", text, i
                )
    return out


def format_number(value: Fraction | int) -> str:
    """Canonical text of an exact number: `5`, `-3`, `3/2`, `-3/2`."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


# --------------------------------------------------------------------------- #
# Linear forms a*x + b with exact coefficients
# --------------------------------------------------------------------------- #


Rational = Union[int, Fraction]  # exact: whole numbers stay ints, for speed


def _div(a: Rational, b: Rational) -> Rational:
    """a / b exactly (never a float): an int when it divides evenly."""
    if type(a) is int and type(b) is int:
        q, r = divmod(a, b)
        return q if r == 0 else Fraction(a, b)
    return Fraction(a) / b


@dataclass(frozen=True)
class Linear:
    """The linear form `coef * x + const`, with exact rational coefficients
    (`int` or `Fraction`; never a float)."""

    coef: Rational = 0
    const: Rational = 0

    @property
    def is_constant(self) -> bool:
        return self.coef == 0

    def __add__(self, other: "Linear") -> "Linear":
        return Linear(self.coef + other.coef, self.const + other.const)

    def __sub__(self, other: "Linear") -> "Linear":
        return Linear(self.coef - other.coef, self.const - other.const)

    def __neg__(self) -> "Linear":
        return Linear(-self.coef, -self.const)

    def scale(self, k: Rational) -> "Linear":
        return Linear(self.coef * k, self.const * k)

    def divide(self, k: Rational) -> "Linear":
        """This form divided by the non-zero number `k`, exactly."""
        return Linear(_div(self.coef, k), _div(self.const, k))

    def render(self, variable: str = "x") -> str:
        """Canonical text: `2x + 5`, `-x - 3/2`, `(1/2)x`, `7`, `0`."""
        a, b = self.coef, self.const
        if a == 0:
            return format_number(b)
        sign = "-" if a < 0 else ""
        mag = abs(a)
        if mag == 1:
            head = f"{sign}{variable}"
        elif mag.denominator == 1:
            head = f"{sign}{mag.numerator}{variable}"
        else:
            head = f"{sign}({format_number(mag)}){variable}"
        if b == 0:
            return head
        return f"{head} {'-' if b < 0 else '+'} {format_number(abs(b))}"

    def __str__(self) -> str:
        return self.render()


# --------------------------------------------------------------------------- #
# Syntax trees: what was written, with its exact value
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Expr:
    """A parsed expression: its node kind, children, exact value and size.

    `kind` is one of "num", "var", "neg", "sum", "product", "power", "group".
    `parts` holds (operator, child) pairs for "sum"/"product" (the first
    operator is ""), the child for "neg"/"group", (base, exponent) for "power".
    `size` counts nodes, brackets counting extra, so a rewrite that removes
    brackets or terms makes it smaller.
    """

    kind: str
    value: Linear = field(compare=False)
    text: str = ""  # the literal, for "num" and "var"
    parts: tuple = ()
    size: int = field(default=1, compare=False)

    def render(self) -> str:
        """Canonical text of what was written (spacing normalised)."""
        k = self.kind
        if k in ("num", "var"):
            return self.text
        if k == "group":
            return f"({self.parts[0].render()})"
        if k == "neg":
            return f"-{self.parts[0].render()}"
        if k == "power":
            base, exp = self.parts
            return f"{base.render()}^{exp.render()}"
        # Canonical spacing: "2x + 5", "3 * 4", "3/2", "2(x + 1)".
        joins = {"": "", "/": "/", "*": " * ", "+": " + ", "-": " - "}
        return "".join(joins[op] + child.render() for op, child in self.parts)

    def numbers(self) -> list[Fraction]:
        """The values of every number literal, left to right."""
        if self.kind == "num":
            return [self.value.const]
        out: list[Fraction] = []
        for part in self.parts:
            child = part[1] if isinstance(part, tuple) else part
            out.extend(child.numbers())
        return out

    def has_group(self) -> bool:
        if self.kind == "group":
            return True
        for part in self.parts:
            child = part[1] if isinstance(part, tuple) else part
            if child.has_group():
                return True
        return False


@dataclass(frozen=True)
class Equation:
    """`lhs = rhs`, both sides parsed, with their exact linear values."""

    lhs: Expr
    rhs: Expr

    @property
    def left(self) -> Linear:
        return self.lhs.value

    @property
    def right(self) -> Linear:
        return self.rhs.value

    @property
    def size(self) -> int:
        return self.lhs.size + self.rhs.size

    def render(self) -> str:
        return f"{self.lhs.render()} = {self.rhs.render()}"

    def solutions(self) -> Rational | str:
        """The one solution (exact), or "all" (true for every x) or "none"."""
        a = self.left.coef - self.right.coef
        b = self.right.const - self.left.const
        if a != 0:
            return _div(b, a)
        return "all" if b == 0 else "none"


# --------------------------------------------------------------------------- #
# Tokens and the recursive-descent parser
# --------------------------------------------------------------------------- #

_TOKEN = re.compile(
    r"\s*(?:(?P<num>[0-9]+(?:\.[0-9]+)?)|(?P<op>\*\*|[-+*/^()=])|(?P<name>[A-Za-z_]+)"
    r"|(?P<bad>\S))"
)
_FORBIDDEN_NAMES = ("import", "lambda", "eval", "exec", "os", "sys", "open")


def _tokens(text: str, limits: Limits) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
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
        if kind == "num":
            digits = len(value) - ("." in value)
            if digits > limits.max_digits:
                raise ParseError(
                    f"a number with {digits} digits; at most {limits.max_digits} "
                    f"are accepted",
                    text,
                    start,
                )
        out.append((kind, value, start))
        pos = m.end()
    return out


_ZERO = 0


def _literal(text: str) -> Rational:
    """The exact value of digits with an optional decimal part (no sign)."""
    whole, _, part = text.partition(".")
    if not part:
        return int(whole)
    return Fraction(int(whole + part), 10 ** len(part))


def _num_expr(value: Rational, text: str) -> Expr:
    return Expr("num", Linear(_ZERO, value), text=text)


_X = Linear(1, _ZERO)


class _Parser:
    """One pass over the tokens; every node gets its exact value on creation."""

    def __init__(self, text: str, variable: str | None, limits: Limits):
        self.text = text
        self.variable = variable
        self.limits = limits
        self.toks = _tokens(text, limits)
        self.i = 0
        self.depth = 0

    # -- helpers ----------------------------------------------------------- #
    def peek(self) -> tuple[str, str, int] | None:
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
        if self.depth > self.limits.max_depth:
            raise self.error(
                f"brackets or signs nested more than {self.limits.max_depth} deep"
            )

    def bounded(self, value: Linear, tok) -> Linear:
        cap = self.limits.max_value_digits * 3.33  # digits -> bits
        for q in (value.coef, value.const):
            if q.numerator.bit_length() > cap or q.denominator.bit_length() > cap:
                raise self.error(
                    f"a value with more than {self.limits.max_value_digits} digits",
                    tok,
                )
        return value

    # -- grammar ------------------------------------------------------------ #
    def equation(self) -> Equation:
        lhs = self.expr()
        if not self.is_op("="):
            if self.peek() is None:
                raise self.error("expected '=' (an equation like 2x + 5 = 15)")
            raise self.error(f"unexpected {self.peek()[1]!r}")
        self.i += 1
        rhs = self.expr()
        self.finish()
        return Equation(lhs, rhs)

    def finish(self) -> None:
        tok = self.peek()
        if tok is not None:
            if tok[1] == "=":
                raise self.error("more than one '='", tok)
            raise self.error(f"unexpected {tok[1]!r}", tok)

    def expr(self) -> Expr:
        first = self.term()
        parts = [("", first)]
        value = first.value
        size = first.size
        while self.is_op("+", "-"):
            tok = self.peek()
            self.i += 1
            child = self.term()
            value = self.bounded(
                value + child.value if tok[1] == "+" else value - child.value, tok
            )
            parts.append((tok[1], child))
            size += child.size + 1
        if len(parts) == 1:
            return first
        return Expr("sum", value, parts=tuple(parts), size=size)

    def signs(self) -> list[tuple]:
        # Signs are read in a loop (not by recursion) and count towards the
        # depth bound, so "- - - ... 5" cannot exhaust the stack.
        out = []
        while self.is_op("+", "-"):
            out.append(self.peek())
            self.enter()
            self.i += 1
        return out

    def apply_signs(self, signs: list[tuple], node: Expr) -> Expr:
        for tok in reversed(signs):
            self.depth -= 1
            if tok[1] == "-":
                node = Expr("neg", -node.value, parts=(node,), size=node.size + 1)
        return node

    def term(self) -> Expr:
        # A sign covers the whole product: -2x is -(2x).
        signs = self.signs()
        first = self.power()
        parts = [("", first)]
        value = first.value
        size = first.size
        while True:
            tok = self.peek()
            if tok is None:
                break
            if tok[0] == "op" and tok[1] in ("*", "/"):
                self.i += 1
                op = tok[1]
                child = self.apply_signs(self.signs(), self.power())
            elif tok[0] == "name" or (tok[0] == "op" and tok[1] == "("):
                # Implicit multiplication (2x, 3(x + 1)) binds like * and /,
                # left to right: 1/2x is (1/2)x.
                op = ""
                child = self.power()
            else:
                break
            value = self.bounded(self.combine(value, op, child.value, tok), tok)
            parts.append((op, child))
            size += child.size + (op != "")
        node = first
        if len(parts) > 1:
            node = Expr("product", value, parts=tuple(parts), size=size)
        return self.apply_signs(signs, node)

    def combine(self, left: Linear, op: str, right: Linear, tok) -> Linear:
        if op == "/":
            if not right.is_constant:
                raise self.error(
                    f"dividing by an expression with {self.variable} is not "
                    f"linear; write a number after '/'",
                    tok,
                )
            if right.const == 0:
                raise self.error("division by zero", tok)
            return left.divide(right.const)
        if left.is_constant:
            return right.scale(left.const)
        if right.is_constant:
            return left.scale(right.const)
        raise self.error(
            f"{self.variable} times {self.variable} is not linear: "
            f"this parser reads linear expressions only",
            tok,
        )

    def power(self) -> Expr:
        base = self.atom()
        if not self.is_op("^", "**"):
            return base
        tok = self.peek()
        self.i += 1
        negative = False
        if self.is_op("-", "+"):
            negative = self.peek()[1] == "-"
            self.i += 1
        self.enter()
        exp = self.power()  # right-associative: 9**9**9 is 9**(9**9)
        self.depth -= 1
        if negative:
            exp = Expr("neg", -exp.value, parts=(exp,), size=exp.size + 1)
        if not base.value.is_constant or not exp.value.is_constant:
            raise self.error(
                f"powers of {self.variable} are not linear; only numbers may be "
                f"raised to a power",
                tok,
            )
        n = exp.value.const
        if n.denominator != 1:
            raise self.error(
                f"the exponent {format_number(n)} is not a whole number", tok
            )
        if abs(n) > self.limits.max_exponent:
            shown = _shorten(format_number(n), 24)
            raise self.error(
                f"the exponent {shown} is too large (at most "
                f"{self.limits.max_exponent})",
                tok,
            )
        b = base.value.const
        if b == 0 and n < 0:
            raise self.error("division by zero (0 to a negative power)", tok)
        value = self.bounded(
            Linear(_ZERO, b ** int(n) if n >= 0 else Fraction(b) ** int(n)), tok
        )
        return Expr("power", value, parts=(base, exp), size=base.size + exp.size + 1)

    def atom(self) -> Expr:
        tok = self.peek()
        if tok is None:
            raise self.error("the expression ends too early")
        kind, text, _ = tok
        if kind == "num":
            self.i += 1
            return _num_expr(_literal(text), text)
        if kind == "name":
            self.i += 1
            if self.variable is None or text.lower() != self.variable:
                if text.lower() in _FORBIDDEN_NAMES or "_" in text:
                    raise self.error(f"{text!r} is not mathematics here", tok)
                if self.variable is None:
                    raise self.error(f"a letter ({text!r}) where a number belongs", tok)
                raise self.error(
                    f"unknown name {text!r}: the only letter allowed is the "
                    f"unknown {self.variable!r}",
                    tok,
                )
            return Expr("var", _X, text=self.variable)
        if kind == "op" and text == "(":
            self.i += 1
            self.enter()
            inner = self.expr()
            self.depth -= 1
            if not self.is_op(")"):
                raise self.error("a '(' is never closed", tok)
            self.i += 1
            return Expr("group", inner.value, parts=(inner,), size=inner.size + 2)
        if text == ")":
            raise self.error("a ')' without its '('", tok)
        want = "a number" if self.variable is None else f"a number, {self.variable!r}"
        raise self.error(f"expected {want} or '(' but got {text!r}", tok)


def parse_expression(
    text: str, *, variable: str | None = "x", limits: Limits = DEFAULT_LIMITS
) -> Expr:
    """Parse a linear expression such as `2(x + 3) - 4`. Raises `ParseError`.

    With `variable=None` no letter is allowed: the expression is a number.
    """
    text = normalize(text, limits)
    parser = _Parser(text, variable, limits)
    if not parser.toks:
        raise ParseError("the expression is empty", text)
    out = parser.expr()
    parser.finish()
    return out


def parse_equation(
    text: str, *, variable: str = "x", limits: Limits = DEFAULT_LIMITS
) -> Equation:
    """Parse a linear equation such as `2x + 5 = 15`. Raises `ParseError`."""
    text = normalize(text, limits)
    parser = _Parser(text, variable, limits)
    if not parser.toks:
        raise ParseError("the equation is empty", text)
    return parser.equation()


def parse_number(text: str, *, limits: Limits = DEFAULT_LIMITS) -> Fraction:
    """Parse a constant expression (`36`, `-3/2`, `2.5`, `2^3`) to a Fraction."""
    text = normalize(text, limits)
    parser = _Parser(text, None, limits)
    if not parser.toks:
        raise ParseError("the number is empty", text)
    out = parser.expr()
    parser.finish()
    return Fraction(out.value.const)
