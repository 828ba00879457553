"""Notebook 06's worlds: tiny programs (`code`) and an agent's plans (`plans`).

Solving, exact labels with reasons, scripted errors at the injected step,
hostile text refused quickly with nothing executed, and the plans world's
distance checked against a brute-force search of every reachable state.
"""

from __future__ import annotations

import builtins
import contextlib
import random
import time
from collections import Counter, deque

import pytest

from prm_edu import worlds
from prm_edu.generation import complete
from prm_edu.parsing import ParseError
from prm_edu.protocols import StepGenerator
from prm_edu.scripted import COMPENSATING_ERROR, ScriptedGenerator
from prm_edu.worlds.code import CODE_ERROR_KINDS, CodeWorld, Poly
from prm_edu.worlds.plans import (
    DEAD_END,
    INF,
    PLAN_ERROR_KINDS,
    PlansWorld,
    _distance,
    _do,
    _legal_actions,
    distances,
)

NAMES = ["code", "plans"]
CODE = CodeWorld()
PLANS = PlansWorld()
SEED_PROGRAM = "Given a = 7, b = 3, c = 2, return (a + b) * c - a"
HOUSE = (
    "Doors: hall-kitchen, hall-study. Locked: study. Places: kitchen table, "
    "kitchen bin, hall shelf, study desk. Items: cup on table, key on shelf. "
    "Start: hall. Goal: cup on desk."
)


def values(labels):
    return [label.value for label in labels]


def judged(world, problem, steps):
    return list(zip(values(world.check(problem, steps)), world.check(problem, steps)))


# --------------------------------------------------------------------------- #
# Registry and the common World contract
# --------------------------------------------------------------------------- #


def test_registered_without_changing_names():
    assert worlds.names() == ["equations", "arithmetic", "game24"]
    assert worlds.names(beyond_math=True)[-2:] == NAMES
    for name in NAMES:
        world = worlds.get(name)
        assert isinstance(world, worlds.World) and world.name == name
        assert world.levels == (1, 2, 3) and world.default_level == 2
    with pytest.raises(ValueError, match="'code', 'plans'"):
        worlds.get("chess")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("level", [1, 2, 3])
def test_solve_passes_its_own_check_on_1000_problems(name, level):
    world = worlds.get(name)
    problems = world.sample(1000, seed=level, level=level)
    assert len({p.text for p in problems}) > 100  # a real spread of problems
    for problem in problems:
        assert problem.level == level
        assert "\n" not in problem.text
        assert world.parse_problem(problem.text) == problem
        steps = world.solve(problem)
        assert steps, problem.text
        labels = world.check(problem, steps)
        assert len(labels) == len(steps)
        assert all(label.value == 1 for label in labels), (problem.text, labels)
        assert world.grade(problem, steps), (problem.text, steps)
        assert world.extract_answer(problem, steps) == world.answer(problem)


@pytest.mark.parametrize("name", NAMES)
def test_sampling_is_deterministic(name):
    world = worlds.get(name)
    assert world.sample(20, seed=7) == world.sample(20, seed=7)
    assert world.sample(20, seed=7) != world.sample(20, seed=8)
    assert world.extract_answer(world.sample(1)[0], []) is None


# --------------------------------------------------------------------------- #
# The scripted generator: named errors, labelled -1 exactly where injected
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("level", [1, 2, 3])
def test_minus_one_exactly_where_errors_were_injected(name, level):
    world = worlds.get(name)
    kinds = Counter()
    clean = 0
    for i, problem in enumerate(world.sample(150, seed=10 + level, level=level)):
        sample = world.scripted_sample(problem, random.Random(i), 0.2)
        labels = values(world.check(problem, sample.steps))
        for error in sample.errors:
            kinds[error.kind] += 1
            assert labels[error.step] == -1, (problem.text, sample, labels)
            assert sample.steps[error.step] == error.detail
        if not sample.errors:
            clean += 1
            assert min(labels) >= 0, (problem.text, sample.steps, labels)
            assert world.grade(problem, sample.steps)
        else:
            first = min(e.step for e in sample.errors)
            assert min(labels[:first], default=1) >= 0
    assert clean >= 5
    expected = set(CODE_ERROR_KINDS if name == "code" else PLAN_ERROR_KINDS)
    seen = set(kinds) - {COMPENSATING_ERROR}
    assert seen <= expected
    assert len(seen) >= (3 if level == 1 else 4), kinds


