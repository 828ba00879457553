"""Bad input: clear errors that name the value, and no hangs."""

import pytest
from search_doubles import (
    SEED_PROBLEM,
    SEED_TREE,
    BrokenScorer,
    EmptyGenerator,
    ShortGenerator,
    seed_models,
)

from prm_edu.search import (
    BeamConfig,
    BestOfNConfig,
    DFSConfig,
    DVTSConfig,
    EmptyStepError,
    ToTConfig,
    beam_search,
    best_of_n,
    dfs,
    dvts,
    tot_bfs,
)

SEARCHES = [
    (beam_search, BeamConfig),
    (tot_bfs, ToTConfig),
    (dfs, DFSConfig),
    (dvts, DVTSConfig),
]


@pytest.mark.parametrize(
    "config", [BeamConfig(n=0), DVTSConfig(n=0), BestOfNConfig(n=0)]
)
def test_n_below_one(config):
    with pytest.raises(ValueError, match="n must be a whole number >= 1, got 0"):
        config.check()


@pytest.mark.parametrize("config_cls", [BeamConfig, DVTSConfig])
def test_beam_width_must_divide_n(config_cls):
    with pytest.raises(ValueError, match="beam_width=3 does not divide n=8"):
        config_cls(n=8, beam_width=3).check()


@pytest.mark.parametrize(
    "config",
    [
        ToTConfig(n_candidates=0),
        ToTConfig(keep=-1),
        DFSConfig(n_children=0),
        DFSConfig(threshold=1.5),
        DFSConfig(max_expansions=0),
        BeamConfig(max_depth=0),
        BeamConfig(lookahead=-1),
        BeamConfig(temperature=float("nan")),
        BeamConfig(aggregation="max"),
    ],
)
def test_other_bad_knobs(config):
    with pytest.raises(ValueError):
        config.check()


@pytest.mark.parametrize("search, config_cls", SEARCHES)
def test_budget_already_spent(search, config_cls):
    gen, scorer = seed_models()
    with pytest.raises(ValueError, match="token_budget=0: the budget is already spent"):
        search(SEED_PROBLEM, gen, scorer, config_cls(token_budget=0))


@pytest.mark.parametrize(
    "mode, message",
    [
        ("short", "returned 0 scores for trace 0 .* has 1 steps"),
        ("nan", "returned nan for step 0"),
        ("few", "score lists for"),
        ("big", "returned 3.0 for step 0 .* probability in \\[0, 1\\]"),
    ],
)
@pytest.mark.parametrize("search, config_cls", SEARCHES)
def test_bad_scores(search, config_cls, mode, message):
    gen, _ = seed_models()
    with pytest.raises(ValueError, match=message):
        search(SEED_PROBLEM, gen, BrokenScorer(mode), config_cls())


def test_bad_scores_in_best_of_n():
    gen, _ = seed_models()
    with pytest.raises(ValueError, match="returned nan"):
        best_of_n(SEED_PROBLEM, gen, BrokenScorer("nan"))


@pytest.mark.parametrize("search, config_cls", SEARCHES)
def test_empty_steps_are_an_error_not_a_hang(search, config_cls):
    gen = EmptyGenerator()
    _, scorer = seed_models()
    with pytest.raises(EmptyStepError, match="empty step 4 times in a row"):
        search(SEED_PROBLEM, gen, scorer, config_cls())
    assert gen.calls == 4


@pytest.mark.parametrize("search, config_cls", SEARCHES)
def test_generator_with_too_few_steps(search, config_cls):
    _, scorer = seed_models()
    gen = ShortGenerator({SEED_PROBLEM: SEED_TREE})
    with pytest.raises(ValueError, match="exactly one step per state"):
        search(SEED_PROBLEM, gen, scorer, config_cls())


@pytest.mark.parametrize("search, config_cls", SEARCHES)
def test_problem_object_instead_of_text(search, config_cls):
    gen, scorer = seed_models()

    class Problem:
        text = SEED_PROBLEM

    with pytest.raises(TypeError, match="pass problem.text"):
        search(Problem(), gen, scorer, config_cls())


def test_weighted_select_needs_answers():
    gen, scorer = seed_models()
    with pytest.raises(ValueError, match="answer_of"):
        beam_search(SEED_PROBLEM, gen, scorer, BeamConfig(select="weighted"))
    with pytest.raises(ValueError, match="unknown select='vote'"):
        beam_search(SEED_PROBLEM, gen, scorer, BeamConfig(select="vote"))
