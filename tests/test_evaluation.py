"""Accuracy against compute: subsampled curves, intervals, plots, tables."""

import math

import matplotlib
import numpy as np
import pytest
from search_doubles import RandomTree, tree_answer, tree_grade

from prm_edu.evaluation import (
    RERANK_METHODS,
    accuracy_table,
    bootstrap_ci,
    budgets_up_to,
    paired_gap,
    plot_accuracy,
    records,
    rerank_curve,
    search_config,
    search_curve,
    search_runner,
    subsample,
    tokens_to_match,
    wilson_ci,
)
from prm_edu.search import (
    Pool,
    PoolConfig,
    Sample,
    ScriptedScorer,
    TreeGenerator,
    pick,
    sample_pool,
)

matplotlib.use("Agg")


def test_wilson_matches_the_textbook_value():
    lo, hi = wilson_ci(5, 10)
    assert math.isclose(lo, 0.2366, abs_tol=1e-4)
    assert math.isclose(hi, 0.7634, abs_tol=1e-4)
    assert wilson_ci(0, 20)[0] == 0.0 and wilson_ci(20, 20)[1] == 1.0
    with pytest.raises(ValueError, match="n >= 1"):
        wilson_ci(0, 0)


def test_bootstrap_interval():
    rng = np.random.default_rng(0)
    x = rng.random(400) < 0.3
    lo, hi = bootstrap_ci(x)
    assert lo < x.mean() < hi and hi - lo < 0.1
    assert bootstrap_ci([1.0] * 10) == (1.0, 1.0)
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci(x, level=95)


def test_subsample_and_budgets():
    rng = np.random.default_rng(0)
    sets = subsample(64, 4, 5, rng)
    assert len(sets) == 5 and list(sets[0]) == [0, 1, 2, 3]
    assert all(len(set(s)) == 4 and list(s) == sorted(s) for s in sets)
    assert len(subsample(64, 64, 5, rng)) == 1
    with pytest.raises(ValueError, match="n=65 of a pool of 64"):
        subsample(64, 65, 2, rng)
    assert budgets_up_to(64) == (1, 2, 4, 8, 16, 32, 64)
    assert budgets_up_to(12) == (1, 2, 4, 8, 12)


