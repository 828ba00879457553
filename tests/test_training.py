"""The training loop and the data it builds, on tiny hand-made traces."""

from __future__ import annotations

import math
import random

import pytest
import torch

from prm_edu.data.trace import Trace
from prm_edu.models import ModelShape, PRMScorer, build_tokenizer, new_prm
from prm_edu.training import (
    IGNORE,
    TrainConfig,
    fit,
    good_prefix_tokens,
    learning_rate,
    prm_examples,
    separator_loss,
    train_generator,
    train_orm,
    train_prm,
)

TINY = ModelShape(d_model=32, n_layers=2, n_heads=2, context=64)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # shared cores: see tests/test_models.py
    yield
    torch.set_num_threads(before)


def equation_trace(rng: random.Random) -> Trace:
    """A two-step solution of ax + b = c, sometimes with a slip in step 1."""
    a, x, b = rng.randint(2, 5), rng.randint(1, 9), rng.randint(1, 9)
    c = a * x + b
    slip = rng.random() < 0.4
    rhs = c - b + (rng.choice([-1, 1]) * 10 if slip else 0)
    steps = (
        f"Subtract {b} from both sides: {a}x = {rhs}",
        f"Divide by {a}: x = {rhs // a}",
    )
    labels = (-1, -1) if slip else (1, 1)
    return Trace(f"Solve {a}x + {b} = {c}.", steps, labels=labels)


@pytest.fixture(scope="module")
def traces():
    rng = random.Random(0)
    return [equation_trace(rng) for _ in range(96)]


@pytest.fixture(scope="module")
def tok(traces):
    return build_tokenizer(text for t in traces for text in (t.problem, *t.steps))


def quick(**kw) -> TrainConfig:
    base = dict(lr=5e-3, max_steps=30, batch_size=16, progress=False, log_every=1)
    return TrainConfig(**{**base, **kw})


def losses(history):
    return [h["loss"] for h in history if "loss" in h]


def test_prm_targets_sit_on_separators_only(tok, traces):
    (ex,) = prm_examples(tok, traces[:1])
    labelled = [i for i, t in enumerate(ex.targets) if t != IGNORE]
    sep = tok.convert_tokens_to_ids("\n")
    assert [ex.input_ids[i] for i in labelled] == [sep, sep]
    assert labelled[-1] == len(ex.input_ids) - 1  # the last step's "\n"
    (orm,) = prm_examples(tok, traces[:1], outcomes=[True])
    assert [t for t in orm.targets if t != IGNORE] == [1.0]


def test_neutral_counts_as_good_and_soft_labels_are_targets(tok):
    t = Trace("Solve 2x + 5 = 15.", ("Add 0: 2x + 5 = 15", "x = 5"), labels=(0, -1))
    assert [v for v in prm_examples(tok, [t])[0].targets if v != IGNORE] == [1, 0]
    soft = t.with_labels((0.75, 0.25), soft=True)
    assert [v for v in prm_examples(tok, [soft])[0].targets if v != IGNORE] == [
        0.75,
        0.25,
    ]


def test_training_a_few_steps_lowers_the_prm_loss(tok, traces):
    result = train_prm(traces, quick(), tokenizer=tok, shape=TINY)
    seen = losses(result.history)
    assert result.steps == 30 and result.stop_reason == "finished"
    assert sum(seen[-5:]) / 5 < sum(seen[:5]) / 5
    assert result.summary()["examples"] == len(traces)


def test_orm_and_generator_losses_fall_too(tok, traces):
    outcomes = [t.labels[-1] > 0 for t in traces]
    orm = train_orm(traces, outcomes, quick(), tokenizer=tok, shape=TINY)
    gen = train_generator(traces, quick(), tokenizer=tok, shape=TINY)
    for result in (orm, gen):
        seen = losses(result.history)
        assert sum(seen[-5:]) < sum(seen[:5])


def test_training_is_seeded(tok, traces):
    a = train_prm(traces, quick(max_steps=5), tokenizer=tok, shape=TINY)
    b = train_prm(traces, quick(max_steps=5), tokenizer=tok, shape=TINY)
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)


def test_validation_history_and_early_stop_keep_the_best(tok, traces):
    cfg = quick(max_steps=200, eval_every=2, patience=2, lr=1e-6, warmup_frac=0)
    result = train_prm(
        traces[:64], cfg, val_traces=traces[64:], tokenizer=tok, shape=TINY
    )
    evals = [h for h in result.history if "val_auroc" in h]
    assert result.stop_reason == "early stop" and result.steps < 200
    assert evals and all(0 <= h["val_auroc"] <= 1 for h in evals)
    # The weights kept are the best evaluated ones.
    val = traces[64:]
    scores = PRMScorer(result.model, tok).score_batch(
        [(t.problem, t.steps) for t in val]
    )
    from prm_edu.metrics import step_auroc

    assert step_auroc(val, scores) == pytest.approx(max(h["val_auroc"] for h in evals))


