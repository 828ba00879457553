"""Reinforcement learning with process rewards: GRPO on the step generator.

DeepSeekMath and Math-Shepherd use PRMs beyond reranking: as dense rewards in
RL. This package fine-tunes the course's small generator that way, in plain
PyTorch, and compares three rewards at equal training steps:

- `rollout`: sample a group of solutions per problem, keeping each token's id
  and step (`sample_rollouts`, `token_logprobs`);
- `rewards`: outcome, process (PRM) and exact step rewards, and GRPO's
  group-normalised advantages (`outcome_advantages`, `process_advantages`);
- `grpo`: the loss (`grpo_loss`, with the `kl_k3` penalty) and the training
  loop (`RLConfig`, `train_rl`, `RLResult`);
- `compare`, `plots`: outcome vs process vs exact over seeds, accuracy
  curves and the reward-hacking view.

Defined in notebook 08.
"""

from prm_edu.rl.compare import (
    area_under,
    compare_rewards,
    curves,
    history_rows,
)
from prm_edu.rl.grpo import (
    HELD_OUT_SEED,
    RLConfig,
    RLResult,
    evaluate,
    grpo_loss,
    held_out_problems,
    kl_k3,
    train_rl,
)
from prm_edu.rl.plots import group_table, plot_accuracy, plot_reward_hacking
from prm_edu.rl.rewards import (
    REWARDS,
    Judgement,
    advantages,
    judge,
    normalise,
    outcome_advantages,
    process_advantages,
    token_advantages,
)
from prm_edu.rl.rollout import Rollouts, banned_table, sample_rollouts, token_logprobs

__all__ = [
    "HELD_OUT_SEED",
    "Judgement",
    "REWARDS",
    "RLConfig",
    "RLResult",
    "Rollouts",
    "advantages",
    "area_under",
    "banned_table",
    "compare_rewards",
    "curves",
    "evaluate",
    "group_table",
    "grpo_loss",
    "held_out_problems",
    "history_rows",
    "judge",
    "kl_k3",
    "normalise",
    "outcome_advantages",
    "plot_accuracy",
    "plot_reward_hacking",
    "process_advantages",
    "sample_rollouts",
    "token_advantages",
    "token_logprobs",
    "train_rl",
]