def synthetic_pool(n_problems=60, n=16, seed=0, unanswered=0.0):
    """Samples right with prob 0.3; the PRM sees rightness through noise, the
    ORM through more noise; wrong answers split over two values, each more
    common than the right one, so majority vote is misled. A wrong sample
    gives no answer with probability `unanswered`."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_problems):
        row = []
        for _ in range(n):
            right = rng.random() < 0.3
            answer = "42" if right else str(rng.integers(2))
            if unanswered and not right and rng.random() < unanswered:
                answer = None
            prm = float(np.clip(0.7 * right + 0.3 * rng.random(), 0, 1))
            orm = float(np.clip(0.2 * right + 0.8 * rng.random(), 0, 1))
            row.append(
                Sample(
                    ("s", f"x = {answer}"),
                    10,
                    True,
                    [0.9, prm],
                    orm,
                    answer,
                    bool(right),
                )
            )
        rows.append(row)
    return Pool(
        [f"p{i}" for i in range(n_problems)],
        rows,
        PoolConfig(n=n),
        {"generate": 2.0, "prm": 1.0, "orm": 1.0},
    )


def test_rerank_curve_orders_verifiers_and_respects_the_ceiling():
    df = rerank_curve(synthetic_pool(), trials=8)
    assert set(df["method"]) == set(RERANK_METHODS)
    assert sorted(set(df["n"])) == [1, 2, 4, 8, 16]
    at = {(r.method, r.n): r for r in df.itertuples()}
    for n in (1, 2, 4, 8, 16):
        for m in RERANK_METHODS:  # pass@N is the ceiling for every verifier
            assert at[(m, n)].accuracy <= at[("oracle", n)].accuracy + 1e-12
            assert at[(m, n)].ci_low <= at[(m, n)].accuracy <= at[(m, n)].ci_high
        assert at[("prm_min", n)].tokens_generated == pytest.approx(10 * n)
    # With one sample there is nothing to choose: every method agrees.
    first = {round(at[(m, 1)].accuracy, 12) for m in RERANK_METHODS}
    assert len(first) == 1
    # The PRM separates right from wrong perfectly: it reaches the ceiling.
    assert at[("prm_last", 16)].accuracy == at[("oracle", 16)].accuracy
    assert at[("prm_last", 16)].accuracy > at[("orm", 16)].accuracy
    assert at[("orm", 16)].accuracy > at[("majority", 16)].accuracy
    gap = paired_gap(df, "prm_last", "majority", 16)
    assert gap["clear"] and gap["gap"] > 0
    # trial 0 is the first N samples: its picks can be re-graded
    pool = synthetic_pool()
    row = df[(df.method == "prm_last") & (df.n == 16)].iloc[0]
    assert row["final_steps"] == [
        pool.samples[i][j].steps[-1] for i, j in enumerate(row["picks"])
    ]
    regraded = np.mean([pool.samples[i][j].correct for i, j in enumerate(row["picks"])])
    assert regraded == pytest.approx(row["accuracy"])  # n = pool: one trial


@pytest.mark.parametrize("method", list(RERANK_METHODS))
def test_trial_zero_picks_agree_with_pick(method):
    pool = synthetic_pool(n_problems=20, n=8, unanswered=0.4)
    df = rerank_curve(pool, [method], [4], trials=3)
    how, agg = RERANK_METHODS[method]
    expected = []
    for i in range(20):
        kw = {}
        if how in ("prm", "weighted"):
            kw["values"] = pool.values(agg)[i, :4]
        if how == "orm":
            kw["values"] = pool.orm_values()[i, :4]
        if how != "oracle":
            kw["answers"] = pool.answers()[i][:4]
        if how == "oracle":
            kw["correct"] = pool.correct()[i, :4]
        expected.append(pick(how, **kw))
    assert df.iloc[0]["picks"] == expected


def test_seconds_are_scaled_from_the_pool():
    df = rerank_curve(synthetic_pool(n=8), ["prm_min", "majority"], [4, 8])
    at = {(r.method, r.n): r.seconds for r in df.itertuples()}
    assert at[("prm_min", 8)] == pytest.approx(3.0)
    assert at[("prm_min", 4)] == pytest.approx(1.5)
    assert at[("majority", 8)] == pytest.approx(2.0)


def test_rerank_curve_bad_input():
    pool = synthetic_pool(n=8)
    with pytest.raises(ValueError, match="unknown method 'best'"):
        rerank_curve(pool, ["best"])
    with pytest.raises(ValueError, match="n=16 of a pool of 8"):
        rerank_curve(pool, ["prm_min"], [16])


def test_search_curve_and_token_matching():
    trees = [RandomTree(s, depth=3, branching=3) for s in range(12)]
    gen = TreeGenerator({t.problem: t.tree for t in trees})
    rules = {t.problem: t.reachable for t in trees}
    prm = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    problems = [t.problem for t in trees]
    pool = sample_pool(
        problems,
        gen,
        prm,
        None,
        PoolConfig(n=8),
        answer_of=tree_answer,
        grade=tree_grade,
    )
    df = rerank_curve(pool, ["prm_min", "oracle"], [1, 2, 4, 8], trials=4)
    for method in ("beam", "tot_bfs", "dfs", "dvts"):
        run = search_runner(
            method,
            gen,
            prm,
            answer_of=tree_answer,
            tokens_per_sample=float(pool.tokens().mean()),
        )
        curve = search_curve(method, run, problems, tree_grade, [1, 2, 4, 8])
        assert list(curve["n"]) == [1, 2, 4, 8]
        assert (curve["tokens_generated"] > 0).all()
        df = __import__("pandas").concat([df, curve], ignore_index=True)
    # A perfect PRM guiding beam search (width 4) solves every problem at n=8.
    beam8 = df[(df.method == "beam") & (df.n == 8)].iloc[0]
    assert beam8.accuracy == 1.0
    match = tokens_to_match(df, "beam", "prm_min", 8)
    assert match["n"] is not None and match["token_ratio"] is not None
    table = accuracy_table(df)
    assert table.loc["beam", 8] == 1.0
    rows = records(df)
    assert set(rows[0]) == {
        "method",
        "n",
        "accuracy",
        "ci_low",
        "ci_high",
        "tokens_generated",
        "seconds",
    }
    fig = plot_accuracy(df, title="test")
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert any(label.startswith("pass@N") for label in labels)
    assert "beam" in labels
    fig2 = plot_accuracy(df, x="n")
    assert fig2.axes[0].get_xlabel() == "budget N"


def test_search_config_sizes():
    assert search_config("beam", 8).beam_width == 4
    assert search_config("beam", 6).beam_width == 3
    assert search_config("beam", 1).beam_width == 1
    sizes = {n: search_config("tot_bfs", n) for n in (1, 2, 6, 16, 64)}
    assert {n: (c.n_candidates, c.keep) for n, c in sizes.items()} == {
        1: (1, 1),
        2: (2, 1),
        6: (3, 2),
        16: (3, 5),
        64: (12, 5),
    }
    assert search_config("dfs", 4, tokens_per_sample=10.5).token_budget == 42
    with pytest.raises(ValueError, match="unknown search 'mcts'"):
        search_config("mcts", 4)
    with pytest.raises(ValueError, match="budget n must be"):
        search_config("beam", 0)
