"""ProcessBench: find the earliest wrong step (Zheng et al., 2024).

ProcessBench (dataset `Qwen/ProcessBench`) asks a PRM or critic for the index
of a solution's earliest error. Each record::

    {"id": "gsm8k-0", "generator": "Qwen2-7B-Instruct",
     "problem": "...", "steps": ["...", "..."],
     "final_answer_correct": false, "label": 1}

`label` is the 0-based index of the earliest wrong step, or -1 when every
step is correct. The files ship as JSON arrays; `read_processbench` reads
those and JSONL alike, and `write_processbench` writes JSONL.

Reading: steps before the error get +1 and the error gets -1. ProcessBench
does not judge the steps after the earliest error, and we keep them with -1
and the reason "not judged: after the earliest error" (an error's
consequences stay wrong, as in the course's worlds, and
`Trace.first_error()` still returns `label`). `id`, `generator` and
`final_answer_correct` go to `Trace.meta`.

Writing: `label` is `trace.first_error()`; ratings 0 count as correct, soft
labels need a `threshold`. `final_answer_correct` comes from the trace's meta
or from `grade(trace)`, e.g.
`grade=lambda t: world.grade(world.parse_problem(t.problem), t.steps)`.
The answer and reasons are not held.

Defined for notebook 02; notebook 03 measures first-error F1 on such data.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from .binary import binary_labels
from .jsonl import Where, convert, get, in_memory, read_records, require, write_records
from .trace import BAD, GOOD, Trace

REASON_CORRECT = "correct: before the earliest error"
REASON_ERROR = "the earliest error"
REASON_AFTER = "not judged: after the earliest error"


def to_processbench(
    traces: Iterable[Trace],
    grade: Callable[[Trace], bool] | None = None,
    threshold: float | None = None,
    generator: str = "prm_edu",
) -> list[dict]:
    """ProcessBench records for labelled traces (see the module docstring).

    `id` and `generator` come from the trace's meta when it has them, else
    `"prm_edu-<i>"` and `generator`.
    """
    records = []
    for i, trace in enumerate(traces):
        good = binary_labels(
            trace, neutral_as=True, threshold=threshold, fmt="ProcessBench"
        )
        label = good.index(False) if False in good else -1
        meta = trace.meta
        if grade is not None:
            correct = grade(trace)
        elif "final_answer_correct" in meta:
            correct = meta["final_answer_correct"]
        else:
            raise ValueError(
                f"trace {i} has no 'final_answer_correct' in its meta: pass "
                f"grade=, a function that says whether a trace's final answer is "
                f"right (e.g. lambda t: world.grade(world.parse_problem(t.problem),"
                f" t.steps))."
            )
        records.append(
            {
                "id": str(meta.get("id", f"prm_edu-{i}")),
                "generator": str(meta.get("generator", generator)),
                "problem": trace.problem,
                "steps": list(trace.steps),
                "final_answer_correct": bool(correct),
                "label": label,
            }
        )
    return records


def from_processbench(records: Iterable[dict], errors: str = "raise") -> list[Trace]:
    """Traces from ProcessBench records already loaded (or a `datasets.Dataset`)."""
    return convert(in_memory(records), _trace_from_record, errors)


def read_processbench(path: str | os.PathLike, errors: str = "raise") -> list[Trace]:
    """Traces from a ProcessBench file (`gsm8k.json`, or JSONL)."""
    return convert(read_records(path), _trace_from_record, errors)


def write_processbench(
    traces: Iterable[Trace],
    path: str | os.PathLike,
    grade: Callable[[Trace], bool] | None = None,
    threshold: float | None = None,
    generator: str = "prm_edu",
) -> Path:
    """Write ProcessBench records as JSONL; returns the path."""
    return write_records(to_processbench(traces, grade, threshold, generator), path)


def labels_from_first_error(n_steps: int, first_error: int) -> tuple[list, list]:
    """Ratings and reasons for `n_steps` steps whose earliest error is given.

    +1 before the error, -1 at it, and -1 "not judged" after it (-1: none).
    """
    if first_error == -1:
        return [GOOD] * n_steps, [REASON_CORRECT] * n_steps
    labels = [GOOD] * first_error + [BAD] * (n_steps - first_error)
    reasons = (
        [REASON_CORRECT] * first_error
        + [REASON_ERROR]
        + [REASON_AFTER] * (n_steps - first_error - 1)
    )
    return labels, reasons


def _trace_from_record(record: dict, where: Where) -> Trace:
    problem = get(record, "problem", str, where)
    steps = get(record, "steps", list, where)
    for i, step in enumerate(steps):
        require(step, str, where, f"steps[{i}]")
    label = get(record, "label", int, where)
    if not -1 <= label < len(steps):
        raise where.error(
            "label",
            f"is {label}, but it must be -1 (no error) or the index of a step "
            f"(0 to {len(steps) - 1}).",
        )
    correct = get(record, "final_answer_correct", bool, where)
    meta = {"final_answer_correct": correct}
    for key in ("id", "generator"):
        if key in record:
            meta[key] = get(record, key, (str, int), where)
    labels, reasons = labels_from_first_error(len(steps), label)
    return Trace(
        problem=problem,
        steps=tuple(steps),
        labels=tuple(labels),
        reasons=tuple(reasons),
        meta=meta,
    )
