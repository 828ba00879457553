"""Checks for notebook 08's exercises: GRPO's advantages and KL penalty by hand.

Each check takes the inputs the notebook gave and the learner's answer, and
compares it with what `prm_edu.rl` computes, naming the first value that is
off.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from prm_edu.exercises.check import Verdict, compare
from prm_edu.rl.grpo import kl_k3
from prm_edu.rl.rewards import outcome_advantages, process_advantages


def check_group_advantages(
    rewards: Sequence[float], group_size: int, mine: Sequence[float]
) -> Verdict:
    """Outcome advantages: each reward minus its group's mean, divided by the
    group's (population) standard deviation."""
    expected = outcome_advantages(list(rewards), group_size, eps=0.0)
    return compare(
        "group-normalised advantages",
        [float(x) for x in mine],
        expected,
        tol=1e-3,
        hint="Normalise within each group of group_size rewards: subtract the "
        "group's mean, divide by its standard deviation (statistics.pstdev, "
        "not stdev).",
    )


def check_steps_to_go(
    step_rewards: Sequence[Sequence[float]],
    group_size: int,
    mine: Sequence[Sequence[float]],
) -> Verdict:
    """Process advantages: normalise every step reward of the group together,
    then give each step the sum of its own and all later normalised rewards."""
    expected = process_advantages(step_rewards, group_size, "to_go", eps=0.0)
    if len(mine) != len(expected) or any(
        len(a) != len(b) for a, b in zip(mine, expected)
    ):
        return Verdict(
            "process advantages",
            False,
            f"give one list per solution and one number per step: the steps are "
            f"{[len(r) for r in step_rewards]}.",
        )
    flat = [float(x) for row in mine for x in row]
    return compare(
        "process advantages",
        flat,
        [x for row in expected for x in row],
        tol=1e-3,
        hint="(Items are counted through all solutions' steps in order.) "
        "Normalise over all the steps of the group at once, then sum from each "
        "step to the end of its solution.",
    )


def check_kl(
    logp: Sequence[float], ref_logp: Sequence[float], mine: Sequence[float]
) -> Verdict:
    """GRPO's per-token KL estimate, exp(ref - logp) - (ref - logp) - 1."""
    expected = kl_k3(
        torch.tensor([float(x) for x in logp], dtype=torch.float64),
        torch.tensor([float(x) for x in ref_logp], dtype=torch.float64),
    ).tolist()
    mine = [float(x) for x in mine]
    if any(math.isnan(x) for x in mine):
        return Verdict("k3 KL", False, "your answer holds NaN.")
    return compare(
        "k3 KL",
        mine,
        expected,
        tol=1e-4,
        hint="With d = ref_logp - logp, the estimate is exp(d) - d - 1.",
    )
