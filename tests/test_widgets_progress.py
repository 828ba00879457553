"""Leitner progress: boxes move, survive a restart, and a broken file is set
aside with a warning instead of crashing the lesson."""

from __future__ import annotations

import json
import os

import pytest

from prm_edu.widgets.progress import (
    ENV_VAR,
    NUM_BOXES,
    ProgressStore,
    progress_path,
)

DAY = 24 * 3600.0


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_path_comes_from_argument_then_env_then_home(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert progress_path().parts[-2:] == (".prm_edu", "progress.json")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env.json"))
    assert progress_path() == tmp_path / "env.json"
    assert progress_path(tmp_path / "arg.json") == tmp_path / "arg.json"


def test_leitner_boxes_go_up_on_knew_and_back_to_one_on_missed(tmp_path):
    store = ProgressStore(tmp_path / "p.json", clock=Clock())
    for expected in range(2, NUM_BOXES + 1):
        assert store.record_card("c", True).box == expected
    assert store.record_card("c", True).box == NUM_BOXES  # capped
    progress = store.record_card("c", False)
    assert (progress.box, progress.seen, progress.knew, progress.missed) == (
        1,
        NUM_BOXES + 1,
        NUM_BOXES,
        1,
    )


def test_cards_come_due_after_their_box_interval(tmp_path):
    clock = Clock()
    store = ProgressStore(tmp_path / "p.json", clock=clock)
    assert store.is_due("new card")
    store.record_card("c", True)  # box 2: due again after 1 day
    assert not store.is_due("c")
    clock.now += 0.5 * DAY
    assert not store.is_due("c")
    clock.now += 0.6 * DAY
    assert store.is_due("c")
    store.record_card("c", False)  # box 1 is always due
    assert store.is_due("c")


def test_progress_survives_a_restart(tmp_path):
    path = tmp_path / "p.json"
    first = ProgressStore(path, clock=Clock())
    first.record_card("a", True)
    first.record_card("a", True)
    first.record_quiz("q", False)
    first.record_quiz("q", True)
    again = ProgressStore(path)  # a new kernel: nothing shared but the file
    assert again.card("a").box == 3
    quiz = again.quiz("q")
    assert (quiz.attempts, quiz.correct, quiz.ever_correct) == (2, True, True)


def test_two_stores_on_one_file_do_not_lose_each_others_updates(tmp_path):
    path = tmp_path / "p.json"
    one, two = ProgressStore(path), ProgressStore(path)
    one.record_card("a", True)
    two.record_card("b", True)
    one.record_quiz("q", True)
    data = json.loads(path.read_text())
    assert set(data["cards"]) == {"a", "b"} and set(data["quizzes"]) == {"q"}


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    path = tmp_path / "deep" / "p.json"
    store = ProgressStore(path)
    for i in range(5):
        store.record_card(f"c{i}", i % 2 == 0)
    assert os.listdir(path.parent) == ["p.json"]
    json.loads(path.read_text())


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    store = ProgressStore(path)
    store.record_card("a", True)
    before = path.read_text()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("prm_edu.widgets.progress.json.dump", broken_dump)
    with pytest.warns(RuntimeWarning, match="could not save progress"):
        store.record_card("b", True)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["p.json"]
    # The session goes on in memory.
    assert store.card("b").box == 2


@pytest.mark.parametrize(
    "content",
    [
        b'{"version": 1, "cards": {"a": {"box": 2, "se',  # truncated mid-write
        b"",
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'{"cards": {"a": {"box": 9}}}',
        b'{"cards": {"a": {"colour": "red"}}}',
        b'{"cards": []}',
    ],
)
def test_a_corrupt_file_is_set_aside_with_a_warning(tmp_path, content):
    path = tmp_path / "progress.json"
    path.write_bytes(content)
    store = ProgressStore(path, clock=Clock())
    with pytest.warns(RuntimeWarning, match="unreadable.*moved it to"):
        progress = store.card("a")
    assert progress.box == 1 and progress.seen == 0
    (aside,) = tmp_path.glob("progress.json.corrupt-*")
    assert aside.read_bytes() == content
    assert not path.exists()
    # ...and the learner carries on, with a fresh file.
    store.record_card("a", True)
    assert ProgressStore(path).card("a").box == 2


def test_reset_forgets_everything(tmp_path):
    store = ProgressStore(tmp_path / "p.json")
    store.record_card("a", True)
    store.reset()
    assert store.card("a").box == 1
