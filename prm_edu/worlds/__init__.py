"""The course's worlds: tasks whose every step can be checked exactly.

`get(name)` returns a world by name; `names()` lists them:

- `equations`: linear equations, `Subtract 5 from both sides: 2x = 10`;
- `arithmetic`: multi-step word problems, one computation per step;
- `game24`: make 24 from four numbers, `13 - 9 = 4 (left: 4 4 6)`.

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
from prm_edu.worlds.equations import EquationProblem, EquationsWorld
from prm_edu.worlds.game24 import Game24Problem, Game24World

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
]

_WORLDS: dict[str, type[World]] = {
    "equations": EquationsWorld,
    "arithmetic": ArithmeticWorld,
    "game24": Game24World,
}


def names() -> list[str]:
    """The names `get` accepts."""
    return list(_WORLDS)


def get(name: str) -> World:
    """The world called `name` ("equations", "arithmetic" or "game24")."""
    if isinstance(name, World):
        return name
    try:
        return _WORLDS[name]()
    except (KeyError, TypeError):
        raise ValueError(
            f"no world called {name!r}: choose one of {names()}."
        ) from None
