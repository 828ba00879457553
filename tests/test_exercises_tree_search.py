"""Notebook 05's exercise checks: right answers pass, wrong ones say what is off."""

from __future__ import annotations

from prm_edu.exercises import tree_search as ex
from prm_edu.search import dfs


def test_tot_keep_sets_finished_aside_and_ranks_the_rest():
    values = [0.62, 0.91, 0.08, 0.55, 0.97, 0.88]
    assert ex.tot_kept(values, 2, finished=[4]) == [1, 5]
    assert ex.check_tot_keep(values, 2, [5, 1], finished=[4])
    wrong = ex.check_tot_keep(values, 2, [4, 1], finished=[4])
    assert not wrong and "finished" in wrong.message
    assert not ex.check_tot_keep(values, 2, [1, 0], finished=[4])
    assert not ex.check_tot_keep(values, 2, "1, 5", finished=[4])


def test_tot_keep_ties_go_to_the_earlier_candidate():
    assert ex.tot_kept([0.5, 0.9, 0.5], 2) == [0, 1]


def test_beam_step():
    values = [0.31, 0.77, 0.12, 0.93, 0.64, 0.05, 0.81, 0.40]
    assert ex.check_beam_step(values, 8, 4, {"kept": [6, 3], "children": 4})
    few = ex.check_beam_step(values, 8, 4, {"kept": [3], "children": 4})
    assert not few and "2" in few.message
    assert not ex.check_beam_step(values, 8, 4, {"kept": [3, 1], "children": 4})
    assert not ex.check_beam_step(values, 8, 4, {"kept": [3, 6], "children": 2})
    assert not ex.check_beam_step(values, 8, 4, [3, 6])


def test_dfs_example_backtracks_from_a_to_b():
    problem, generator, scorer, config = ex.dfs_example()
    result = dfs(problem, generator, scorer, config)
    assert result.steps == [ex.DFS_STEPS["B"], ex.DFS_STEPS["G"]]
    a = next(n for n in result.tree.nodes if n.step == ex.DFS_STEPS["A"])
    assert a.status == "pruned" and "dead end" in a.reason
    assert ex.dfs_expansion_order() == ["A", "B"]
    assert ex.check_dfs_order(["a", "b"])
    assert not ex.check_dfs_order(["B"])
    assert "pruned" in ex.check_dfs_order(["C"]).message
    assert "backtrack" in ex.check_dfs_order(["A"]).message
    assert not ex.check_dfs_order(["A", "B", "G"])
    assert not ex.check_dfs_order(["Z"])
    assert not ex.check_dfs_order("AB")


def test_matched_n_rounds_down():
    assert ex.matched_n(42.8, 357) == 8
    assert ex.matched_n(50, 10) == 1
    assert ex.check_matched_n(42.8, 357, 8)
    assert "round down" in ex.check_matched_n(42.8, 357, 9).message
    assert not ex.check_matched_n(42.8, 357, 7)
    assert not ex.check_matched_n(42.8, 357, 8.0)
