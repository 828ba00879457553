"""Backtracking DFS on scripted trees."""

import pytest
from search_doubles import RandomTree, scripted_models, tree_answer, tree_grade

from prm_edu.search import (
    FINISHED,
    PRUNED,
    DFSConfig,
    ScriptedScorer,
    TreeGenerator,
    dfs,
    dfs_many,
)

# "looks good" scores best but every child of it is wrong: DFS must go there
# first, find a dead end, back up and take "looks worse".
PROBLEM = "backtrack"
TREE = {
    "looks good": {"wrong a = wrong": None, "wrong b = wrong": None},
    "looks worse": {"fine": {"end = right": None}},
    "bad start": {"x = wrong": None},
}
SCORES = {
    "looks good": 0.9,
    "looks worse": 0.7,
    "bad start": 0.1,
    "wrong a = wrong": 0.2,
    "wrong b = wrong": 0.1,
    "fine": 0.8,
    "end = right": 0.9,
    "x = wrong": 0.1,
}


def scorer():
    return ScriptedScorer(lambda p, prefix: SCORES[prefix[-1]])


def test_backtracks_from_a_dead_end():
    gen = TreeGenerator({PROBLEM: TREE})
    r = dfs(PROBLEM, gen, scorer(), DFSConfig(n_children=3, threshold=0.5))
    assert r.steps == ["looks worse", "fine", "end = right"]
    by_step = {n.step: n for n in r.tree if n.depth == 1}
    good = by_step["looks good"]
    assert good.status == PRUNED and good.reason.startswith("dead end")
    assert by_step["bad start"].reason.startswith("score 0.100 < threshold")
    # The tempting branch was expanded first (iteration 1), the other after.
    assert min(c.iteration for c in r.tree.children(good.id)) == 1
    worse = by_step["looks worse"]
    assert min(c.iteration for c in r.tree.children(worse.id)) == 2
    assert r.tree.nodes[r.tree.chosen].status == FINISHED
    assert r.stopped == ""


def test_a_finished_step_without_an_answer_is_pruned():
    tree = {"stop": None, "a": {"b = right": None}}
    scores = {"stop": 0.95, "a": 0.8, "b = right": 0.9}
    gen, scorer = scripted_models("p", tree, scores)
    config = DFSConfig(n_children=2, threshold=0.5)
    assert dfs("p", gen, scorer, config).steps == ["stop"]
    r = dfs("p", gen, scorer, config, answer_of=tree_answer)
    assert r.steps == ["a", "b = right"]
    stop = next(n for n in r.tree if n.step == "stop")
    assert stop.status == PRUNED and stop.reason == "finished without a final answer"


def test_expansion_budget_returns_what_it_has():
    gen = TreeGenerator({PROBLEM: TREE})
    r = dfs(PROBLEM, gen, scorer(), DFSConfig(max_expansions=2))
    assert r.stopped.startswith("budget spent: 2 expansions")
    assert r.steps  # the best partial path so far
    assert any(n.reason.startswith("not expanded: budget spent") for n in r.tree)


def test_token_budget():
    gen = TreeGenerator({PROBLEM: TREE})
    r = dfs(PROBLEM, gen, scorer(), DFSConfig(token_budget=5))
    assert r.stopped.startswith("budget spent")
    assert r.cost.tokens_generated >= 5


def test_exhausted_when_every_branch_is_below_threshold():
    gen = TreeGenerator({PROBLEM: TREE})
    r = dfs(PROBLEM, gen, ScriptedScorer(lambda p, prefix: 0.2), DFSConfig())
    assert r.stopped.startswith("exhausted")
    assert r.tree.root.reason.startswith("dead end")


@pytest.mark.parametrize("seed", range(30))
def test_perfect_scorer_finds_a_right_answer(seed):
    t = RandomTree(seed, depth=4, branching=3, p_final=0.2)
    gen = TreeGenerator({t.problem: t.tree})
    r = dfs(t.problem, gen, t.scorer(), DFSConfig(n_children=3, max_expansions=64))
    assert tree_grade(t.problem, r.steps)
    # A perfect scorer never leads DFS into a dead end.
    assert not any(n.reason.startswith("dead end") for n in r.tree)


def test_many_in_lockstep_agree_with_one_at_a_time():
    trees = [RandomTree(s, depth=4, branching=3, p_final=0.2) for s in range(4)]
    gen = TreeGenerator({t.problem: t.tree for t in trees})
    rules = {t.problem: t.reachable for t in trees}
    sc = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    alone = [dfs(t.problem, gen, sc).steps for t in trees]
    assert [r.steps for r in dfs_many([t.problem for t in trees], gen, sc)] == alone