def test_time_budget_stops_training(tok, traces):
    result = train_prm(
        traces, quick(max_steps=10_000, time_budget_s=0.5), tokenizer=tok, shape=TINY
    )
    assert result.stop_reason == "time budget" and result.steps < 10_000


def test_a_planned_stop_ends_the_bar_full(tok, traces, capsys):
    result = train_prm(
        traces,
        quick(max_steps=10_000, time_budget_s=0.3, progress=True),
        tokenizer=tok,
        shape=TINY,
    )
    last = capsys.readouterr().err.split("\r")[-1]
    assert "training (time budget)" in last and "100%" in last
    assert f"{result.steps}/{result.steps}" in last


def test_learning_rate_warms_up_then_decays_to_zero():
    cfg = TrainConfig(lr=1.0, warmup_frac=0.1)
    assert learning_rate(cfg, 0.0) == 0.0
    assert learning_rate(cfg, 0.1) == pytest.approx(1.0)
    assert learning_rate(cfg, 0.55) == pytest.approx(0.5)
    assert learning_rate(cfg, 1.0) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"lr": 0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"warmup_frac": 1.0}, "warmup_frac"),
    ],
)
def test_config_refuses_bad_values(kw, name):
    with pytest.raises(ValueError, match=name):
        TrainConfig(**kw)


def test_unlabelled_traces_and_nan_losses_are_refused(tok, traces):
    with pytest.raises(ValueError, match="trace 0 has no labels"):
        train_prm([Trace(traces[0].problem, traces[0].steps)], quick(), tokenizer=tok)
    with pytest.raises(ValueError, match="outcomes"):
        train_orm(traces, [True], quick(), tokenizer=tok)
    model = new_prm(tok, TINY)
    with torch.no_grad():
        model.classifier.bias.fill_(math.nan)
    with pytest.raises(FloatingPointError, match="loss became nan"):
        fit(
            model,
            prm_examples(tok, traces),
            separator_loss,
            quick(),
            pad_id=tok.pad_token_id,
        )


def test_traces_too_long_for_the_context_are_named(tok, traces):
    long = Trace(traces[0].problem, traces[0].steps * 8, labels=(1,) * 16)
    with pytest.raises(ValueError, match="trace 1 is .* context is 64"):
        train_prm([traces[0], long], quick(), tokenizer=tok, shape=TINY)


# --------------------------------------------------------------------------- #
# The build command's helpers
# --------------------------------------------------------------------------- #


def test_problem_splits_are_fixed_by_the_text_and_about_80_10_10():
    from prm_edu import worlds
    from prm_edu.build_checkpoints import split_of, split_problems

    world = worlds.get("arithmetic")
    texts = [p.text for p in world.sample(1000, seed=1)]
    shares = {s: sum(split_of(t) == s for t in texts) / 1000 for s in ("val", "test")}
    assert 0.06 < shares["val"] < 0.14 and 0.06 < shares["test"] < 0.14
    assert [split_of(t) for t in texts[:50]] == [split_of(t) for t in texts[:50]]
    held = split_problems(world, 10, "test", seed=0)
    assert len(held) == 10 and all(split_of(p.text) == "test" for p in held)


def test_recipe_settings_are_read_with_their_types():
    from prm_edu.build_checkpoints import RECIPES, override

    r = override(
        RECIPES["equations"],
        ["resume=True", "tune_levels=1,2", "prm_config.lr=1e-3", "error_rate=0.25"],
    )
    assert r.resume is True and r.tune_levels == (1, 2)
    assert r.prm_config.lr == 0.001 and r.error_rate == 0.25
    with pytest.raises(SystemExit, match="no field"):
        override(r, ["nonsense=1"])
    with pytest.raises(SystemExit, match="scorer must be one of.*'surprize'"):
        override(r, ["scorer=surprize"])
    assert r.scorer_lm_weight() == 0.0  # frozen: no language-model loss
    tuned = override(r, ["scorer=surprise_tuned", "result_marker= =", "lm_weight=0.5"])
    assert tuned.result_marker == " =" and tuned.scorer_lm_weight() == 0.5
    with pytest.raises(SystemExit, match="lm_weight must be >= 0, got -1.0"):
        override(r, ["lm_weight=-1"])
    with pytest.raises(SystemExit, match="gen_highest is for game24"):
        override(r, ["gen_highest=20"])
    with pytest.raises(SystemExit, match="gen_temperature must be a positive.*got 0"):
        override(r, ["gen_temperature=0"])


