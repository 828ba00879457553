"""Tree-of-Thoughts BFS on scripted trees."""

import pytest
from search_doubles import (
    SEED_PROBLEM,
    RandomTree,
    RecordingScorer,
    seed_answer,
    seed_models,
    tree_grade,
)

from prm_edu.search import (
    FINISHED,
    PRUNED,
    ScriptedScorer,
    ToTConfig,
    TreeGenerator,
    tot_bfs,
    tot_bfs_many,
)


def test_seed_example_three_candidates_keep_two():
    gen, scorer = seed_models()
    r = tot_bfs(
        SEED_PROBLEM,
        gen,
        scorer,
        ToTConfig(n_candidates=3, keep=2),
        answer_of=seed_answer,
    )
    first = r.tree.children(0)
    assert len(first) == 3
    pruned = [n for n in first if n.status == PRUNED]
    assert len(pruned) == 1 and "keeps the top 2" in pruned[0].reason
    # Step 2 is generated only from the two kept states.
    parents = {n.parent for n in r.tree if n.depth == 2}
    assert parents == {n.id for n in first if n.status != PRUNED}
    assert r.answer == "5"


def test_identical_states_are_scored_once():
    problem = "one way"
    tree = {"only step": {"only end = right": None}}
    gen = TreeGenerator({problem: tree})
    scorer = RecordingScorer(lambda p, prefix: 0.9)
    r = tot_bfs(problem, gen, scorer, ToTConfig(n_candidates=3, keep=2))
    dupes = [n for n in r.tree if n.reason.startswith("duplicate of node")]
    assert len(dupes) == 4  # two copies at each of the two depths
    assert len(scorer.seen) == len(set(scorer.seen)) == 2
    assert r.steps == ["only step", "only end = right"]


def test_without_dedupe_copies_are_scored():
    problem = "one way"
    gen = TreeGenerator({problem: {"only step": {"only end = right": None}}})
    scorer = RecordingScorer(lambda p, prefix: 0.9)
    tot_bfs(problem, gen, scorer, ToTConfig(n_candidates=3, keep=2, dedupe=False))
    assert len(scorer.seen) > len(set(scorer.seen))


@pytest.mark.parametrize("seed", range(30))
def test_perfect_scorer_finds_a_right_answer(seed):
    t = RandomTree(seed, depth=3, branching=3)
    gen = TreeGenerator({t.problem: t.tree})
    r = tot_bfs(t.problem, gen, t.scorer(), ToTConfig(n_candidates=3, keep=1))
    assert tree_grade(t.problem, r.steps)


def test_frontier_never_exceeds_keep():
    t = RandomTree(11, depth=4, branching=3)
    gen = TreeGenerator({t.problem: t.tree}, order="random")
    r = tot_bfs(t.problem, gen, t.scorer(), ToTConfig(n_candidates=4, keep=2, seed=3))
    for depth in range(1, 4):
        expanded = {n.parent for n in r.tree if n.depth == depth + 1}
        assert len(expanded) <= 2


def test_max_finished_stops_early():
    t = RandomTree(2, depth=4, branching=3, p_final=0.5)
    gen = TreeGenerator({t.problem: t.tree})
    full = tot_bfs(t.problem, gen, t.scorer(), ToTConfig(keep=3))
    early = tot_bfs(t.problem, gen, t.scorer(), ToTConfig(keep=3, max_finished=1))
    assert sum(n.status == FINISHED for n in early.tree) >= 1
    assert early.cost.tokens_generated <= full.cost.tokens_generated


def test_many_problems_batched_per_depth():
    trees = [RandomTree(s, depth=3, branching=3) for s in range(4)]
    gen = TreeGenerator({t.problem: t.tree for t in trees})
    rules = {t.problem: t.reachable for t in trees}
    scorer = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    results = tot_bfs_many([t.problem for t in trees], gen, scorer, ToTConfig())
    assert all(tree_grade(r.problem, r.steps) for r in results)
    assert gen.usage.forward_passes == 3 and scorer.usage.forward_passes == 3
    assert sum(r.cost.tokens_generated for r in results) == gen.usage.tokens
