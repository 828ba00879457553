"""Labels on a toy counting world, with scripted generators and scorers."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pytest

from prm_edu.data.trace import Trace
from prm_edu.labels import (
    ActiveLearningConfig,
    RolloutConfig,
    active_learning_curve,
    aggregate,
    exact_labels,
    harden,
    label_traces,
    mc_agreement,
    mc_confusion,
    monte_carlo_labels,
    select_convincing_wrong,
)
from prm_edu.protocols import GeneratedStep, Usage
from prm_edu.worlds.base import ScriptedSample, StepLabel, World


@dataclass(frozen=True)
class Count:
    start: int
    n: int
    level: int = 1

    @property
    def text(self) -> str:
        return f"count {self.n} up from {self.start}"


class CountWorld(World):
    """Count up by one, `n` times. A step is right when it is one more than the
    step before; the answer is the last step once there are `n` of them."""

    name = "count"
    levels = (1,)
    default_level = 1

    def _sample_one(self, rng, level):
        return Count(rng.randint(0, 20), rng.randint(2, 4))

    def parse_problem(self, text):
        m = re.fullmatch(r"count (\d+) up from (\d+)", text)
        return Count(int(m[2]), int(m[1]))

    def solve(self, problem):
        return [str(problem.start + i) for i in range(1, problem.n + 1)]

    def check(self, problem, steps):
        prev, out = problem.start, []
        for s in steps:
            v = int(s)
            ok = v == prev + 1
            out.append(StepLabel(1 if ok else -1, "ok" if ok else f"{prev}+1 != {v}"))
            prev = v
        return out

    def extract_answer(self, problem, steps):
        return steps[-1] if len(steps) == problem.n else None

    def answer(self, problem):
        return str(problem.start + problem.n)

    def scripted_sample(self, problem, rng, error_rate):
        return ScriptedSample(tuple(self.solve(problem)), ())


WORLD = CountWorld()


class ScriptedGenerator:
    """Next step = previous value + 1 (`faithful`), or the right absolute value
    (`compensating`: it repairs earlier mistakes), or, with probability
    `slip`, one too many."""

    def __init__(self, mode="faithful", slip=0.0):
        self.mode, self.slip = mode, slip
        self.usage = Usage()
        self.batch_sizes = []

    def next_steps(self, states, *, temperature=1.0, seed=None):
        rng = random.Random(seed)
        self.batch_sizes.append(len(states))
        self.usage.forward_passes += 1
        out = []
        for text, steps in states:
            p = WORLD.parse_problem(text)
            prev = int(steps[-1]) if steps else p.start
            v = prev + 1 if self.mode == "faithful" else p.start + len(steps) + 1
            if rng.random() < self.slip:
                v += 1
            out.append(GeneratedStep(str(v), 1, final=len(steps) + 1 >= p.n))
            self.usage.tokens += 1
        return out


def trace(start, steps, n=None):
    return Trace(Count(start, n or len(steps)).text, [str(s) for s in steps])


# ------------------------------------------------------------------ exact


def test_exact_labels_carry_reasons_and_answer():
    t = exact_labels(WORLD, Count(3, 2), ["4", "6"])
    assert t.labels == (1, -1) and t.reasons == ("ok", "4+1 != 6")
    assert t.answer == "6" and t.problem == "count 2 up from 3"
    assert exact_labels(WORLD, "count 2 up from 3", ["4"]).answer is None


def test_exact_labels_empty_solution():
    with pytest.raises(ValueError, match="empty solution"):
        exact_labels(WORLD, Count(3, 2), [])


def test_label_traces_keeps_meta():
    t = Trace("count 2 up from 3", ["4", "5"], meta={"id": 7})
    (out,) = label_traces(WORLD, [t])
    assert out.labels == (1, 1) and out.meta == {"id": 7}


# ------------------------------------------------------------- Monte Carlo


TRACES = [
    trace(3, [4, 5, 6]),  # all right
    trace(3, [4, 6, 7]),  # wrong at 1, then consistent
    trace(0, [2, 3], n=3),  # wrong at 0, unfinished
    trace(10, [11]),  # one step, right
]


def up_to_first_error(t):
    e = t.first_error()
    return t.labels if e < 0 else t.labels[: e + 1]


def test_faithful_generator_agrees_up_to_the_first_error():
    # A generator that always continues correctly from where it is gives MC
    # labels equal to the exact ones up to the first error. After it, the
    # checker still judges each step on its own (7 follows 6 correctly), but
    # no rollout can reach the right answer any more: MC says -1.
    gen = ScriptedGenerator("faithful")
    mc = monte_carlo_labels(WORLD, gen, TRACES, RolloutConfig(n_rollouts=3))
    exact = label_traces(WORLD, TRACES)
    for m, e in zip(mc, exact, strict=True):
        assert up_to_first_error(m) == up_to_first_error(e)
    assert [m.labels for m in mc] == [(1, 1, 1), (1, -1, -1), (-1, -1), (1,)]
    conf = mc_confusion(mc, exact)
    assert (conf.optimistic, conf.pessimistic) == (0, 2)
    assert mc_agreement(mc, exact) == pytest.approx(7 / 9)
    assert mc[0].meta["mc_correct"] == (3, 3, 3) and mc[0].meta["mc_rollouts"] == 3
    assert mc[1].reasons[1] == "0/3 rollouts reach the right answer: none does"


def test_compensating_generator_makes_labels_optimistic():
    # A generator that always finishes with the right answer, even repairing
    # earlier mistakes, labels every correct step +1 and wrong steps too.
    gen = ScriptedGenerator("compensating")
    mc = monte_carlo_labels(WORLD, gen, TRACES, RolloutConfig(n_rollouts=2))
    exact = label_traces(WORLD, TRACES)
    assert [m.labels for m in mc] == [(1, 1, 1), (1, 1, -1), (1, 1), (1,)]
    conf = mc_confusion(mc, exact)
    # Wrong steps: trace 1 step 1 and trace 2 step 0, both rescued by rollouts.
    assert (conf.optimistic, conf.pessimistic) == (2, 1)
    assert conf.n_steps == 9 and conf.agreement == pytest.approx(6 / 9)


def test_last_step_of_a_finished_trace_is_graded_not_rolled_out():
    gen = ScriptedGenerator("faithful")
    monte_carlo_labels(WORLD, gen, [trace(10, [11])], RolloutConfig(n_rollouts=4))
    assert gen.batch_sizes == []  # nothing to roll out
    gen = ScriptedGenerator("faithful")
    monte_carlo_labels(WORLD, gen, [trace(0, [1], n=3)], RolloutConfig(n_rollouts=4))
    assert gen.batch_sizes == [4, 4]  # 4 rollouts, 2 more steps each


def test_soft_labels_are_fractions_and_harden_to_hard():
    gen = ScriptedGenerator("faithful", slip=0.3)
    cfg = RolloutConfig(n_rollouts=8, seed=1)
    soft = monte_carlo_labels(WORLD, gen, TRACES, cfg, soft=True)
    hard = monte_carlo_labels(WORLD, ScriptedGenerator("faithful", 0.3), TRACES, cfg)
    assert all(t.soft for t in soft)
    fractions = [v for t in soft for v in t.labels]
    assert all(0 <= v <= 1 for v in fractions)
    assert any(0 < v < 1 for v in fractions)  # slips make some rollouts fail
    assert [harden(t).labels for t in soft] == [t.labels for t in hard]
    # A slip can only hurt a faithful counter: soft labels never exceed exact.
    assert soft[0].labels[-1] == 1.0  # last step graded, not rolled out


def test_monte_carlo_batches_and_is_repeatable():
    cfg = RolloutConfig(n_rollouts=5, batch_size=7, seed=3)
    gen = ScriptedGenerator("faithful", slip=0.5)
    a = monte_carlo_labels(WORLD, gen, TRACES, cfg, soft=True)
    b = monte_carlo_labels(WORLD, ScriptedGenerator("faithful", 0.5), TRACES, cfg)
    assert max(gen.batch_sizes) <= 7
    assert [harden(t).labels for t in a] == [t.labels for t in b]


def test_monte_carlo_bad_input():
    gen = ScriptedGenerator()
    with pytest.raises(ValueError, match="n_rollouts"):
        RolloutConfig(n_rollouts=0)
    with pytest.raises(ValueError, match="no steps"):
        monte_carlo_labels(WORLD, gen, [Trace("count 2 up from 3", [])])
    with pytest.raises(TypeError, match="list of traces"):
        monte_carlo_labels(WORLD, gen, TRACES[0])


def test_mc_confusion_checks_pairing():
    exact = label_traces(WORLD, TRACES[:2])
    with pytest.raises(ValueError, match="2 traces but exact has 1"):
        mc_confusion(exact, exact[:1])
    with pytest.raises(ValueError, match="different traces"):
        mc_confusion(exact[::-1], exact)
    with pytest.raises(ValueError, match="no labels"):
        mc_confusion(TRACES[:2], exact)


# ---------------------------------------------------------- active learning


def test_aggregate():
    assert aggregate([0.9, 0.2, 0.5], "min") == 0.2
    assert aggregate([0.9, 0.2, 0.5], "last") == 0.5
    assert aggregate([0.5, 0.5], "prod") == 0.25
    with pytest.raises(ValueError, match="how must be one of"):
        aggregate([0.5], "max")


class TableScorer:
    """Scores a step by how often steps with the same jump (value - previous
    value) were good in its training data; 0.5 for jumps it has never seen."""

    def __init__(self, table):
        self.table, self.usage = table, Usage()

    def score(self, problem, steps):
        prev, out = WORLD.parse_problem(problem).start, []
        for s in steps:
            out.append(self.table.get(int(s) - prev, 0.5))
            prev = int(s)
        return out

    def score_batch(self, items):
        return [self.score(p, s) for p, s in items]


def table_trainer(traces, seed):
    seen: dict[int, list[int]] = {}
    for t in traces:
        prev = WORLD.parse_problem(t.problem).start
        for s, y in zip(t.steps, t.labels, strict=True):
            seen.setdefault(int(s) - prev, []).append(y >= 0)
            prev = int(s)
    return TableScorer({d: sum(v) / len(v) for d, v in seen.items()})


def make_pool(n, seed):
    rng = random.Random(seed)
    pool = []
    for _ in range(n):
        p = Count(rng.randint(0, 20), rng.randint(2, 4))
        prev, steps = p.start, []
        for _ in range(p.n):
            # Mostly right; rare jumps of +2 (common) or -1 / +3 (rare).
            prev += rng.choices([1, 2, -1, 3], [0.8, 0.14, 0.03, 0.03])[0]
            steps.append(str(prev))
        pool.append(Trace(p.text, steps))
    return pool


def test_select_convincing_wrong_prefers_high_scoring_wrong_answers():
    scorer = TableScorer({1: 0.9, 2: 0.8, 3: 0.1})
    cands = [trace(0, [1, 2]), trace(0, [2, 3]), trace(0, [3, 4]), trace(0, [1, 3])]
    # right answer: only cands[0]. Wrong ones by min: 1 -> .8, 3 -> .8, 2 -> .1;
    # by last step: 1 -> .9, 2 -> .9, 3 -> .8
    assert select_convincing_wrong(WORLD, scorer, cands, 2) == [1, 3]
    assert select_convincing_wrong(WORLD, scorer, cands, 9, "last") == [1, 2, 3]


def test_active_learning_curve_shapes_and_selection():
    pool = make_pool(200, seed=0)
    evals = label_traces(WORLD, make_pool(100, seed=1))
    cfg = ActiveLearningConfig(initial=10, per_round=10, rounds=3, seed=0)
    curve = active_learning_curve(WORLD, pool, evals, table_trainer, cfg)
    assert [p.n_labelled for p in curve.active] == [10, 20, 30, 40]
    assert [p.n_labelled for p in curve.uniform] == [10, 20, 30, 40]
    assert curve.active[0] == curve.uniform[0]  # same initial uniform set
    # Active labels only wrong answers after round 0 (the pool has enough).
    gained = curve.active[-1].n_wrong_answer - curve.active[0].n_wrong_answer
    assert gained == 30
    assert curve.uniform[-1].n_wrong_answer < curve.active[-1].n_wrong_answer
    assert all(0 <= p.auroc <= 1 for p in curve.active + curve.uniform)
    assert len(curve.rows()) == 8
    again = active_learning_curve(WORLD, pool, evals, table_trainer, cfg)
    assert again.active == curve.active and again.uniform == curve.uniform


def test_active_learning_finds_rare_errors_sooner():
    # The table scorer knows nothing about jumps it never saw; wrong answers
    # the PRM still rates highly are exactly the ones with unseen jumps.
    pool = make_pool(300, seed=2)
    evals = label_traces(WORLD, make_pool(200, seed=3))
    cfg = ActiveLearningConfig(initial=8, per_round=8, rounds=3, seed=4)
    curve = active_learning_curve(WORLD, pool, evals, table_trainer, cfg)
    assert curve.active[-1].auroc >= curve.uniform[-1].auroc
    target = curve.uniform[-1].auroc
    assert curve.labelled_to_reach("active", target) <= 32
    with pytest.raises(ValueError, match="strategy"):
        curve.labelled_to_reach("greedy", 0.5)


def test_active_learning_bad_config():
    with pytest.raises(ValueError, match="select_by"):
        ActiveLearningConfig(select_by="max")
    with pytest.raises(ValueError, match="uniform_share"):
        ActiveLearningConfig(uniform_share=1.5)
    evals = label_traces(WORLD, [trace(3, [4, 5])])
    with pytest.raises(ValueError, match="only good steps"):
        active_learning_curve(WORLD, make_pool(200, 0), evals, table_trainer)
    with pytest.raises(ValueError, match="pool has 5 solutions"):
        active_learning_curve(
            WORLD, make_pool(5, 0), [], table_trainer, ActiveLearningConfig()
        )
