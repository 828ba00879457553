"""Turning ratings or soft labels into the good / bad labels a format holds.

TRL's stepwise format and Math-Shepherd hold one yes/no per step, PRM800K holds
ratings +1 / 0 / -1, and our traces may carry soft Monte Carlo fractions. Going
from richer to poorer labels loses something, so nothing is cut silently: a
neutral (0) step needs `neutral_as`, and soft labels need an explicit
`threshold`. Defined for notebook 02.
"""

from __future__ import annotations

from .trace import Trace


def binary_labels(
    trace: Trace,
    *,
    neutral_as: bool | None = True,
    threshold: float | None = None,
    fmt: str = "this format",
) -> list[bool]:
    """One True (good step) / False (bad step) per step of a labelled trace.

    Ratings: +1 -> True, -1 -> False, 0 -> `neutral_as` (True by default, as
    PRM800K-based PRMs usually count a harmless step as good; None raises).
    Soft labels: True when the fraction is >= `threshold`, which you must give:
    a Monte Carlo estimate of 0.3 is not "wrong" or "right" until you say where
    the line is.
    """
    if trace.labels is None:
        raise ValueError(
            f"{fmt} needs one label per step, and this trace has none "
            f"(problem {trace.problem[:40]!r}): label it first."
        )
    if trace.soft:
        if threshold is None:
            raise ValueError(
                f"this trace has soft labels (Monte Carlo fractions) and {fmt} "
                f"holds only good/bad: pass threshold=0.5 (or another cut; a step "
                f"is good when its fraction >= threshold)."
            )
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold!r}.")
        return [value >= threshold for value in trace.labels]
    out = []
    for i, value in enumerate(trace.labels):
        if value == 0:
            if neutral_as is None:
                raise ValueError(
                    f"step {i} is neutral (0) and {fmt} holds only good/bad: pass "
                    f"neutral_as=True (count it good) or neutral_as=False."
                )
            out.append(bool(neutral_as))
        else:
            out.append(value > 0)
    return out
