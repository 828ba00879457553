"""Rewards and advantages for GRPO, from an outcome, a PRM, or the exact checker.

Three ways to reward a sampled solution (`REWARDS`):

- ``"outcome"``: 1 when the final answer is right, else 0 (`world.grade`).
  One number per solution: sparse, and blind to how the answer was reached.
- ``"process"``: the PRM's probability that each step is good, one reward per
  step: dense, but only as right as the PRM.
- ``"exact"``: the exact checker's step labels (+1 progress, 0 a correct step
  that makes no progress, -1 wrong) used as step rewards: a PRM that is never
  wrong, the upper bound of what process rewards can do.

GRPO (DeepSeekMath, Shao et al. 2024) has no value network: a solution is
judged against the other solutions of its group (same problem). With an
outcome reward, every token of solution i gets the advantage
``(r_i - mean(r)) / std(r)`` over the group (`outcome_advantages`). With step
rewards, all the steps of the group are normalised together and a token's
advantage is the sum of the normalised rewards of its own step and every
later step of its solution (`process_advantages`, ``credit="to_go"``), or its
own step's alone (``credit="step"``). Defined in notebook 08.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from prm_edu import metrics
from prm_edu.rl.rollout import Rollouts

REWARDS = ("outcome", "process", "exact")
CREDITS = ("to_go", "step")


@dataclass
class Judgement:
    """Everything known about a batch of sampled solutions, one entry each.

    `correct[i]`: is the final answer right; `labels[i]`: the exact checker's
    label per step; `prm_scores[i]`: the PRM's P(good) per step (None when no
    PRM was given). Every reward, and every curve of the reward-hacking view,
    is computed from these.
    """

    correct: list[bool]
    labels: list[list[int]]
    prm_scores: list[list[float]] | None

    def step_rewards(self, reward: str) -> list[list[float]]:
        """One reward per step: the PRM's score ("process") or the exact label
        ("exact")."""
        if reward == "process":
            if self.prm_scores is None:
                raise ValueError(
                    'reward="process" needs a PRM: pass prm=load_prm(world).'
                )
            return [list(s) for s in self.prm_scores]
        if reward == "exact":
            return [[float(v) for v in row] for row in self.labels]
        raise ValueError(
            f"{reward!r} has no step rewards: use 'process' or 'exact' (or "
            f"outcome_rewards() for 'outcome')."
        )

    def outcome_rewards(self) -> list[float]:
        return [1.0 if c else 0.0 for c in self.correct]

    def mean_reward(self, reward: str) -> float:
        """The mean raw reward of the batch: accuracy for "outcome", the mean
        step reward otherwise."""
        if reward == "outcome":
            return _mean(self.outcome_rewards())
        return _mean([r for row in self.step_rewards(reward) for r in row])

    def prm_step_auroc(self) -> float:
        """How well the PRM tells good steps (label >= 0) from bad ones in
        this batch (AUROC; NaN without a PRM or without both kinds). When a
        policy drifts to text the PRM never saw, this is what drops."""
        if self.prm_scores is None:
            return math.nan
        scores = [s for row in self.prm_scores for s in row]
        good = [int(v >= 0) for row in self.labels for v in row]
        if len(set(good)) < 2:
            return math.nan
        return metrics.auroc(scores, good)


def judge(world, rollouts: Rollouts, prm=None) -> Judgement:
    """Grade, check and (with a `prm`) score every sampled solution."""
    correct, labels = [], []
    for i, steps in enumerate(rollouts.steps):
        problem = rollouts.problem_of(i)
        correct.append(bool(world.grade(problem, steps)))
        labels.append([lab.value for lab in world.check(problem, steps)])
    scores = None
    if prm is not None:
        items = [
            (rollouts.problem_of(i).text, list(s)) for i, s in enumerate(rollouts.steps)
        ]
        scores = prm.score_batch(items)
    return Judgement(correct, labels, scores)


def normalise(values: Sequence[float], eps: float = 1e-4) -> list[float]:
    """``(v - mean) / (std + eps)``, the population std; all zeros when the
    values are all equal (the group holds no signal)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if std == 0:
        return [0.0] * len(values)
    return [(v - mean) / (std + eps) for v in values]


