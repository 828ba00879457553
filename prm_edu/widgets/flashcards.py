"""Flashcards with Leitner-box spaced repetition, as an ipywidget.

Every notebook ends with::

    from prm_edu.widgets import Flashcards
    Flashcards(topic="orm_vs_prm")

Flip a card, judge yourself ("Knew it" / "Didn't"), and the card moves between
Leitner boxes (see `prm_edu.widgets.progress`); the boxes are saved to a JSON
file, so the cards you miss come back first next time. Everything a button
does is also a method (`flip`, `next`, `previous`, `shuffle`, `mark`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable

import ipywidgets as widgets

from .cards import Deck, Flashcard, load_deck
from .progress import NUM_BOXES, ProgressStore
from .static import (
    PANEL_STYLE,
    StaticHTMLFallback,
    enable_colab_widgets,
    esc,
    panel,
    rich,
)

_BUTTON = widgets.Layout(width="auto", min_width="96px")


class Flashcards(StaticHTMLFallback, widgets.VBox):
    """Study one topic's flashcards (or the whole course's with topic=None).

    Parameters: `topic` (a notebook's topic such as "best_of_n", several, or
    None for all), `path` (a flashcards.yaml, the course's by default) or a
    ready `deck`, `progress` (a progress-file path or a `ProgressStore`; default
    ~/.prm_edu/progress.json or $PRM_EDU_PROGRESS), `shuffle` and `seed`.

    Cards come due-first: cards in low boxes (missed or new) before the ones
    you know, and cards not yet due after all of those.
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
        if not deck.flashcards:
            raise ValueError(
                f"no flashcards for topic {topic!r} in {deck.source or 'the deck'}."
            )
        self.topic = topic
        self.cards: tuple[Flashcard, ...] = deck.flashcards
        self.store = (
            progress if isinstance(progress, ProgressStore) else ProgressStore(progress)
        )
        self.order: list[int] = self._due_order()
        self.position = 0
        self.flipped = False
        self.session = {"knew": 0, "missed": 0}

        self.header = widgets.HTML()
        self.card_view = widgets.HTMLMath()
        self.previous_button = widgets.Button(
            description="Previous", icon="arrow-left", layout=_BUTTON
        )
        self.flip_button = widgets.Button(
            description="Flip", icon="refresh", button_style="info", layout=_BUTTON
        )
        self.next_button = widgets.Button(
            description="Next", icon="arrow-right", layout=_BUTTON
        )
        self.shuffle_button = widgets.Button(
            description="Shuffle", icon="random", layout=_BUTTON
        )
        self.knew_button = widgets.Button(
            description="Knew it",
            icon="check",
            button_style="success",
            layout=_BUTTON,
            tooltip="Move this card up a box: it comes back later.",
        )
        self.didnt_button = widgets.Button(
            description="Didn't",
            icon="times",
            button_style="warning",
            layout=_BUTTON,
            tooltip="Back to box 1: this card comes back soon.",
        )
        self.status = widgets.HTML()

        self.previous_button.on_click(lambda _: self.previous())
        self.flip_button.on_click(lambda _: self.flip())
        self.next_button.on_click(lambda _: self.next())
        self.shuffle_button.on_click(lambda _: self.shuffle())
        self.knew_button.on_click(lambda _: self.mark(True))
        self.didnt_button.on_click(lambda _: self.mark(False))

        super().__init__(
            children=[
                self.header,
                self.card_view,
                widgets.HBox(
                    [
                        self.previous_button,
                        self.flip_button,
                        self.next_button,
                        self.shuffle_button,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                widgets.HBox(
                    [self.knew_button, self.didnt_button],
                    layout=widgets.Layout(flex_flow="row wrap"),
                ),
                self.status,
            ],
            layout=widgets.Layout(max_width="760px"),
        )
        # Browser tests find the deck and its face by these classes.
        self.add_class("prm-flashcard")
        if shuffle:
            self.shuffle(seed)
        else:
            self._render()

    # -- state --------------------------------------------------------------

    @property
    def current(self) -> Flashcard:
        """The card on show."""
        return self.cards[self.order[self.position]]

    def flip(self) -> None:
        """Turn the card over (question <-> answer)."""
        self.flipped = not self.flipped
        self._render()

    def next(self) -> None:
        """Go to the next card (after the last comes the first again)."""
        self._go(self.position + 1)

    def previous(self) -> None:
        """Go to the previous card (before the first comes the last)."""
        self._go(self.position - 1)

    def shuffle(self, seed: int | None = None) -> None:
        """Put the cards in a random order and start again from the first."""
        random.Random(seed).shuffle(self.order)
        self.position = 0
        self.flipped = False
        self._render()

    def mark(self, knew: bool) -> None:
        """Record whether you knew the current card, then show the next one.

        "Knew it" moves the card up a Leitner box, "didn't" back to box 1;
        the progress file is updated at once.
        """
        self.store.record_card(self.current.id, bool(knew))
        self.session["knew" if knew else "missed"] += 1
        self._go(self.position + 1)

    def box_counts(self) -> dict[int, int]:
        """How many of these cards sit in each Leitner box (1..5)."""
        counts = dict.fromkeys(range(1, NUM_BOXES + 1), 0)
        for progress in self.store.cards(c.id for c in self.cards).values():
            counts[progress.box] += 1
        return counts

    def _due_order(self) -> list[int]:
        now = self.store.clock()
        progress = self.store.cards(c.id for c in self.cards)

        def key(i: int) -> tuple:
            p = progress[self.cards[i].id]
            return (not p.due(now), p.box, i)

        return sorted(range(len(self.cards)), key=key)

    def _go(self, position: int) -> None:
        self.position = position % len(self.order)
        self.flipped = False
        self._render()

    # -- drawing ------------------------------------------------------------

    def _render(self) -> None:
        card = self.current
        progress = self.store.card(card.id)
        due = "due now" if progress.due(self.store.clock()) else "not due yet"
        topic = card.topic if self.topic is not None else "all topics"
        self.header.value = (
            f"<b>Flashcards · {esc(topic)}</b> — card {self.position + 1} of "
            f"{len(self.cards)} · box {progress.box} of {NUM_BOXES} · {due}"
        )
        if self.flipped:
            body = (
                f'<div style="color:#555;font-size:12px">Q: {rich(card.q)}</div>'
                f'<div class="prm-card-answer" style="font-size:15px;'
                f'margin-top:8px">{rich(card.a)}</div>'
            )
        else:
            body = (
                f'<div class="prm-card-question" style="font-size:16px;'
                f'font-weight:600">{rich(card.q)}</div>'
                f'<div style="color:#777;font-size:12px;margin-top:10px">'
                f"Think of the answer, then press Flip.</div>"
            )
        side = "answer" if self.flipped else "question"
        self.card_view.value = (
            f'<div class="prm-flashcard-face prm-card-{side}" style="{PANEL_STYLE};'
            f"min-height:96px;border-left:6px solid "
            f'{"#2166ac" if self.flipped else "#b2182b"}">{body}</div>'
        )
        self.flip_button.description = "Show question" if self.flipped else "Flip"
        # Judge yourself only after seeing the answer.
        self.knew_button.disabled = not self.flipped
        self.didnt_button.disabled = not self.flipped
        boxes = " ".join(f"{b}:{n}" for b, n in self.box_counts().items())
        self.status.value = (
            f'<span style="font-size:12px;line-height:1.4">This session: knew '
            f"{self.session['knew']}, didn't {self.session['missed']} · cards "
            f"per box {boxes} · saved to <code>{esc(str(self.store.path))}"
            f"</code></span>"
        )

    def _repr_html_(self) -> str:
        topic = self.topic if isinstance(self.topic, str) else "all topics"
        items = "".join(
            '<details class="prm-card" style="margin:4px 0;padding:4px 6px;'
            'border:1px solid #ddd;border-radius:4px">'
            f'<summary style="cursor:pointer"><b>{i + 1}.</b> {rich(c.q)}</summary>'
            f'<div style="margin:6px 0 2px 18px">{rich(c.a)}</div></details>'
            for i, c in enumerate(self.cards)
        )
        return panel(
            f"<div><b>Flashcards · {esc(topic)}</b> ({len(self.cards)} cards; "
            f"click a question to see its answer. Run the notebook for the "
            f"interactive deck with spaced repetition.)</div>{items}",
            css_class="prm-flashcards",
        )
