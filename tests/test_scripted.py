"""The scripted generator: named errors at known steps, propagation,
compensating errors, determinism, and the StepGenerator protocol."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from prm_edu import worlds
from prm_edu.data.trace import Trace
from prm_edu.generation import complete
from prm_edu.protocols import StepGenerator
from prm_edu.scripted import COMPENSATING_ERROR, ERROR_KINDS, ScriptedGenerator
from prm_edu.worlds.base import InjectedError

NAMES = ["equations", "arithmetic", "game24"]


def _labels(world, trace):
    problem = world.parse_problem(trace.problem)
    return [label.value for label in world.check(problem, trace.steps)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("level", [1, 2, 3])
def test_minus_one_exactly_where_errors_were_injected(name, level):
    world = worlds.get(name)
    problems = world.sample(150, seed=level, level=level)
    traces = ScriptedGenerator(world, error_rate=0.3, seed=level).sample(problems, 2)
    with_errors = 0
    for trace in traces:
        labels = _labels(world, trace)
        errors = trace.meta["errors"]
        assert all(isinstance(e, InjectedError) for e in errors)
        if not errors:
            assert min(labels) >= 0, trace
            continue
        with_errors += 1
        first = errors[0].step
        assert all(v >= 0 for v in labels[:first]), (trace, labels)
        assert all(labels[e.step] == -1 for e in errors), (trace, labels)
        assert trace.with_labels(labels).first_error() == first
    assert with_errors > len(traces) // 4


@pytest.mark.parametrize("name", NAMES)
def test_errors_propagate_to_the_answer(name):
    """After a single slip the solver goes on correctly from what was written:
    the last step is still -1 and the final answer is wrong."""
    world = worlds.get(name)
    gen = ScriptedGenerator(world, error_rate=0.35, seed=11, compensate_rate=0.0)
    carried = 0
    for trace in gen.sample(world.sample(200, seed=5, level=2)):
        errors = trace.meta["errors"]
        if len(errors) != 1 or errors[0].step == len(trace.steps) - 1:
            continue
        if errors[0].kind not in ("arithmetic slip", "sign error"):
            continue
        carried += 1
        labels = _labels(world, trace)
        assert labels[-1] == -1, (trace, labels)
        assert not world.grade(world.parse_problem(trace.problem), trace.steps)
    assert carried >= 10


@pytest.mark.parametrize("name", ["equations", "arithmetic"])
def test_compensating_errors_reach_the_right_answer_by_wrong_reasoning(name):
    world = worlds.get(name)
    gen = ScriptedGenerator(world, error_rate=0.3, seed=3, compensate_rate=1.0)
    lucky = 0
    for trace in gen.sample(world.sample(200, seed=6, level=2)):
        kinds = [e.kind for e in trace.meta["errors"]]
        if COMPENSATING_ERROR not in kinds:
            continue
        problem = world.parse_problem(trace.problem)
        labels = _labels(world, trace)
        assert min(labels) == -1
        if world.grade(problem, trace.steps):
            lucky += 1  # an ORM would call this a good solution
    assert lucky >= 10


def test_every_error_kind_is_used():
    seen = Counter()
    for name in NAMES:
        world = worlds.get(name)
        gen = ScriptedGenerator(world, error_rate=0.5, seed=1)
        for trace in gen.sample(world.sample(100, seed=2, level=3)):
            seen.update((name, e.kind) for e in trace.meta["errors"])
    for name in NAMES:
        for kind in ERROR_KINDS:
            assert seen[(name, kind)] > 0, (name, kind)
        assert seen[(name, COMPENSATING_ERROR)] > 0


@pytest.mark.parametrize("name", NAMES)
def test_error_rate_zero_and_one(name):
    world = worlds.get(name)
    problems = world.sample(50, seed=3)
    for trace in ScriptedGenerator(world, error_rate=0.0).sample(problems):
        assert not trace.meta["errors"]
        assert min(_labels(world, trace)) >= 0
        assert world.grade(world.parse_problem(trace.problem), trace.steps)
        assert trace.answer == world.answer(world.parse_problem(trace.problem))
    for trace in ScriptedGenerator(world, error_rate=1.0).sample(problems):
        assert trace.meta["errors"][0].step == 0
        assert _labels(world, trace)[0] == -1


def test_deterministic_and_independent_of_the_batch():
    world = worlds.get("arithmetic")
    problems = world.sample(10, seed=1)
    a = ScriptedGenerator(world, error_rate=0.4, seed=7).sample(problems, 3)
    b = ScriptedGenerator("arithmetic", error_rate=0.4, seed=7).sample(problems, 3)
    assert a == b and [t.meta for t in a] == [t.meta for t in b]
    alone = ScriptedGenerator(world, error_rate=0.4, seed=7).sample(problems[4:5], 3)
    assert alone == a[12:15]
    other = ScriptedGenerator(world, error_rate=0.4, seed=8).sample(problems, 3)
    assert other != a
    assert all(isinstance(t, Trace) and t.meta["world"] == "arithmetic" for t in a)
    texts = ScriptedGenerator(world, seed=7).sample([p.text for p in problems[:2]])
    assert [t.problem for t in texts] == [p.text for p in problems[:2]]


def test_world_scripted_sample_directly():
    world = worlds.get("equations")
    problem = world.parse_problem("2x + 5 = 15")
    first = world.scripted_sample(problem, random.Random(1), 0.5)
    assert first == world.scripted_sample(problem, random.Random(1), 0.5)
    with pytest.raises(ValueError, match="error_rate"):
        world.scripted_sample(problem, random.Random(1), 1.5)
    with pytest.raises(ValueError, match="error_rate"):
        ScriptedGenerator(world, error_rate=-0.1)


@pytest.mark.parametrize("name", NAMES)
def test_step_generator_protocol(name):
    world = worlds.get(name)
    gen = ScriptedGenerator(world, error_rate=0.0, seed=2)
    assert isinstance(gen, StepGenerator)
    problems = world.sample(30, seed=4)
    done = complete(gen, [(p.text, []) for p in problems], max_steps=10, seed=1)
    for problem, completion in zip(problems, done):
        assert completion.finished
        assert world.grade(problem, completion.steps)
        assert min(v.value for v in world.check(problem, completion.steps)) >= 0
    assert gen.usage.forward_passes > 0 and gen.usage.tokens > 0
    # From a half-written state it carries on; from a finished one it stops.
    steps = world.solve(problems[0])
    [nxt] = gen.next_steps([(problems[0].text, steps[:1])], seed=0)
    assert nxt.text == steps[1] or world.check(problems[0], [*steps[:1], nxt.text])
    [end] = gen.next_steps([(problems[0].text, steps)], seed=0)
    assert end.text == "" and end.final
    noisy = ScriptedGenerator(world, error_rate=1.0, seed=2)
    [bad] = noisy.next_steps([(problems[0].text, [])], seed=0)
    assert world.check(problems[0], [bad.text])[0].value == -1