def test_every_error_kind_occurs():
    for world, kinds in ((CODE, CODE_ERROR_KINDS), (PLANS, PLAN_ERROR_KINDS)):
        seen = Counter()
        for level in (2, 3):
            for i, problem in enumerate(world.sample(200, seed=3, level=level)):
                sample = world.scripted_sample(problem, random.Random(i), 0.4)
                seen.update(e.kind for e in sample.errors)
        assert set(kinds) <= set(seen), (world.name, seen)
    assert seen[DEAD_END] > 0


def test_hard_coded_values_pass_the_test_but_not_the_check():
    """The code world's compensating error: right value typed in, not computed."""
    passed_wrongly = 0
    for i, problem in enumerate(CODE.sample(200, seed=5, level=3)):
        sample = CODE.scripted_sample(problem, random.Random(i), 0.3)
        hard = [e for e in sample.errors if e.kind == COMPENSATING_ERROR]
        for e in hard:
            _, expr = e.detail.split("=") if "=" in e.detail else ("", e.detail)
            assert expr.replace("return", "").strip().lstrip("-").isdigit(), e
        if hard and CODE.grade(problem, sample.steps):
            passed_wrongly += 1
            assert min(values(CODE.check(problem, sample.steps))) == -1
    assert passed_wrongly > 5


@pytest.mark.parametrize("name", NAMES)
def test_scripted_generator_protocol(name):
    gen = ScriptedGenerator(name, error_rate=0.2, seed=1)
    assert isinstance(gen, StepGenerator)
    world = gen.world
    problems = world.sample(12, seed=2)
    traces = gen.sample(problems, n=3)
    assert len(traces) == 36 and all(t.meta["world"] == name for t in traces)
    done = complete(gen, [(p.text, []) for p in problems], max_steps=30, seed=4)
    assert all(c.finished for c in done)
    right = [world.grade(p, c.steps) for p, c in zip(problems, done)]
    assert 0 < sum(right) < len(right) or sum(right) == len(right)
    perfect = ScriptedGenerator(name, error_rate=0.0)
    done = complete(perfect, [(p.text, []) for p in problems], max_steps=30, seed=0)
    for p, c in zip(problems, done):
        assert world.grade(p, c.steps)
        assert min(values(world.check(p, c.steps))) == 1


# --------------------------------------------------------------------------- #
# The code world's labels
# --------------------------------------------------------------------------- #


def test_code_seed_program_and_its_bugs():
    p = CODE.parse_problem(SEED_PROGRAM)
    assert p.text == SEED_PROGRAM and p.value == 13 and p.level == 2
    assert CODE.solve(p) == ["p = a + b", "q = p * c", "r = q - a", "return r"]
    out = judged(CODE, p, ["p = a - b", "q = p * c", "r = q - a", "return r"])
    assert [v for v, _ in out] == [-1, -1, -1, -1]
    assert "a - b = 4, which (a + b) * c - a never needs" in out[0][1].reason
    assert "p holds a wrong value from an earlier line" in out[1][1].reason
    assert "returns 1, but the formula gives 13" in out[3][1].reason
    assert CODE.extract_answer(p, ["p = a - b", "q = p * c", "r = q - a", "return r"])
    assert not CODE.grade(p, ["p = a - b", "q = p * c", "r = q - a", "return r"])


def test_code_progress_no_progress_and_regrouping():
    p = CODE.parse_problem("Given a = 2, b = 5, c = 4, return a + b + c * a")
    steps = ["t = c * a", "u = a + t", "x = b", "v = t * 1", "w = u + b", "return w"]
    assert values(CODE.check(p, steps)) == [1, 1, 0, 0, 1, 1]
    reasons = [label.reason for label in CODE.check(p, steps)]
    assert "copy of b" in reasons[2] and "t already holds c * a" in reasons[3]
    # Any grouping of a sum's terms is a part; distributing is not.
    q = CODE.parse_problem("Given a = 2, b = 5, c = 4, return (a + b) * c")
    assert values(CODE.check(q, ["s = b + a", "return s * c"])) == [1, 1]
    assert values(CODE.check(q, ["s = a * c", "t = b * c", "return s + t"])) == [
        -1,
        -1,
        1,
    ]


def test_code_right_answer_wrong_program():
    p = CODE.parse_problem(SEED_PROGRAM)
    for steps in (["p = 10", "q = p * c", "r = q - a", "return r"], ["return 13"]):
        assert CODE.grade(p, steps)
        labels = CODE.check(p, steps)
        assert labels[0].value == -1 and "hard-codes" in labels[0].reason
        assert "for other inputs it would be wrong" in labels[0].reason
    # Right on this test only: c happens to equal 2.
    label = CODE.check(p, ["p = a + b", "q = p * 2"])[1]
    assert label.value == -1 and "not for other inputs" in label.reason


