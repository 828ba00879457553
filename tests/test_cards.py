"""flashcards.yaml: the course's cards load, cover every notebook, keep the
seed's items word for word, and bad files fail with located errors."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from prm_edu.search.aggregate import aggregate
from prm_edu.widgets.cards import (
    NUMERIC,
    TOPICS,
    load_deck,
    normalize_topic,
    parse_deck,
    parse_number,
)

ROOT = Path(__file__).parents[1]
SEED = ROOT.parent / "shared" / "seed" / "000_5265c282f2b76561.txt"

SEED_CARDS = [
    (
        "What is the difference between an Outcome Reward Model (ORM) and a "
        "Process Reward Model (PRM)?",
        "ORM rewards the model only based on the final answer. PRM provides "
        "feedback on each intermediate step of the reasoning chain.",
    ),
    (
        "Why are PRMs crucial for complex multi-step reasoning (like Math)?",
        "Because a model can arrive at the wrong answer due to a single early "
        "mistake, or the right answer via wrong reasoning. PRMs identify exactly "
        "*where* the error occurred.",
    ),
    (
        "How are PRMs typically used during inference?",
        "They act as verifiers in search algorithms (like Tree of Thoughts or "
        "Best-of-N), scoring candidate steps to prune bad branches and guide the "
        "generation.",
    ),
    (
        "What is the 'Let's Verify Step by Step' dataset?",
        "A famous dataset by OpenAI containing math problems with human-labeled "
        "correctness for each individual reasoning step, used to train PRMs.",
    ),
]
SEED_QUIZZES = [
    (
        "Which search strategy benefits most from a Process Reward Model?",
        (
            "Greedy Decoding",
            "Beam Search / Tree Search",
            "Random Sampling",
            "Temperature 0 sampling",
        ),
        (1,),
        "Beam Search or Tree Search can use the PRM scores to keep only the most "
        "promising partial reasoning chains, effectively 'looking ahead'.",
    ),
    (
        "What is a major challenge in training PRMs?",
        (
            "Computational cost of inference",
            "High cost of human annotation for every single step",
            "Lack of GPU memory",
            "Model overfitting",
        ),
        (1,),
        "Labeling every step of a solution as correct/incorrect is significantly "
        "more expensive and time-consuming than just labeling the final answer.",
    ),
]


@pytest.fixture(scope="module")
def deck():
    return load_deck()


def test_course_deck_is_big_enough_and_covers_every_notebook(deck):
    assert len(deck.flashcards) >= 40
    assert len(deck.quizzes) >= 25
    for topic, (n_cards, n_quizzes) in deck.topics().items():
        assert n_cards >= 4, topic
        assert n_quizzes >= 3, topic
    kinds = {q.kind for q in deck.quizzes}
    assert kinds == {"single", "multiple", "numeric"}


def test_seed_items_are_kept_word_for_word(deck):
    cards = {(c.q, c.a) for c in deck.flashcards}
    for item in SEED_CARDS:
        assert item in cards
    quizzes = {(q.q, q.options, q.answers, q.explanation) for q in deck.quizzes}
    for item in SEED_QUIZZES:
        assert item in quizzes


@pytest.mark.skipif(not SEED.exists(), reason="shared/ seed not beside the repo")
def test_seed_front_matter_matches_the_seed_file(deck):
    front = yaml.safe_load(SEED.read_text().split("---")[1])
    cards = {(c.q, c.a) for c in deck.flashcards}
    for card in front["flashcards"]:
        assert (card["q"], card["a"]) in cards
    quizzes = {(q.q, q.options, q.answers, q.explanation) for q in deck.quizzes}
    for quiz in front["quizzes"]:
        key = (
            quiz["q"],
            tuple(quiz["options"]),
            tuple(quiz["answers"]),
            quiz["explanation"],
        )
        assert key in quizzes


def test_package_data_is_a_link_to_the_top_level_file():
    link = ROOT / "prm_edu" / "flashcards.yaml"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "flashcards.yaml").resolve()


def _quiz(deck, text):
    (found,) = [q for q in deck.quizzes if text in q.q]
    return found


def test_numeric_answers_are_what_they_claim(deck):
    assert math.isclose(
        _quiz(deck, "Trace A's steps score").answer,
        aggregate([0.99, 0.99], "prod"),
        abs_tol=1e-4,
    )
    assert _quiz(deck, "steps score 0.9, 0.2 and 0.95").is_correct(
        aggregate([0.9, 0.2, 0.95], "mean")
    )
    assert _quiz(deck, "two logits at a step's separator").is_correct(
        1 / (1 + math.exp(-2))
    )
    assert _quiz(deck, "logits 1.0 for '+'").is_correct(1 / (1 + math.exp(-1)))
    assert _quiz(deck, "soft label").is_correct(Fraction(3, 8))


@lru_cache(maxsize=None)
def _reaches_24(numbers: tuple) -> bool:
    if len(numbers) == 1:
        return numbers[0] == 24
    for i, a in enumerate(numbers):
        for j, b in enumerate(numbers):
            if i == j:
                continue
            rest = [n for k, n in enumerate(numbers) if k not in (i, j)]
            results = [a + b, a - b, a * b] + ([a / b] if b else [])
            if any(_reaches_24(tuple(sorted(rest + [r]))) for r in results):
                return True
    return False


def test_game_of_24_question_marks_exactly_the_reachable_steps(deck):
    question = _quiz(deck, "Game of 24 with the numbers 1, 1, 4, 6")
    reachable = []
    for i, option in enumerate(question.options):
        left = option.split("left:")[1].strip(" )")
        numbers = tuple(sorted(Fraction(x) for x in left.split(",")))
        if _reaches_24(numbers):
            reachable.append(i)
    assert tuple(reachable) == question.answers


def test_topics_accept_notebook_names():
    assert normalize_topic("01_orm_vs_prm") == "orm_vs_prm"
    assert normalize_topic("05_tree_search.ipynb") == "tree_search"
    with pytest.raises(ValueError, match="known topics: orm_vs_prm, step_labels"):
        normalize_topic("orm_vs_xyz")


def test_unknown_topic_filter_lists_the_known_ones(deck):
    with pytest.raises(ValueError, match="rl_with_process_rewards"):
        deck.for_topic("reinforcement")


def test_answers_are_checked_by_kind(deck):
    single = next(q for q in deck.quizzes if q.kind == "single")
    assert single.is_correct(single.answers[0])
    assert not single.is_correct((single.answers[0] + 1) % len(single.options))
    multiple = next(q for q in deck.quizzes if q.kind == "multiple")
    assert multiple.is_correct(list(reversed(multiple.answers)))
    assert not multiple.is_correct(list(multiple.answers[:1]))
    numeric = next(q for q in deck.quizzes if q.kind == NUMERIC and q.tolerance)
    assert numeric.is_correct(numeric.answer + numeric.tolerance / 2)
    assert not numeric.is_correct(numeric.answer + 3 * numeric.tolerance)


def test_learners_numbers_are_parsed_without_eval():
    assert parse_number("3/8") == 0.375
    assert parse_number(" 37.5% ") == 0.375
    assert parse_number("1e-3") == 0.001
    for bad in ("__import__('os')", "1/0", "", "nan", True):
        with pytest.raises(ValueError):
            parse_number(bad)


# -- bad files -------------------------------------------------------------

GOOD_QUIZ = {
    "q": "Pick B",
    "topic": "best_of_n",
    "options": ["A", "B"],
    "answers": [1],
    "explanation": "B it is.",
}


def _deck(**sections):
    return parse_deck(sections, source="test.yaml")


def test_missing_answers_names_index_and_field():
    broken = {k: v for k, v in GOOD_QUIZ.items() if k != "answers"}
    with pytest.raises(ValueError) as err:
        _deck(quizzes=[GOOD_QUIZ, broken])
    message = str(err.value)
    assert "quizzes[1]" in message and "`answers`" in message
    assert "missing" in message


def test_answer_index_out_of_range_names_index_and_range():
    broken = dict(GOOD_QUIZ, answers=[4])
    with pytest.raises(ValueError) as err:
        _deck(quizzes=[broken])
    message = str(err.value)
    assert "quizzes[0]" in message and "`answers`" in message
    assert "index 4 is out of range" in message and "0 to 1" in message


def test_unknown_topic_in_file_lists_known_topics():
    broken = {"q": "Q", "a": "A", "topic": "search"}
    with pytest.raises(ValueError) as err:
        _deck(flashcards=[{"q": "ok", "a": "ok", "topic": "best_of_n"}, broken])
    message = str(err.value)
    assert "flashcards[1]" in message and "`topic`" in message
    assert all(t in message for t in TOPICS)


def test_flashcard_without_back_is_refused():
    with pytest.raises(ValueError, match=r"flashcards\[0\].*field `a`: missing"):
        _deck(flashcards=[{"q": "front only", "topic": "best_of_n"}])


def test_numeric_question_needs_a_number():
    base = {"q": "How many?", "topic": "best_of_n", "explanation": "Four."}
    with pytest.raises(ValueError, match="field `answer`: missing"):
        _deck(quizzes=[dict(base, tolerance=0.1)])
    with pytest.raises(ValueError, match="field `answer`: expected a number"):
        _deck(quizzes=[dict(base, answer="four")])
    with pytest.raises(ValueError, match="field `tolerance`: expected a number >= 0"):
        _deck(quizzes=[dict(base, answer=4, tolerance=-1)])
    deck = _deck(quizzes=[dict(base, answer=4)])
    assert deck.quizzes[0].kind == NUMERIC and deck.quizzes[0].tolerance == 0


def test_typos_mixed_kinds_and_duplicates_are_caught():
    with pytest.raises(ValueError, match="unknown key"):
        _deck(quizzes=[dict(GOOD_QUIZ, explaination="typo")])
    with pytest.raises(ValueError, match="not both"):
        _deck(quizzes=[dict(GOOD_QUIZ, answer=1)])
    with pytest.raises(ValueError, match=r"quizzes\[1\].*same question"):
        _deck(quizzes=[GOOD_QUIZ, GOOD_QUIZ])
    with pytest.raises(ValueError, match="repeated index"):
        _deck(quizzes=[dict(GOOD_QUIZ, answers=[1, 1])])
    with pytest.raises(ValueError, match="multiple"):
        _deck(quizzes=[dict(GOOD_QUIZ, answers=[0, 1], multiple=False)])


def test_file_level_errors(tmp_path):
    bad = tmp_path / "cards.yaml"
    bad.write_text("flashcards: [q: 1\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_deck(bad)
    bad.write_text("- just a list\n")
    with pytest.raises(ValueError, match="top level must be a mapping"):
        load_deck(bad)
    with pytest.raises(FileNotFoundError, match="pass path="):
        load_deck(tmp_path / "missing.yaml")
