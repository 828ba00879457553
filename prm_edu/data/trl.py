"""TRL's stepwise-supervision format: what `trl.PRMTrainer` trains on.

One row per trace::

    {"prompt": "2x + 5 = 15",
     "completions": ["Subtract 5 from both sides: 2x = 10",
                     "Divide both sides by 2: x = 5"],
     "labels": [True, True]}

`labels` are booleans, one per completion (step): TRL trains a two-class
token classifier, so a label is good or bad and nothing else. Ratings map
+1 -> True, -1 -> False and 0 -> `neutral_as`; soft Monte Carlo labels are
cut only at a `threshold` you give (`to_trl` raises otherwise). The rows go
straight into `datasets.Dataset.from_list(rows)`; `from_trl` reads such a
dataset (or a list of dicts) back into traces with +1 / -1 labels.

Defined for notebook 02; notebook 07 trains with TRL on these rows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from .binary import binary_labels
from .jsonl import Where, convert, get, in_memory, read_records, require, write_records
from .trace import Trace

FIELDS = ("prompt", "completions", "labels")


def to_trl(
    traces: Iterable[Trace],
    neutral_as: bool | None = True,
    threshold: float | None = None,
) -> list[dict]:
    """One TRL stepwise row per labelled trace (see the module docstring)."""
    rows = []
    for trace in traces:
        labels = binary_labels(
            trace, neutral_as=neutral_as, threshold=threshold, fmt="TRL's format"
        )
        rows.append(
            {
                "prompt": trace.problem,
                "completions": list(trace.steps),
                "labels": labels,
            }
        )
    return rows


def from_trl(rows: Iterable[dict], errors: str = "raise") -> list[Trace]:
    """Traces (labels +1 / -1) from TRL stepwise rows or a `datasets.Dataset`."""
    return convert(in_memory(rows), _trace_from_row, errors)


def read_trl(path: str | os.PathLike, errors: str = "raise") -> list[Trace]:
    """Traces from a JSONL file of TRL stepwise rows."""
    return convert(read_records(path), _trace_from_row, errors)


def write_trl(
    traces: Iterable[Trace],
    path: str | os.PathLike,
    neutral_as: bool | None = True,
    threshold: float | None = None,
) -> Path:
    """Write TRL stepwise rows as JSONL; returns the path."""
    return write_records(to_trl(traces, neutral_as, threshold), path)


def _trace_from_row(row: dict, where: Where) -> Trace:
    prompt = get(row, "prompt", str, where)
    completions = get(row, "completions", list, where)
    labels = get(row, "labels", list, where)
    for i, text in enumerate(completions):
        require(text, str, where, f"completions[{i}]")
    for i, label in enumerate(labels):
        require(label, bool, where, f"labels[{i}]")
    if len(labels) != len(completions):
        raise where.error(
            "labels",
            f"has {len(labels)} labels for {len(completions)} completions: "
            f"TRL needs one label per step.",
        )
    return Trace(
        problem=prompt,
        steps=tuple(completions),
        labels=tuple(1 if label else -1 for label in labels),
    )
