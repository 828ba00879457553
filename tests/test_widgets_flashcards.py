"""Flashcards: every button works from Python, boxes persist across a restart,
and the static HTML holds every card."""

from __future__ import annotations

from html import escape

import pytest

from prm_edu.widgets import Flashcards, ProgressStore
from prm_edu.widgets.cards import load_deck, parse_deck

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture
def progress(tmp_path):
    return tmp_path / "progress.json"


def make(progress, topic="orm_vs_prm", **kwargs):
    return Flashcards(topic, progress=progress, **kwargs)


def face(cards) -> str:
    return cards.card_view.value


def test_flip_shows_the_answer_and_back(progress):
    cards = make(progress)
    card = cards.current
    assert not cards.flipped and "prm-flashcard-face" in face(cards)
    assert "Flip" == cards.flip_button.description
    cards.flip_button.click()
    assert cards.flipped and "prm-card-answer" in face(cards)
    first_words = card.a.split()[0]
    assert first_words in face(cards)
    cards.flip_button.click()
    assert not cards.flipped and "prm-card-answer" not in face(cards)


def test_next_and_previous_walk_the_deck_and_wrap(progress):
    cards = make(progress)
    n = len(cards.cards)
    seen = []
    for _ in range(n):
        seen.append(cards.current.q)
        cards.next_button.click()
    assert len(set(seen)) == n and cards.position == 0
    cards.previous_button.click()
    assert cards.position == n - 1
    cards.flip()
    cards.next()
    assert not cards.flipped  # a new card starts face up


def test_judging_needs_the_answer_first(progress):
    cards = make(progress)
    assert cards.knew_button.disabled and cards.didnt_button.disabled
    cards.flip_button.click()
    assert not cards.knew_button.disabled and not cards.didnt_button.disabled


def test_knew_and_didnt_move_boxes_and_advance(progress):
    cards = make(progress)
    first, second = cards.current, cards.cards[cards.order[1]]
    cards.flip_button.click()
    cards.knew_button.click()
    assert cards.position == 1 and cards.current == second
    cards.flip_button.click()
    cards.didnt_button.click()
    store = ProgressStore(progress)
    assert store.card(first.id).box == 2
    assert store.card(second.id).box == 1 and store.card(second.id).missed == 1
    assert cards.session == {"knew": 1, "missed": 1}
    assert cards.box_counts()[2] == 1
    assert "knew 1, didn't 1" in cards.status.value


def test_progress_survives_a_restart_and_known_cards_go_last(progress):
    cards = make(progress)
    known = cards.current
    cards.flip()
    cards.mark(True)
    restarted = make(progress)  # a new widget, as after a kernel restart
    assert restarted.box_counts()[2] == 1
    assert restarted.cards[restarted.order[-1]] == known  # not due: last
    assert restarted.current != known


def test_a_truncated_progress_file_is_recovered_from(progress):
    progress.write_text('{"version": 1, "cards": {"card-0')
    with pytest.warns(RuntimeWarning, match="unreadable"):
        cards = make(progress)
    assert sum(cards.box_counts().values()) == len(cards.cards)
    cards.flip()
    cards.mark(True)
    assert list(progress.parent.glob("progress.json.corrupt-*"))
    assert ProgressStore(progress).card(cards.cards[cards.order[0]].id).box == 2


def test_shuffle_is_seeded_and_keeps_every_card(progress):
    a = make(progress, topic=None, shuffle=True, seed=3)
    b = make(progress, topic=None, shuffle=True, seed=3)
    assert a.order == b.order
    assert sorted(a.order) == list(range(len(a.cards)))
    before = list(a.order)
    a.shuffle_button.click()
    assert sorted(a.order) == sorted(before) and a.position == 0


def test_topics_filter_and_all_topics(progress):
    deck = load_deck()
    everything = make(progress, topic=None)
    assert len(everything.cards) == len(deck.flashcards)
    two = make(progress, topic=["best_of_n", "05_tree_search"])
    assert {c.topic for c in two.cards} == {"best_of_n", "tree_search"}


def test_unknown_topic_is_a_value_error_listing_topics(progress):
    with pytest.raises(ValueError, match="known topics: .*best_of_n"):
        make(progress, topic="bestofn")


def test_topic_without_cards_is_refused(progress):
    deck = parse_deck({"flashcards": [{"q": "Q", "a": "A", "topic": "best_of_n"}]})
    with pytest.raises(ValueError, match="no flashcards for topic 'real_prms'"):
        Flashcards("real_prms", deck=deck, progress=progress)


def test_static_html_has_every_card_and_math_survives(progress):
    cards = make(progress)
    bundle = cards._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    html = bundle["text/html"]
    assert html == cards._repr_html_()
    for card in cards.cards:
        # The text before any *markdown* appears escaped, as written.
        assert escape(card.q.split("*")[0], quote=False) in html
        assert escape(card.a.split("*")[0], quote=False) in html
    assert "$2x = 20$" in html  # math is left for MathJax
    assert "<em>where</em>" in html  # the seed's *where* is rendered
