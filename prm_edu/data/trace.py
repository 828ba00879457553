"""The one type that flows through the course: a `Trace`.

A trace is a problem statement, the steps written for it, and (optionally) the
final answer and one label per step. Labels, scores and reasons are parallel
lists, one entry per step. Defined in notebook 01; every later notebook uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Sequence

# Step ratings, as in PRM800K: +1 correct and useful, 0 correct but no progress,
# -1 wrong. Soft Monte Carlo labels are floats in [0, 1] instead.
GOOD, NEUTRAL, BAD = 1, 0, -1


@dataclass(frozen=True)
class Trace:
    """A problem, its steps, and optionally the answer and per-step labels.

    `problem` is the statement as text (a world's `parse_problem` turns it back
    into a problem object). `labels` holds one rating per step: +1 / 0 / -1 for
    exact or human labels, or a float in [0, 1] for soft Monte Carlo labels.
    `reasons` holds one readable reason per step when the labeller gives one.
    `soft` says the labels are Monte Carlo fractions rather than ratings.
    """

    problem: str
    steps: tuple[str, ...]
    answer: str | None = None
    labels: tuple[float, ...] | None = None
    reasons: tuple[str, ...] | None = None
    soft: bool = False
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.problem, str):
            raise TypeError(
                f"Trace.problem must be the statement as text, got "
                f"{type(self.problem).__name__}: pass problem.text instead."
            )
        steps = tuple(self.steps)
        for i, step in enumerate(steps):
            if not isinstance(step, str):
                raise TypeError(
                    f"Trace step {i} must be text, got {type(step).__name__} "
                    f"({step!r})."
                )
        object.__setattr__(self, "steps", steps)
        if self.labels is not None:
            labels = tuple(self.labels)
            _check_parallel("labels", labels, steps)
            for i, value in enumerate(labels):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TypeError(
                        f"label {i} must be a number (+1, 0, -1 or a soft "
                        f"label in [0, 1]), got {value!r}."
                    )
                if math.isnan(value):
                    raise ValueError(f"label {i} is NaN: every step needs a label.")
                if self.soft and not 0.0 <= value <= 1.0:
                    raise ValueError(
                        f"soft label {i} is {value}: soft labels are fractions "
                        f"in [0, 1]."
                    )
                if not self.soft and value not in (GOOD, NEUTRAL, BAD):
                    raise ValueError(
                        f"label {i} is {value}: ratings are +1, 0 or -1 "
                        f"(pass soft=True for Monte Carlo fractions)."
                    )
            object.__setattr__(self, "labels", labels)
        if self.reasons is not None:
            reasons = tuple(self.reasons)
            _check_parallel("reasons", reasons, steps)
            object.__setattr__(self, "reasons", reasons)

    @property
    def is_labelled(self) -> bool:
        return self.labels is not None

    def with_labels(
        self,
        labels: Sequence[float],
        reasons: Sequence[str] | None = None,
        *,
        soft: bool = False,
    ) -> "Trace":
        """The same trace with one label (and optionally a reason) per step."""
        return replace(
            self,
            labels=tuple(labels),
            reasons=None if reasons is None else tuple(reasons),
            soft=soft,
        )

    def first_error(self) -> int:
        """Index of the first step labelled -1, or -1 when there is none.

        This is ProcessBench's convention. Soft labels count as errors below 0.5.
        """
        if self.labels is None:
            raise ValueError("this trace has no labels: label it first.")
        for i, value in enumerate(self.labels):
            if (value < 0.5) if self.soft else (value < 0):
                return i
        return -1


def _check_parallel(name: str, values: tuple, steps: tuple) -> None:
    if len(values) != len(steps):
        raise ValueError(
            f"a trace with {len(steps)} steps needs {len(steps)} {name}, "
            f"got {len(values)}: give one per step."
        )
