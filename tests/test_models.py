"""Tokenizer, PRM scorer, generator and checkpoints, on tiny hand-made data."""

from __future__ import annotations

import json
import math
import pickle

import pytest
import torch
from transformers import AutoModelForTokenClassification

from prm_edu.models import (
    CheckpointError,
    Generator,
    ModelShape,
    PRMScorer,
    UnknownCharacterError,
    build_tokenizer,
    check_checkpoint,
    load_model,
    new_generator,
    new_prm,
    save_checkpoint,
    sharpen,
)
from prm_edu.models.checkpoints import SHIPPED
from prm_edu.models.prm import plan_batches, prm_from_generator
from prm_edu.protocols import GeneratedStep, StepGenerator, StepScorer

PROBLEM = "Solve 2x + 5 = 15."
TRACE_A = ["Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"]
TRACE_B = ["Subtract 5 from both sides: 2x = 20", "Divide by 2: x = 10"]
TINY = ModelShape(d_model=32, n_layers=2, n_heads=2, context=64)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The test machine's cores are shared: one thread avoids OpenMP threads
    # waiting on each other, which is many times slower there.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tok():
    return build_tokenizer([PROBLEM, *TRACE_A, *TRACE_B] * 3)


@pytest.fixture(scope="module")
def scorer(tok):
    return PRMScorer(new_prm(tok, TINY, seed=0), tok)


# --------------------------------------------------------------------------- #
# Tokenizer
# --------------------------------------------------------------------------- #


def test_tokenizer_keeps_words_splits_digits_and_round_trips(tok):
    text = PROBLEM + "\n" + "\n".join(TRACE_A) + "\n"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    pieces = tok.convert_ids_to_tokens(ids)
    assert "Subtract" in pieces and " from" in pieces
    assert pieces.count("\n") == 3  # the separator is one token
    assert " 1" in pieces and "5" in pieces and " 15" not in pieces
    assert tok.decode(ids) == text


