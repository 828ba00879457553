"""The exercise checks of notebooks 03 (train a PRM) and 04 (best-of-N), and
the figures those notebooks draw."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from prm_edu import metrics, plots  # noqa: E402
from prm_edu.data import Trace  # noqa: E402
from prm_edu.exercises import best_of_n as ex4  # noqa: E402
from prm_edu.exercises import train_a_prm as ex3  # noqa: E402
from prm_edu.models import build_tokenizer  # noqa: E402
from prm_edu.training import IGNORE, prm_examples  # noqa: E402

PROBLEM = "Solve 2x + 5 = 15"
STEPS = ("Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5")


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer([PROBLEM, *STEPS] * 3, vocab_size=160)


# ------------------------------------------------------------ notebook 03


def test_label_positions(tok):
    trace = Trace(PROBLEM, STEPS, labels=(1, 1))
    ids = prm_examples(tok, [trace])[0].input_ids
    newline = tok.convert_tokens_to_ids("\n")
    seps = [i for i, t in enumerate(ids) if t == newline]
    assert ex3.check_label_positions(tok, trace, seps[1:])
    v = ex3.check_label_positions(tok, trace, seps)
    assert not v and "ends the problem" in v.message
    v = ex3.check_label_positions(tok, trace, seps[1:2])
    assert not v and "2 steps" in v.message
    v = ex3.check_label_positions(tok, trace, [seps[1], seps[2] - 1])
    assert not v and f"position {seps[2] - 1}" in v.message
    assert not ex3.check_label_positions(tok, trace, "12")
    assert not ex3.check_label_positions(tok, trace, [1.5, 2])


def test_masked_loss_by_hand():
    logits = torch.tensor([[[0.0, 0.0], [1.0, -1.0], [0.5, 2.0], [-1.0, 1.0]]])
    targets = torch.tensor([[IGNORE, 0.0, IGNORE, 1.0]])
    # -log softmax at the two labelled positions, by hand.
    want = (math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-2))) / 2
    assert ex3.check_masked_loss(logits, targets, want)
    assert ex3.check_masked_loss(logits, targets, torch.tensor(want))
    everywhere = torch.nn.functional.cross_entropy(
        logits[0], targets[0].clamp(min=0).long()
    ).item()
    v = ex3.check_masked_loss(logits, targets, everywhere)
    assert not v and "all 4 positions" in v.message
    assert not ex3.check_masked_loss(logits, targets, None)


def test_auroc_by_hand():
    scores, good = [0.95, 0.40, 0.85, 0.30, 0.70, 0.60], [1, 0, 1, 1, 0, 1]
    assert ex3.check_auroc(scores, good, 5 / 8)
    v = ex3.check_auroc(scores, good, 0.5)
    assert not v and "8 pairs" in v.message


def _trace_with_first_error(first: int, n_steps: int = 3) -> Trace:
    labels = [1] * n_steps
    if first >= 0:
        labels[first:] = [-1] * (n_steps - first)
    return Trace("p", ("a",) * n_steps, labels=tuple(labels))


def test_first_error_f1_matches_metrics():
    truth = [1, 0, -1, 2, -1, -1, 0]
    predicted = [1, 1, -1, 2, 0, -1, -1]
    traces = [_trace_with_first_error(t) for t in truth]
    scores = [[0.9] * 3 if p < 0 else [0.9] * p + [0.1] * (3 - p) for p in predicted]
    want = metrics.first_error_f1(traces, scores, 0.5).f1
    assert ex3.check_first_error_f1(truth, predicted, want)
    v = ex3.check_first_error_f1(truth, predicted, (0.5 + 2 / 3) / 2)
    assert not v and "harmonic" in v.message
    assert not ex3.check_first_error_f1(truth, predicted, 0.9)
    with pytest.raises(ValueError, match="one of each"):
        ex3.check_first_error_f1(truth, predicted[:-1], 0.5)


def test_ece_by_hand():
    probs, outcomes = [0.9, 0.8, 0.7, 0.3, 0.2], [1, 1, 0, 0, 1]
    assert ex3.check_ece(probs, outcomes, 2, 0.18)
    assert not ex3.check_ece(probs, outcomes, 2, 0.25)


# ------------------------------------------------------------ notebook 04


def test_aggregates():
    scores = [0.9, 0.2, 0.95]
    right = {"min": 0.2, "prod": 0.171, "last": 0.95, "mean": 2.05 / 3}
    assert ex4.check_aggregates(scores, right)
    v = ex4.check_aggregates(scores, {**right, "prod": 0.2})
    assert not v and v.name == "prod" and "multiplied" in v.message
    v = ex4.check_aggregates(scores, {"min": 0.2})
    assert not v and "missing" in v.message
    assert not ex4.check_aggregates(scores, [0.2, 0.171, 0.95, 0.68])


def test_picks():
    answers, values = ["4", "7", "4", "7", "4"], [0.30, 0.95, 0.20, 0.90, 0.25]
    right = {"prm": 1, "majority": "4", "weighted": "7"}
    assert ex4.check_picks(answers, values, right)
    v = ex4.check_picks(answers, values, {"prm": 3, "majority": "4", "weighted": "7"})
    assert not v and v.name == "prm pick"
    v = ex4.check_picks(answers, values, {"prm": 1, "majority": "7", "weighted": "7"})
    assert not v and "4: 3" in v.message
    v = ex4.check_picks(answers, values, {"prm": 1, "majority": "4", "weighted": "4"})
    assert not v and v.name == "weighted vote"
    assert not ex4.check_picks(answers, values, {"prm": 1})


def test_pass_at_k():
    want = 1 - math.comb(61, 8) / math.comb(64, 8)
    assert ex4.check_pass_at_k(64, 3, 8, want)
    assert not ex4.check_pass_at_k(64, 3, 8, 3 / 64)


@pytest.mark.parametrize(
    "score,rival", [(0.95, 0.70), (0.9, 0.81), (0.5, 0.5), (0.99, 0.01), (0.3, 1.0)]
)
def test_prod_crossover_is_the_first_losing_length(score, rival):
    k = ex4.prod_crossover(score, rival)
    assert score**k < rival
    assert k == 1 or score ** (k - 1) >= rival


def test_prod_crossover_check():
    assert ex4.check_prod_crossover(0.95, 0.70, 7)
    v = ex4.check_prod_crossover(0.95, 0.70, 6)
    assert not v and "0.95^k < 0.7" in v.message
    with pytest.raises(ValueError, match="step_score"):
        ex4.prod_crossover(1.0, 0.5)


# ------------------------------------------------------------ figures


def test_figures_draw(tok):
    trace = Trace(PROBLEM, STEPS, labels=(1, -1))
    prm_ex = prm_examples(tok, [trace])[0]
    orm_ex = prm_examples(tok, [trace], outcomes=[False])[0]
    tokens = tok.convert_ids_to_tokens(prm_ex.input_ids)
    fig = plots.label_mask(tokens, {"PRM": prm_ex.targets, "ORM": orm_ex.targets})
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert "loss at 2 of" in titles[0] and "loss at 1 of" in titles[1]

    history = [
        {"step": s, "loss": 1 / s, "lr": 1e-3, "elapsed_s": s} for s in range(1, 40)
    ] + [{"step": 20, "val_auroc": 0.8}, {"step": 39, "val_auroc": 0.9}]
    fig = plots.training_curves({"PRM": history, "ORM": history[:10]})
    assert len(fig.axes[1].lines) >= 1

    probs = [0.1, 0.4, 0.6, 0.9, 0.95]
    good = [0, 0, 1, 1, 1]
    curve = metrics.reliability_curve(probs, good, n_bins=5)
    fig = plots.reliability_diagram(
        {"PRM": curve, "ORM": curve}, {"PRM": 0.1, "ORM": 0.2}
    )
    assert "ECE 0.100" in fig.axes[0].get_legend().get_texts()[1].get_text()

    fig = plots.value_by_length(
        [2, 3, 3, 5], {"min": [0.9, 0.8, 0.7, 0.9], "prod": [0.8, 0.6, 0.5, 0.4]}
    )
    assert len(fig.axes[0].lines) == 2
    plt.close("all")


def test_unanswered_exercises_do_not_give_the_answer_away(tok):
    verdicts = [
        ex3.check_masked_loss(torch.zeros(1, 2, 2), torch.tensor([[0.0, 1.0]]), None),
        ex3.check_auroc([0.9, 0.1], [1, 0], None),
        ex3.check_first_error_f1([0, -1], [0, -1], None),
        ex3.check_ece([0.9, 0.1], [1, 0], 2, None),
        ex4.check_aggregates(
            [0.9, 0.2], dict.fromkeys(("min", "prod", "last", "mean"))
        ),
        ex4.check_picks(
            ["1"], [0.5], {"prm": None, "majority": None, "weighted": None}
        ),
        ex4.check_pass_at_k(64, 3, 8, None),
        ex4.check_prod_crossover(0.95, 0.7, None),
    ]
    for v in verdicts:
        assert not v and "None" in v.message and "package gets" not in v.message
    assert not ex3.check_auroc([0.9, 0.1], [1, 0], "1.0")
