"""Checks for notebook 02's exercises: step labels, Monte Carlo labels,
active-learning picks and data formats.

Each check compares the learner's answer with what `prm_edu.labels` and
`prm_edu.data` compute, and names what is off.
"""

from __future__ import annotations

from typing import Sequence

from prm_edu.data import Trace, to_math_shepherd, to_trl
from prm_edu.exercises.check import Verdict, compare
from prm_edu.labels import aggregate
from prm_edu.worlds import get as get_world
from prm_edu.worlds.base import World


def check_prm800k_labels(
    problem: str,
    steps: Sequence[str],
    mine: Sequence[int],
    world: World | str = "equations",
) -> Verdict:
    """PRM800K-style labels: a rating (+1 / 0 / -1) for each step up to and
    including the first wrong one, and nothing after it."""
    world = get_world(world)
    p = world.parse_problem(problem)
    checked = world.check(p, list(steps))
    ratings = [lab.value for lab in checked]
    stop = ratings.index(-1) + 1 if -1 in ratings else len(ratings)
    expected = ratings[:stop]
    mine = [int(v) for v in mine]
    if len(mine) != len(expected):
        if len(mine) > len(expected):
            why = (
                f"labelling stops at the first wrong step (step {stop}), so "
                f"give {stop} labels, not {len(mine)}."
            )
        else:
            why = (
                f"give {len(expected)} labels: every step up to the first wrong "
                f"one (or every step if none is wrong)."
            )
        return Verdict("PRM800K labels", False, why)
    for i, (a, b) in enumerate(zip(mine, expected)):
        if a != b:
            return Verdict(
                "PRM800K labels",
                False,
                f"step {i + 1} ({steps[i]!r}) is {a:+d} in your list; the "
                f"checker says {b:+d}: {checked[i].reason}.",
            )
    return Verdict(
        "PRM800K labels",
        True,
        f"{len(expected)} ratings, stopping "
        + ("at the first error." if -1 in expected else "at the end: no error."),
    )


def check_mc_labels(
    correct: Sequence[int],
    n_rollouts: int,
    soft: Sequence[float],
    hard: Sequence[int],
) -> Verdict:
    """Math-Shepherd labels from rollout counts: `correct[i]` of `n_rollouts`
    rollouts from step i reached the right answer. Soft label: the fraction;
    hard label: +1 when any rollout was right, else -1."""
    want_soft = [c / n_rollouts for c in correct]
    want_hard = [1 if c > 0 else -1 for c in correct]
    v = compare(
        "soft labels",
        [float(x) for x in soft],
        want_soft,
        tol=1e-3,
        hint="A soft label is (right rollouts) / (all rollouts).",
    )
    if not v:
        return v
    v = compare(
        "hard labels",
        [int(x) for x in hard],
        want_hard,
        tol=0,
        hint="A hard label is +1 as soon as one rollout is right, -1 when none is.",
    )
    if not v:
        return v
    return Verdict("Monte Carlo labels", True, "soft and hard labels both match.")


def check_convincing_wrong(
    scores: Sequence[Sequence[float]],
    right: Sequence[bool],
    mine: int,
    select_by: str = "min",
) -> Verdict:
    """The solution PRM800K's active learning labels first: among those with
    a wrong final answer, the one the PRM scores highest (by `select_by`)."""
    if isinstance(mine, bool) or not isinstance(mine, int):
        return Verdict(
            "convincing wrong answer",
            False,
            f"give the index of one solution (0 to {len(right) - 1}), got {mine!r}.",
        )
    wrong = [i for i, r in enumerate(right) if not r]
    if not wrong:
        return Verdict("convincing wrong answer", False, "no answer is wrong here.")
    best = max(wrong, key=lambda i: (aggregate(scores[i], select_by), -i))
    if mine == best:
        return Verdict(
            "convincing wrong answer",
            True,
            f"solution {best}: wrong answer, yet its {select_by} step score is "
            f"{aggregate(scores[best], select_by):.2f}, the highest of the wrong ones.",
        )
    if 0 <= mine < len(right) and right[mine]:
        why = (
            f"solution {mine} has the right final answer: labelling it teaches "
            f"the PRM little it does not already believe."
        )
    else:
        why = (
            f"of the wrong-answer solutions {wrong}, pick the one whose "
            f"{select_by} step score is highest."
        )
    return Verdict("convincing wrong answer", False, why)


def check_trl_labels(
    trace: Trace, mine: Sequence[bool], neutral_as: bool = True
) -> Verdict:
    """The `labels` of the TRL stepwise row for `trace` (booleans, one per step)."""
    expected = to_trl([trace], neutral_as=neutral_as)[0]["labels"]
    if any(not isinstance(x, bool) for x in mine):
        return Verdict(
            "TRL labels", False, f"TRL's labels are True / False, got {list(mine)!r}."
        )
    return compare(
        "TRL labels",
        list(mine),
        expected,
        tol=0,
        hint=f"+1 is True, -1 is False, and 0 becomes neutral_as={neutral_as}.",
    )


def check_math_shepherd_label(
    trace: Trace, mine: str, neutral_as: bool = True
) -> Verdict:
    """The `label` string of the Math-Shepherd record for `trace`."""
    expected = to_math_shepherd([trace], neutral_as=neutral_as)[0]["label"]
    if mine == expected:
        return Verdict("Math-Shepherd label", True, "character for character.")
    for i, (a, b) in enumerate(zip(mine, expected)):
        if a != b:
            return Verdict(
                "Math-Shepherd label",
                False,
                f"character {i} is {a!r} but should be {b!r} (around "
                f"{expected[max(0, i - 15):i + 5]!r}).",
            )
    return Verdict(
        "Math-Shepherd label",
        False,
        f"yours has {len(mine)} characters, the record {len(expected)}: the "
        f"problem, a space, then one 'Step k: <step> <+ or ->' per step, "
        f"joined by '\\n'.",
    )
