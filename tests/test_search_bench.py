"""The search benchmark's JSON, on scripted models (the shipped ones are
measured by running the benchmark itself)."""

import argparse
import json

import pytest
from search_doubles import RandomTree, tree_answer, tree_grade

from prm_edu.bench import search as bench
from prm_edu.search import ScriptedScorer, TreeGenerator

METHODS = [
    "prm_min",
    "prm_prod",
    "prm_last",
    "prm_mean",
    "prm_weighted",
    "orm",
    "majority",
    "oracle",
    "beam",
    "tot_bfs",
    "dfs",
    "dvts",
]


@pytest.fixture(scope="module")
def outcome():
    trees = [RandomTree(s, depth=3, branching=3, p_final=0.2) for s in range(8)]
    gen = TreeGenerator({t.problem: t.tree for t in trees}, order="random")
    rules = {t.problem: t.reachable for t in trees}
    prm = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    orm = ScriptedScorer(lambda p, prefix: 0.5)
    problems = [t.problem for t in trees]
    result, curves = bench.benchmark(
        "scripted",
        problems,
        gen,
        prm,
        orm,
        answer_of=tree_answer,
        grade=tree_grade,
        budgets=[1, 2, 4, 8],
        trials=4,
    )
    return problems, result, curves


def test_json_has_exactly_the_issue_shape(outcome):
    problems, result, _ = outcome
    json.dumps(result)  # plain JSON types only
    assert set(result) == {"world", "results", "choices"}
    assert result["world"] == "scripted"
    keys = {
        "method",
        "n",
        "accuracy",
        "ci_low",
        "ci_high",
        "tokens_generated",
        "seconds",
    }
    assert all(set(r) == keys for r in result["results"])
    assert {r["method"] for r in result["results"]} == set(METHODS)
    assert {(r["method"], r["n"]) for r in result["results"]} == {
        (m, n) for m in METHODS for n in (1, 2, 4, 8)
    }
    assert all(
        set(c) == {"method", "n", "problem", "final_step"} for c in result["choices"]
    )
    assert len(result["choices"]) == len(METHODS) * 4 * len(problems)
    assert {c["problem"] for c in result["choices"]} == set(problems)


def test_choices_regrade_to_the_reported_accuracy(outcome):
    # Tree searches run once, and rerankers at n = pool size have one trial:
    # re-grading their final steps gives back the reported accuracy.
    _, result, _ = outcome
    acc = {(r["method"], r["n"]): r["accuracy"] for r in result["results"]}
    for method in METHODS:
        for n in (
            [8] if method not in ("beam", "tot_bfs", "dfs", "dvts") else [1, 2, 4, 8]
        ):
            picked = [
                c for c in result["choices"] if c["method"] == method and c["n"] == n
            ]
            right = [tree_grade(c["problem"], [c["final_step"]]) for c in picked]
            assert sum(right) / len(right) == pytest.approx(acc[(method, n)], abs=1e-4)


def test_summary_and_text(outcome):
    _, result, curves = outcome
    s = bench.summary(curves, 8)
    assert {"prm_min-orm", "orm-majority", "prm_min/pass@n", "beam_vs_prm_min"} <= set(
        s
    )
    assert s["prm_min/pass@n"] == pytest.approx(1.0)  # perfect PRM
    tot = s["tot_bfs_vs_single_samples"]
    assert [r["n"] for r in tot] == [1, 2, 4, 8]
    assert all(r["majority_n_within_tokens"] >= 1 for r in tot)
    text = bench.format_text(result)
    assert "prm_min" in text and "tot_bfs" in text


def test_argument_parsing():
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    args = parser.parse_args(
        ["--world", "game24", "--budgets", "1,4,2", "--plot", "x.png"]
    )
    assert bench.parse_list(args.budgets, "budgets") == [1, 2, 4]
    with pytest.raises(SystemExit, match="whole numbers"):
        bench.parse_list("1,two", "budgets")
    with pytest.raises(SystemExit, match="unknown methods"):
        bench.parse_list("beam,mcts", "methods", bench.METHODS)
