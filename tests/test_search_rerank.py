"""Best-of-N reranking, votes, the oracle, and the shared sample pool."""

import math

import pytest
from search_doubles import (
    SEED_PROBLEM,
    EmptyGenerator,
    RandomTree,
    seed_answer,
    seed_grade,
    seed_models,
    tree_answer,
    tree_grade,
)

from prm_edu.protocols import GeneratedStep, Usage
from prm_edu.search import (
    BestOfNConfig,
    PoolConfig,
    ScriptedScorer,
    TreeGenerator,
    aggregate,
    best_of_n,
    best_of_n_many,
    pick,
    sample_pool,
)


def test_aggregations():
    s = [0.9, 0.5, 0.8]
    assert aggregate(s, "min") == 0.5
    assert math.isclose(aggregate(s, "prod"), 0.36)
    assert aggregate(s, "last") == 0.8
    assert math.isclose(aggregate(s, "mean"), 2.2 / 3)
    with pytest.raises(ValueError, match="'median'.*min, prod, last, mean"):
        aggregate(s, "median")
    with pytest.raises(ValueError, match="at least one step"):
        aggregate([], "min")


def test_pick_each_method():
    values = [0.2, 0.9, 0.9, 0.1]
    answers = ["7", "3", "7", "7"]
    assert pick("prm", values=values) == 1  # the first of equals
    assert pick("orm", values=values) == 1
    assert pick("majority", answers=answers) == 0  # "7" wins 3 to 1
    # weighted: "7" has 0.2 + 0.9 + 0.1 = 1.2 > 0.9; its heaviest sample is 2
    assert pick("weighted", values=values, answers=answers) == 2
    assert pick("weighted", values=[0.1, 0.9, 0.1, 0.1], answers=answers) == 1
    assert pick("oracle", correct=[False, False, True, True]) == 2
    assert pick("oracle", correct=[False, False]) == 0
    assert pick("majority", answers=[None, None]) == 0
    with pytest.raises(ValueError, match="needs answers"):
        pick("majority", values=values)
    with pytest.raises(ValueError, match="unknown reranking method 'best'"):
        pick("best", values=values)


def test_verifiers_pass_over_samples_without_an_answer():
    # Sample 0 stopped before its answer: the best score, and no candidate.
    values, answers = [0.95, 0.8, 0.9], [None, "3", "4"]
    for method in ("prm", "orm"):
        assert pick(method, values=values) == 0  # without answers: the score
        assert pick(method, values=values, answers=answers) == 2
        # When no sample has an answer, the score decides as before.
        assert pick(method, values=values, answers=[None] * 3) == 0
    for bad in (["3"], []):
        with pytest.raises(ValueError, match="same positive number"):
            pick("prm", values=values, answers=bad)


def test_best_of_n_picks_the_right_sample_with_a_perfect_scorer():
    gen, scorer = seed_models()
    r = best_of_n(SEED_PROBLEM, gen, scorer, BestOfNConfig(n=6), answer_of=seed_answer)
    assert r.answer == "5"
    tree = r.tree
    assert len(tree.children(0)) == 6  # one chain per sample
    assert tree.nodes[tree.chosen].reason.endswith("chosen")
    assert r.cost.tokens_generated == gen.usage.tokens
    assert r.cost.tokens_scored == scorer.usage.tokens
    assert r.cost.forward_passes == 1


@pytest.mark.parametrize("method", ["majority", "weighted", "oracle", "orm"])
def test_other_methods_run(method):
    gen, scorer = seed_models()
    r = best_of_n(
        SEED_PROBLEM,
        gen,
        scorer,
        BestOfNConfig(n=6, method=method),
        answer_of=seed_answer,
        grade=seed_grade,
    )
    assert r.steps and r.answer in {"5", "4", "10"}
    if method in ("oracle", "orm"):
        assert r.answer == "5"


