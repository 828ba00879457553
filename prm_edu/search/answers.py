"""The two questions search and evaluation ask a world, as plain functions.

Searches see problems as statements (text) and solutions as lists of steps;
`answer_fn(world)` turns those into the final answer the steps commit to, and
`grade_fn(world)` says whether that answer is right. Defined in notebook 04.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence


def _parser(world) -> Callable[[str], object]:
    # Parsing a statement is pure, and a search asks about the same problem
    # many times.
    return lru_cache(maxsize=4096)(world.parse_problem)


def answer_fn(world) -> Callable[[str, Sequence[str]], str | None]:
    """`f(problem_text, steps)`: the final answer in canonical text, or None."""
    parse = _parser(world)

    def answer_of(problem: str, steps: Sequence[str]) -> str | None:
        return world.extract_answer(parse(problem), list(steps))

    return answer_of


def grade_fn(world) -> Callable[[str, Sequence[str]], bool]:
    """`f(problem_text, steps)`: whether the final answer is right."""
    parse = _parser(world)

    def grade(problem: str, steps: Sequence[str]) -> bool:
        return bool(world.grade(parse(problem), list(steps)))

    return grade