@pytest.mark.parametrize(
    "line, words",
    [
        ("a = a + b", "inputs are read-only"),
        ("p = q + 1", "q is not defined"),
        ("p = a / b", "no division"),
        ("p = a ** 2", "no power"),
        ("p = abs(a)", "no calls"),
        ("p = a.real", "unexpected character '.'"),
        ("P = a + b", "lowercase"),
        ("p = a + b = c", "one '='"),
        ("print(a)", "no calls"),
        ("return", "needs a value"),
    ],
)
def test_code_failing_lines_say_why(line, words):
    p = CODE.parse_problem(SEED_PROGRAM)
    (label,) = CODE.check(p, [line])
    assert label.value == -1 and words in label.reason, label.reason


def test_code_lines_after_return_and_failed_lines_change_nothing():
    p = CODE.parse_problem(SEED_PROGRAM)
    steps = ["p = a + b", "q = p * z", "q = p * c", "return q - a", "r = 1"]
    assert values(CODE.check(p, steps)) == [1, -1, 1, 1, -1]
    assert CODE.extract_answer(p, steps) == "13" and CODE.grade(p, steps)
    assert CODE.extract_answer(p, ["p = a + b"]) is None


def test_code_polynomials_are_canonical():
    a, b = Poly.variable("a"), Poly.variable("b")
    assert (a + b) * (a - b) == a * a - b * b
    assert ((a + b) * (a + b)).render() == "a * a + 2 * a * b + b * b"
    assert (a - a) == Poly() and Poly().render() == "0"


@pytest.mark.parametrize(
    "text, words",
    [
        ("Given a = 1, return a", "nothing to compute"),
        ("Given a = 1, return a + z", "'z', which is not an input"),
        ("Given a = 1, a = 2, return a + a", "given twice"),
        ("return a + b", "write a problem like"),
        ("Given a = 1, return a / 2", "no division"),
    ],
)
def test_code_bad_problems(text, words):
    with pytest.raises(ParseError, match=words):
        CODE.parse_problem(text)


# --------------------------------------------------------------------------- #
# The plans world's labels
# --------------------------------------------------------------------------- #


def test_plans_seed_house():
    p = PLANS.parse_problem(HOUSE)
    assert p.text == HOUSE and p.level == 2 and p.shortest == 7
    steps = PLANS.solve(p)
    assert len(steps) == 7 and steps[-1] == "put cup desk"
    assert PLANS.answer(p) == "cup on desk"


def test_plans_dead_end_and_what_follows():
    p = PLANS.parse_problem(HOUSE)
    steps = ["pick key", "move kitchen", "pick cup", "put key bin", "move hall"]
    out = judged(PLANS, p, steps)
    assert [v for v, _ in out] == [1, 1, 1, -1, -1]
    assert "dead end: the key is in the bin and the study is still locked" in (
        out[3][1].reason
    )
    assert "already out of reach" in out[4][1].reason
    assert PLANS.extract_answer(p, steps) == "cup carried"
    lost = ["pick key", "move kitchen", "pick cup", "put cup bin"]
    assert PLANS.check(p, lost)[-1].reason.startswith("a dead end: the cup is in")
    assert PLANS.extract_answer(p, lost) == "cup in the bin"


def test_plans_detours_are_zero_and_illegal_steps_change_nothing():
    p = PLANS.parse_problem(HOUSE)
    steps = [
        "move study",  # locked
        "pick key",
        "unlock study",
        "move study",  # away from the cup: no progress
        "move hall",  # back: still no closer than before
        "move kitchen",
        "pick cup",
        "put cup desk",  # the desk is in the study
        "move hall",
        "go to the study",
        "put cup on desk",
    ]
    assert values(PLANS.check(p, steps)) == [-1, 1, 1, 0, 0, 1, 1, -1, 1, 1, 1]
    labels = PLANS.check(p, steps)
    assert "the study is locked" in labels[0].reason
    assert "the desk is in the study, and you are in the kitchen" in labels[7].reason
    assert PLANS.grade(p, steps)  # right outcome, two wrong steps


