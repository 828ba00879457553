"""Data formats: round trips keep what each format holds; bad records say where."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from prm_edu.data import (
    FormatError,
    Trace,
    from_frame,
    from_math_shepherd,
    from_prm800k,
    from_processbench,
    from_trl,
    read_math_shepherd,
    read_prm800k,
    read_processbench,
    read_trl,
    to_frame,
    to_math_shepherd,
    to_prm800k,
    to_processbench,
    to_trl,
    write_math_shepherd,
    write_prm800k,
    write_processbench,
    write_trl,
)
from prm_edu.data.math_shepherd import STEP_TAG
from prm_edu.data.prm800k import split_answer
from prm_edu.data.processbench import REASON_AFTER, labels_from_first_error

PROBLEM = "2x + 5 = 15"
TRACE_A = Trace(
    PROBLEM,
    ("Subtract 5 from both sides: 2x = 10", "Divide both sides by 2: x = 5"),
    answer="5",
    labels=(1, 1),
)
TRACE_B = Trace(
    PROBLEM,
    ("Subtract 5 from both sides: 2x = 20", "Divide both sides by 2: x = 10"),
    answer="10",
    labels=(-1, -1),
)

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Any valid Unicode text (no lone surrogates: those cannot be written as UTF-8).
text = st.text(st.characters(codec="utf-8"), max_size=25)


@st.composite
def traces(draw, labelled: bool = True, min_steps: int = 1, soft=None):
    steps = draw(st.lists(text, min_size=min_steps, max_size=6))
    is_soft = draw(st.booleans()) if soft is None else soft
    if labelled or draw(st.booleans()):
        if is_soft:
            value = st.floats(0.0, 1.0, allow_nan=False)
        else:
            value = st.sampled_from([1, 0, -1])
        labels = draw(st.lists(value, min_size=len(steps), max_size=len(steps)))
    else:
        labels, is_soft = None, False
    reasons = draw(st.none() | st.lists(text, min_size=len(steps), max_size=len(steps)))
    return Trace(
        problem=draw(text),
        steps=steps,
        answer=draw(st.none() | text),
        labels=labels,
        reasons=reasons,
        soft=is_soft,
    )


def _through_file(write, read, items, **kwargs):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.jsonl"
        write(items, path, **kwargs)
        return read(path)


def _same(got: list[Trace], expected: list[Trace]) -> None:
    assert got == expected
    for g, e in zip(got, expected):
        assert g.meta == e.meta


# ---------------------------------------------------------------- TRL


def test_trl_rows_are_what_prm_trainer_reads():
    rows = to_trl([TRACE_A, TRACE_B])
    assert rows[0] == {
        "prompt": PROBLEM,
        "completions": list(TRACE_A.steps),
        "labels": [True, True],
    }
    assert rows[1]["labels"] == [False, False]
    assert all(type(v) is bool for row in rows for v in row["labels"])


def test_trl_neutral_and_soft_labels_need_a_decision():
    neutral = TRACE_A.with_labels([0, 1])
    assert to_trl([neutral])[0]["labels"] == [True, True]
    assert to_trl([neutral], neutral_as=False)[0]["labels"] == [False, True]
    with pytest.raises(ValueError, match="neutral_as"):
        to_trl([neutral], neutral_as=None)
    soft = TRACE_A.with_labels([0.2, 0.9], soft=True)
    with pytest.raises(ValueError, match="threshold"):
        to_trl([soft])
    assert to_trl([soft], threshold=0.5)[0]["labels"] == [False, True]
    with pytest.raises(ValueError, match="has none"):
        to_trl([Trace(PROBLEM, TRACE_A.steps)])


def test_trl_through_a_datasets_dataset():
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_list(to_trl([TRACE_A, TRACE_B]))
    assert dataset.features["labels"].feature.dtype == "bool"
    assert from_trl(dataset) == [
        Trace(PROBLEM, TRACE_A.steps, labels=(1, 1)),
        Trace(PROBLEM, TRACE_B.steps, labels=(-1, -1)),
    ]


@SETTINGS
@given(st.lists(traces(min_steps=0), max_size=4))
def test_trl_round_trip(items):
    hard = [t for t in items if not t.soft]
    expected = [
        Trace(t.problem, t.steps, labels=[1 if v >= 0 else -1 for v in t.labels])
        for t in hard
    ]
    _same(from_trl(to_trl(hard)), expected)
    _same(_through_file(write_trl, read_trl, hard), expected)


# ---------------------------------------------------------------- PRM800K


def _prm800k_step(*completions, chosen=0, human=None):
    return {
        "completions": [
            {"text": t, "rating": r, "flagged": None} for t, r in completions
        ],
        "human_completion": human,
        "chosen_completion": chosen,
    }


PHASE2_RECORD = {
    "labeler": "labeler-1",
    "timestamp": "2023-01-22T04:34:27",
    "generation": 9,
    "is_quality_control_question": False,
    "is_initial_screening_question": False,
    "question": {
        "problem": "What is 6 * 7?",
        "ground_truth_answer": "42",
        "pre_generated_steps": ["I multiply.", "6 * 7 = 48.\n\n# Answer\n\n48"],
        "pre_generated_answer": "48",
    },
    "label": {
        "steps": [
            _prm800k_step(("I multiply.", 0)),
            _prm800k_step(
                ("6 * 7 = 48.\n\n# Answer\n\n48", -1),
                ("6 * 7 = 42.", 1),
                chosen=None,
            ),
        ],
        "total_time": 1234,
        "finish_reason": "found_error",
    },
}


def test_prm800k_reads_the_chosen_path_up_to_the_first_error():
    (trace,) = from_prm800k([PHASE2_RECORD])
    assert trace.problem == "What is 6 * 7?"
    assert trace.steps == ("I multiply.", "6 * 7 = 48.")
    assert trace.labels == (0, -1)
    assert trace.answer == "48"
    assert trace.first_error() == 1
    assert trace.meta["ground_truth_answer"] == "42"
    assert trace.meta["finish_reason"] == "found_error"
    assert trace.meta["generation"] == 9


def test_prm800k_phase1_alternatives_and_human_steps():
    record = {
        "question": {"problem": "1 + 1 + 1?"},
        "label": {
            "steps": [
                _prm800k_step(("1 + 1 = 3", -1), ("1 + 1 = 2", 1), chosen=1),
                _prm800k_step(("2 + 1 = 4", -1), chosen=None, human={"text": "2+1=3"}),
                _prm800k_step(("So 3.\n\n# Answer\n\n3", 1)),
                _prm800k_step(("never rated", None)),
            ],
            "finish_reason": "solution",
        },
    }
    (trace,) = from_prm800k([record])
    # The unrated fourth step ends the labelled part.
    assert trace.steps == ("1 + 1 = 2", "2+1=3", "So 3.")
    assert trace.labels == (1, 1, 1)
    assert trace.answer == "3"


def test_prm800k_writes_what_it_reads():
    (trace,) = from_prm800k([PHASE2_RECORD])
    (record,) = to_prm800k([trace])
    assert record["label"]["steps"][1]["chosen_completion"] is None
    assert record["label"]["steps"][1]["completions"][0]["rating"] == -1
    assert record["question"]["ground_truth_answer"] == "42"
    _same(from_prm800k([record]), [trace])


def test_split_answer():
    assert split_answer("x = 5\n\n# Answer\n\n5") == ("x = 5", "5")
    assert split_answer("# Answer\n\n5") == ("", "5")
    assert split_answer("no answer here") == ("no answer here", None)


def _prm800k_expected(t: Trace, threshold=None) -> Trace:
    labels = list(t.labels)
    if t.soft:
        labels = [1 if v >= threshold else -1 for v in labels]
    stop = labels.index(-1) + 1 if -1 in labels else len(labels)
    cut = stop < len(labels)
    return Trace(
        t.problem,
        t.steps[:stop],
        answer=None if cut else t.answer,
        labels=labels[:stop],
    )


@SETTINGS
@given(st.lists(traces(), max_size=4))
def test_prm800k_round_trip(items):
    for t in items:
        assume(split_answer(t.steps[-1])[1] is None)
        if t.answer is not None:
            assume("# Answer" not in t.answer)
    expected = [_prm800k_expected(t, 0.5) for t in items]
    records = to_prm800k(items, threshold=0.5)
    got = from_prm800k(records)
    assert got == expected
    assert to_prm800k(got) == records  # and the records survive the trip back
    assert _through_file(write_prm800k, read_prm800k, items, threshold=0.5) == expected


# ---------------------------------------------------------------- Math-Shepherd

SHEPHERD_INPUT = (
    "Tom has 3 apples and buys 4 more. How many does he have? "
    "Step 1: He has 3 + 4 = <<3+4=7>>7 apples. ки\n"
    "Step 2: The answer is: 8 ки"
)
SHEPHERD_RECORD = {
    "input": SHEPHERD_INPUT,
    "label": SHEPHERD_INPUT.replace("ки", "+", 1).replace("ки", "-", 1),
    "task": "GSM8K",
}


def test_math_shepherd_reads_steps_and_marks():
    (trace,) = from_math_shepherd([SHEPHERD_RECORD])
    assert trace.problem == "Tom has 3 apples and buys 4 more. How many does he have?"
    assert trace.steps == ("He has 3 + 4 = <<3+4=7>>7 apples.", "The answer is: 8")
    assert trace.labels == (1, -1)
    assert trace.meta == {"task": "GSM8K"}
    assert to_math_shepherd([trace]) == [SHEPHERD_RECORD]


def test_math_shepherd_refuses_what_it_cannot_hold():
    with pytest.raises(ValueError, match="step tag"):
        to_math_shepherd([Trace(PROBLEM, (f"x {STEP_TAG}",), labels=(1,))])
    with pytest.raises(ValueError, match="Step 1:"):
        to_math_shepherd([Trace("Step 1: solve", ("x",), labels=(1,))])
    with pytest.raises(ValueError, match="no steps"):
        to_math_shepherd([Trace(PROBLEM, (), labels=())])
    with pytest.raises(ValueError, match="threshold"):
        to_math_shepherd([TRACE_A.with_labels([0.5, 0.5], soft=True)])


@SETTINGS
@given(st.lists(traces(), max_size=4))
def test_math_shepherd_round_trip(items):
    for t in items:
        assume(STEP_TAG not in t.problem and "tep 1:" not in t.problem)
        assume(all(STEP_TAG not in s for s in t.steps))
    expected = [
        Trace(
            t.problem,
            t.steps,
            labels=[
                (1 if v >= 0.5 else -1) if t.soft else (1 if v >= 0 else -1)
                for v in t.labels
            ],
            meta={"task": "prm_edu"},
        )
        for t in items
    ]
    records = to_math_shepherd(items, threshold=0.5)
    _same(from_math_shepherd(records), expected)
    assert to_math_shepherd(expected) == records
    got = _through_file(write_math_shepherd, read_math_shepherd, items, threshold=0.5)
    _same(got, expected)


# ---------------------------------------------------------------- ProcessBench

PB_RECORD = {
    "id": "gsm8k-0",
    "generator": "Qwen2-7B-Instruct",
    "problem": "What is 2 + 2 + 2?",
    "steps": ["2 + 2 = 4", "4 + 2 = 7", "The answer is 7"],
    "final_answer_correct": False,
    "label": 1,
}


def test_processbench_labels_from_the_earliest_error():
    (trace,) = from_processbench([PB_RECORD])
    assert trace.labels == (1, -1, -1)
    assert trace.reasons[2] == REASON_AFTER
    assert trace.first_error() == 1
    assert trace.meta == {
        "final_answer_correct": False,
        "id": "gsm8k-0",
        "generator": "Qwen2-7B-Instruct",
    }
    assert to_processbench([trace]) == [PB_RECORD]
    labels, reasons = labels_from_first_error(3, -1)
    assert labels == [1, 1, 1] and len(set(reasons)) == 1


def test_processbench_reads_its_json_array_files(tmp_path):
    path = tmp_path / "gsm8k.json"
    path.write_text(json.dumps([PB_RECORD, PB_RECORD], indent=2), encoding="utf-8")
    assert len(read_processbench(path)) == 2
    bad = dict(PB_RECORD, label=3)
    text = json.dumps([PB_RECORD, bad], indent=2)
    path.write_text(text, encoding="utf-8")
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "  {"]
    with pytest.raises(FormatError) as info:
        read_processbench(path)
    err = info.value
    assert (err.field, err.index) == ("label", 1)
    assert err.line == starts[1]  # the line where the bad object starts
    assert f"{path}, line {starts[1]}, field 'label'" in str(err)


def test_processbench_needs_to_know_if_the_answer_is_right():
    with pytest.raises(ValueError, match="grade="):
        to_processbench([TRACE_A])
    (record,) = to_processbench([TRACE_B], grade=lambda t: t.answer == "5")
    assert record["final_answer_correct"] is False
    assert record["label"] == 0


@SETTINGS
@given(st.lists(traces(min_steps=0), max_size=4), st.booleans())
def test_processbench_round_trip(items, correct):
    expected = []
    for i, t in enumerate(items):
        first = (
            t.first_error()
            if t.soft
            else next((j for j, v in enumerate(t.labels) if v < 0), -1)
        )
        labels, reasons = labels_from_first_error(len(t.steps), first)
        meta = {
            "final_answer_correct": correct,
            "id": f"prm_edu-{i}",
            "generator": "prm_edu",
        }
        expected.append(
            Trace(t.problem, t.steps, labels=labels, reasons=reasons, meta=meta)
        )
    records = to_processbench(items, grade=lambda t: correct, threshold=0.5)
    _same(from_processbench(records), expected)
    assert to_processbench(expected) == records
    got = _through_file(
        write_processbench,
        read_processbench,
        items,
        grade=lambda t: correct,
        threshold=0.5,
    )
    _same(got, expected)


# ---------------------------------------------------------------- DataFrame


def test_frame_has_one_row_per_step():
    frame = to_frame([TRACE_A, TRACE_B.with_labels([-1, -1], ["15 - 5 = 10", "x"])])
    assert list(frame.columns) == [
        "trace",
        "problem_id",
        "problem",
        "step",
        "text",
        "label",
        "reason",
        "soft",
        "answer",
    ]
    assert len(frame) == 4
    assert list(frame["label"]) == [1.0, 1.0, -1.0, -1.0]
    assert frame.loc[2, "reason"] == "15 - 5 = 10"
    assert frame.groupby("trace")["label"].min().tolist() == [1.0, -1.0]


@SETTINGS
@given(st.lists(traces(labelled=False), max_size=4))
def test_frame_round_trip(items):
    got = from_frame(to_frame(items))
    assert got == items
    for g, t in zip(got, items):
        assert g.soft == t.soft
        if t.labels is not None and not t.soft:
            assert all(type(v) is int for v in g.labels)
        if t.labels is not None and t.soft:
            assert all(math.isclose(a, b) for a, b in zip(g.labels, t.labels))


def test_frame_keeps_problem_ids():
    trace = Trace(PROBLEM, ("x = 5",), meta={"id": "eq-7"})
    frame = to_frame([trace])
    assert frame.loc[0, "problem_id"] == "eq-7"
    assert from_frame(frame)[0].meta == {"id": "eq-7"}


# ---------------------------------------------------------------- bad records

GOOD_TRL = {"prompt": "p", "completions": ["a"], "labels": [True]}

BAD_RECORDS = [
    (read_trl, GOOD_TRL, dict(GOOD_TRL, labels=["true"]), "labels[0]"),
    (read_trl, GOOD_TRL, dict(GOOD_TRL, labels=[True, False]), "labels"),
    (read_trl, GOOD_TRL, {"completions": ["a"], "labels": [True]}, "prompt"),
    (
        read_prm800k,
        PHASE2_RECORD,
        json.loads(json.dumps(PHASE2_RECORD).replace('"rating": 0', '"rating": 2')),
        "label.steps[0].completions[0].rating",
    ),
    (
        read_prm800k,
        PHASE2_RECORD,
        dict(PHASE2_RECORD, question={"ground_truth_answer": "42"}),
        "question.problem",
    ),
    (
        read_prm800k,
        PHASE2_RECORD,
        json.loads(
            json.dumps(PHASE2_RECORD).replace(
                '"chosen_completion": 0', '"chosen_completion": 3'
            )
        ),
        "label.steps[0].chosen_completion",
    ),
    (
        read_math_shepherd,
        SHEPHERD_RECORD,
        dict(SHEPHERD_RECORD, label=SHEPHERD_INPUT.replace("ки", "?")),
        "label",
    ),
    (
        read_math_shepherd,
        SHEPHERD_RECORD,
        dict(SHEPHERD_RECORD, input="no tags at all", label="no tags at all"),
        "input",
    ),
    (read_processbench, PB_RECORD, dict(PB_RECORD, label=3), "label"),
    (read_processbench, PB_RECORD, dict(PB_RECORD, steps=["a", 2]), "steps[1]"),
    (
        read_processbench,
        PB_RECORD,
        dict(PB_RECORD, final_answer_correct="yes"),
        "final_answer_correct",
    ),
]


@pytest.mark.parametrize(
    "read, good, bad, field", BAD_RECORDS, ids=[c[3] for c in BAD_RECORDS]
)
def test_bad_record_names_file_line_and_field(tmp_path, read, good, bad, field):
    path = tmp_path / "data.jsonl"
    lines = [json.dumps(good), "", json.dumps(bad, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FormatError) as info:
        read(path)
    err = info.value
    assert (err.source, err.line, err.field) == (str(path), 3, field)
    assert str(err).startswith(f"{path}, line 3, field '{field}': ")


def test_bad_json_names_the_line(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(GOOD_TRL) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"data.jsonl, line 2: is not valid JSON"):
        read_trl(path)
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(FormatError, match="line 1: expected a JSON object"):
        read_trl(path)


def test_in_memory_errors_name_the_index():
    with pytest.raises(FormatError, match=r"records\[1\], field 'labels\[0\]'"):
        from_trl([GOOD_TRL, dict(GOOD_TRL, labels=[1])])


def test_skip_bad_records_with_one_warning(tmp_path):
    path = tmp_path / "data.jsonl"
    bad = json.dumps(dict(GOOD_TRL, labels=[]))
    path.write_text(f"{json.dumps(GOOD_TRL)}\n{bad}\n{bad}\n", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"skipped 2 bad record\(s\).*line 2"):
        got = read_trl(path, errors="skip")
    assert len(got) == 1


def test_unicode_line_separators_stay_inside_records(tmp_path):
    trace = Trace("a\u2028b", ("c\u2029d", "e\x85f"), labels=(1, -1))
    assert _through_file(write_trl, read_trl, [trace]) == [trace]
