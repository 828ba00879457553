"""Spaced-repetition progress (Leitner boxes), saved to a JSON file.

A card starts in box 1. "Knew it" moves it up one box (to at most box 5);
"didn't" sends it back to box 1. A card in box k comes due again
`BOX_INTERVAL_DAYS[k - 1]` days after its last review, so cards a learner knows
come back rarely and cards they miss come back at once. Quiz answers are kept
in the same file.

The file is `~/.prm_edu/progress.json` unless a path is given, or the
environment variable `PRM_EDU_PROGRESS` names one. Every update re-reads the
file and writes it atomically (a temporary file, then `os.replace`), so two
widgets sharing it do not lose each other's answers and a crash mid-write
never leaves half a file. A file that cannot be read is moved aside to
`<name>.corrupt-<timestamp>` with a warning, and the learner starts afresh.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

ENV_VAR = "PRM_EDU_PROGRESS"
NUM_BOXES = 5
BOX_INTERVAL_DAYS = (0, 1, 3, 7, 14)  # box 1 is always due
_DAY = 24 * 3600.0
_VERSION = 1


def progress_path(path: str | Path | None = None) -> Path:
    """The progress file: `path`, else $PRM_EDU_PROGRESS, else ~/.prm_edu/."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".prm_edu" / "progress.json"


@dataclass
class CardProgress:
    """What the learner has done with one flashcard."""

    box: int = 1
    seen: int = 0
    knew: int = 0
    missed: int = 0
    last: float | None = None  # time of the last review (seconds since epoch)

    def due(self, now: float) -> bool:
        if self.last is None or self.box <= 1:
            return True
        return now - self.last >= BOX_INTERVAL_DAYS[self.box - 1] * _DAY


@dataclass
class QuizProgress:
    """What the learner has answered on one quiz question."""

    attempts: int = 0
    correct: bool = False  # the latest answer was right
    ever_correct: bool = False
    last: float | None = None


class ProgressStore:
    """Leitner boxes and quiz answers, persisted to one JSON file.

    `clock` returns the current time in seconds (tests pass a fake one).
    """

    def __init__(
        self, path: str | Path | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = progress_path(path)
        self.clock = clock
        self._memory: dict | None = None  # used only when the file can't be written
        self._warned_write = False

    def __repr__(self) -> str:
        return f"ProgressStore({str(self.path)!r})"

    # -- reading ------------------------------------------------------------

    def load(self) -> dict:
        """The whole file as a dict (empty progress when there is none yet)."""
        if self._memory is not None:
            return self._memory
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return _empty()
        except OSError as err:
            warnings.warn(
                f"could not read progress file {self.path} ({err}); starting "
                f"with empty progress.",
                RuntimeWarning,
                stacklevel=2,
            )
            return _empty()
        try:
            data = json.loads(raw.decode("utf-8"))
            _validate(data)
        except (ValueError, UnicodeDecodeError) as err:
            self._set_aside(str(err))
            return _empty()
        return data

    def card(self, card_id: str) -> CardProgress:
        entry = self.load()["cards"].get(card_id)
        return CardProgress(**entry) if entry else CardProgress()

    def quiz(self, question_id: str) -> QuizProgress:
        entry = self.load()["quizzes"].get(question_id)
        return QuizProgress(**entry) if entry else QuizProgress()

    def cards(self, card_ids) -> dict[str, CardProgress]:
        """Progress of many cards with one read of the file."""
        stored = self.load()["cards"]
        return {
            cid: CardProgress(**stored[cid]) if cid in stored else CardProgress()
            for cid in card_ids
        }

    def is_due(self, card_id: str) -> bool:
        return self.card(card_id).due(self.clock())

    # -- writing ------------------------------------------------------------

    def record_card(self, card_id: str, knew: bool) -> CardProgress:
        """Move a card up a box (knew it) or back to box 1 (didn't); save."""
        data = self.load()
        entry = data["cards"].get(card_id)
        progress = CardProgress(**entry) if entry else CardProgress()
        progress.seen += 1
        if knew:
            progress.knew += 1
            progress.box = min(NUM_BOXES, progress.box + 1)
        else:
            progress.missed += 1
            progress.box = 1
        progress.last = self.clock()
        data["cards"][card_id] = asdict(progress)
        self._save(data)
        return progress

    def record_quiz(self, question_id: str, correct: bool) -> QuizProgress:
        """Count an answer to a quiz question; save."""
        data = self.load()
        entry = data["quizzes"].get(question_id)
        progress = QuizProgress(**entry) if entry else QuizProgress()
        progress.attempts += 1
        progress.correct = bool(correct)
        progress.ever_correct = progress.ever_correct or bool(correct)
        progress.last = self.clock()
        data["quizzes"][question_id] = asdict(progress)
        self._save(data)
        return progress

    def reset(self) -> None:
        """Forget all progress (the file is rewritten empty)."""
        self._save(_empty())

    def _save(self, data: dict) -> None:
        try:
            write_json_atomic(self.path, data)
        except OSError as err:
            # A read-only home (some hosted notebooks) must not stop a lesson:
            # keep progress in memory for this session and say so once.
            self._memory = data
            if not self._warned_write:
                self._warned_write = True
                warnings.warn(
                    f"could not save progress to {self.path} ({err}); it is kept "
                    f"only until the kernel restarts. Set {ENV_VAR} to a writable "
                    f"file to keep it.",
                    RuntimeWarning,
                    stacklevel=3,
                )
        else:
            self._memory = None

    def _set_aside(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.clock()))
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            where = f"moved it to {aside}"
        except OSError as err:
            where = f"could not move it aside ({err})"
        warnings.warn(
            f"progress file {self.path} was unreadable ({reason}); {where} and "
            f"started with empty progress.",
            RuntimeWarning,
            stacklevel=3,
        )


def write_json_atomic(path: Path, data) -> None:
    """Write `data` as JSON to `path` so that readers see the old or the new
    file, never half of one: write a temporary file beside it, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _empty() -> dict:
    return {"version": _VERSION, "cards": {}, "quizzes": {}}


def _validate(data) -> None:
    """Raise ValueError unless `data` has the shape this module writes."""
    if not isinstance(data, dict):
        raise ValueError(f"top level is {type(data).__name__}, not an object")
    for section, fields in (("cards", CardProgress), ("quizzes", QuizProgress)):
        entries = data.setdefault(section, {})
        if not isinstance(entries, dict):
            raise ValueError(f"`{section}` is not an object")
        names = set(fields.__dataclass_fields__)
        for key, entry in entries.items():
            if not isinstance(entry, dict) or not set(entry) <= names:
                raise ValueError(f"entry {key!r} in `{section}` is malformed")
            try:
                fields(**entry)
            except TypeError as err:
                raise ValueError(f"entry {key!r}: {err}") from None
            box = entry.get("box", 1)
            if section == "cards" and (
                not isinstance(box, int) or not 1 <= box <= NUM_BOXES
            ):
                raise ValueError(f"entry {key!r} has box {box!r}")