@pytest.mark.parametrize(
    "step, words",
    [
        ("move garden", "no room called 'garden'"),
        ("move kitchen", "no door from the study"),
        ("pick cup", "not here"),
        ("put cup desk", "do not carry the cup"),
        ("unlock study", "not locked"),
        ("pick lamp", "no item called 'lamp'"),
        ("dance", "unknown action 'dance'"),
        ("put cup", "takes 2 names"),
        ("move", "takes 1 name"),
    ],
)
def test_plans_illegal_steps_say_why(step, words):
    p = PLANS.parse_problem(HOUSE)
    prefix = ["pick key", "unlock study", "move study"]
    label = PLANS.check(p, [*prefix, step])[-1]
    assert label.value == -1 and words in label.reason, label.reason


@pytest.mark.parametrize(
    "text, words",
    [
        (HOUSE.replace("Goal: cup on desk.", "Goal: cup on table."), "already"),
        (HOUSE.replace("key on shelf", "key on desk"), "cannot be reached"),
        (HOUSE.replace("Start: hall", "Start: study"), "is locked"),
        (HOUSE.replace("Doors", "Walls"), "unknown section 'walls'"),
        (HOUSE.replace("cup on desk", "key on desk"), "the key opens doors"),
        (HOUSE.replace("cup on table", "cup on bin"), "starts in the bin"),
    ],
)
def test_plans_bad_problems(text, words):
    with pytest.raises(ParseError, match=words):
        PLANS.parse_problem(text)


def _brute_force(problem):
    """Every reachable state and its exact distance to the goal, by BFS."""
    house = problem.house
    seen = {problem.initial}
    edges = {}
    queue = deque(seen)
    while queue:
        s = queue.popleft()
        edges[s] = [_do(house, s, a)[0] for a in _legal_actions(house, s)]
        for t in edges[s]:
            if t not in seen:
                seen.add(t)
                queue.append(t)
    goal = dict(house.goal)

    def done(s):
        where = dict(zip(house.items, s.where))
        return all(where[i] == p for i, p in goal.items())

    back = {s: [] for s in seen}
    for s, ts in edges.items():
        for t in ts:
            back[t].append(s)
    dist = {s: 0 for s in seen if done(s)}
    queue = deque(dist)
    while queue:
        t = queue.popleft()
        for s in back[t]:
            if s not in dist:
                dist[s] = dist[t] + 1
                queue.append(s)
    return seen, dist


def _all_actions(house):
    names = (*house.rooms, *house.items)
    out = [(v, n) for v in ("move", "pick", "unlock") for n in names]
    return out + [("put", i, p) for i in house.items for p in house.place_room]


@pytest.mark.parametrize("level, n", [(1, 8), (2, 6), (3, 2)])
def test_plans_distance_is_exact(level, n):
    """The event-order search gives the same distance as a search of every
    reachable state; the simulator's legal actions are all that `_do` allows."""
    for problem in PLANS.sample(n, seed=50 + level, level=level):
        seen, dist = _brute_force(problem)
        house = problem.house
        for s in seen:
            assert _distance(house, s)[0] == dist.get(s, INF), (problem.text, s)
        for s in list(seen)[:40]:
            legal = {a for a in _all_actions(house) if _do(house, s, a)[0]}
            assert legal == set(_legal_actions(house, s))


# --------------------------------------------------------------------------- #
# Hostile text: -1 or ParseError, fast, and nothing is executed
# --------------------------------------------------------------------------- #


class _Executed(Exception):
    pass


@contextlib.contextmanager
def nothing_executed():
    """Make import/eval/exec/compile/open raise while the checkers run."""

    def refuse(*args, **kwargs):
        raise _Executed("a checker tried to import, eval, exec or open something")

    saved = {n: getattr(builtins, n) for n in ("__import__", "eval", "exec", "open")}
    saved["compile"] = builtins.compile
    for name in saved:
        setattr(builtins, name, refuse)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(builtins, name, fn)


HOSTILE = [
    "__import__('os').system('echo pwned')",
    "p = __import__('os')",
    "import os",
    "p = eval('1 + 1')",
    "exec('import os')",
    "p = open('/etc/passwd').read()",
    "p = ().__class__.__bases__[0].__subclasses__()",
    "p = lambda: 1",
    "p = [a for a in b]",
    "p = f'{a}'",
    "move ../../etc/passwd",
    "pick cup; rm -rf /",
    "p = 9 ** 9 ** 9",
    "p = " + "(" * 5000 + "1" + ")" * 5000,
    "p = " + "-" * 5000 + "1",
    "p = " + "9" * 5000,
    "p = " + " * ".join(["a"] * 500),
    "p = " + " + ".join(["a"] * 900),
    "move " + "kitchen " * 5000,
    "x" * 1_000_000,
    "p = a\x00",
    "pick \u0441up",  # a Cyrillic look-alike letter
    "p = a \u2212 b",  # a minus sign look-alike: readable
    "",
    "   ",
    "=",
    "return return",
]