def test_unseen_words_fall_back_to_letters(tok):
    ids = tok("Multiply zebra", add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids
    assert tok.decode(ids) == "Multiply zebra"


# --------------------------------------------------------------------------- #
# Scorer
# --------------------------------------------------------------------------- #


def test_scorer_follows_the_protocol_and_counts_usage(scorer):
    assert isinstance(scorer, StepScorer)
    before = scorer.usage.snapshot()
    scores = scorer.score(PROBLEM, TRACE_A)
    assert len(scores) == 2 and all(0 < s < 1 for s in scores)
    used = scorer.usage.since(before)
    assert used.forward_passes == 1 and used.tokens > 10


def test_batch_matches_single_and_prefix_scores_do_not_change(scorer):
    items = [(PROBLEM, TRACE_A), (PROBLEM, TRACE_B[:1]), (PROBLEM, TRACE_B)]
    batch = scorer.score_batch(items)
    for (p, s), row in zip(items, batch):
        assert row == pytest.approx(scorer.score(p, s), abs=1e-5)
    # Causal: step 1 of B scores the same alone and with step 2 after it.
    assert batch[1][0] == pytest.approx(batch[2][0], abs=1e-5)


LONG_PROBLEM = "Solve 2x + 5 = 15, then check x by putting it back."
# Sixteen short solutions: best-of-16's shape, where sharing pays.
SHORT_STEPS = [[f"x = {k}"] for k in range(8)] + [
    [f"2x = {2 * k}", f"x = {k}"] for k in range(8)
]


def test_traces_of_a_problem_share_its_keys_and_values_with_the_same_scores(tok):
    """Two problems of different lengths in the same batches: each row's
    steps must go on from its own problem (positions, mask), not the longest."""
    model = new_prm(tok, TINY, seed=1)
    items = [(p, s) for p in (LONG_PROBLEM, PROBLEM) for s in SHORT_STEPS]
    shared = PRMScorer(model, tok, batch_size=20)
    alone = PRMScorer(model, tok, batch_size=20, share_prefix=False)
    got, want = shared.score_batch(items), alone.score_batch(items)
    for g, w in zip(got, want):
        assert g == pytest.approx(w, abs=1e-5)
    # Each problem ran once per batch, not once per trace.
    assert shared.usage.tokens < 0.5 * alone.usage.tokens
    assert shared.usage.forward_passes == 2 * alone.usage.forward_passes == 4
    # Three candidate steps of one problem (a tree search's depth): alone.
    before = shared.usage.snapshot()
    shared.score_batch([(LONG_PROBLEM, s) for s in SHORT_STEPS[:3]])
    assert shared.usage.since(before).forward_passes == 1


def test_batches_share_a_problem_only_when_that_saves_work():
    long = list(range(40))
    steps = [[90] * (1 + k % 4) for k in range(16)]
    rows = [p + s for p in (long, long[:30]) for s in steps]
    cuts = [40] * 16 + [30] * 16
    batches, shared = plan_batches(rows, cuts, batch_size=16)
    assert shared and sorted(i for b in batches for i in b) == list(range(32))
    assert all(len({cuts[i] for i in b}) == 1 for b in batches)  # by problem
    # A problem of two tokens before steps of ten or more: not worth it.
    rows = [[1, 2] + list(range(50, 60 + k)) for k in range(4)]
    batches, shared = plan_batches(rows, [2] * 4, batch_size=2)
    assert not shared and batches == [[0, 1], [2, 3]]
    assert plan_batches(rows, [0] * 4, batch_size=8) == ([[0, 1, 2, 3]], False)
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0"):
        plan_batches(rows, [2] * 4, batch_size=0)


@pytest.mark.parametrize(
    "steps, error, words",
    [
        ([], ValueError, "empty"),
        (["Subtract 5 from both sides: 2x = 10", ""], ValueError, "step 1 is empty"),
        (["Add 5\nthen 3"], ValueError, "newline"),
        ([float("nan")], TypeError, "nan"),
        ("Subtract 5", TypeError, "list of step texts"),
        (
            ["Subtract 5 from both sides: 2x = 10 \u2212 3"],
            UnknownCharacterError,
            r"U\+2212",
        ),
    ],
)
def test_scorer_refuses_bad_input_by_name(scorer, steps, error, words):
    with pytest.raises(error, match=words):
        scorer.score(PROBLEM, steps)


def test_scorer_refuses_traces_longer_than_the_context(scorer):
    with pytest.raises(ValueError, match="context is 64 tokens"):
        scorer.score(PROBLEM, TRACE_A * 10)


def test_scorer_refuses_a_model_that_outputs_nan(tok):
    model = new_prm(tok, TINY)
    with torch.no_grad():
        model.classifier.weight.fill_(math.nan)
    with pytest.raises(FloatingPointError, match="NaN"):
        PRMScorer(model, tok).score(PROBLEM, TRACE_A)


def test_prm_from_generator_starts_from_the_generator(tok):
    gen = new_generator(tok, TINY, seed=0)
    prm = prm_from_generator(gen, extra_layers=1)
    assert prm.config.n_layer == TINY.n_layers + 1 and prm.config.num_labels == 2
    ids = torch.tensor([tok(PROBLEM + "\n", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        same = gen.transformer(input_ids=ids).last_hidden_state
        # The new block starts as the identity: the features are the generator's.
        assert torch.allclose(prm.transformer(input_ids=ids).last_hidden_state, same)


# --------------------------------------------------------------------------- #
# Generator
# --------------------------------------------------------------------------- #


def test_generator_samples_one_step_per_state_reproducibly(tok):
    gen = Generator(new_generator(tok, TINY, seed=0), tok, max_step_tokens=8)
    assert isinstance(gen, StepGenerator)
    states = [(PROBLEM, []), (PROBLEM, TRACE_A[:1]), (PROBLEM, TRACE_B)]
    a = gen.next_steps(states, temperature=1.0, seed=3)
    b = gen.next_steps(states, temperature=1.0, seed=3)
    assert a == b and len(a) == 3
    for step in a:
        assert "\n" not in step.text and 1 <= step.n_tokens <= 9
    assert gen.usage.tokens == 2 * sum(s.n_tokens for s in a)


def test_generator_reads_repeated_prompts_once_with_the_same_result(tok):
    gen = Generator(new_generator(tok, TINY, seed=0), tok, max_step_tokens=8)
    mixed = [(PROBLEM, []), (PROBLEM, TRACE_A[:1])] * 3  # two prompts, 3 times each
    together = gen.next_steps(mixed, temperature=0)
    alone = [gen.next_steps([state], temperature=0)[0] for state in mixed[:2]]
    assert together == alone * 3
    # The first pass reads the 2 distinct prompts, not all 6.
    shapes = []
    hook = gen.model.register_forward_hook(
        lambda module, args, kwargs, out: shapes.append(kwargs["input_ids"].shape),
        with_kwargs=True,
    )
    gen.next_steps(mixed, temperature=0)
    hook.remove()
    assert shapes[0][0] == 2 and all(s == (6, 1) for s in shapes[1:])


def test_generator_learns_to_stop_after_a_step(tok):
    from prm_edu.data.trace import Trace
    from prm_edu.training import TrainConfig, train_generator

    data = [Trace(PROBLEM, TRACE_A)] * 64
    cfg = TrainConfig(lr=1e-2, max_steps=60, batch_size=16, progress=False)
    result = train_generator(data, cfg, tokenizer=tok, shape=TINY)
    gen = Generator(result.model, tok)
    first, second = gen.next_steps(
        [(PROBLEM, []), (PROBLEM, TRACE_A[:1])], temperature=0
    )
    assert first.text == TRACE_A[0] and not first.final
    # EOS right after the last step's "\n" ends the solution.
    assert second.text == TRACE_A[1] and second.final


def test_generator_refuses_bad_temperature_and_stops_at_the_context(tok):
    gen = Generator(new_generator(tok, TINY), tok)
    with pytest.raises(ValueError, match="temperature"):
        gen.next_steps([(PROBLEM, [])], temperature=-1)
    (step,) = gen.next_steps([(PROBLEM, TRACE_A * 10)])
    assert step == GeneratedStep(text="", n_tokens=0, final=False)
    with pytest.raises(UnknownCharacterError, match="cannot be represented"):
        gen.next_steps([("Solve 2x \u2264 4.", [])])


def test_sharpen_divides_the_logits_by_the_temperature(tok):
    model = new_generator(tok, TINY, seed=0)
    ids = tok(PROBLEM + "\n", return_tensors="pt").input_ids
    with torch.no_grad():
        before = model(ids).logits
        sharpen(model, 0.5)
        after = model(ids).logits
    assert torch.allclose(after, before / 0.5, atol=1e-5)
    # Greedy steps do not change; the distribution is only sharper.
    probs = [x[0, -1].softmax(-1).max() for x in (before, after)]
    assert probs[1] > probs[0]
    for bad in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"positive number, got {bad}"):
            sharpen(model, bad)


# --------------------------------------------------------------------------- #
# Checkpoints
# --------------------------------------------------------------------------- #


@pytest.fixture
def saved(tmp_path, tok):
    model = new_prm(tok, TINY, seed=1)
    path = save_checkpoint(model, tok, tmp_path / "prm", card={"what": "test"})
    return path, PRMScorer(model, tok).score(PROBLEM, TRACE_B)


def test_saved_model_reloads_to_identical_scores(saved):
    path, before = saved
    assert json.loads((path / "model_card.json").read_text()) == {"what": "test"}
    assert not list(path.glob("*.bin"))
    model, tok = load_model(path, "prm")
    assert PRMScorer(model, tok).score(PROBLEM, TRACE_B) == before
    # Plain Hugging Face loads it too, with no custom code.
    hf = AutoModelForTokenClassification.from_pretrained(str(path))
    assert hf.config.num_labels == 2


def test_loading_shows_no_weight_bar_and_keeps_the_callers_setting(saved, capfd):
    from transformers.utils import logging as hf_logging

    path, _ = saved
    capfd.readouterr()
    for bars in (True, False):
        (hf_logging.enable_progress_bar if bars else hf_logging.disable_progress_bar)()
        load_model(path, "prm")
        assert hf_logging.is_progress_bar_enabled() is bars
        assert "Loading weights" not in capfd.readouterr().err
    hf_logging.enable_progress_bar()
    AutoModelForTokenClassification.from_pretrained(str(path))  # the bar is shown
    assert "Loading weights" in capfd.readouterr().err


def test_fp16_storage_reloads_to_close_scores(tmp_path, tok):
    model = new_prm(tok, TINY, seed=2)
    before = PRMScorer(model, tok).score(PROBLEM, TRACE_A)
    path = save_checkpoint(model, tok, tmp_path / "half", dtype=torch.float16)
    after = PRMScorer(*load_model(path, "prm")).score(PROBLEM, TRACE_A)
    assert after == pytest.approx(before, abs=2e-3)


def test_missing_files_are_named(saved):
    path, _ = saved
    (path / "tokenizer.json").unlink()
    with pytest.raises(CheckpointError, match="tokenizer.json is missing"):
        load_model(path, "prm")
    with pytest.raises(CheckpointError, match="no checkpoint folder"):
        check_checkpoint(path / "nowhere")


def test_truncated_weights_are_named(saved):
    path, _ = saved
    weights = path / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="model.safetensors is corrupt"):
        load_model(path, "prm")


def test_corrupt_config_is_named(saved):
    path, _ = saved
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="config.json is corrupt"):
        load_model(path, "prm")


def test_pickle_where_safetensors_is_expected_is_refused(saved):
    path, _ = saved
    weights = path / "model.safetensors"
    torch.save({"w": torch.zeros(2)}, weights)  # a zip of pickles
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(path, "prm")
    weights.write_bytes(pickle.dumps({"w": [0.0]}))
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(path, "prm")


def test_pytorch_model_bin_is_refused(saved):
    path, _ = saved
    torch.save({"w": torch.zeros(2)}, path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="pytorch_model.bin is a pickle"):
        load_model(path, "prm")


# --------------------------------------------------------------------------- #
# Shipped checkpoints
# --------------------------------------------------------------------------- #

SHIPPED_WORLDS = sorted(p.name for p in SHIPPED.iterdir()) if SHIPPED.is_dir() else []


@pytest.mark.skipif(
    "equations" not in SHIPPED_WORLDS, reason="checkpoints not built yet"
)
def test_shipped_prm_scores_trace_a_above_trace_b_at_step_1():
    from prm_edu.models import load_orm, load_prm

    problem = "Solve 2x + 5 = 15"  # as the equations world writes it
    prm = load_prm("equations")
    a, b = prm.score_batch([(problem, TRACE_A), (problem, TRACE_B)])
    assert a[0] > 0.5 > b[0]
    orm = load_orm("equations")
    a, b = orm.score_batch([(problem, TRACE_A), (problem, TRACE_B)])
    assert a[-1] > b[-1]


@pytest.mark.parametrize("world", SHIPPED_WORLDS)
def test_every_shipped_checkpoint_loads_and_has_a_card(world):
    from prm_edu.models import load_generator, read_card, shipped_path

    for role in ("generator", "prm", "orm"):
        card = read_card(shipped_path(world, role))
        assert card["world"] == world and card["role"] == role
    gen = load_generator(world)
    assert isinstance(gen, Generator)
