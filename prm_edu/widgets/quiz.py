"""A quiz as an ipywidget: choice and numeric questions, feedback, a score.

Every notebook ends with::

    from prm_edu.widgets import Quiz
    quiz = Quiz(topic="best_of_n")
    quiz

One question at a time: choose (or type) an answer, press Check, read the
feedback and the explanation, go on. `quiz.results` tells Python what was
answered, so a notebook can react to it; `quiz.answer(...)` answers from code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import ipywidgets as widgets

from .cards import (
    MULTIPLE,
    NUMERIC,
    SINGLE,
    Deck,
    QuizQuestion,
    load_deck,
    parse_number,
)
from .progress import ProgressStore
from .static import (
    PANEL_STYLE,
    StaticHTMLFallback,
    enable_colab_widgets,
    esc,
    panel,
    rich,
)

_BUTTON = widgets.Layout(width="auto", min_width="96px")
_LETTER = widgets.Layout(width="52px", min_width="52px")


def _mark_chosen(button: widgets.ToggleButton) -> None:
    # A chosen option gets a colour and a tick, so it stands out without
    # relying on colour alone (JupyterLab's pressed grey is faint).
    button.button_style = "info" if button.value else ""
    button.icon = "check" if button.value else ""


@dataclass
class QuestionResult:
    """How the learner did on one question (`quiz.results[i]`)."""

    question: QuizQuestion
    given: object = None  # the latest answer: an index, a list, or a number
    correct: bool | None = None  # None until answered
    attempts: int = 0
    first_try: bool | None = None  # right on the first attempt

    @property
    def answered(self) -> bool:
        return self.attempts > 0


class Quiz(StaticHTMLFallback, widgets.VBox):
    """Quiz on one topic's questions (or the whole course's with topic=None).

    Parameters as for `Flashcards`: `topic`, `path` or `deck`, `progress`
    (answers are counted in the same progress file), `shuffle`, `seed`.
    """

    def __init__(
        self,
        topic: str | Iterable[str] | None = None,
        *,
        path: str | Path | None = None,
        deck: Deck | None = None,
        progress: str | Path | ProgressStore | None = None,
        shuffle: bool = False,
        seed: int | None = None,
    ) -> None:
        enable_colab_widgets()
        deck = (deck if deck is not None else load_deck(path)).for_topic(topic)
        if not deck.quizzes:
            raise ValueError(
                f"no quiz questions for topic {topic!r} in {deck.source or 'the deck'}."
            )
        questions = list(deck.quizzes)
        if shuffle:
            random.Random(seed).shuffle(questions)
        self.topic = topic
        self.questions: tuple[QuizQuestion, ...] = tuple(questions)
        self.results: list[QuestionResult] = [QuestionResult(q) for q in questions]
        self.store = (
            progress if isinstance(progress, ProgressStore) else ProgressStore(progress)
        )
        self.position = 0
        self._input_problem = ""

        self.header = widgets.HTML()
        self.question_view = widgets.HTMLMath()
        self.answer_box = widgets.VBox()
        self.option_buttons: list[widgets.ToggleButton] = []
        self.number_input = widgets.Text(
            placeholder="a number, e.g. 0.5 or 3/8",
            layout=widgets.Layout(width="220px"),
        )
        self.check_button = widgets.Button(
            description="Check", icon="check", button_style="primary", layout=_BUTTON
        )
        self.previous_button = widgets.Button(
            description="Previous", icon="arrow-left", layout=_BUTTON
        )
        self.next_button = widgets.Button(
            description="Next", icon="arrow-right", layout=_BUTTON
        )
        self.feedback = widgets.HTMLMath()
        self.summary = widgets.HTML()

        self.check_button.on_click(lambda _: self.check())
        self.previous_button.on_click(lambda _: self.go(self.position - 1))
        self.next_button.on_click(lambda _: self.go(self.position + 1))

        super().__init__(
            children=[
                self.header,
                self.question_view,
                self.answer_box,
                widgets.HBox(
                    [self.previous_button, self.check_button, self.next_button],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.feedback,
                self.summary,
            ],
            layout=widgets.Layout(max_width="760px"),
        )
        self._show_question()

    # -- state --------------------------------------------------------------

    @property
    def current(self) -> QuizQuestion:
        return self.questions[self.position]

    @property
    def score(self) -> tuple[int, int, int]:
        """(right now, answered, questions)."""
        right = sum(bool(r.correct) for r in self.results)
        answered = sum(r.answered for r in self.results)
        return right, answered, len(self.results)

    def go(self, position: int) -> None:
        """Show question `position` (0-based; wraps around)."""
        self.position = position % len(self.questions)
        self._show_question()

    def select(self, choice) -> None:
        """Set the answer controls: an option index or indices for a choice
        question, a number (or text like "3/8") for a numeric one."""
        question = self.current
        if question.kind == NUMERIC:
            self.number_input.value = str(choice)
            return
        chosen = {choice} if isinstance(choice, int) else set(choice)
        if question.kind == SINGLE and len(chosen) != 1:
            raise ValueError(
                f"question {self.position + 1} takes one answer, got {sorted(chosen)}."
            )
        for i in chosen:
            if not 0 <= i < len(self.option_buttons):
                raise ValueError(
                    f"question {self.position + 1} has options 0.."
                    f"{len(self.option_buttons) - 1}, got {i}."
                )
        for i, button in enumerate(self.option_buttons):
            button.value = i in chosen

    def answer(self, choice) -> bool:
        """Answer the current question from code: `select(choice)`, then Check."""
        self.select(choice)
        result = self.check()
        if result is None:
            raise ValueError(self._input_problem or "no answer given.")
        return result

    def check(self) -> bool | None:
        """Check the answer in the controls; show feedback and the explanation.

        Returns whether it was right, or None when nothing usable was given
        (then the feedback says what to do).
        """
        question = self.current
        given = self._read_controls()
        if given is None:
            self.feedback.value = (
                f'<div style="color:#8a4b00">{esc(self._input_problem)}</div>'
            )
            return None
        correct = question.is_correct(given)
        result = self.results[self.position]
        result.given = given
        result.correct = correct
        result.attempts += 1
        if result.first_try is None:
            result.first_try = correct
        self.store.record_quiz(question.id, correct)
        self._show_feedback()
        self._show_summary()
        return correct

    # -- controls -----------------------------------------------------------

    def _read_controls(self):
        self._input_problem = ""
        question = self.current
        if question.kind == NUMERIC:
            text = self.number_input.value.strip()
            if not text:
                self._input_problem = "Type a number first (e.g. 0.5 or 3/8)."
                return None
            try:
                return parse_number(text)
            except ValueError as err:
                self._input_problem = str(err)
                return None
        chosen = [i for i, b in enumerate(self.option_buttons) if b.value]
        if not chosen:
            self._input_problem = "Pick an option first."
            return None
        return chosen[0] if question.kind == SINGLE else chosen

    def _on_toggle(self, change, index: int) -> None:
        _mark_chosen(self.option_buttons[index])
        # Radio-button behaviour for single-answer questions.
        if change["new"] and self.current.kind == SINGLE:
            for i, button in enumerate(self.option_buttons):
                if i != index and button.value:
                    button.value = False

    def _show_question(self) -> None:
        question = self.current
        how = {
            SINGLE: "Choose one answer.",
            MULTIPLE: "Choose all that apply.",
            NUMERIC: "Type a number"
            + (f" (within ± {question.tolerance:g})." if question.tolerance else "."),
        }[question.kind]
        self.header.value = (
            f"<b>Quiz · {esc(self._topic_name())}</b> — question "
            f"{self.position + 1} of {len(self.questions)}"
        )
        self.question_view.value = (
            f'<div class="prm-quiz-question" style="{PANEL_STYLE};'
            f'font-size:15px"><b>{rich(question.q)}</b>'
            f'<div style="color:#666;font-size:12px;margin-top:4px">{how}</div>'
            f"</div>"
        )
        result = self.results[self.position]
        if question.kind == NUMERIC:
            self.option_buttons = []
            self.number_input.value = (
                "" if result.given is None else f"{result.given:g}"
            )
            self.answer_box.children = [self.number_input]
        else:
            rows = []
            self.option_buttons = []
            previous = result.given
            chosen = (
                set()
                if previous is None
                else {previous}
                if isinstance(previous, int)
                else set(previous)
            )
            for i, option in enumerate(question.options):
                button = widgets.ToggleButton(
                    value=i in chosen,
                    description=chr(65 + i),
                    tooltip=f"option {chr(65 + i)}",
                    layout=_LETTER,
                )
                button.observe(
                    lambda change, i=i: self._on_toggle(change, i), names="value"
                )
                _mark_chosen(button)
                self.option_buttons.append(button)
                rows.append(
                    widgets.HBox(
                        [
                            button,
                            widgets.HTMLMath(
                                f'<div style="line-height:1.4">{rich(option)}</div>'
                            ),
                        ],
                        layout=widgets.Layout(align_items="center"),
                    )
                )
            self.answer_box.children = rows
        if result.answered:
            self._show_feedback()
        else:
            self.feedback.value = ""
        self._show_summary()

    def _show_feedback(self) -> None:
        question = self.current
        result = self.results[self.position]
        if result.correct:
            verdict = '<b style="color:#2166ac">✔ Correct.</b>'
            border = "#2166ac"
        else:
            verdict = (
                '<b style="color:#b2182b">✘ Not quite.</b> The answer: '
                f"{rich(question.correct_text())}"
            )
            border = "#b2182b"
        self.feedback.value = (
            f'<div class="prm-quiz-feedback" style="{PANEL_STYLE};border-left:6px '
            f'solid {border}">{verdict}<div style="margin-top:6px">'
            f"{rich(question.explanation)}</div></div>"
        )

    def _show_summary(self) -> None:
        right, answered, total = self.score
        first = sum(bool(r.first_try) for r in self.results)
        done = " Well done: every question answered." if answered == total else ""
        self.summary.value = (
            '<div class="prm-quiz-summary" style="font-size:13px;margin-top:4px;'
            'line-height:1.4">'
            f"<b>Score: {right} / {total}</b> correct ({answered} answered, "
            f"{first} right on the first try).{done}</div>"
        )

    def _topic_name(self) -> str:
        return self.topic if isinstance(self.topic, str) else "all topics"

    # -- static -------------------------------------------------------------

    def _repr_html_(self) -> str:
        items = []
        for n, q in enumerate(self.questions, 1):
            if q.kind == NUMERIC:
                choices = '<div style="margin-left:18px">(a number)</div>'
            else:
                choices = (
                    "<ol type='A' style='margin:2px 0 2px 18px'>"
                    + "".join(f"<li>{rich(o)}</li>" for o in q.options)
                    + "</ol>"
                )
            items.append(
                f'<div class="prm-quiz-item" style="margin:8px 0"><b>{n}. '
                f"{rich(q.q)}</b>{choices}"
                '<details style="margin-left:18px"><summary style="cursor:pointer">'
                f"Show the answer</summary><div><b>{rich(q.correct_text())}</b>"
                f"</div><div>{rich(q.explanation)}</div></details></div>"
            )
        return panel(
            f"<div><b>Quiz · {esc(self._topic_name())}</b> ({len(self.questions)} "
            f"questions. Run the notebook to answer them interactively.)</div>"
            + "".join(items),
            css_class="prm-quiz",
        )