def _timed(fn, *args):
    start = time.perf_counter()
    with nothing_executed():
        try:
            out = fn(*args)
        except ParseError as err:
            out = err
    return out, time.perf_counter() - start


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_steps_get_minus_one(text):
    problems = {"code": SEED_PROGRAM, "plans": HOUSE}
    for name, world in (("code", CODE), ("plans", PLANS)):
        problem = world.parse_problem(problems[name])
        labels, seconds = _timed(world.check, problem, [text, text])
        assert seconds < 1.0, f"{name}.check took {seconds:.3f}s"
        assert len(labels) == 2 and all(label.reason for label in labels)
        if not (name == "code" and "\u2212" in text):
            assert values(labels) == [-1, -1], (name, text, labels)
        answer, _ = _timed(world.extract_answer, problem, [text])
        assert answer is None or isinstance(answer, str)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_problems_are_refused(text):
    for world in (CODE, PLANS):
        out, seconds = _timed(world.parse_problem, text)
        assert seconds < 1.0
        assert isinstance(out, ParseError), (world.name, text)


def test_programs_that_grow_are_stopped():
    p = CODE.parse_problem(SEED_PROGRAM)
    steps = ["p = a * b"] + [f"p = p * p + {i}" for i in range(30)]
    labels, seconds = _timed(CODE.check, p, steps)
    assert seconds < 1.0
    assert any("refuses" in label.reason for label in labels)
    huge = ["p = " + " * ".join(["9" * 30] * 20)]
    labels, seconds = _timed(CODE.check, p, huge)
    assert seconds < 1.0 and labels[0].value == -1 and "digits" in labels[0].reason


# --------------------------------------------------------------------------- #
# Notebook 06's exercise checks and plotting helper
# --------------------------------------------------------------------------- #


def test_distances_follow_the_plan():
    p = PLANS.parse_problem(HOUSE)
    assert distances(p, PLANS.solve(p)) == [6, 5, 4, 3, 2, 1, 0]
    assert distances(p, ["pick key", "move kitchen", "put key bin"]) == [6, 5, None]
    assert distances(p, ["move study", "put key bin"]) == [7, 7]
    assert distances(p, ["fly away"]) == [7]


def test_exercise_checks():
    from prm_edu.exercises import beyond_math as ex

    prog = ["p = a * b", "q = b + c", "t = q", "r = p + q", "return r"]
    problem = "Given a = 4, b = 5, c = 3, return a * b - (b + c)"
    assert ex.check_step_labels(problem, prog, [1, 1, 0, -1, -1])
    wrong = ex.check_step_labels(problem, prog, [1, 1, 1, -1, -1])
    assert not wrong and "step 3 ('t = q')" in wrong.message
    assert "expected 5 values" in ex.check_step_labels(problem, prog, [1]).message
    assert ex.check_step_labels(HOUSE, ["pick key"], [1], world="plans")

    two = "Given a = 3, b = 4, c = 5, return (a + b) * (b + c) - a"
    good = ["p = a + b", "q = b + c", "r = p * q", "s = r - a", "return s"]
    assert ex.check_program(two, good)
    assert ex.check_program(two, "\n".join(good))
    assert "never returns" in ex.check_program(two, good[:-1]).message
    assert (
        "step 2 ('q = a + b') is no progress"
        in ex.check_program(two, ["p = a + b", "q = a + b"]).message
    )
    with pytest.raises(TypeError, match="list of strings"):
        ex.check_program(two, [])

    shortest = PLANS.solve(PLANS.parse_problem(HOUSE))
    assert ex.check_plan(HOUSE, shortest)
    assert "not reached yet" in ex.check_plan(HOUSE, shortest[:3]).message
    assert "illegal" in ex.check_plan(HOUSE, ["move study"]).message

    cands = ["unlock study", "move kitchen", "move study", "put key bin"]
    cands.append("put key shelf")
    assert ex.check_progress_steps(HOUSE, ["pick key"], cands, [1, 0])
    assert (
        "left out candidate 0"
        in ex.check_progress_steps(HOUSE, ["pick key"], cands, [1]).message
    )
    assert (
        "candidate 4"
        in ex.check_progress_steps(HOUSE, ["pick key"], cands, [0, 1, 4]).message
    )
    assert "not an index" in ex.check_progress_steps(HOUSE, [], cands, [9]).message
