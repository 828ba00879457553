"""DVTS: independent subtrees, greedy within each."""

import pytest
from search_doubles import RandomTree, scripted_models, tree_grade

from prm_edu.search import (
    FINISHED,
    KEPT,
    DVTSConfig,
    ScriptedScorer,
    TreeGenerator,
    dvts,
    dvts_many,
)


def test_subtrees_are_independent_and_greedy():
    t = RandomTree(7, depth=4, branching=3)
    gen = TreeGenerator({t.problem: t.tree}, order="random")
    r = dvts(t.problem, gen, t.scorer(), DVTSConfig(n=8, beam_width=4, seed=2))
    tree = r.tree
    assert len(tree.children(0)) == 8  # two subtrees x four candidates
    heads = [n for n in tree.children(0) if n.status in (KEPT, FINISHED)]
    assert len(heads) == 2  # one survivor per subtree
    for head in heads:  # each subtree is a single path with 4 children a step
        node = head
        while tree.children(node.id):
            kids = tree.children(node.id)
            assert len(kids) == 4
            alive = [k for k in kids if k.status in (KEPT, FINISHED)]
            assert len(alive) == 1
            assert alive[0].value == max(k.value for k in kids)
            node = alive[0]


@pytest.mark.parametrize("seed", range(30))
def test_perfect_scorer_finds_a_right_answer(seed):
    t = RandomTree(seed, depth=3, branching=3)
    gen = TreeGenerator({t.problem: t.tree})
    r = dvts(t.problem, gen, t.scorer(), DVTSConfig(n=6, beam_width=3))
    assert tree_grade(t.problem, r.steps)


def test_each_subtree_stops_when_it_finishes():
    problem = "short and long"
    tree = {"done = right": None, "go on": {"later = wrong": None}}
    scores = {"done = right": 0.9, "go on": 0.5, "later = wrong": 0.1}
    gen, sc = scripted_models(problem, tree, scores)
    r = dvts(problem, gen, sc, DVTSConfig(n=2, beam_width=2))
    assert r.steps == ["done = right"]
    assert len(r.tree) == 3  # root + two candidates: nothing more generated


def test_many_problems():
    trees = [RandomTree(s, depth=3, branching=3) for s in range(3)]
    gen = TreeGenerator({t.problem: t.tree for t in trees})
    rules = {t.problem: t.reachable for t in trees}
    sc = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    results = dvts_many(
        [t.problem for t in trees], gen, sc, DVTSConfig(n=6, beam_width=3)
    )
    assert all(tree_grade(r.problem, r.steps) for r in results)
