"""Checks for notebook 01's exercises: reading steps as a PRM and an ORM would.

Each check takes what the notebook gave and the learner's answer, compares it
with what the package computes (the equations world's exact checker, or the
rule a search uses to prune), and says right or what is off.
"""

from __future__ import annotations

from typing import Sequence

from prm_edu.exercises.check import Verdict, compare
from prm_edu.metrics import predicted_first_error
from prm_edu.worlds import get as get_world
from prm_edu.worlds.base import World

SEED_PROBLEM = "Solve 2x + 5 = 15"


def _world(world: World | str) -> World:
    return get_world(world)


def check_step_labels(
    problem: str,
    steps: Sequence[str],
    mine: Sequence[int],
    world: World | str = "equations",
) -> Verdict:
    """Your +1 / 0 / -1 label for every step, against the world's exact checker.

    When a label is off, the message gives the checker's reason for that step.
    """
    world = _world(world)
    p = world.parse_problem(problem)
    labels = world.check(p, list(steps))
    expected = [lab.value for lab in labels]
    mine = list(mine)
    verdict = compare(
        "step labels",
        mine,
        expected,
        tol=0,
        hint="Give one label per step: +1 (right and closer to x = ...), "
        "0 (right, no progress) or -1 (wrong).",
    )
    if verdict or len(mine) != len(expected):
        return verdict
    i = next(k for k, (a, b) in enumerate(zip(mine, expected)) if a != b)
    return Verdict(
        "step labels",
        False,
        f"step {i + 1} ({steps[i]!r}) is {mine[i]:+d} in your list, but the "
        f"checker says {expected[i]:+d}: {labels[i].reason}.",
    )


def check_outcome_and_first_error(
    problem: str,
    steps: Sequence[str],
    outcome: bool,
    first_error: int,
    world: World | str = "equations",
) -> Verdict:
    """What an outcome check says (is the final answer right?) and where the
    first wrong step is (0-based, -1 when there is none)."""
    if not isinstance(outcome, bool):
        return Verdict(
            "outcome", False, f"the outcome is True or False, got {outcome!r}."
        )
    if isinstance(first_error, bool) or not isinstance(first_error, int):
        return Verdict(
            "first error",
            False,
            f"the first error is a step index (0, 1, ...) or -1, got "
            f"{first_error!r}.",
        )
    world = _world(world)
    p = world.parse_problem(problem)
    right = world.grade(p, list(steps))
    if outcome != right:
        got = world.extract_answer(p, list(steps))
        return Verdict(
            "outcome",
            False,
            f"the final answer is x = {got} and the right one is x = "
            f"{world.answer(p)}, so the outcome check says {right}.",
        )
    labels = [lab.value for lab in world.check(p, list(steps))]
    truth = next((i for i, v in enumerate(labels) if v < 0), -1)
    if first_error != truth:
        hint = (
            "Every step is right: answer -1."
            if truth < 0
            else "Count from 0, and look for the first step whose equation does "
            "not follow from the one before."
        )
        return Verdict(
            "first error",
            False,
            f"you have step index {first_error!r}; the checker's first wrong "
            f"step has index {truth}. {hint}",
        )
    where = f", yet step {truth} is wrong." if truth >= 0 else ", and no step is wrong."
    return Verdict(
        "outcome and first error", True, f"the outcome check says {right}{where}"
    )


def check_pruned_at(
    scores: Sequence[float], threshold: float, mine: int
) -> Verdict:
    """The first step a PRM-guided search prunes: the first score below
    `threshold` (0-based index, -1 when no step falls below it)."""
    expected = predicted_first_error(list(scores), threshold)
    return compare(
        "pruned at",
        mine,
        expected,
        tol=0,
        hint=f"Walk the scores in order and stop at the first one below "
        f"{threshold}; count from 0, and answer -1 if there is none.",
    )


def check_wrong_reasoning(
    steps: Sequence[str],
    problem: str = SEED_PROBLEM,
    world: World | str = "equations",
) -> Verdict:
    """Your own *right answer, wrong reasoning* solution: its final answer
    must be right and at least one of its steps wrong."""
    world = _world(world)
    p = world.parse_problem(problem)
    steps = [str(s) for s in steps]
    if not steps:
        return Verdict("wrong reasoning", False, "write at least two steps.")
    got = world.extract_answer(p, steps)
    if got is None:
        return Verdict(
            "wrong reasoning",
            False,
            f"the last step {steps[-1]!r} does not end in 'x = <number>', so "
            f"there is no final answer to grade.",
        )
    if not world.grade(p, steps):
        return Verdict(
            "wrong reasoning",
            False,
            f"the final answer is x = {got}, but {p.text[len('Solve '):]} has "
            f"x = {world.answer(p)}: an outcome check would reject it. Make "
            f"the last step land on the right answer.",
        )
    labels = world.check(p, steps)
    bad = [i for i, lab in enumerate(labels) if lab.value < 0]
    if not bad:
        return Verdict(
            "wrong reasoning",
            False,
            "every step is right, so this is a correct solution. Put a "
            "mistake in one step and cancel it in a later one.",
        )
    i = bad[0]
    return Verdict(
        "wrong reasoning",
        True,
        f"the answer x = {got} is right, and the checker rejects step {i + 1}: "
        f"{labels[i].reason}.",
    )
