"""GRPO with outcome, process and exact rewards, on tiny untrained models.

A random tiny GPT-2 writes gibberish, which the equations world marks all
wrong, so its rewards would hold no signal. `ToyWorld` grades the same
gibberish by simple text features instead, so every reward varies within a
group and the updates have something to learn.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import pytest
import torch

from prm_edu import worlds
from prm_edu.models import (
    Generator,
    ModelShape,
    PRMScorer,
    build_tokenizer,
    new_generator,
    new_prm,
)
from prm_edu.models.tokenizer import separator_id
from prm_edu.rl import (
    REWARDS,
    RLConfig,
    advantages,
    banned_table,
    curves,
    grpo_loss,
    judge,
    kl_k3,
    normalise,
    outcome_advantages,
    process_advantages,
    sample_rollouts,
    token_advantages,
    token_logprobs,
    train_rl,
)
from prm_edu.rl.compare import compare_rewards
from prm_edu.rl.rollout import FIRST_TOKEN, IN_STEP, STEP_START, Rollouts
from prm_edu.worlds.base import StepLabel

TINY = ModelShape(d_model=32, n_layers=2, n_heads=2, context=96)
SMALL_RUN = dict(
    steps=2,
    problems_per_step=2,
    group_size=4,
    max_steps=3,
    max_step_tokens=6,
    eval_problems=3,
    eval_every=2,
    lr=3e-3,
    progress=False,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # shared cores: see tests/test_models.py
    yield
    torch.set_num_threads(before)


@dataclass(frozen=True)
class ToyProblem:
    text: str
    level: int = 1


class ToyWorld:
    """Grades gibberish: right when the last step has a digit; a step is +1
    with an "=", 0 with a digit, -1 otherwise."""

    def sample(self, n, seed=0, level=None):
        return [
            ToyProblem(f"Solve {(31 * seed + i) % 997}x + 5 = 15") for i in range(n)
        ]

    def grade(self, problem, steps):
        return bool(steps) and any(c.isdigit() for c in steps[-1])

    def check(self, problem, steps):
        return [
            StepLabel(1 if "=" in s else 0 if any(c.isdigit() for c in s) else -1, "")
            for s in steps
        ]


@pytest.fixture(scope="module")
def tok():
    world = worlds.get("equations")
    problems = world.sample(30, seed=1)
    return build_tokenizer(t for p in problems for t in (p.text, *world.solve(p)))


@pytest.fixture(scope="module")
def generator(tok):
    return Generator(new_generator(tok, TINY, seed=0), tok)


@pytest.fixture(scope="module")
def prm(tok):
    return PRMScorer(new_prm(tok, TINY, seed=1), tok)


@pytest.fixture(scope="module")
def rollouts(generator, tok):
    problems = ToyWorld().sample(3)
    return sample_rollouts(
        generator.model,
        tok,
        problems,
        4,
        max_steps=3,
        max_step_tokens=6,
        generator=torch.Generator().manual_seed(0),
    )


# --------------------------------------------------------------------------- #
# Rollouts
# --------------------------------------------------------------------------- #


def test_rollouts_keep_ids_steps_and_rules(rollouts, tok):
    sep, eos = separator_id(tok), tok.eos_token_id
    assert len(rollouts) == 12 and rollouts.n_groups == 3
    for i in range(len(rollouts)):
        row = rollouts.sampled[i]
        ids = rollouts.input_ids[i][row].tolist()
        step_of = rollouts.step_of[i][row].tolist()
        rule = rollouts.rule[i][row].tolist()
        steps = rollouts.steps[i]
        assert 1 <= len(steps) <= 3
        # Grouping the sampled ids by step gives back each step's text.
        for k, text in enumerate(steps):
            body = [t for t, s in zip(ids, step_of) if s == k and t not in (sep, eos)]
            assert tok.decode(body) == text
        # The rule at each token follows from the tokens before it.
        assert rule[0] == FIRST_TOKEN
        for before, t, r in zip(ids, ids[1:], rule[1:]):
            assert r == (IN_STEP if before != sep else STEP_START)
            if r == STEP_START:
                assert t != sep  # never an empty step
        assert eos not in ids[:-1]
        assert rollouts.finished[i] == (ids[-1] == eos)
        # The prompt is the problem and its "\n", as the generator reads it.
        prompt = rollouts.input_ids[i][: int(row.nonzero()[0])].tolist()
        assert tok.decode(prompt) == rollouts.problem_of(i).text + "\n"


def test_banned_tokens_are_never_sampled(rollouts, tok):
    banned = banned_table(tok)
    for i in range(len(rollouts)):
        row = rollouts.sampled[i]
        for t, r in zip(rollouts.input_ids[i][row], rollouts.rule[i][row]):
            assert not banned[r, t]
    assert banned[FIRST_TOKEN, tok.eos_token_id] and banned[IN_STEP, tok.eos_token_id]
    assert not banned[STEP_START, tok.eos_token_id]


def test_same_seed_same_rollouts(generator, tok, rollouts):
    again = sample_rollouts(
        generator.model,
        tok,
        ToyWorld().sample(3),
        4,
        max_steps=3,
        max_step_tokens=6,
        generator=torch.Generator().manual_seed(0),
    )
    assert again.steps == rollouts.steps
    assert torch.equal(again.input_ids, rollouts.input_ids)


def test_logprobs_do_not_depend_on_padding(generator, rollouts, tok):
    banned = banned_table(tok)
    batch = token_logprobs(generator.model, rollouts, banned)
    for i in range(len(rollouts)):
        n = int(rollouts.attention_mask[i].sum())
        alone = Rollouts(
            [rollouts.problem_of(i)],
            1,
            *(
                t[i : i + 1, :n]
                for t in (
                    rollouts.input_ids,
                    rollouts.attention_mask,
                    rollouts.sampled,
                    rollouts.step_of,
                    rollouts.rule,
                )
            ),
            [rollouts.steps[i]],
            [rollouts.finished[i]],
        )
        single = token_logprobs(generator.model, alone, banned)[0]
        assert torch.allclose(batch[i, : n - 1], single, atol=1e-5)
        assert torch.all(batch[i, n - 1 :] == 0)
    assert torch.all(batch[rollouts.sampled[:, 1:]] < 0)


def test_bad_sampling_settings_are_refused(generator, tok):
    with pytest.raises(ValueError, match="temperature"):
        sample_rollouts(generator.model, tok, ToyWorld().sample(1), 2, temperature=0)
    with pytest.raises(ValueError, match="group_size"):
        sample_rollouts(generator.model, tok, ToyWorld().sample(1), 0)


# --------------------------------------------------------------------------- #
# Advantages
# --------------------------------------------------------------------------- #


def test_outcome_advantages_by_hand():
    adv = outcome_advantages([1, 0, 0, 1, 1, 1, 1, 1], 4, eps=0)
    assert adv[:4] == [1.0, -1.0, -1.0, 1.0]  # mean 0.5, std 0.5
    assert adv[4:] == [0.0] * 4  # all right: nothing to learn


def test_advantages_sum_to_zero_within_each_group():
    rng = torch.Generator().manual_seed(0)
    rewards = torch.rand(24, generator=rng).round().tolist()
    adv = outcome_advantages(rewards, 6)
    for g in range(4):
        assert abs(sum(adv[6 * g : 6 * g + 6])) < 1e-9
    steps = [torch.rand(1 + i % 3, generator=rng).tolist() for i in range(24)]
    per_step = process_advantages(steps, 6, credit="step")
    for g in range(4):
        assert abs(sum(a for row in per_step[6 * g : 6 * g + 6] for a in row)) < 1e-9


def test_process_advantages_sum_the_steps_to_go():
    rewards = [[0.9, 0.1], [0.9, 0.9, 0.9], [0.1]]
    norm = normalise([0.9, 0.1, 0.9, 0.9, 0.9, 0.1], eps=0)
    to_go = process_advantages(rewards, 3, credit="to_go", eps=0)
    assert to_go[0] == pytest.approx([norm[0] + norm[1], norm[1]])
    assert to_go[1] == pytest.approx([3 * norm[2], 2 * norm[2], norm[2]])
    assert to_go[2] == pytest.approx([norm[5]])
    with pytest.raises(ValueError, match="groups of 2"):
        process_advantages(rewards, 2)


def test_token_advantages_follow_steps(rollouts):
    per_step = [[10.0 * (k + 1) for k in range(len(s))] for s in rollouts.steps]
    table = token_advantages(rollouts, per_step=per_step)
    step_of, where = rollouts.step_of[:, 1:], rollouts.sampled[:, 1:]
    assert torch.equal(table[where], 10.0 * (step_of[where] + 1).float())
    assert torch.all(table[~where] == 0)
    flat = token_advantages(rollouts, per_solution=list(range(len(rollouts))))
    for i in range(len(rollouts)):
        assert set(flat[i][where[i]].tolist()) == {float(i)}


def test_every_reward_gives_advantages(rollouts, prm):
    verdict = judge(ToyWorld(), rollouts, prm)
    for reward in REWARDS:
        adv = advantages(reward, verdict, rollouts)
        assert adv.shape == rollouts.step_of[:, 1:].shape
        assert adv.abs().sum() > 0, f"{reward}: no signal in the toy batch"
    with pytest.raises(ValueError, match="needs a PRM"):
        advantages("process", judge(ToyWorld(), rollouts), rollouts)


# --------------------------------------------------------------------------- #
# Loss and training
# --------------------------------------------------------------------------- #


def test_kl_k3_is_zero_only_where_the_models_agree():
    lp = torch.log(torch.tensor([0.2, 0.5, 0.9]))
    assert torch.all(kl_k3(lp, lp) == 0)
    assert torch.all(kl_k3(lp, lp.flip(0)) >= 0)
    assert kl_k3(lp, lp.flip(0))[0] > 0


@pytest.mark.parametrize("reward", REWARDS)
def test_a_few_steps_change_the_policy_and_lower_its_loss(reward, generator, tok, prm):
    world = ToyWorld()
    config = RLConfig(reward=reward, **{**SMALL_RUN, "steps": 3})
    result = train_rl(generator, world, config, prm=prm)
    policy, start = result.generator.model, generator.model
    assert policy is not start
    with torch.no_grad():
        moved = sum(
            float((a - b).abs().sum())
            for a, b in zip(policy.parameters(), start.parameters())
        )
    assert moved > 0
    rows = result.history[1:]
    assert rows[0]["kl"] == 0.0  # the KL term is zero at the start
    assert rows[-1]["kl"] > 0
    assert [h["step"] for h in result.history] == [0, 1, 2, 3]
    for key in ("loss", "reward", "prm_score", "accuracy", "step_accuracy"):
        assert all(math.isfinite(h[key]) for h in rows), key
    assert "held_out_accuracy" in result.history[0]
    assert "held_out_accuracy" in result.history[2]

    # The loss on one batch, before and after one update on it.
    policy = copy.deepcopy(start)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-3)
    banned = banned_table(tok)
    batch = sample_rollouts(
        policy,
        tok,
        world.sample(4),
        6,
        max_steps=3,
        max_step_tokens=6,
        generator=torch.Generator().manual_seed(1),
    )
    adv = advantages(reward, judge(world, batch, prm), batch)
    where = batch.sampled[:, 1:].float()
    with torch.no_grad():
        old = token_logprobs(policy, batch, banned)
    losses = []
    for _ in range(2):
        logp = token_logprobs(policy, batch, banned)
        loss, stats = grpo_loss(logp, old, old, adv, where, kl_coef=0.04)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert losses[1] < losses[0], f"{reward}: {losses}"
    with torch.no_grad():
        assert not torch.allclose(token_logprobs(policy, batch, banned), old)


def test_the_starting_generator_is_left_alone(generator, prm):
    before = [p.detach().clone() for p in generator.model.parameters()]
    train_rl(generator, ToyWorld(), RLConfig(reward="exact", **SMALL_RUN), prm=prm)
    after = list(generator.model.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, after))


def test_training_is_seeded(generator, prm):
    config = RLConfig(reward="outcome", **SMALL_RUN)
    one = train_rl(generator, ToyWorld(), config, prm=prm).history
    two = train_rl(generator, ToyWorld(), config, prm=prm).history
    drop = ("elapsed_s",)
    assert [{k: v for k, v in h.items() if k not in drop} for h in one] == [
        {k: v for k, v in h.items() if k not in drop} for h in two
    ]


def test_compare_and_curves(generator, prm):
    config = RLConfig(**SMALL_RUN)
    results = compare_rewards(
        generator,
        ToyWorld(),
        prm,
        rewards=("outcome", "exact"),
        seeds=(0, 1),
        config=config,
    )
    assert set(results) == {("outcome", 0), ("exact", 0), ("outcome", 1), ("exact", 1)}
    c = curves(results)
    assert set(c) == {"outcome", "exact"}
    assert c["exact"]["steps"] == [0, 2]
    assert set(c["exact"]["per_seed"]) == {"0", "1"}
    for lo, mid, hi in zip(c["exact"]["min"], c["exact"]["mean"], c["exact"]["max"]):
        assert lo <= mid <= hi


def test_config_refuses_bad_values():
    with pytest.raises(ValueError, match="reward"):
        RLConfig(reward="vibes")
    with pytest.raises(ValueError, match="group_size"):
        RLConfig(group_size=1)
    with pytest.raises(ValueError, match="lr"):
        RLConfig(lr=0)


def test_process_reward_needs_a_prm(generator):
    with pytest.raises(ValueError, match="needs a PRM"):
        train_rl(generator, ToyWorld(), RLConfig(reward="process", **SMALL_RUN))


def test_runs_on_the_equations_world(generator, prm):
    """Gibberish on the real world: every answer wrong, every step -1, so the
    outcome and exact advantages are all zero and only the KL could move it."""
    result = train_rl(
        generator, "equations", RLConfig(reward="exact", **SMALL_RUN), prm=prm
    )
    rows = result.history[1:]
    assert all(h["accuracy"] == 0 and h["step_accuracy"] == 0 for h in rows)
    assert all(h["loss"] == 0 for h in rows)


def test_prm_auroc_and_tables(rollouts, prm):
    from prm_edu.rl import Judgement, group_table

    verdict = Judgement([True, False], [[1, -1], [0]], [[0.9, 0.2], [0.6]])
    assert verdict.prm_step_auroc() == 1.0
    assert math.isnan(Judgement([True], [[1]], [[0.5]]).prm_step_auroc())
    assert math.isnan(Judgement([True], [[1, -1]], None).prm_step_auroc())
    table = group_table(rollouts, judge(ToyWorld(), rollouts, prm), group=1)
    assert list(table.columns) == ["steps", "right", "exact labels", "PRM scores"]
    assert len(table) == rollouts.group_size


def test_plots_draw_every_reward(generator, prm):
    import matplotlib

    matplotlib.use("Agg")
    from prm_edu.rl import plot_accuracy, plot_reward_hacking

    results = compare_rewards(
        generator,
        ToyWorld(),
        prm,
        rewards=REWARDS,
        seeds=(0,),
        config=RLConfig(**SMALL_RUN),
    )
    fig = plot_accuracy(results)
    assert len(fig.axes[0].lines) == 3
    fig = plot_reward_hacking(results)
    assert [ax.get_title() for ax in fig.axes] == [f"{r} reward" for r in REWARDS]
    with pytest.raises(ValueError, match="seeds are"):
        plot_reward_hacking(results, seed=5)


def test_bench_compares_rewards(monkeypatch, generator, prm):
    import argparse
    import json

    import prm_edu.models
    from prm_edu.bench import rl as bench

    monkeypatch.setattr(prm_edu.models, "load_generator", lambda world: generator)
    monkeypatch.setattr(prm_edu.models, "load_prm", lambda world: prm)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(
        "--seeds 0,1 --rewards outcome,process --steps 2 --eval-every 1 "
        "--eval-problems 2 --problems-per-step 2 --group-size 2 --max-steps 1".split()
    )
    out = bench.run(args)
    json.dumps(out)  # the --json output
    assert set(out["curves"]) == {"outcome", "process"}
    assert out["curves"]["process"]["steps"] == [0, 1, 2]
    assert set(out["summary"]["outcome"]) >= {"start_accuracy", "final_accuracy"}
    assert len(out["process_minus_outcome_area"]["per_seed"]) == 2
    assert set(out["checkpoints"]) == {"generator", "prm"}
    # The description follows the evaluation actually run (sampled, not greedy).
    assert out["config"]["eval_temperature"] > 0
    assert "sampled at T=" in out["held_out"] and "greedy" not in out["held_out"]
    assert "process - outcome" in bench.format_text(out)


def test_exercise_checks_accept_the_answers_and_name_mistakes():
    from prm_edu.exercises.rl_with_process_rewards import (
        check_group_advantages,
        check_kl,
        check_steps_to_go,
    )

    good = [2**0.5, -(0.5**0.5), -(0.5**0.5), 2**0.5, -(0.5**0.5), -(0.5**0.5)]
    assert check_group_advantages([1, 0, 0, 1, 0, 0], 6, good)
    wrong = check_group_advantages([1, 0, 0, 1, 0, 0], 6, [1, -1, -1, 1, -1, -1])
    assert not wrong and "item 0" in wrong.message
    r = 3**0.5 / 3  # +1 steps normalise to 1/sqrt(3), the -1 step to -sqrt(3)
    answer = [[r - 3**0.5, -(3**0.5)], [2 * r, r]]
    assert check_steps_to_go([[1, -1], [1, 1]], 2, answer)
    assert not check_steps_to_go([[1, -1], [1, 1]], 2, [[1.0], [1.0, 2.0]])
    logp, ref = [math.log(0.5), math.log(0.25)], [math.log(0.25), math.log(0.5)]
    assert check_kl(logp, ref, [0.5 + math.log(2) - 1, 1 - math.log(2)])
    assert not check_kl(logp, ref, [0.0, 0.0])