def test_majority_beats_a_misleading_scorer_only_when_it_should():
    problem = "crowd"
    tree = {"a = 1": None, "b = 1": None, "c = 2": None}
    misleading = ScriptedScorer(lambda p, prefix: 0.9 if prefix[-1] == "c = 2" else 0.4)
    gen = TreeGenerator({problem: tree})
    grade = lambda p, s: tree_answer(p, s) == "1"  # noqa: E731
    prm = best_of_n(problem, gen, misleading, BestOfNConfig(n=3), answer_of=tree_answer)
    maj = best_of_n(
        problem, gen, None, BestOfNConfig(n=3, method="majority"), answer_of=tree_answer
    )
    assert not grade(problem, prm.steps) and grade(problem, maj.steps)


def test_pool_is_sampled_and_scored_once():
    trees = [RandomTree(s, depth=3, branching=3) for s in range(4)]
    gen = TreeGenerator({t.problem: t.tree for t in trees}, order="random")
    rules = {t.problem: t.reachable for t in trees}
    prm = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    orm = ScriptedScorer(lambda p, prefix: 0.7)
    pool = sample_pool(
        [t.problem for t in trees],
        gen,
        prm,
        orm,
        PoolConfig(n=8),
        answer_of=tree_answer,
        grade=tree_grade,
    )
    assert prm.usage.forward_passes == 1 and orm.usage.forward_passes == 1
    assert pool.values("min").shape == (4, 8) == pool.correct().shape
    assert (pool.orm_values() == 0.7).all()
    # With a perfect PRM, the best PRM value is right whenever any sample is.
    v, c = pool.values("min"), pool.correct()
    for i in range(4):
        if c[i].any():
            assert c[i, v[i].argmax()]
    assert sum(c.sum() for c in [pool.tokens()]) == gen.usage.tokens
    assert sum(x.tokens_scored for x in pool.prm_cost) == prm.usage.tokens


def test_pool_samples_without_steps_never_win():
    class Sometimes:
        def __init__(self):
            self.usage = Usage()

        def next_steps(self, states, *, temperature=1.0, seed=None):
            return [
                GeneratedStep("" if i % 2 else "x = 1", 1, True)
                for i in range(len(states))
            ]

    pool = sample_pool(
        ["p"],
        Sometimes(),
        ScriptedScorer(lambda p, s: 0.1),
        config=PoolConfig(n=4),
        answer_of=tree_answer,
        grade=tree_grade,
    )
    v = pool.values("min")[0]
    assert list(v[1::2]) == [-math.inf, -math.inf] and list(v[::2]) == [0.1, 0.1]
    assert pool.samples[0][1].answer is None and not pool.samples[0][1].correct


def test_all_empty_pool_is_an_error():
    with pytest.raises(ValueError, match="only empty steps"):
        sample_pool(["p"], EmptyGenerator(), None, config=PoolConfig(n=3))


def test_best_of_n_many_needs_what_each_method_uses():
    gen, scorer = seed_models()
    with pytest.raises(ValueError, match="answer_of"):
        best_of_n_many([SEED_PROBLEM], gen, scorer, BestOfNConfig(method="majority"))
    with pytest.raises(ValueError, match="grade="):
        best_of_n_many([SEED_PROBLEM], gen, scorer, BestOfNConfig(method="oracle"))
    with pytest.raises(ValueError, match="pass a scorer"):
        best_of_n_many([SEED_PROBLEM], gen, None, BestOfNConfig(method="prm"))


def test_pool_result_on_a_subset():
    from prm_edu.search import pool_result

    gen, scorer = seed_models()
    pool = sample_pool(
        [SEED_PROBLEM],
        gen,
        scorer,
        None,
        PoolConfig(n=6),
        answer_of=seed_answer,
        grade=seed_grade,
    )
    r = pool_result(pool, 0, "prm", "min", indices=[0, 2, 3])
    assert len(r.tree.children(0)) == 3
    assert r.cost.tokens_generated == sum(
        pool.samples[0][k].n_tokens for k in [0, 2, 3]
    )
    chosen = r.tree.nodes[r.tree.chosen]
    assert r.tree.steps(chosen.id) == r.steps
