"""The shared machinery of every exercise check, and `show_source`."""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: right or not, and what to tell the learner."""

    name: str
    right: bool
    message: str

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        mark = "right" if self.right else "not yet"
        return f"{self.name}: {mark}. {self.message}".strip()

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.right else "#b35900"
        mark = "&#10003; right" if self.right else "&#10007; not yet"
        return (
            f'<div class="prm-verdict" style="border-left:5px solid {colour};'
            f'padding:4px 8px"><b>{self.name}</b>: {mark}. {_esc(self.message)}</div>'
        )


def compare(name: str, mine: Any, expected: Any, *, tol: float = 1e-6,
            hint: str = "") -> Verdict:
    """Compare a learner's answer with the package's, numbers within `tol`.

    Lists are compared item by item, and the first differing item is named.
    """
    if _is_seq(expected):
        if not _is_seq(mine):
            return Verdict(name, False, f"expected a list of {len(expected)} "
                           f"values, got {mine!r}. {hint}".strip())
        if len(mine) != len(expected):
            return Verdict(name, False, f"expected {len(expected)} values, "
                           f"got {len(mine)}. {hint}".strip())
        for i, (a, b) in enumerate(zip(mine, expected)):
            if not _same(a, b, tol):
                return Verdict(name, False, f"item {i} is {a!r}, but it should "
                               f"be {_show(b)}. {hint}".strip())
        return Verdict(name, True, f"all {len(expected)} values match.")
    if _same(mine, expected, tol):
        return Verdict(name, True, f"{_show(expected)} it is.")
    return Verdict(name, False, f"you have {mine!r}; the package gets "
                   f"{_show(expected)}. {hint}".strip())


def show_source(obj: Any) -> Any:
    """The source of a package function or class, highlighted for a notebook.

    Where reading the code is the lesson, a notebook shows it instead of
    copying it, so what the learner reads is what runs.
    """
    source = inspect.getsource(obj)
    try:
        from IPython.display import Code
    except ImportError:  # outside IPython, plain text is fine
        return source
    return Code(source, language="python")


def _is_seq(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _same(a: Any, b: Any, tol: float) -> bool:
    if isinstance(b, bool) or isinstance(a, bool):
        return a is b or a == b
    if isinstance(b, (int, float)) and isinstance(a, (int, float)):
        if math.isnan(a) or math.isnan(b):
            return False
        return abs(a - b) <= tol * max(1.0, abs(b))
    return a == b


def _show(x: Any) -> str:
    return f"{x:.4g}" if isinstance(x, float) else repr(x)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
