"""Checks for notebook 06's exercises: step labels in the code and plans
worlds, a program and a plan written by the learner, and which next steps a
PRM-guided search should keep.

Each check runs the world's own checker (the interpreter of `worlds.code`,
the simulator of `worlds.plans`) on the learner's answer and says right, or
which step is off and why.
"""

from __future__ import annotations

from typing import Sequence

from prm_edu.exercises.check import Verdict, compare
from prm_edu.worlds import get as get_world
from prm_edu.worlds.base import World

_HINTS = {
    "code": "+1: the line computes a new part of the formula; 0: right but "
    "adds nothing (a copy, a repeat); -1: it fails or computes something the "
    "formula never needs.",
    "plans": "+1: legal and the goal gets closer; 0: legal, still reachable, "
    "no closer; -1: illegal, or the goal can no longer be reached.",
}


def _steps(steps, what: str) -> list[str]:
    if isinstance(steps, str):
        steps = [s for s in steps.splitlines() if s.strip()]
    steps = list(steps)
    if not steps or not all(isinstance(s, str) for s in steps):
        raise TypeError(
            f"give the {what} as a list of strings, one step each (or one "
            f"string with a step per line), got {steps!r}."
        )
    return steps


def check_step_labels(
    problem: str,
    steps: Sequence[str],
    mine: Sequence[int],
    world: World | str = "code",
) -> Verdict:
    """Your +1 / 0 / -1 label for every step, against the world's checker.

    When a label is off, the message gives the checker's reason for that step.
    """
    world = get_world(world)
    p = world.parse_problem(problem)
    steps = _steps(steps, "steps")
    labels = world.check(p, steps)
    expected = [lab.value for lab in labels]
    try:
        mine = [int(v) for v in mine]
    except (TypeError, ValueError):
        return Verdict("step labels", False, f"give whole numbers, got {mine!r}.")
    verdict = compare("step labels", mine, expected, tol=0, hint=_HINTS[world.name])
    if verdict or len(mine) != len(expected):
        return verdict
    i = next(k for k, (a, b) in enumerate(zip(mine, expected)) if a != b)
    return Verdict(
        "step labels",
        False,
        f"step {i + 1} ({steps[i]!r}) is {mine[i]:+d} in your list, but the "
        f"checker says {expected[i]:+d}: {labels[i].reason}.",
    )


def _all_progress(name: str, world: World, problem: str, steps, what: str):
    p = world.parse_problem(problem)
    steps = _steps(steps, what)
    labels = world.check(p, steps)
    for i, (text, label) in enumerate(zip(steps, labels)):
        if label.value < 1:
            kind = "wrong" if label.value < 0 else "no progress"
            return (
                p,
                steps,
                Verdict(
                    name,
                    False,
                    f"step {i + 1} ({text!r}) is {kind}: {label.reason}.",
                ),
            )
    return p, steps, None


def check_program(problem: str, steps: Sequence[str]) -> Verdict:
    """A program for a code-world problem: every line must compute a new part
    of the formula (+1), and it must return the formula's value."""
    world = get_world("code")
    p, steps, verdict = _all_progress("program", world, problem, steps, "program")
    if verdict is not None:
        return verdict
    if not world.grade(p, steps):
        return Verdict(
            "program",
            False,
            f"every line is right so far, but the program never returns "
            f"{p.formula}: end with `return NAME`.",
        )
    return Verdict(
        "program",
        True,
        f"{len(steps)} lines, each a step of {p.formula}; it returns {p.value}.",
    )


def check_plan(problem: str, steps: Sequence[str]) -> Verdict:
    """A plan for a plans-world problem: it must reach the goal in as few
    actions as possible, so that every action is progress (+1)."""
    world = get_world("plans")
    p, steps, verdict = _all_progress("plan", world, problem, steps, "plan")
    if verdict is not None:
        return verdict
    if not world.grade(p, steps):
        left = world.check(p, steps)[-1].reason
        return Verdict(
            "plan",
            False,
            f"every action is progress, but the goal is not reached yet ({left}).",
        )
    return Verdict(
        "plan", True, f"{len(steps)} actions, the shortest plan: the goal holds."
    )


def check_progress_steps(
    problem: str,
    prefix: Sequence[str],
    candidates: Sequence[str],
    mine: Sequence[int],
    world: World | str = "plans",
) -> Verdict:
    """Which candidate next steps (0-based indices) are progress (+1) after
    `prefix`: the ones a search guided by a perfect PRM would keep."""
    world = get_world(world)
    p = world.parse_problem(problem)
    prefix = list(prefix)
    labels = [world.check(p, [*prefix, c])[-1] for c in candidates]
    expected = sorted(i for i, lab in enumerate(labels) if lab.value == 1)
    try:
        chosen = sorted({int(i) for i in mine})
    except (TypeError, ValueError):
        return Verdict(
            "progress steps", False, f"give a list of indices, got {mine!r}."
        )
    for i in chosen:
        if not 0 <= i < len(candidates):
            return Verdict(
                "progress steps",
                False,
                f"{i} is not an index of a candidate (0 to {len(candidates) - 1}).",
            )
    if chosen == expected:
        return Verdict(
            "progress steps",
            True,
            f"{expected} it is: the others are "
            + (
                "; ".join(
                    f"{candidates[i]!r}: {labels[i].reason}"
                    for i in range(len(candidates))
                    if i not in expected
                )
                or "none"
            )
            + ".",
        )
    extra = [i for i in chosen if i not in expected]
    if extra:
        i = extra[0]
        return Verdict(
            "progress steps",
            False,
            f"candidate {i} ({candidates[i]!r}) is {labels[i].value:+d}: "
            f"{labels[i].reason}.",
        )
    i = next(i for i in expected if i not in chosen)
    return Verdict(
        "progress steps",
        False,
        f"you left out candidate {i} ({candidates[i]!r}): {labels[i].reason}.",
    )
