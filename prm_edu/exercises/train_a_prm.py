"""Checks for notebook 03's exercises: the label mask, the masked loss, and
the metrics that tell a good PRM from a bad one.

Each check recomputes the answer with the code the course trains and
evaluates with (`prm_edu.models`, `prm_edu.training`, `prm_edu.metrics`), so a
learner who matches it has understood what the package does.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Sequence

import torch

from prm_edu.data.trace import Trace
from prm_edu.exercises.check import Verdict, compare
from prm_edu.metrics import auroc, expected_calibration_error
from prm_edu.models.tokenizer import encode_traces, separator_id
from prm_edu.training import IGNORE, separator_loss


def _number(name: str, mine) -> float | Verdict:
    """`mine` as a float, or a Verdict saying what is missing (without
    giving the answer away)."""
    if isinstance(mine, torch.Tensor) and mine.numel() == 1:
        mine = mine.item()
    if mine is None:
        return Verdict(name, False, "replace None with your answer, a number.")
    if isinstance(mine, bool) or not isinstance(mine, (int, float)):
        return Verdict(name, False, f"give one number, got {mine!r}.")
    return float(mine)


def _ints(name: str, mine) -> list[int] | Verdict:
    """`mine` as a list of whole numbers, or a Verdict saying what it needs."""
    if isinstance(mine, (str, bytes)) or not hasattr(mine, "__iter__"):
        return Verdict(name, False, f"give a list of positions, got {mine!r}.")
    out = []
    for x in mine:
        if isinstance(x, torch.Tensor) and x.numel() == 1:
            x = x.item()
        if isinstance(x, bool) or not isinstance(x, int):
            return Verdict(
                name, False, f"positions are whole numbers (0, 1, ...), got {x!r}."
            )
        out.append(x)
    return out


def check_label_positions(tokenizer, trace: Trace, mine: Sequence[int]) -> Verdict:
    """The token positions where a PRM's loss applies for `trace`: each
    step's "\\n", but not the one that ends the problem (0-based indices
    into the encoded ``problem \\n step_1 \\n ...``)."""
    positions = _ints("label positions", mine)
    if isinstance(positions, Verdict):
        return positions
    enc = encode_traces(tokenizer, [(trace.problem, trace.steps)])[0]
    expected = enc.separators
    if positions == expected:
        return Verdict(
            "label positions",
            True,
            f"{len(expected)} labelled positions of {len(enc.input_ids)}, one "
            f"per step; the other {len(enc.input_ids) - len(expected)} are "
            f"{IGNORE}.",
        )
    sep = separator_id(tokenizer)
    first = enc.input_ids.index(sep)
    if first in positions:
        why = (
            f'position {first} is the "\\n" that ends the problem: no step '
            f"ends there, so it gets no label."
        )
    elif len(positions) != len(expected):
        why = (
            f"the trace has {len(trace.steps)} steps, so {len(expected)} "
            f"positions carry a label; you gave {len(positions)}."
        )
    else:
        wrong = next(p for p in positions if p not in expected)
        token = (
            repr(tokenizer.convert_ids_to_tokens(enc.input_ids[wrong]))
            if 0 <= wrong < len(enc.input_ids)
            else "past the end"
        )
        why = (
            f'position {wrong} holds the token {token}, not a step\'s "\\n" '
            f"(token id {sep})."
        )
    return Verdict("label positions", False, why)


def check_masked_loss(
    logits: torch.Tensor, targets: torch.Tensor, mine: float
) -> Verdict:
    """The PRM training loss for a batch: cross-entropy at the positions whose
    target is not -100 (1 = good, 0 = bad), averaged over those positions."""
    mine = _number("masked loss", mine)
    if isinstance(mine, Verdict):
        return mine
    logits = torch.as_tensor(logits, dtype=torch.float)
    targets = torch.as_tensor(targets, dtype=torch.float)
    batch = {"input_ids": None, "attention_mask": None, "targets": targets}

    def model(**_):  # stands in for a PRM whose output is these logits
        return SimpleNamespace(logits=logits)

    expected = float(separator_loss(model, batch))
    at = targets != IGNORE
    everywhere = float(
        torch.nn.functional.cross_entropy(
            logits.flatten(0, -2), targets.clamp(min=0).long().flatten()
        )
    )
    if abs(mine - everywhere) < 1e-4 and abs(everywhere - expected) > 1e-4:
        hint = (
            f"that is the loss over all {targets.numel()} positions: keep only "
            f"the {int(at.sum())} whose target is not {IGNORE}."
        )
    else:
        hint = (
            "At each labelled position take -log softmax(logits)[target], then "
            "average over the labelled positions only."
        )
    return compare("masked loss", float(mine), expected, tol=1e-4, hint=hint)


def check_auroc(scores: Sequence[float], good: Sequence[int], mine: float) -> Verdict:
    """Step AUROC by hand: the share of (good step, bad step) pairs in which
    the good step scores higher (a tie counts one half)."""
    mine = _number("AUROC", mine)
    if isinstance(mine, Verdict):
        return mine
    expected = auroc(scores, good)
    n_pos = sum(int(g) for g in good)
    n_neg = len(good) - n_pos
    return compare(
        "AUROC",
        mine,
        expected,
        tol=1e-3,
        hint=f"There are {n_pos} good and {n_neg} bad steps, so {n_pos * n_neg} "
        f"pairs: count those where the good step's score is higher.",
    )


def check_first_error_f1(
    true_first: Sequence[int], predicted_first: Sequence[int], mine: float
) -> Verdict:
    """ProcessBench's F1 from first errors (-1 = no error): the harmonic mean
    of the accuracy on traces with an error (predicted index exactly right)
    and on traces without one (predicted -1)."""
    if len(true_first) != len(predicted_first):
        raise ValueError(
            f"{len(true_first)} true first errors but {len(predicted_first)} "
            f"predicted: give one of each per trace."
        )
    err = [p == t for t, p in zip(true_first, predicted_first) if t >= 0]
    ok = [p == t for t, p in zip(true_first, predicted_first) if t < 0]
    if not err or not ok:
        raise ValueError("the traces must include some with and some without errors.")
    err_acc, ok_acc = sum(err) / len(err), sum(ok) / len(ok)
    expected = (
        0.0 if err_acc + ok_acc == 0 else 2 * err_acc * ok_acc / (err_acc + ok_acc)
    )
    mine = _number("first-error F1", mine)
    if isinstance(mine, Verdict):
        return mine
    arith = (err_acc + ok_acc) / 2
    if abs(mine - arith) < 1e-3 and abs(arith - expected) > 1e-3:
        return Verdict(
            "first-error F1",
            False,
            f"{mine:.3f} is the plain average of {err_acc:.3f} and "
            f"{ok_acc:.3f}; F1 is their harmonic mean, 2ab / (a + b).",
        )
    return compare(
        "first-error F1",
        mine,
        expected,
        tol=1e-3,
        hint=f"Accuracy on the {len(err)} traces with an error (exact index) is "
        f"{err_acc:.3f}? Accuracy on the {len(ok)} without one? Then 2ab / (a + b).",
    )


def check_ece(
    probs: Sequence[float], outcomes: Sequence[int], n_bins: int, mine: float
) -> Verdict:
    """Expected calibration error with `n_bins` equal-width bins: each bin's
    |mean prediction - share of good| weighted by its share of predictions."""
    mine = _number("ECE", mine)
    if isinstance(mine, Verdict):
        return mine
    expected = expected_calibration_error(probs, outcomes, n_bins)
    return compare(
        "ECE",
        mine,
        expected,
        tol=1e-3,
        hint=f"Put each prediction in one of {n_bins} bins of width "
        f"{1 / n_bins:g}, compare each bin's mean prediction with its share of "
        f"1s, and weight the gaps by bin size.",
    )
