"""Reading and writing records (JSON objects) with errors that say where.

Every data format in `prm_edu.data` is a list of JSON objects, one per trace.
This module reads them from a JSONL file (one object per line) or a JSON file
holding one array of objects (as ProcessBench ships), and remembers where each
record came from, so that a bad record gives an error naming the file, the
line and the field, e.g.::

    FormatError: train.jsonl, line 12, field 'label.steps[3].completions[0]
    .rating': expected -1, 0 or 1, got 2.

Defined for notebook 02, where the learner reads and writes every format.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")

_MAX_SHOWN = 60  # characters of a bad value shown in an error message


class FormatError(ValueError):
    """A record that does not fit its format, with where it came from.

    `source` is the file (or "records" for a list in memory), `line` the
    1-based line in the file (None for a list in memory), `index` the 0-based
    position of the record, `field` the field that was wrong (dotted path,
    e.g. 'label.steps[2].completions[0].text'), and `reason` what was wrong.
    """

    def __init__(
        self,
        reason: str,
        *,
        source: str = "records",
        line: int | None = None,
        index: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.index = index
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        if self.line is not None:
            where = f"{self.source}, line {self.line}"
        elif self.index is not None:
            where = f"{self.source}[{self.index}]"
        else:
            where = self.source
        if self.field is not None:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Where:
    """Where a record came from: a file and line, or a list and index."""

    source: str = "records"
    line: int | None = None
    index: int | None = None

    def error(self, field: str | None, reason: str) -> FormatError:
        """A `FormatError` for `field` of this record."""
        return FormatError(
            reason, source=self.source, line=self.line, index=self.index, field=field
        )


def show(value: Any) -> str:
    """A short repr of a bad value for an error message."""
    text = repr(value)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text


_TYPE_NAMES = {
    str: "text (a JSON string)",
    list: "a list (a JSON array)",
    dict: "an object (a JSON object)",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    type(None): "null",
}


def require(value: Any, types: type | tuple[type, ...], where: Where, field: str):
    """`value` when it has one of `types`, else a `FormatError` naming `field`.

    JSON true/false are never taken for numbers, though Python's bool is an int.
    """
    types = types if isinstance(types, tuple) else (types,)
    ok = isinstance(value, types)
    if isinstance(value, bool) and bool not in types:
        ok = False
    if not ok:
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        raise where.error(field, f"expected {wanted}, got {show(value)}.")
    return value


def get(
    record: dict,
    key: str,
    types: type | tuple[type, ...],
    where: Where,
    field: str | None = None,
    *,
    default: Any = ...,
):
    """`record[key]`, checked to have one of `types`.

    `field` is the dotted path shown in errors (defaults to `key`). Without a
    `default`, a missing key is an error; with one, it is returned instead.
    """
    field = key if field is None else field
    if key not in record:
        if default is not ...:
            return default
        keys = ", ".join(repr(k) for k in list(record)[:10]) or "none"
        raise where.error(field, f"is missing (the record has keys {keys}).")
    return require(record[key], types, where, field)


def read_records(path: str | os.PathLike) -> Iterator[tuple[Where, dict]]:
    """Each JSON object in a file, with where it starts.

    The file is JSONL (one object per line; blank lines are skipped) or, when
    its first character is '[', one JSON array of objects.
    """
    path = Path(path)
    name = str(path)
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:].lstrip()
    if head.startswith(b"["):
        yield from _read_array(path, name)
        return
    with open(path, "rb") as f:
        # Binary lines split on b"\n" only: a JSON string may hold U+2028 and
        # friends, which text-mode splitting would treat as line ends.
        for number, raw in enumerate(f, start=1):
            where = Where(name, number)
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                raise where.error(None, f"is not UTF-8 text ({err.reason}).") from None
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as err:
                raise where.error(
                    None,
                    f"is not valid JSON ({err.msg} at column {err.colno}); "
                    f"each line of a JSONL file must be one JSON object.",
                ) from None
            if not isinstance(record, dict):
                raise where.error(None, f"expected a JSON object, got {show(record)}.")
            yield where, record


def _read_array(path: Path, name: str) -> Iterator[tuple[Where, dict]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise FormatError(f"is not UTF-8 text ({err.reason}).", source=name) from None
    decoder = json.JSONDecoder()

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos

    def line_of(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    pos = skip(text.index("[") + 1)
    index = 0
    while True:
        if pos < len(text) and text[pos] == "]":
            return
        where = Where(name, line_of(pos), index)
        try:
            record, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as err:
            raise FormatError(
                f"is not valid JSON ({err.msg} at column {err.colno}).",
                source=name,
                line=err.lineno,
            ) from None
        if not isinstance(record, dict):
            raise where.error(None, f"expected a JSON object, got {show(record)}.")
        yield where, record
        index += 1
        pos = skip(pos)
        if pos < len(text) and text[pos] == ",":
            pos = skip(pos + 1)
        elif pos >= len(text) or text[pos] != "]":
            raise FormatError(
                "the JSON array is not closed with ']' after this record.",
                source=name,
                line=line_of(pos),
            )


def in_memory(records: Iterable[dict], source: str = "records"):
    """Records from a list (or a `datasets.Dataset`), with their index."""
    for index, record in enumerate(records):
        where = Where(source, None, index)
        if not isinstance(record, dict):
            raise where.error(None, f"expected a dict, got {show(record)}.")
        yield where, record


def convert(
    located: Iterable[tuple[Where, dict]],
    one: Callable[[dict, Where], T],
    errors: str = "raise",
) -> list[T]:
    """`one(record, where)` for every record.

    `errors="raise"` stops at the first bad record; `errors="skip"` leaves bad
    records out and warns once with how many and the first error (real data
    sets have a few broken rows).
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}.")
    out: list[T] = []
    skipped: list[FormatError] = []
    for where, record in located:
        try:
            out.append(one(record, where))
        except FormatError as err:
            if errors == "raise":
                raise
            skipped.append(err)
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} bad record(s); the first: {skipped[0]}",
            stacklevel=3,
        )
    return out


def write_records(records: Iterable[dict], path: str | os.PathLike) -> Path:
    """Write records as JSONL (UTF-8, one object per line); returns the path."""
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False))
            f.write("\n")
    return path
