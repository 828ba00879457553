"""The course's worlds: tasks whose every step can be checked exactly.

`get(name)` returns a world by name; `names()` lists them:

- `equations`: linear equations, `Subtract 5 from both sides: 2x = 10`;
- `arithmetic`: multi-step word problems, one computation per step;
- `game24`: make 24 from four numbers, `13 - 9 = 4 (left: 4 4 6)`.

Beyond mathematics (notebook 06), `get` also gives:

- `code`: tiny programs, one line per step, `q = p * c`, run by an interpreter
  in the package (`worlds.code`);
- `plans`: an agent's actions in a small house, `pick cup`, checked by a
  simulator (`worlds.plans`).

`names()` lists the three math worlds; `names(beyond_math=True)` all five.

Every world has `sample`, `parse_problem`, `solve`, `check`, `grade`,
`extract_answer`, `answer` and `scripted_sample` (see `base.World`).
Defined in notebook 01.
"""

from __future__ import annotations

from prm_edu.worlds.arithmetic import ArithmeticProblem, ArithmeticWorld
from prm_edu.worlds.base import (
    InjectedError,
    ScriptedSample,
    StepLabel,
    World,
)
from prm_edu.worlds.code import CodeProblem, CodeWorld
from prm_edu.worlds.equations import EquationProblem, EquationsWorld
from prm_edu.worlds.game24 import Game24Problem, Game24World
from prm_edu.worlds.plans import PlanProblem, PlansWorld

__all__ = [
    "get",
    "names",
    "World",
    "StepLabel",
    "InjectedError",
    "ScriptedSample",
    "EquationsWorld",
    "EquationProblem",
    "ArithmeticWorld",
    "ArithmeticProblem",
    "Game24World",
    "Game24Problem",
    "CodeWorld",
    "CodeProblem",
    "PlansWorld",
    "PlanProblem",
]

_WORLDS: dict[str, type[World]] = {
    "equations": EquationsWorld,
    "arithmetic": ArithmeticWorld,
    "game24": Game24World,
}
# Notebook 06's worlds: not mathematics, so not in the default `names()`.
_BEYOND_MATH: dict[str, type[World]] = {"code": CodeWorld, "plans": PlansWorld}


def names(beyond_math: bool = False) -> list[str]:
    """The math worlds' names; with `beyond_math=True`, also "code" and "plans"
    (every name `get` accepts)."""
    return list(_WORLDS) + (list(_BEYOND_MATH) if beyond_math else [])


def get(name: str) -> World:
    """The world called `name` ("equations", "arithmetic", "game24", "code" or
    "plans")."""
    if isinstance(name, World):
        return name
    try:
        return {**_WORLDS, **_BEYOND_MATH}[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"no world called {name!r}: choose one of {names(beyond_math=True)}."
        ) from None
