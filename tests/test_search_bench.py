"""The search benchmark's JSON, on scripted models (the shipped ones are
measured by running the benchmark itself)."""

import argparse
import json

import numpy as np
import pytest
from search_doubles import RandomTree, tree_answer, tree_grade

from prm_edu.bench import search as bench
from prm_edu.bench.__main__ import main as bench_main
from prm_edu.evaluation import paired_gap, pool_draws
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


def test_pool_draws_counts_each_problem_once(outcome):
    problems, _, curves = outcome
    # A second draw that repeats the first three problems: only its other
    # problems add to the pool.
    again = problems[:3] + [f"other {i}" for i in range(5)]
    pooled = pool_draws([(problems, curves), (again, curves)])
    row = pooled[(pooled.method == "prm_min") & (pooled.n == 8)].iloc[0]
    hits = list(
        curves[(curves.method == "prm_min") & (curves.n == 8)].iloc[0].per_problem
    )
    assert list(row.per_problem) == hits + hits[3:]
    assert row.problems == len(problems) + 5
    assert row.accuracy == pytest.approx(np.mean(hits + hits[3:]))
    assert row.ci_low <= row.accuracy <= row.ci_high
    gap = paired_gap(pooled, "oracle", "orm", 8)
    assert gap["gap"] >= 0
    s = bench.summary(pooled, 8)
    assert {"prm_min-orm", "oracle-orm", "prm_min/pass@n"} <= set(s)
    assert "beam_vs_prm_min" not in s  # pooled rows carry no token counts
    with pytest.raises(ValueError, match="pass each draw's own problems"):
        pool_draws([(problems[:2], curves)])
    with pytest.raises(ValueError, match="no draws"):
        pool_draws([])


def test_several_seeds_through_the_command_line(tmp_path, capsys):
    # The shipped equations models, two draws of two problems, N = 2.
    summary_path = tmp_path / "s.json"
    argv = [
        "search",
        "--world",
        "equations",
        "--problems",
        "2",
        "--seeds",
        "0,1",
        "--budgets",
        "2",
        "--methods",
        "prm_min,orm,majority,oracle",
        "--json",
        "--summary",
        str(summary_path),
    ]
    assert bench_main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"world", "draws", "pooled"}
    assert [d["seed"] for d in result["draws"]] == [0, 1]
    assert all({"results", "choices"} <= set(d) for d in result["draws"])
    assert {r["method"] for r in result["pooled"]} == {
        "prm_min",
        "orm",
        "majority",
        "oracle",
    }
    assert all(r["problems"] <= 4 for r in result["pooled"])
    s = json.loads(summary_path.read_text())
    assert [d["seed"] for d in s["draws"]] == [0, 1]
    assert "oracle-orm" in s["pooled"]
    assert "pooled over the" in bench.format_text(result)
    with pytest.raises(SystemExit, match="--plot draws one draw"):
        bench_main(argv + ["--plot", str(tmp_path / "p.png")])
    with pytest.raises(SystemExit, match="--seeds must be >= 0"):
        bench_main(argv[:6] + ["-1"] + argv[7:])
