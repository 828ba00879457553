"""What every world provides: problems, exact step checks, and grading.

A world is a task whose ground truth is exact, so every label, score and
accuracy in the course can be checked. Defined in notebook 01 and 02.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class StepLabel:
    """The exact judgement of one step: +1 progress, 0 a correct rewrite, -1 wrong."""

    value: int
    reason: str

    def __post_init__(self) -> None:
        if self.value not in (1, 0, -1):
            raise ValueError(f"a step label is +1, 0 or -1, got {self.value!r}.")


@dataclass(frozen=True)
class InjectedError:
    """Where the scripted generator put a mistake, and what kind it was."""

    step: int
    kind: str  # e.g. "arithmetic slip", "sign error", "wrong operation"
    detail: str


@dataclass(frozen=True)
class ScriptedSample:
    """A scripted generator's trace and the errors it injected on purpose."""

    steps: tuple[str, ...]
    errors: tuple[InjectedError, ...]


class World(ABC):
    """A task family with exact checking.

    Subclasses set `name`, `levels` and `default_level`, and implement the
    abstract methods. Problems are frozen dataclasses with at least `.text`
    (the statement) and `.level`; `parse_problem(problem.text)` gives the
    same problem back.
    """

    name: str
    levels: tuple[int, ...]
    default_level: int

    def sample(self, n: int, seed: int = 0, level: int | None = None) -> list:
        """`n` problems, the same for the same seed and level."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}.")
        level = self.default_level if level is None else level
        if level not in self.levels:
            raise ValueError(
                f"{self.name} has levels {list(self.levels)}, got level={level!r}."
            )
        rng = random.Random(f"{self.name}:{level}:{seed}")
        return [self._sample_one(rng, level) for _ in range(n)]

    @abstractmethod
    def _sample_one(self, rng: random.Random, level: int):
        """One random problem at `level`, drawn from `rng` only."""

    @abstractmethod
    def parse_problem(self, text: str):
        """A problem from its statement; `ParseError` when it is not one."""

    @abstractmethod
    def solve(self, problem) -> list[str]:
        """A correct solution, one step per line of text."""

    @abstractmethod
    def check(self, problem, steps: Sequence[str]) -> list[StepLabel]:
        """One exact label per step (see the module docstring of each world)."""

    @abstractmethod
    def extract_answer(self, problem, steps: Sequence[str]) -> str | None:
        """The final answer the steps commit to, in canonical text, or None."""

    @abstractmethod
    def answer(self, problem) -> str:
        """The right final answer in the same canonical text."""

    @abstractmethod
    def scripted_sample(
        self, problem, rng: random.Random, error_rate: float
    ) -> ScriptedSample:
        """A stochastic solution with errors injected at `error_rate` per step."""

    def grade(self, problem, steps: Sequence[str]) -> bool:
        """Whether the final answer is right (regardless of the reasoning)."""
        got = self.extract_answer(problem, steps)
        return got is not None and got == self.answer(problem)

    def __repr__(self) -> str:
        return f"<world {self.name!r} levels={list(self.levels)}>"
