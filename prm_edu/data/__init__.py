"""Traces and the data formats PRMs are trained and evaluated on.

One type, `Trace` (problem, steps, answer, per-step labels and reasons),
flows through the course. This package converts it to and from the formats
a learner meets in the wild, one module per format:

- `trl`: TRL's stepwise supervision (`prompt`, `completions`, `labels`),
  what `trl.PRMTrainer` trains on; labels are booleans.
- `prm800k`: OpenAI's PRM800K JSONL (human ratings -1 / 0 / +1, labelling
  stops at the first wrong step).
- `math_shepherd`: Math-Shepherd's step tag `ки` and `+` / `-` form.
- `processbench`: ProcessBench's earliest-error index (-1: no error).
- `frame`: a pandas DataFrame, one row per step.

Every reader takes a file (`read_*`) or records in memory (`from_*`), and a
bad record raises `FormatError` naming the file, the line and the field.
Every writer (`write_*`, `to_*`) refuses to drop information silently: a
neutral or soft label that a format cannot hold needs `neutral_as` or
`threshold`. Defined in notebook 02.
"""

from .binary import binary_labels
from .frame import from_frame, to_frame
from .jsonl import FormatError, read_records, write_records
from .math_shepherd import (
    from_math_shepherd,
    read_math_shepherd,
    to_math_shepherd,
    write_math_shepherd,
)
from .prm800k import from_prm800k, read_prm800k, to_prm800k, write_prm800k
from .processbench import (
    from_processbench,
    read_processbench,
    to_processbench,
    write_processbench,
)
from .trace import BAD, GOOD, NEUTRAL, Trace
from .trl import from_trl, read_trl, to_trl, write_trl

__all__ = [
    "BAD",
    "GOOD",
    "NEUTRAL",
    "FormatError",
    "Trace",
    "binary_labels",
    "from_frame",
    "from_math_shepherd",
    "from_processbench",
    "from_prm800k",
    "from_trl",
    "read_math_shepherd",
    "read_processbench",
    "read_prm800k",
    "read_records",
    "read_trl",
    "to_frame",
    "to_math_shepherd",
    "to_processbench",
    "to_prm800k",
    "to_trl",
    "write_math_shepherd",
    "write_processbench",
    "write_prm800k",
    "write_records",
    "write_trl",
]