def outcome_advantages(
    rewards: Sequence[float], group_size: int, eps: float = 1e-4
) -> list[float]:
    """One advantage per solution: its reward normalised within its group.

    Within each group of `group_size` consecutive solutions they sum to zero;
    a group where all are right (or all wrong) gets zeros: nothing to learn.
    """
    _check_groups(len(rewards), group_size)
    out: list[float] = []
    for start in range(0, len(rewards), group_size):
        out += normalise(rewards[start : start + group_size], eps)
    return out


def process_advantages(
    step_rewards: Sequence[Sequence[float]],
    group_size: int,
    credit: str = "to_go",
    eps: float = 1e-4,
) -> list[list[float]]:
    """One advantage per step of each solution, from per-step rewards.

    The rewards of all steps of all solutions in a group are normalised
    together; then ``credit="to_go"`` gives step k the sum of the normalised
    rewards of steps k, k+1, ... of its solution (DeepSeekMath's process
    supervision), and ``credit="step"`` gives it its own normalised reward.
    """
    if credit not in CREDITS:
        raise ValueError(f"credit must be one of {CREDITS}, got {credit!r}.")
    _check_groups(len(step_rewards), group_size)
    out: list[list[float]] = []
    for start in range(0, len(step_rewards), group_size):
        group = step_rewards[start : start + group_size]
        every_step = [r for row in group for r in row]
        flat = normalise(every_step, eps) if every_step else []
        at = 0
        for row in group:
            mine = flat[at : at + len(row)]
            at += len(row)
            if credit == "to_go":
                mine = [sum(mine[k:]) for k in range(len(mine))]
            out.append(mine)
    return out


def token_advantages(
    rollouts: Rollouts,
    per_solution: Sequence[float] | None = None,
    per_step: Sequence[Sequence[float]] | None = None,
) -> torch.Tensor:
    """Advantages laid out like `token_logprobs`: an (n, length - 1) tensor.

    Give `per_solution` (one number per solution, broadcast to all of its
    tokens) or `per_step` (one number per step, given to that step's tokens).
    Zero where no token was sampled.
    """
    if (per_solution is None) == (per_step is None):
        raise ValueError("give exactly one of per_solution and per_step.")
    step_of = rollouts.step_of[:, 1:]
    where = rollouts.sampled[:, 1:]
    out = torch.zeros(step_of.shape, dtype=torch.float)
    for i in range(len(rollouts)):
        if per_solution is not None:
            out[i, where[i]] = float(per_solution[i])
            continue
        values = torch.tensor(list(per_step[i]), dtype=torch.float)
        n_steps = len(rollouts.steps[i])
        if len(values) != n_steps:
            raise ValueError(
                f"solution {i} has {n_steps} steps but {len(values)} step "
                f"advantages: give one per step."
            )
        out[i, where[i]] = values[step_of[i, where[i]]]
    return out


def advantages(
    reward: str,
    judgement: Judgement,
    rollouts: Rollouts,
    credit: str = "to_go",
    eps: float = 1e-4,
) -> torch.Tensor:
    """The token advantages that `reward` ("outcome", "process" or "exact")
    gives this batch, as an (n, length - 1) tensor."""
    if reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}.")
    g = rollouts.group_size
    if reward == "outcome":
        adv = outcome_advantages(judgement.outcome_rewards(), g, eps)
        return token_advantages(rollouts, per_solution=adv)
    per_step = process_advantages(judgement.step_rewards(reward), g, credit, eps)
    return token_advantages(rollouts, per_step=per_step)


def _check_groups(n: int, group_size: int) -> None:
    if group_size < 1 or n % group_size:
        raise ValueError(
            f"{n} solutions do not split into groups of {group_size}: give "
            f"group_size solutions per problem, the groups one after another."
        )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
