"""The TRL path: course traces -> TRL stepwise dataset -> PRMTrainer -> the
course's scorer; and soft Monte Carlo labels, which TRL cannot train on but
the course's own trainer can."""

from __future__ import annotations

import warnings

import pytest
import torch

from prm_edu.adapters import load_scorer
from prm_edu.data.trace import Trace
from prm_edu.models.prm import ModelShape, PRMScorer, new_prm
from prm_edu.models.tokenizer import build_tokenizer, encode_traces
from prm_edu.trl_export import (
    SoftLabelWarning,
    TRLConfig,
    prm_trainer_classes,
    to_trl_dataset,
    train_with_trl,
)

torch.set_num_threads(1)

SHAPE = ModelShape(d_model=32, n_layers=2, n_heads=2, context=96)

TRACES = [
    Trace(
        "Solve 2x + 5 = 15",
        ("Subtract 5 from both sides: 2x = 10", "Divide both sides by 2: x = 5"),
        labels=(1, 1),
    ),
    Trace(
        "Solve 2x + 5 = 15",
        ("Subtract 5 from both sides: 2x = 20", "Divide both sides by 2: x = 10"),
        labels=(-1, -1),
    ),
    Trace(
        "Solve 3x + 1 = 10",
        ("Subtract 1 from both sides: 3x = 9", "Divide both sides by 3: x = 3"),
        labels=(1, 0),
    ),
    Trace(
        "Solve 3x + 1 = 10",
        ("Subtract 1 from both sides: 3x = 9", "Divide both sides by 3: x = 4"),
        labels=(1, -1),
    ),
]


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer(
        [text for t in TRACES for text in (t.problem, *t.steps)], vocab_size=200
    )


def trl_tokenize(row, tokenizer):
    """TRL's own tokenization of one stepwise row, as PRMTrainer does it."""
    _, PRMTrainer = prm_trainer_classes()
    return PRMTrainer.tokenize_row(
        row,
        tokenizer=tokenizer,
        step_separator="\n",
        max_length=None,
        max_completion_length=None,
        train_on_last_step_only=False,
        is_eval=False,
    )


def test_export_rows_are_trl_stepwise_rows():
    ds = to_trl_dataset(TRACES)
    assert ds.column_names == ["prompt", "completions", "labels"]
    assert len(ds) == 4
    assert ds[0] == {
        "prompt": "Solve 2x + 5 = 15\n",
        "completions": list(TRACES[0].steps),
        "labels": [True, True],
    }
    assert ds[2]["labels"] == [True, True]  # neutral counts as good by default
    assert to_trl_dataset(TRACES[2:3], neutral_as=False)[0]["labels"] == [True, False]


def test_trl_reads_exactly_what_the_course_scorer_reads(tok):
    from prm_edu.trl_export import _without_bos

    assert tok.bos_token_id is not None  # TRL would prepend it: hidden from TRL
    for trace, row in zip(TRACES, to_trl_dataset(TRACES)):
        got = trl_tokenize(row, _without_bos(tok))
        [course] = encode_traces(tok, [(trace.problem, trace.steps)])
        assert got["input_ids"] == course.input_ids
        labelled = [i for i, y in enumerate(got["labels"]) if y != -100]
        assert labelled == course.separators
        assert [got["labels"][i] for i in labelled] == [int(y) for y in row["labels"]]
    # With the BOS token kept, TRL's rows start one token later.
    kept = trl_tokenize(to_trl_dataset(TRACES[:1])[0], tok)
    assert kept["input_ids"][0] == tok.bos_token_id


def test_soft_labels_are_cut_with_a_warning_and_trl_would_truncate_them():
    soft = Trace(
        "Solve x + 1 = 3",
        ("Subtract 1: x = 2", "So x = 5"),
        labels=(0.8, 0.2),
        soft=True,
    )
    with pytest.raises(ValueError, match="threshold"):
        to_trl_dataset([soft])
    with pytest.warns(SoftLabelWarning, match="int\\(\\)"):
        ds = to_trl_dataset([soft], threshold=0.5)
    assert ds[0]["labels"] == [True, False]
    # What TRL itself does with a fraction: int(0.8) == 0, a good step made bad.
    tok = build_tokenizer([soft.problem, *soft.steps], vocab_size=120)
    raw = {
        "prompt": soft.problem + "\n",
        "completions": list(soft.steps),
        "labels": [0.8, 1.0],
    }
    labels = [y for y in trl_tokenize(raw, tok)["labels"] if y != -100]
    assert labels == [0, 1]


def test_prm_trainer_trains_and_loads_into_the_course_scorer(tok, tmp_path):
    model = new_prm(tok, SHAPE, seed=0)
    dataset = to_trl_dataset(TRACES * 2)
    config = TRLConfig(
        output_dir=tmp_path / "trl-prm", max_steps=80, batch_size=4, learning_rate=3e-3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SoftLabelWarning)
        run = train_with_trl(model, tok, dataset, config)
    assert run.path == tmp_path / "trl-prm"
    assert (run.path / "model.safetensors").exists()
    assert len(run.losses) == 16 and run.losses[-1] < 0.7 * run.losses[0]
    scorer = load_scorer(run.path, convention="token-classification")
    assert isinstance(scorer, PRMScorer)
    items = [(t.problem, t.steps) for t in TRACES]
    scores = scorer.score_batch(items)
    # Exactly the trained model's numbers, read at the separators.
    direct = PRMScorer(model, tok).score_batch(items)
    # On a GPU the trainer leaves the in-memory model under bf16 autocast;
    # the reloaded float32 copy then agrees to about 1e-4.
    tol = 1e-5 if model.device.type == "cpu" else 1e-3
    assert sum(scores, []) == pytest.approx(sum(direct, []), abs=tol)
    good = [s for t, ss in zip(TRACES, scores) for s, y in zip(ss, t.labels) if y >= 0]
    bad = [s for t, ss in zip(TRACES, scores) for s, y in zip(ss, t.labels) if y < 0]
    assert min(good) > max(bad)


def test_prm_trainer_is_warned_about_fractions(tok, tmp_path):
    from datasets import Dataset

    rows = [
        {
            "prompt": "Solve 2x + 5 = 15\n",
            "completions": ["Subtract 5 from both sides: 2x = 10"],
            "labels": [0.7],
        }
    ]
    with pytest.warns(SoftLabelWarning, match="int\\(\\)"):
        train_with_trl(
            new_prm(tok, SHAPE),
            tok,
            Dataset.from_list(rows),
            TRLConfig(output_dir=tmp_path / "soft", max_steps=1, batch_size=1),
        )


def test_the_course_trainer_learns_the_soft_fractions_themselves():
    from prm_edu.training import TrainConfig, train_prm

    soft = [
        Trace(
            "Solve x + 1 = 3",
            ("Subtract 1 from both sides: x = 2",),
            labels=(0.75,),
            soft=True,
        ),
        Trace(
            "Solve x + 2 = 3",
            ("Subtract 2 from both sides: x = 5",),
            labels=(0.25,),
            soft=True,
        ),
    ]
    config = TrainConfig(
        lr=3e-3,
        max_steps=150,
        batch_size=2,
        progress=False,
        device="cpu",
        warmup_frac=0.0,
    )
    result = train_prm(soft * 4, config, shape=SHAPE)
    scorer = PRMScorer(result.model, result.tokenizer)
    got = [s[0] for s in scorer.score_batch([(t.problem, t.steps) for t in soft])]
    # The targets are the fractions: it learns 0.75 and 0.25, not 1 and 0.
    assert got == pytest.approx([0.75, 0.25], abs=0.08)
