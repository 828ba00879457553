"""The three worlds: sampling, solving, exact labels with reasons, grading."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prm_edu import worlds
from prm_edu.parsing import ParseError
from prm_edu.worlds.arithmetic import SENTENCES
from prm_edu.worlds.game24 import count_solutions, reachable

EQ = worlds.get("equations")
AR = worlds.get("arithmetic")
G24 = worlds.get("game24")


def values(labels):
    return [label.value for label in labels]


# --------------------------------------------------------------------------- #
# Every world: sample, solve, check, grade, round trip
# --------------------------------------------------------------------------- #


def test_registry():
    assert worlds.names() == ["equations", "arithmetic", "game24"]
    for name in worlds.names():
        world = worlds.get(name)
        assert isinstance(world, worlds.World) and world.name == name
    with pytest.raises(ValueError, match="no world called 'chess'"):
        worlds.get("chess")


@pytest.mark.parametrize("name", ["equations", "arithmetic", "game24"])
@pytest.mark.parametrize("level", [1, 2, 3])
def test_solve_passes_its_own_check_on_1000_problems(name, level):
    world = worlds.get(name)
    problems = world.sample(1000, seed=level, level=level)
    assert len({p.text for p in problems}) > 100  # a real spread of problems
    for problem in problems:
        assert problem.level == level
        assert world.parse_problem(problem.text) == problem
        steps = world.solve(problem)
        assert steps, problem.text
        labels = world.check(problem, steps)
        assert len(labels) == len(steps)
        assert all(label.value >= 0 for label in labels), (problem.text, labels)
        assert labels[-1].value == 1
        assert world.grade(problem, steps), (problem.text, steps)
        assert world.extract_answer(problem, steps) == world.answer(problem)


@pytest.mark.parametrize("name", ["equations", "arithmetic", "game24"])
def test_sampling_is_deterministic(name):
    world = worlds.get(name)
    assert world.sample(20, seed=7) == world.sample(20, seed=7)
    assert world.sample(20, seed=7) != world.sample(20, seed=8)
    assert world.sample(5, seed=7, level=1) != world.sample(5, seed=7, level=3)
    with pytest.raises(ValueError, match="levels"):
        world.sample(1, level=9)


@pytest.mark.parametrize("name", ["equations", "arithmetic", "game24"])
def test_empty_and_unreadable_steps(name):
    world = worlds.get(name)
    problem = world.sample(1, seed=0)[0]
    assert world.check(problem, []) == []
    assert not world.grade(problem, [])
    assert world.extract_answer(problem, []) is None
    [label] = world.check(problem, ["I think the answer is probably fine"])
    assert label.value == -1 and label.reason.startswith("cannot read this step")


# --------------------------------------------------------------------------- #
# equations
# --------------------------------------------------------------------------- #

SEED_PROBLEM = EQ.parse_problem("2x + 5 = 15")
TRACE_A = ["Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"]
TRACE_B = ["Subtract 5 from both sides: 2x = 20", "Divide by 2: x = 10"]


def test_the_seeds_two_traces():
    assert SEED_PROBLEM.text == "Solve 2x + 5 = 15" and SEED_PROBLEM.level == 1
    assert values(EQ.check(SEED_PROBLEM, TRACE_A)) == [1, 1]
    assert EQ.grade(SEED_PROBLEM, TRACE_A)
    b = EQ.check(SEED_PROBLEM, TRACE_B)
    assert values(b) == [-1, -1]
    assert b[0].reason == "15 - 5 = 10, not 20"
    assert "carries forward" in b[1].reason and "x = 10" in b[1].reason
    assert not EQ.grade(SEED_PROBLEM, TRACE_B)
    assert EQ.extract_answer(SEED_PROBLEM, TRACE_B) == "10"


def test_solve_uses_the_seeds_phrasing():
    assert EQ.solve(SEED_PROBLEM) == [
        "Subtract 5 from both sides: 2x = 10",
        "Divide both sides by 2: x = 5",
    ]


@pytest.mark.parametrize(
    "text, problem_text, level, answer",
    [
        ("2x+5=15", "Solve 2x + 5 = 15", 1, "5"),
        ("2*x + 5 = 15", "Solve 2 * x + 5 = 15", 1, "5"),
        ("Solve 3(x - 1) = 2x + 4.", "Solve 3(x - 1) = 2x + 4", 3, "7"),
        ("solve for x: 4x = 6", "Solve 4x = 6", 3, "3/2"),
        ("5x + 3 = 2x - 6", "Solve 5x + 3 = 2x - 6", 2, "-3"),
        ("2x \u2212 3 = 7", "Solve 2x - 3 = 7", 1, "5"),
        ("15 = 2x + 5", "Solve 15 = 2x + 5", 1, "5"),
        ("0.5x + 1 = 3", "Solve 0.5x + 1 = 3", 1, "4"),
        ("x/2 + 1 = 3", "Solve x/2 + 1 = 3", 1, "4"),
        ("(1/2)x = 3", "Solve (1/2)x = 3", 3, "6"),
        ("2x + 3x = 10", "Solve 2x + 3x = 10", 1, "2"),
        ("-x = 3", "Solve -x = 3", 2, "-3"),
        ("x = 2 + 3", "Solve x = 2 + 3", 1, "5"),
    ],
)
def test_learner_equations(text, problem_text, level, answer):
    problem = EQ.parse_problem(text)
    assert (problem.text, problem.level, EQ.answer(problem)) == (
        problem_text,
        level,
        answer,
    )
    steps = EQ.solve(problem)
    assert min(values(EQ.check(problem, steps))) >= 0 and EQ.grade(problem, steps)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("2x + 5", "expected '='"),
        ("x = 5", "already solved"),
        ("2x = 2x", "holds for every x"),
        ("x + 1 = x", "no solution"),
        ("3 = 4", "no x"),
        ("2y + 1 = 5", "unknown name 'y'"),
        ("x * x = 4", "not linear"),
    ],
)
def test_not_a_problem(text, fragment):
    with pytest.raises(ParseError, match=fragment):
        EQ.parse_problem(text)


@pytest.mark.parametrize(
    "steps, expected, fragment",
    [
        # a rewrite with no progress is 0, simplifying is progress
        (["15 = 2x + 5", "Simplify: 2x = 15 - 5", "2x = 10"], [0, 1, 1], "simpler"),
        # named move done wrongly but landing on the right answer
        (["Subtract 5 from both sides: x = 5"], [-1], "right solution"),
        # a skipped step: dividing without the 5
        (["Divide both sides by 2: x = 15/2"], [-1], "(2x + 5) / 2 = x + 5/2"),
        # compensating error: wrong, then wrong back to the right answer
        (TRACE_B[:1] + ["Divide both sides by 4: x = 5"], [-1, -1], "2x / 4"),
        (["Divide by 0: x = 5"], [-1], "dividing by 0"),
        (["Multiply both sides by 0: 0 = 0"], [-1], "lost the solution"),
        (["Divide both sides by x: 2 = 10"], [-1], "use a number"),
        (["Subtract 2x from both sides: 5 = 15 - 2x"], [0], "no progress"),
        (["Add x to both sides: 3x + 5 = 15 + x"], [0], "no progress"),
        (["Divide both sides by 2: x + 5/2 = 15/2"], [1], "simpler"),
        (["Subtract 5 from both sides: 10 = 2x"], [1], "simpler"),
        (["Subtract five from both sides: 2x = 10"], [-1], "cannot read"),
        (["Collect terms: 2x = 10", "Rewrite: x = 5"], [1, 1], "solves"),
    ],
)
def test_equation_labels(steps, expected, fragment):
    labels = EQ.check(SEED_PROBLEM, steps)
    assert values(labels) == expected, labels
    assert fragment in labels[-1].reason, labels[-1].reason


def test_brackets_and_both_sides():
    problem = EQ.parse_problem("3(x - 2) + 4 = 5x + 1")
    assert problem.level == 3 and EQ.answer(problem) == "-3/2"
    steps = EQ.solve(problem)
    assert steps[0] == "Expand the brackets: 3x - 2 = 5x + 1"
    assert steps[-1] == "Divide both sides by -2: x = -3/2"
    assert values(EQ.check(problem, steps)) == [1] * len(steps)
    wrong = ["Expand the brackets: 3x - 6 = 5x + 1"]  # forgot the + 4
    [label] = EQ.check(problem, wrong)
    assert label.value == -1 and "not equivalent" in label.reason


def test_equations_levels_are_what_they_say():
    for problem in EQ.sample(200, seed=1, level=1):
        assert problem.solution > 0 and problem.solution.denominator == 1
        assert "(" not in problem.text
    both_or_negative = 0
    for problem in EQ.sample(200, seed=1, level=2):
        assert problem.solution.denominator == 1 and "(" not in problem.text
        both_or_negative += 1
    assert both_or_negative == 200
    level3 = EQ.sample(200, seed=1, level=3)
    assert any("(" in p.text for p in level3)
    assert any(p.solution.denominator > 1 for p in level3)
    assert any(p.solution < 0 for p in level3)


# --------------------------------------------------------------------------- #
# arithmetic
# --------------------------------------------------------------------------- #

STORY = (
    "Maya has 3 boxes of apples, with 12 apples in each box. She gives 7 apples "
    "to a friend. How many apples does Maya have now?"
)


def test_arithmetic_story():
    problem = AR.parse_problem(STORY)
    assert problem.text == STORY and problem.level == 1
    assert AR.solve(problem) == ["3 * 12 = 36", "36 - 7 = 29"]
    assert AR.answer(problem) == "29"


@pytest.mark.parametrize(
    "steps, expected, fragment",
    [
        (["3 * 12 = 36", "36 - 7 = 29"], [1, 1], "quantity of the story"),
        (["Apples: 3 \u00d7 12 = 36 apples", "Left: 36 - 7 = 29"], [1, 1], "correct"),
        (["3 * 12 = 38", "38 - 7 = 31"], [-1, -1], "carries forward"),
        (["3 * 12 = 38", "38 - 7 = 29"], [-1, -1], "38 - 7 = 31, not 29"),
        (["3 * 13 = 39"], [-1], "13 is not a number in the problem"),
        (["3 + 12 = 15"], [-1], "not a quantity in this problem"),
        (["12 - 7 = 5"], [-1], "not a quantity"),  # skipped the 3 * 12
        (["3 * 12 = 36", "12 * 3 = 36"], [1, 0], "already found in step 1"),
        (["3 * 12 = 36", "36 - 7"], [1, -1], "needs '='"),
        (["3 * 12 = 36", "36 - 7 = 29 = 29"], [1, -1], "only one '='"),
    ],
)
def test_arithmetic_labels(steps, expected, fragment):
    problem = AR.parse_problem(STORY)
    labels = AR.check(problem, steps)
    assert values(labels) == expected, labels
    assert fragment in labels[-1].reason, labels[-1].reason


def test_arithmetic_compensating_error_grades_right_but_is_labelled_wrong():
    problem = AR.parse_problem(STORY)
    steps = ["3 * 12 = 38", "38 - 9 = 29"]
    assert AR.grade(problem, steps)
    assert values(AR.check(problem, steps)) == [-1, -1]


def test_arithmetic_other_orders_count():
    problem = AR.parse_problem(
        "Ben has 10 cards. He buys 5 more cards. He loses 3 cards. "
        "How many cards does Ben have now?"
    )
    assert values(AR.check(problem, ["5 - 3 = 2", "10 + 2 = 12"])) == [1, 1]
    assert values(AR.check(problem, ["10 - 3 = 7", "7 + 5 = 12"])) == [1, 1]
    assert values(AR.check(problem, ["10 + 3 = 13"])) == [-1]


def test_arithmetic_grammar():
    problem = AR.parse_problem(
        "Leo has 4 bags of marbles, with 6 marbles in each bag. He doubles his "
        "marbles. He gives 4 marbles to each of 2 friends. He gives away half of "
        "his marbles. He shares them equally among 4 friends. "
        "How many marbles does each friend get?"
    )
    assert problem.level == 3
    steps = AR.solve(problem)
    assert steps == [
        "4 * 6 = 24",
        "24 * 2 = 48",
        "4 * 2 = 8",
        "48 - 8 = 40",
        "40 / 2 = 20",
        "20 / 4 = 5",
    ]
    assert values(AR.check(problem, steps)) == [1] * 6
    with pytest.raises(ParseError, match="not a whole number"):
        AR.parse_problem(
            "Leo has 7 marbles. He gives away half of his marbles. "
            "How many marbles does Leo have now?"
        )


def test_arithmetic_round_trip_and_errors():
    for problem in AR.sample(300, seed=4, level=3):
        again = AR.parse_problem(problem.text)
        assert again == problem and again.text == problem.text
    with pytest.raises(ParseError, match="sentence 2"):
        AR.parse_problem("Ava has 5 apples. She eats the apples. How many?")
    with pytest.raises(ParseError, match="end with its question"):
        AR.parse_problem("Ava has 5 apples. She buys 3 more apples.")
    with pytest.raises(ParseError, match="one kind of thing"):
        AR.parse_problem(
            "Ava has 5 apples. She buys 3 more pears. How many apples does Ava "
            "have now?"
        )
    with pytest.raises(ParseError, match="below zero"):
        AR.parse_problem(
            "Ava has 5 apples. She loses 9 apples. How many apples does Ava have now?"
        )
    with pytest.raises(ParseError, match="nothing to compute"):
        AR.parse_problem("Ava has 5 apples. How many apples does Ava have now?")
    assert set(SENTENCES) >= {"has", "buys", "ask_total"}


# --------------------------------------------------------------------------- #
# game24
# --------------------------------------------------------------------------- #

G = G24.parse_problem("4, 4, 6, 8")


def test_game24_problem_text():
    assert G.text == "4 4 6 8" and G.numbers == (4, 4, 6, 8)
    assert G24.parse_problem("8 6 4 4") == G
    assert G24.answer(G) == "24"
    with pytest.raises(ParseError, match="cannot be made"):
        G24.parse_problem("1 1 1 1")
    with pytest.raises(ParseError, match="four whole numbers"):
        G24.parse_problem("4 4 6")
    with pytest.raises(ParseError, match="not a whole number"):
        G24.parse_problem("4 4 6 x")


@pytest.mark.parametrize(
    "steps, expected, fragment",
    [
        (
            [
                "4 + 8 = 12 (left: 4 6 12)",
                "12 - 6 = 6 (left: 4 6)",
                "4 * 6 = 24 (left: 24)",
            ],
            [1, 1, 1],
            "24 is reached",
        ),
        (["8-6=2 (left: 2 4 4)"], [1], "still be reached from 2 4 4"),
        (["8/4 = 2 (left: 2 4 6)"], [-1], "no longer be reached from 2 4 6"),
        (["4 + 4 = 8 (left: 6 8 8)"], [-1], "can no longer be reached from 6 8 8"),
        (["4 + 8 = 13 (left: 4 6 13)"], [-1], "4 + 8 = 12, not 13"),
        (["4 + 9 = 13 (left: 4 6 13)"], [-1], "9 is not among the numbers left"),
        (["4 + 8 = 12 (left: 6 12)"], [-1], "should be 4 6 12, not 6 12"),
        (["(left: 4 4 6 8)"], [0], "no progress"),
        (["4 + 8 = 12"], [-1], "cannot read"),
        # a wrong list, then a right move from it: the error carries forward
        (
            ["4 + 8 = 12 (left: 4 4 12)", "4 * 4 = 16 (left: 12 16)"],
            [-1, -1],
            "earlier",
        ),
        # a dead end, then right arithmetic from it
        (
            ["4 + 4 = 8 (left: 6 8 8)", "8 + 8 = 16 (left: 6 16)"],
            [-1, -1],
            "an earlier step made it impossible",
        ),
        (["4 \u00d7 6 = 24 (left: 4 8 24)"], [-1], "can no longer"),
        (
            ["8 - 6 = 2 (Left: 2, 4, 4)", "4 x 4 = 16 (left: 2 16)"],
            [1, -1],
            "no longer",
        ),
    ],
)
def test_game24_labels(steps, expected, fragment):
    labels = G24.check(G, steps)
    assert values(labels) == expected, labels
    assert fragment in labels[-1].reason, labels[-1].reason


def test_game24_fractions_and_negatives():
    problem = G24.parse_problem("1 5 5 5")
    steps = ["1 / 5 = 1/5 (left: 1/5 5 5)", "5 - 1/5 = 24/5 (left: 5 24/5)"]
    steps.append("24/5 * 5 = 24 (left: 24)")
    assert values(G24.check(problem, steps)) == [1, 1, 1]
    assert G24.grade(problem, steps)
    assert G24.solve(problem)[-1].endswith("= 24 (left: 24)")
    assert values(G24.check(G, ["4 - 6 = -2 (left: -2 4 8)"])) == [1]


def test_game24_grades_what_is_really_computed():
    # The last step claims 24, but 8 - 4 is 4, not 5: the moves make 0.
    steps = [
        "8 - 4 = 5 (left: 4 5 6)",
        "5 - 4 = 1 (left: 1 6)",
        "1 * 6 = 24 (left: 24)",
    ]
    assert values(G24.check(G, steps)) == [-1, -1, -1]
    assert G24.extract_answer(G, steps) == "24"  # what was written
    assert not G24.grade(G, steps)  # what was really computed
    assert G24.extract_answer(G, steps[:2]) is None  # not finished
    # Right moves, wrong last result: not solved either.
    steps = [
        "6 - 4 = 2 (left: 2 4 8)",
        "8 - 2 = 6 (left: 4 6)",
        "4 * 6 = 25 (left: 25)",
    ]
    assert not G24.grade(G, steps) and G24.extract_answer(G, steps) == "25"


def test_game24_levels_follow_the_number_of_solutions():
    assert count_solutions([4, 4, 6, 8]) == 7 and count_solutions([1, 1, 1, 1]) == 0
    assert reachable([3, 3, 8, 8]) and not reachable([1, 1, 1, 1])
    for level, (lo, hi) in {1: (12, 10**6), 2: (5, 11), 3: (1, 4)}.items():
        for problem in G24.sample(100, seed=0, level=level):
            assert lo <= count_solutions(problem.numbers) <= hi
            assert G24.parse_problem(problem.text).level == level


def test_game24_practice_puzzles_go_beyond_the_deck():
    from prm_edu.worlds.game24 import Game24World

    deck = [n for p in G24.sample(300, seed=2) for n in p.numbers]
    assert max(deck) == 13 and min(deck) >= 1
    wide = Game24World(highest=20).sample(300, seed=2, level=2)
    numbers = [n for p in wide for n in p.numbers]
    assert max(numbers) == 20
    assert all(5 <= count_solutions(p.numbers) <= 11 for p in wide)
    # The same statements read back as ordinary problems of the game.
    assert G24.parse_problem(wide[0].text).numbers == wide[0].numbers
    for bad in (12, 100, 20.5):
        with pytest.raises(ValueError, match=f"highest must be .*got {bad!r}"):
            Game24World(highest=bad)


_SIDE = st.lists(
    st.tuples(st.integers(-20, 20), st.sampled_from(["x", "", "(x + 1)", "(2x - 3)"])),
    min_size=1,
    max_size=3,
)


@settings(max_examples=150, deadline=None)
@given(_SIDE, _SIDE)
def test_learner_equations_round_trip(left, right):
    def side(terms):
        return " + ".join(f"{k}{t}" if t else str(k) for k, t in terms)

    text = f"{side(left)} = {side(right)}"
    try:
        problem = EQ.parse_problem(text)
    except ParseError:
        return  # no x, no single solution, or already solved
    assert EQ.parse_problem(problem.text) == problem
    steps = EQ.solve(problem)
    assert min(values(EQ.check(problem, steps))) >= 0
    assert EQ.grade(problem, steps), (problem.text, steps)
