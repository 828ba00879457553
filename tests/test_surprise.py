"""SurprisePRM: the generator's surprise as features, on a tiny trained LM."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForTokenClassification

from prm_edu.data import Trace
from prm_edu.models import (
    ModelShape,
    PRMScorer,
    SurprisePRM,
    build_tokenizer,
    load_model,
    save_checkpoint,
    surprise_prm_from_generator,
)
from prm_edu.models.surprise import SCALE
from prm_edu.models.tokenizer import encode_traces
from prm_edu.training import TrainConfig, train_generator, train_prm

PROBLEM = "Solve 2x + 5 = 15"
RIGHT = ["Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"]
WRONG = ["Subtract 5 from both sides: 2x = 20", "Divide by 2: x = 10"]
TINY = ModelShape(d_model=32, n_layers=2, n_heads=2, context=64)


@pytest.fixture(scope="module")
def lm():
    """A tiny generator that has learnt the right solution by heart."""
    torch.set_num_threads(1)
    traces = [Trace(PROBLEM, RIGHT)] * 32
    tok = build_tokenizer([PROBLEM, *RIGHT, *WRONG] * 3)
    config = TrainConfig(lr=1e-2, max_steps=60, batch_size=8, progress=False)
    result = train_generator(traces, config, tokenizer=tok, shape=TINY)
    return result.model, tok


def features(prm, tok, steps):
    e = encode_traces(tok, [(PROBLEM, steps)])[0]
    ids = torch.tensor([e.input_ids])
    with torch.no_grad():
        hidden = prm.transformer(input_ids=ids).last_hidden_state
        f = prm.surprise_features(ids, hidden)[0] * SCALE
    return f, e.separators


def test_the_problem_is_never_checked_and_a_wrong_number_is_a_surprise(lm):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok)
    right, seps = features(prm, tok, RIGHT)
    wrong, _ = features(prm, tok, WRONG)
    problem_end = seps[0] - len(tok(RIGHT[0], add_special_tokens=False)["input_ids"])
    assert torch.all(right[:problem_end] == 0)
    step1_right, step1_wrong = right[seps[0], 0], wrong[seps[0], 0]
    assert step1_wrong < step1_right - 1.0, (step1_right, step1_wrong)
    # The step-wise minimum restarts at step 2; the running one carries the error.
    assert wrong[seps[1], 1] <= step1_wrong
    assert wrong[seps[1], 0] > step1_wrong


def test_a_number_cut_short_is_a_surprise_at_its_steps_end(lm):
    # " 1" starts the right " 1" "0": only the "\n" after it is unexpected.
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok)
    cut = ["Subtract 5 from both sides: 2x = 1", "Divide by 2: x = 5"]
    right, seps = features(prm, tok, RIGHT)
    short, short_seps = features(prm, tok, cut)
    before_end = short[short_seps[0] - 1, 0]
    assert before_end > -1.0, before_end  # every digit so far was expected
    assert short[short_seps[0], 0] < right[seps[0], 0] - 1.0


def test_only_the_head_trains_and_the_loss_falls(lm):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok)
    body = {k: v.clone() for k, v in prm.transformer.state_dict().items()}
    head = prm.classifier.weight.detach().clone()
    traces = [
        Trace(PROBLEM, RIGHT, labels=(1, 1)),
        Trace(PROBLEM, WRONG, labels=(-1, -1)),
    ] * 8
    config = TrainConfig(lr=5e-2, max_steps=30, batch_size=16, progress=False)
    result = train_prm(traces, config, tokenizer=tok, model=prm)
    losses = [h["loss"] for h in result.history if "loss" in h]
    assert losses[-1] < losses[0]
    for k, v in result.model.transformer.state_dict().items():
        assert torch.equal(v, body[k]), f"{k} changed: the body must stay frozen"
    assert not torch.equal(result.model.classifier.weight, head)
    a, b = PRMScorer(result.model, tok).score_batch(
        [(PROBLEM, RIGHT), (PROBLEM, WRONG)]
    )
    assert b[0] < 0.5 < min(a)


def test_saved_surprise_prm_reloads_through_the_auto_class(lm, tmp_path):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok, seed=3)
    save_checkpoint(prm, tok, tmp_path / "prm", dtype=torch.float32)
    loaded, tok2 = load_model(tmp_path / "prm", "prm")
    assert isinstance(loaded, SurprisePRM)
    plain = AutoModelForTokenClassification.from_pretrained(str(tmp_path / "prm"))
    assert isinstance(plain, SurprisePRM)
    items = [(PROBLEM, RIGHT), (PROBLEM, WRONG)]
    want = PRMScorer(prm, tok).score_batch(items)
    got = PRMScorer(loaded, tok2).score_batch(items)
    for w, g in zip(want, got):
        assert g == pytest.approx(w, abs=1e-5)


# -- trained whole, with result features ------------------------------------ #


def test_result_features_read_only_the_tokens_after_each_steps_marker(lm):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok, result_marker=" =")
    assert prm.n_features == 6 and prm.classifier.in_features == 32 + 6
    f, seps = features(prm, tok, WRONG)
    e = encode_traces(tok, [(PROBLEM, WRONG)])[0]
    ids = torch.tensor([e.input_ids])
    with torch.no_grad():
        lp = prm.token_logprobs(ids, prm.transformer(input_ids=ids).last_hidden_state)
    lp = lp[0].clamp(min=-20.0)
    marker = tok(" =", add_special_tokens=False)["input_ids"][0]
    starts = [seps[0] - len(tok(WRONG[0], add_special_tokens=False)["input_ids"])]
    starts.append(seps[0] + 1)
    for step, (start, end) in enumerate(zip(starts, seps)):
        where = start + e.input_ids[start:end].index(marker)
        want = lp[where + 1 : end].min()  # "20" in step 1, "10" in step 2
        assert f[end, 4] == pytest.approx(want.item(), abs=1e-3), step
    # The solution-wide one keeps step 1's; the problem's own "=" is not read.
    # (The step-wise minima are computed 1000 nats apart: float32 rounding.)
    step_min = min(f[seps[0], 4], f[seps[1], 4]).item()
    assert f[seps[1], 5] == pytest.approx(step_min, abs=1e-3)
    assert torch.all(f[: starts[0], 4:] == 0)


def test_shared_problem_keys_and_values_give_the_same_features_and_scores(lm):
    """The scorer runs the problem once and the steps from its "\\n" on:
    every surprise feature (step counts, result markers, the token after the
    problem) must come out as over the whole text."""
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok, result_marker=" =")
    torch.manual_seed(0)
    torch.nn.init.normal_(prm.classifier.weight, std=0.1)  # not the zero start
    steps = [[f"2x = {k}"] for k in range(32)]  # best-of-64's shape
    steps += [[f"2x = {k}", f"x = {k % 7}"] for k in range(32)]
    # A long statement before short steps: sharing it pays.
    items = [(PROBLEM + ", then check x by putting it back.", s) for s in steps]
    shared = PRMScorer(prm, tok)
    alone = PRMScorer(prm, tok, share_prefix=False)
    got, want = shared.score_batch(items), alone.score_batch(items)
    assert shared.usage.tokens < alone.usage.tokens  # it did share
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=1e-5)
    assert len({round(x, 4) for row in want for x in row}) > 3  # not constant


def test_a_result_marker_of_several_tokens_is_refused(lm):
    model, tok = lm
    with pytest.raises(ValueError, match="'from both' is [0-9]+ tokens .*not one"):
        surprise_prm_from_generator(model, tok, result_marker="from both")


def test_trained_whole_the_body_learns_and_stays_a_language_model(lm):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok, frozen=False, result_marker=" =")
    body = {k: v.clone() for k, v in prm.transformer.state_dict().items()}
    traces = [
        Trace(PROBLEM, RIGHT, labels=(1, 1)),
        Trace(PROBLEM, WRONG, labels=(-1, -1)),
    ] * 8
    config = TrainConfig(lr=5e-3, max_steps=30, batch_size=16, progress=False)
    result = train_prm(traces, config, tokenizer=tok, model=prm, lm_weight=1.0)
    losses = [h["loss"] for h in result.history if "loss" in h]
    assert losses[-1] < losses[0]
    changed = [
        k
        for k, v in result.model.transformer.state_dict().items()
        if not torch.equal(v, body[k])
    ]
    assert changed, "trained whole, the transformer must change"
    # It still expects the right result: "10" after "2x =" beats "20".
    right, seps = features(result.model, tok, RIGHT)
    wrong, _ = features(result.model, tok, WRONG)
    assert wrong[seps[0], 4] < right[seps[0], 4] - 1.0
    a, b = PRMScorer(result.model, tok).score_batch(
        [(PROBLEM, RIGHT), (PROBLEM, WRONG)]
    )
    assert b[0] < 0.5 < min(a)


def test_a_language_model_loss_needs_a_language_model_that_can_learn(lm):
    model, tok = lm
    traces = [Trace(PROBLEM, RIGHT, labels=(1, 1))]
    config = TrainConfig(max_steps=1, progress=False)
    frozen = surprise_prm_from_generator(model, tok)
    with pytest.raises(ValueError, match="transformer is frozen"):
        train_prm(traces, config, tokenizer=tok, model=frozen, lm_weight=1.0)
    with pytest.raises(ValueError, match="lm_weight must be >= 0, got -1"):
        train_prm(traces, config, tokenizer=tok, model=frozen, lm_weight=-1.0)
    with pytest.raises(ValueError, match="not a GPT2ForTokenClassification"):
        train_prm(traces, config, tokenizer=tok, shape=TINY, lm_weight=0.5)


def test_saved_whole_trained_prm_with_result_features_reloads(lm, tmp_path):
    model, tok = lm
    prm = surprise_prm_from_generator(model, tok, frozen=False, result_marker=" =")
    with torch.no_grad():
        prm.classifier.weight.normal_()
    save_checkpoint(prm, tok, tmp_path / "prm", dtype=torch.float32)
    loaded, tok2 = load_model(tmp_path / "prm", "prm")
    assert loaded.config.result_token_id == prm.config.result_token_id
    assert loaded.n_features == 6
    items = [(PROBLEM, RIGHT), (PROBLEM, WRONG)]
    want = PRMScorer(prm, tok).score_batch(items)
    got = PRMScorer(loaded, tok2).score_batch(items)
    for w, g in zip(want, got):
        assert g == pytest.approx(w, abs=1e-5)
