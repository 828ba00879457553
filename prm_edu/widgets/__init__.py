"""Widgets that let a learner see a PRM at work and check themselves.

- `StepScoreView` / `TraceComparison`: per-step scores of one or more traces.
- `SearchTreeView`: the tree a search grew, replayable iteration by iteration.
- `Flashcards` and `Quiz`: the course's cards and questions from
  `flashcards.yaml`, with spaced repetition and progress saved to JSON.

All are ipywidgets 8 standard widgets (state lives in Python, every button is
a method too) and all render as static HTML where no kernel runs.
"""

from .cards import TOPICS, Deck, Flashcard, QuizQuestion, load_deck
from .flashcards import Flashcards
from .progress import ProgressStore
from .quiz import QuestionResult, Quiz
from .scores import StepScoreView, TraceComparison
from .tree import SearchTreeView

__all__ = [
    "TOPICS",
    "Deck",
    "Flashcard",
    "Flashcards",
    "ProgressStore",
    "QuestionResult",
    "Quiz",
    "QuizQuestion",
    "SearchTreeView",
    "StepScoreView",
    "TraceComparison",
    "load_deck",
]
