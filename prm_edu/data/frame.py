"""A pandas view of traces: one row per step, ready to filter, group and plot.

Columns:

- `trace`: the trace's position in the list you passed;
- `problem_id`: the trace's `meta["id"]` when it has one, else its position;
- `problem`, `answer`: repeated on each of the trace's rows;
- `step`: the step's 0-based index in its trace; `text`: the step;
- `label`: +1 / 0 / -1, a soft fraction, or NaN for an unlabelled trace;
- `soft`: whether the trace's labels are soft; `reason`: the label's reason.

`from_frame` turns such a frame back into traces (a trace with no steps has
no rows, so it does not come back). Defined for notebook 02; notebook 03
uses it to tabulate labels and scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .trace import Trace

if TYPE_CHECKING:  # pandas is imported when a frame is made, not with prm_edu.data
    import pandas as pd

COLUMNS = (
    "trace",
    "problem_id",
    "problem",
    "step",
    "text",
    "label",
    "reason",
    "soft",
    "answer",
)


def to_frame(traces: Iterable[Trace]) -> pd.DataFrame:
    """One row per step of every trace (see the module docstring)."""
    import pandas as pd

    rows = []
    for i, trace in enumerate(traces):
        problem_id = str(trace.meta.get("id", i))
        for j, text in enumerate(trace.steps):
            rows.append(
                {
                    "trace": i,
                    "problem_id": problem_id,
                    "problem": trace.problem,
                    "step": j,
                    "text": text,
                    "label": (
                        float("nan") if trace.labels is None else float(trace.labels[j])
                    ),
                    "reason": None if trace.reasons is None else trace.reasons[j],
                    "soft": trace.soft,
                    "answer": trace.answer,
                }
            )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"trace": "int64", "step": "int64", "label": "float64"})


def from_frame(frame: pd.DataFrame) -> list[Trace]:
    """Traces from a frame made by `to_frame` (rows in any order)."""
    import pandas as pd

    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the frame lacks column(s) {missing}; from_frame needs the columns "
            f"that to_frame makes: {list(COLUMNS)}."
        )
    traces = []
    for position, rows in frame.groupby("trace", sort=True):
        rows = rows.sort_values("step")
        steps = [int(s) for s in rows["step"]]
        if steps != list(range(len(steps))):
            raise ValueError(
                f"trace {position} has steps {steps}: expected 0, 1, 2, ... once each."
            )
        first = rows.iloc[0]
        labels = list(rows["label"])
        soft = bool(first["soft"])
        if all(pd.isna(v) for v in labels):
            labels = None
        elif any(pd.isna(v) for v in labels):
            raise ValueError(f"trace {position} has some steps labelled, some not.")
        elif not soft:
            labels = [int(v) for v in labels]
        reasons = [None if _missing(r) else r for r in rows["reason"]]
        if all(r is None for r in reasons):
            reasons = None
        else:
            reasons = ["" if r is None else str(r) for r in reasons]
        problem_id = str(first["problem_id"])
        meta = {} if problem_id == str(position) else {"id": problem_id}
        traces.append(
            Trace(
                problem=str(first["problem"]),
                steps=tuple(str(t) for t in rows["text"]),
                answer=None if _missing(first["answer"]) else str(first["answer"]),
                labels=labels,
                reasons=reasons,
                soft=soft,
                meta=meta,
            )
        )
    return traces


def _missing(value) -> bool:
    import pandas as pd

    return (
        value is None
        or value is pd.NA
        or (
            isinstance(value, float) and value != value  # NaN
        )
    )
