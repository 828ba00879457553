"""Math-Shepherd: Monte Carlo step labels written into the text itself.

Math-Shepherd (Wang et al., 2024; dataset `peiyi9979/Math-Shepherd`) labels a
step good when rollouts from it still reach the right answer. Each record is::

    {"input": "<problem> Step 1: <step> ки\\nStep 2: <step> ки\\n...",
     "label": "<problem> Step 1: <step> +\\nStep 2: <step> -\\n...",
     "task": "GSM8K"}

`input` ends every step with the step tag `ки`; `label` is the same text
with each tag replaced by `+` (good) or `-` (bad). The problem ends where
"Step 1:" begins. A PRM trained on it reads its score at the tag.

Reading gives +1 / -1 labels, strips the "Step k: " prefixes, and keeps
`task` in `Trace.meta`. Writing needs a good/bad label per step: 0 steps go to
`neutral_as`, soft labels need a `threshold` (see `binary.binary_labels`).
What the format cannot hold, and so raises: a trace with no steps, the tag
`ки` inside the problem or a step, and "Step 1:" inside the problem. The
answer and reasons are not held (a Math-Shepherd solution states its answer
in its last step, "The answer is: 18").

Defined for notebook 02.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable

from .binary import binary_labels
from .jsonl import Where, convert, get, in_memory, read_records, write_records
from .trace import Trace

STEP_TAG = "ки"
GOOD_TAG, BAD_TAG = "+", "-"
_FIRST_STEP = re.compile(r"[Ss]tep 1:")


def to_math_shepherd(
    traces: Iterable[Trace],
    neutral_as: bool | None = True,
    threshold: float | None = None,
    task: str = "prm_edu",
) -> list[dict]:
    """Math-Shepherd records for labelled traces.

    `task` fills the record's `task` field unless the trace's meta has one.
    """
    records = []
    for trace in traces:
        good = binary_labels(
            trace, neutral_as=neutral_as, threshold=threshold, fmt="Math-Shepherd"
        )
        _check_writable(trace)
        records.append(
            {
                "input": _tagged(trace, [STEP_TAG] * len(good)),
                "label": _tagged(trace, [GOOD_TAG if g else BAD_TAG for g in good]),
                "task": trace.meta.get("task", task),
            }
        )
    return records


def from_math_shepherd(records: Iterable[dict], errors: str = "raise") -> list[Trace]:
    """Traces (labels +1 / -1) from Math-Shepherd records already loaded."""
    return convert(in_memory(records), _trace_from_record, errors)


def read_math_shepherd(path: str | os.PathLike, errors: str = "raise") -> list[Trace]:
    """Traces from a Math-Shepherd JSONL file."""
    return convert(read_records(path), _trace_from_record, errors)


def write_math_shepherd(
    traces: Iterable[Trace],
    path: str | os.PathLike,
    neutral_as: bool | None = True,
    threshold: float | None = None,
    task: str = "prm_edu",
) -> Path:
    """Write Math-Shepherd JSONL; returns the path."""
    return write_records(to_math_shepherd(traces, neutral_as, threshold, task), path)


def _tagged(trace: Trace, tags: list[str]) -> str:
    lines = [
        f"Step {k}: {step} {tag}"
        for k, (step, tag) in enumerate(zip(trace.steps, tags), start=1)
    ]
    return f"{trace.problem} " + "\n".join(lines)


def _check_writable(trace: Trace) -> None:
    if not trace.steps:
        raise ValueError(
            "Math-Shepherd marks each step with a tag, so a trace with no steps "
            f"cannot be written (problem {trace.problem[:40]!r})."
        )
    if STEP_TAG in trace.problem:
        raise ValueError(
            f"the problem holds the step tag {STEP_TAG!r}, which Math-Shepherd "
            f"reserves for step ends: remove it."
        )
    if _FIRST_STEP.search(trace.problem):
        raise ValueError(
            "the problem holds 'Step 1:', where Math-Shepherd's first step starts: "
            "reword it."
        )
    for i, step in enumerate(trace.steps):
        if STEP_TAG in step:
            raise ValueError(
                f"step {i} holds the step tag {STEP_TAG!r}, which Math-Shepherd "
                f"reserves for step ends: remove it."
            )


def _trace_from_record(record: dict, where: Where) -> Trace:
    text = get(record, "input", str, where)
    label = get(record, "label", str, where)
    task = get(record, "task", (str, type(None)), where, default=None)

    pieces = text.split(STEP_TAG)
    if len(pieces) < 2:
        raise where.error(
            "input", f"has no step tag {STEP_TAG!r}: every step must end with one."
        )
    if pieces[-1].strip():
        raise where.error(
            "input",
            f"has text after the last step tag: {pieces[-1][:40]!r}; "
            f"every step must end with {STEP_TAG!r}.",
        )
    labels = _labels_at_tags(pieces, label, where)

    match = _FIRST_STEP.search(pieces[0])
    if match is None:
        raise where.error(
            "input", "has no 'Step 1:', so where the problem ends is unknown."
        )
    problem = _drop_suffix(pieces[0][: match.start()], " ")
    segments = [pieces[0][match.start() :]] + [
        _drop_prefix(p, "\n") for p in pieces[1:-1]
    ]
    steps = []
    for k, segment in enumerate(segments, start=1):
        prefix = f"Step {k}:" if segment.startswith("Step") else f"step {k}:"
        if segment.startswith(prefix):
            segment = _drop_prefix(segment[len(prefix) :], " ")
        steps.append(_drop_suffix(segment, " "))
    meta = {} if task is None else {"task": task}
    return Trace(problem=problem, steps=tuple(steps), labels=tuple(labels), meta=meta)


def _labels_at_tags(pieces: list[str], label: str, where: Where) -> list[int]:
    """The +/- at each tag position: `label` is `input` with tags replaced."""
    labels = []
    pos = 0
    for i, piece in enumerate(pieces[:-1]):
        pos += len(piece)
        mark = label[pos : pos + 1]
        if mark not in (GOOD_TAG, BAD_TAG):
            raise where.error(
                "label",
                f"step {i + 1} should be marked '+' or '-' at character {pos} "
                f"(where 'input' has its step tag), found {mark!r}.",
            )
        labels.append(1 if mark == GOOD_TAG else -1)
        pos += 1
    return labels


def _drop_prefix(text: str, prefix: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


def _drop_suffix(text: str, suffix: str) -> str:
    return text[: -len(suffix)] if text.endswith(suffix) else text
