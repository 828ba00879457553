"""PRM800K, OpenAI's human step labels ("Let's Verify Step by Step").

One JSON line per labelled solution (see github.com/openai/prm800k)::

    {"labeler": "...", "timestamp": "...", "generation": 9,
     "is_quality_control_question": false, "is_initial_screening_question": false,
     "question": {"problem": "...", "ground_truth_answer": "...", ...},
     "label": {"steps": [
         {"completions": [{"text": "...", "rating": 1, "flagged": null}],
          "human_completion": null, "chosen_completion": 0},
         ...],
       "total_time": 278270, "finish_reason": "found_error"}}

A rating is +1 (correct and useful), 0 (correct, no progress) or -1 (wrong).
Each step holds one or more candidate completions; the solution follows
`chosen_completion` (or the labeller's own `human_completion`). Labelling stops
at the first wrong step: in phase 2 that step has `chosen_completion: null`
and its completions are the rated candidates, the first one rated -1 being
the step the model wrote.

Reading (`read_prm800k`): one `Trace` per record, the chosen path up to and
including the first -1 step, with its ratings (a step left unrated, where a
labeller gave up, ends the trace before it). A step that ends in the
solution's final answer (`...\\n\\n# Answer\\n\\n320,000`) is split: the text
before the marker stays the step and what follows becomes `Trace.answer`.
Alternatives that were not chosen are not kept. Record-level fields go to
`Trace.meta` (`ground_truth_answer`, `finish_reason`, `labeler`, ...).

Writing (`write_prm800k`) is for round trips and small hand-made sets: one
completion per step, the trace cut after its first -1 (as PRM800K stops
there), the answer written into the last step with the `# Answer` marker when
the trace is not cut. Reasons are not held by the format.

Defined for notebook 02.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from .jsonl import Where, convert, get, in_memory, read_records, require, write_records
from .trace import BAD, Trace

ANSWER_MARKER = "# Answer\n\n"
RATINGS = (-1, 0, 1)
# Record-level fields kept in Trace.meta, and written back from it.
RECORD_META = (
    "labeler",
    "timestamp",
    "generation",
    "is_quality_control_question",
    "is_initial_screening_question",
)
QUESTION_META = (
    "ground_truth_solution",
    "ground_truth_answer",
    "pre_generated_steps",
    "pre_generated_answer",
    "pre_generated_verifier_score",
)
LABEL_META = ("total_time", "finish_reason")


def from_prm800k(records: Iterable[dict], errors: str = "raise") -> list[Trace]:
    """Traces from PRM800K records already loaded as dicts."""
    return convert(in_memory(records), _trace_from_record, errors)


def read_prm800k(path: str | os.PathLike, errors: str = "raise") -> list[Trace]:
    """Traces from a PRM800K JSONL file (e.g. `phase2_train.jsonl`)."""
    return convert(read_records(path), _trace_from_record, errors)


def to_prm800k(traces: Iterable[Trace], threshold: float | None = None) -> list[dict]:
    """PRM800K records for labelled traces (see the module docstring).

    Soft labels become +1 (fraction >= `threshold`) or -1; you must give the
    threshold.
    """
    return [_record_from_trace(trace, threshold) for trace in traces]


def write_prm800k(
    traces: Iterable[Trace], path: str | os.PathLike, threshold: float | None = None
) -> Path:
    """Write PRM800K JSONL; returns the path."""
    return write_records(to_prm800k(traces, threshold), path)


def split_answer(text: str) -> tuple[str, str | None]:
    """A step's text and the final answer it states, if any.

    PRM800K ends a solution's last step with '\\n\\n# Answer\\n\\n' and the
    answer; a step that is only the marker and the answer gives ''.
    """
    if text.startswith(ANSWER_MARKER):
        return "", text[len(ANSWER_MARKER) :]
    at = text.rfind("\n\n" + ANSWER_MARKER)
    if at < 0:
        return text, None
    return text[:at], text[at + 2 + len(ANSWER_MARKER) :]


def _trace_from_record(record: dict, where: Where) -> Trace:
    question = get(record, "question", dict, where)
    problem = get(question, "problem", str, where, "question.problem")
    label = get(record, "label", dict, where)
    steps_in = get(label, "steps", list, where, "label.steps")

    steps: list[str] = []
    ratings: list[int] = []
    for i, step in enumerate(steps_in):
        field = f"label.steps[{i}]"
        text, rating = _read_step(require(step, dict, where, field), where, field)
        if text is None:  # nothing rated to follow: the labeller stopped here
            break
        steps.append(text)
        ratings.append(rating)
        if rating == BAD:
            break

    answer = None
    if steps:
        steps[-1], answer = split_answer(steps[-1])

    meta: dict[str, Any] = {}
    for key in RECORD_META:
        if key in record:
            meta[key] = record[key]
    for key in QUESTION_META:
        if key in question:
            meta[key] = question[key]
    for key in LABEL_META:
        if key in label:
            meta[key] = label[key]
    return Trace(
        problem=problem,
        steps=tuple(steps),
        answer=answer,
        labels=tuple(ratings),
        meta=meta,
    )


def _read_step(step: dict, where: Where, field: str) -> tuple[str | None, int]:
    """The text and rating this step contributes to the solution."""
    completions = get(step, "completions", list, where, f"{field}.completions")
    rated: list[tuple[str, int | None]] = []
    for j, completion in enumerate(completions):
        cfield = f"{field}.completions[{j}]"
        require(completion, dict, where, cfield)
        text = get(completion, "text", str, where, f"{cfield}.text")
        rating = get(completion, "rating", (int, type(None)), where, f"{cfield}.rating")
        if rating is not None and rating not in RATINGS:
            raise where.error(
                f"{cfield}.rating", f"expected -1, 0 or 1 (or null), got {rating!r}."
            )
        rated.append((text, rating))

    chosen = get(
        step,
        "chosen_completion",
        (int, type(None)),
        where,
        f"{field}.chosen_completion",
        default=None,
    )
    human = step.get("human_completion")
    if chosen is not None:
        if not 0 <= chosen < len(rated):
            raise where.error(
                f"{field}.chosen_completion",
                f"is {chosen}, but the step has {len(rated)} completion(s).",
            )
        text, rating = rated[chosen]
        if rating is None:  # never rated: the labelled part ends before it
            return None, 0
        return text, rating
    if human is not None:
        # Phase 1: all candidates were wrong and the labeller wrote a good step.
        if isinstance(human, dict):
            text = get(human, "text", str, where, f"{field}.human_completion.text")
        else:
            text = require(human, str, where, f"{field}.human_completion")
        return text, 1
    for text, rating in rated:
        if rating == BAD:
            return text, BAD
    return None, 0


def _record_from_trace(trace: Trace, threshold: float | None) -> dict:
    ratings = _ratings(trace, threshold)
    stop = ratings.index(BAD) + 1 if BAD in ratings else len(ratings)
    texts = list(trace.steps[:stop])
    cut = stop < len(trace.steps)
    if texts and split_answer(texts[-1])[1] is not None:
        raise ValueError(
            f"step {len(texts) - 1} already holds PRM800K's answer marker "
            f"{ANSWER_MARKER!r}; put the final answer in Trace.answer instead."
        )
    if trace.answer is not None and not cut:
        if not texts:
            raise ValueError("a trace with no steps cannot state an answer in PRM800K.")
        last = f"{texts[-1]}\n\n{ANSWER_MARKER}{trace.answer}"
        if split_answer(last) != (texts[-1], trace.answer):
            raise ValueError(
                f"the answer {trace.answer!r} holds PRM800K's answer marker "
                f"{ANSWER_MARKER!r}, so it could not be read back: remove it."
            )
        texts[-1] = last

    steps = []
    for i, text in enumerate(texts):
        bad = ratings[i] == BAD
        steps.append(
            {
                "completions": [{"text": text, "rating": ratings[i], "flagged": None}],
                "human_completion": None,
                # The first wrong step is left unchosen, as in phase 2.
                "chosen_completion": None if bad else 0,
            }
        )
    meta = trace.meta
    question = {"problem": trace.problem}
    question.update({k: meta[k] for k in QUESTION_META if k in meta})
    question.setdefault("ground_truth_answer", None)
    finish = "found_error" if BAD in ratings[:stop] else "solution"
    label = {
        "steps": steps,
        "total_time": meta.get("total_time"),
        "finish_reason": meta.get("finish_reason", finish),
    }
    record = {
        "labeler": meta.get("labeler"),
        "timestamp": meta.get("timestamp"),
        "generation": meta.get("generation"),
        "is_quality_control_question": meta.get("is_quality_control_question", False),
        "is_initial_screening_question": meta.get(
            "is_initial_screening_question", False
        ),
        "question": question,
        "label": label,
    }
    return record


def _ratings(trace: Trace, threshold: float | None) -> list[int]:
    if trace.labels is None:
        raise ValueError(
            "PRM800K holds a rating for every step, and this trace has no labels "
            f"(problem {trace.problem[:40]!r}): label it first."
        )
    if not trace.soft:
        return [int(value) for value in trace.labels]
    if threshold is None:
        raise ValueError(
            "this trace has soft labels (Monte Carlo fractions) and PRM800K holds "
            "ratings -1 / 0 / +1: pass threshold=0.5 (or another cut; a step is +1 "
            "when its fraction >= threshold, else -1)."
        )
    return [1 if value >= threshold else BAD for value in trace.labels]