def test_game24_generator_practises_on_wider_numbers_and_is_checked_on_the_deck():
    from prm_edu import worlds
    from prm_edu.build_checkpoints import RECIPES, override, scripted_data, split_of

    world = worlds.get("game24")
    r = RECIPES["game24"]
    assert r.generator_world(world).highest == 20 and r.scorer_levels(world) == (2,)
    assert override(r, ["gen_highest=None"]).generator_world(world) is world
    train, val = scripted_data(
        world, 300, (1, 2, 3), 0.0, 0, train_world=r.generator_world(world)
    )
    problems = [world.parse_problem(t.problem) for t in train]
    assert max(n for p in problems for n in p.numbers) > 13
    assert {p.level for p in problems} == {1, 2, 3}
    assert all(split_of(t.problem) == "train" for t in train)
    assert max(n for t in val for n in world.parse_problem(t.problem).numbers) <= 13
    assert all(split_of(t.problem) == "val" for t in val)


def tiny_build(world: str, out, *settings: str) -> None:
    """`build_checkpoints` for `world` at 0.5% scale with a one-layer model."""
    from prm_edu.build_checkpoints import main

    main(
        [
            "--world", world, "--scale", "0.005", "--out", str(out),
            "--set", "shape.d_model=16", "--set", "shape.n_layers=1",
            "--set", "shape.n_heads=2", "--set", "val_problems=4",
            *(arg for item in settings for arg in ("--set", item)),
        ]
    )  # fmt: skip


@pytest.mark.slow
def test_a_tiny_build_writes_loadable_checkpoints_with_cards(tmp_path):
    from prm_edu.models import load_model, read_card

    tiny_build("equations", tmp_path, "tune_levels=None")
    models = {}
    for role in ("generator", "prm", "orm"):
        path = tmp_path / "equations" / role
        models[role], tok = load_model(path, role)
        card = read_card(path)
        assert card["role"] == role and card["training"]["steps"] >= 2
        if role != "generator":  # a frozen LM with a surprise head
            assert card["architecture"] == type(models[role]).__name__
            assert card["architecture"] == "SurprisePRM"
            # equations' recipe: the LM is a reference trained on right answers
            reference = card["data"]["reference_lm"]
            assert card["data"]["starts_from"] == "reference LM"
            assert card["scorer"] == {
                "kind": "surprise",
                "lm_weight": 0.0,
                "result_marker": None,
            }
            assert reference["right_answer_share"] == 1.0
            assert reference["training"]["steps"] >= 2
    # ... which is not the generator any more, and is the same in both scorers.
    weights = {
        role: models[role].transformer.h[0].attn.c_attn.weight
        for role in ("generator", "prm", "orm")
    }
    assert not torch.equal(weights["generator"], weights["prm"])
    assert torch.equal(weights["prm"], weights["orm"])


@pytest.mark.slow
def test_a_tiny_game24_build_trains_its_scorers_whole_with_result_features(tmp_path):
    from prm_edu.models import load_model, read_card

    tiny_build("game24", tmp_path)
    data = read_card(tmp_path / "game24" / "generator")["data"]
    assert data["numbers_up_to"] == 20 and data["temperature_folded_in"] == 0.7
    models = {}
    for role in ("prm", "orm"):
        models[role], tok = load_model(tmp_path / "game24" / role, role)
        card = read_card(tmp_path / "game24" / role)
        assert card["scorer"] == {
            "kind": "surprise_tuned",
            "lm_weight": 1.0,
            "result_marker": " =",
        }
        marker = tok(" =", add_special_tokens=False)["input_ids"]
        assert [models[role].config.result_token_id] == marker
        assert models[role].n_features == 6
    # Trained whole: each scorer's language model moved its own way.
    a, b = (models[r].transformer.h[0].attn.c_attn.weight for r in ("prm", "orm"))
    assert not torch.equal(a, b)


def test_the_language_model_term_learns_from_the_good_prefix_only():
    sep, ig = 9, IGNORE
    # problem "1 2 \n", then three steps of two tokens: good, bad, (bad).
    ids = torch.tensor([[1, 2, sep, 3, 4, sep, 5, 6, sep, 7, 8, sep, 0]])
    prm = torch.tensor([[ig, ig, ig, ig, ig, 1.0, ig, ig, 0.0, ig, ig, 0.0, ig]])
    assert good_prefix_tokens(ids, prm, sep).int().tolist() == [
        [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    ]
    # An ORM's one label, at the end: every step of a right answer, none of a wrong one.
    right = torch.tensor([[ig] * 11 + [1.0, ig]])
    wrong = torch.tensor([[ig] * 11 + [0.0, ig]])
    assert good_prefix_tokens(ids, right, sep).int().tolist() == [
        [0] * 3 + [1] * 9 + [0]
    ]
    assert not good_prefix_tokens(ids, wrong, sep).any()
