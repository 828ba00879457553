"""Quiz: answering by clicking, feedback with the explanation, the score, and
`quiz.results` for Python; static HTML with every question."""

from __future__ import annotations

import pytest

from prm_edu.widgets import ProgressStore, Quiz
from prm_edu.widgets.cards import parse_deck

DECK = parse_deck(
    {
        "quizzes": [
            {
                "q": "Which aggregation is the weakest step?",
                "topic": "best_of_n",
                "options": ["mean", "min", "prod", "last"],
                "answers": [1],
                "explanation": "min keeps the lowest step score.",
            },
            {
                "q": "Which do not shrink with length when all steps score $0.9$?",
                "topic": "best_of_n",
                "options": ["min", "prod", "last", "mean"],
                "answers": [0, 2, 3],
                "explanation": "Only prod multiplies.",
            },
            {
                "q": "What is the product of 0.99 and 0.99?",
                "topic": "best_of_n",
                "answer": 0.9801,
                "tolerance": 0.0001,
                "explanation": "$0.99^2 = 0.9801$.",
            },
            {
                "q": "A tree-search question",
                "topic": "tree_search",
                "options": ["yes", "no"],
                "answers": [0],
                "explanation": "Because.",
            },
        ]
    }
)


@pytest.fixture
def quiz(tmp_path):
    return Quiz("best_of_n", deck=DECK, progress=tmp_path / "p.json")


def test_topic_filters_questions(quiz):
    assert len(quiz.questions) == 3
    assert [q.kind for q in quiz.questions] == ["single", "multiple", "numeric"]


def test_single_answer_by_clicking(quiz):
    assert len(quiz.option_buttons) == 4
    quiz.option_buttons[0].value = True
    quiz.option_buttons[1].value = True  # radio: choosing B drops A
    assert [b.value for b in quiz.option_buttons] == [False, True, False, False]
    quiz.check_button.click()
    result = quiz.results[0]
    assert result.correct and result.given == 1 and result.attempts == 1
    assert "Correct" in quiz.feedback.value
    assert "min keeps the lowest step score." in quiz.feedback.value
    assert "Score: 1 / 3" in quiz.summary.value


def test_wrong_answer_shows_the_right_one_and_the_explanation(quiz):
    quiz.option_buttons[2].value = True
    quiz.check_button.click()
    assert quiz.results[0].correct is False
    assert "Not quite" in quiz.feedback.value
    assert "B. min" in quiz.feedback.value
    assert "min keeps the lowest" in quiz.feedback.value
    # A second try counts; the first try is remembered.
    quiz.select(1)
    quiz.check_button.click()
    result = quiz.results[0]
    assert result.correct and result.attempts == 2 and result.first_try is False


def test_multiple_answers_need_exactly_the_right_set(quiz):
    quiz.next_button.click()
    assert quiz.position == 1
    quiz.option_buttons[0].value = True
    quiz.option_buttons[2].value = True
    assert quiz.check() is False
    quiz.option_buttons[3].value = True
    assert quiz.check() is True
    assert quiz.results[1].given == [0, 2, 3]


def test_numeric_answers_within_tolerance(quiz):
    quiz.go(2)
    assert quiz.option_buttons == [] and quiz.answer_box.children == (
        quiz.number_input,
    )
    quiz.number_input.value = "0.979"
    assert quiz.check() is False
    quiz.number_input.value = "0.98005"
    assert quiz.check() is True
    assert quiz.answer("9801/10000") is True


def test_unusable_input_says_what_to_do(quiz):
    assert quiz.check() is None
    assert "Pick an option" in quiz.feedback.value
    quiz.go(2)
    quiz.number_input.value = "about a half"
    assert quiz.check() is None
    assert "not a number" in quiz.feedback.value
    assert not quiz.results[2].answered
    with pytest.raises(ValueError, match="options 0..3"):
        quiz.go(0) or quiz.select(7)


def test_results_and_score_are_readable_from_python(quiz, tmp_path):
    quiz.answer(1)
    quiz.go(1)
    quiz.answer([0, 1])
    quiz.go(2)
    quiz.answer(0.9801)
    assert quiz.score == (2, 3, 3)
    assert [r.correct for r in quiz.results] == [True, False, True]
    assert "every question answered" in quiz.summary.value
    store = ProgressStore(tmp_path / "p.json")
    assert store.quiz(quiz.questions[1].id).attempts == 1
    assert store.quiz(quiz.questions[2].id).correct


def test_navigation_keeps_answers(quiz):
    quiz.answer(1)
    quiz.next_button.click()
    quiz.previous_button.click()
    assert [b.value for b in quiz.option_buttons] == [False, True, False, False]
    assert "Correct" in quiz.feedback.value


def test_course_quiz_loads_by_topic(tmp_path):
    quiz = Quiz("01_orm_vs_prm", progress=tmp_path / "p.json")
    assert len(quiz.questions) >= 3
    with pytest.raises(ValueError, match="known topics"):
        Quiz("no_such_topic", progress=tmp_path / "p.json")


def test_static_html_lists_questions_options_and_answers(quiz):
    html = quiz._repr_mimebundle_()["text/html"]
    for question in quiz.questions:
        assert question.explanation.split("$")[0] in html
    assert "Which aggregation is the weakest step?" in html
    assert "<li>prod</li>" in html
    assert "$0.9$" in html
    assert "B. min" in html  # the answer, behind a <details>


def test_chosen_options_are_marked_by_colour_and_tick(quiz):
    quiz.option_buttons[2].value = True
    assert quiz.option_buttons[2].icon == "check"
    assert quiz.option_buttons[2].button_style == "info"
    quiz.option_buttons[3].value = True  # single answer: C is dropped
    assert (
        quiz.option_buttons[2].icon == "" and quiz.option_buttons[2].button_style == ""
    )
