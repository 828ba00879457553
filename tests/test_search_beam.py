"""Beam search on scripted trees whose right answers are known."""

import pytest
from search_doubles import (
    SEED_PROBLEM,
    RandomTree,
    scripted_models,
    seed_answer,
    seed_models,
    tree_answer,
    tree_grade,
)

from prm_edu.protocols import GeneratedStep
from prm_edu.search import (
    FINISHED,
    KEPT,
    PRUNED,
    BeamConfig,
    ScriptedScorer,
    TreeGenerator,
    beam_search,
    beam_search_many,
)


def test_seed_example_finds_x_equals_5():
    gen, scorer = seed_models()
    r = beam_search(
        SEED_PROBLEM, gen, scorer, BeamConfig(n=6, beam_width=3), answer_of=seed_answer
    )
    assert r.answer == "5"
    assert r.steps == ["Subtract 5 from both sides: 2x = 10", "Divide by 2: x = 5"]
    assert r.tree.chosen is not None and r.tree.nodes[r.tree.chosen].status == FINISHED
    pruned = [n for n in r.tree if n.status == PRUNED]
    assert pruned and all(
        "beam keeps the top 2" in n.reason or n.reason.startswith("duplicate of")
        for n in pruned
    )
    assert r.stopped == ""


@pytest.mark.parametrize("seed", range(40))
def test_perfect_scorer_always_finds_a_right_answer(seed):
    # Every leaf at the same depth and beam_width >= branching: each kept
    # beam's children are all generated, so a right one is always reachable.
    t = RandomTree(seed, depth=3, branching=3)
    gen = TreeGenerator({t.problem: t.tree})
    for n, width in [(3, 3), (6, 3), (8, 4)]:
        r = beam_search(
            t.problem,
            gen,
            t.scorer(),
            BeamConfig(n=n, beam_width=width),
            answer_of=tree_answer,
        )
        assert tree_grade(t.problem, r.steps), (seed, n, r.steps)


@pytest.mark.parametrize("seed", range(40))
def test_chooses_a_right_answer_whenever_its_tree_holds_one(seed):
    t = RandomTree(seed, depth=4, branching=3, p_final=0.3)
    gen = TreeGenerator({t.problem: t.tree}, order="random")
    r = beam_search(
        t.problem, gen, t.scorer(), BeamConfig(n=4, beam_width=2, seed=seed)
    )
    finished_right = [
        n for n in r.tree if n.status == FINISHED and n.step.endswith("right")
    ]
    if finished_right:
        assert tree_grade(t.problem, r.steps)


def test_n_beams_per_step_and_n_over_width_kept():
    t = RandomTree(3, depth=4, branching=3)
    gen = TreeGenerator({t.problem: t.tree}, order="random")
    r = beam_search(t.problem, gen, t.scorer(), BeamConfig(n=8, beam_width=4, seed=1))
    by_iteration = {}
    for node in list(r.tree)[1:]:
        by_iteration.setdefault(node.iteration, []).append(node)
    for it, nodes in by_iteration.items():
        assert len(nodes) == 8, it
        kept = [n for n in nodes if n.status == KEPT and r.tree.children(n.id)]
        assert len(kept) <= 2
    for node in r.tree:  # finished beams are set aside: never expanded
        if node.status == FINISHED:
            assert r.tree.children(node.id) == []


def test_lookahead_sees_past_a_tempting_step():
    problem = "trap"
    tree = {
        "tempting": {"then wrong = wrong": None},
        "plain": {"then right = right": None},
    }
    scores = {
        "tempting": 0.9,
        "plain": 0.6,
        "then wrong = wrong": 0.1,
        "then right = right": 0.9,
    }
    gen, scorer = scripted_models(problem, tree, scores)
    plain = beam_search(problem, gen, scorer, BeamConfig(n=2, beam_width=2))
    ahead = beam_search(
        problem, gen, scorer, BeamConfig(n=2, beam_width=2, lookahead=1)
    )
    assert plain.steps[0] == "tempting"
    assert ahead.steps == ["plain", "then right = right"]
    assert ahead.cost.tokens_generated > plain.cost.tokens_generated


def test_many_problems_in_one_batch_match_one_at_a_time():
    trees = [RandomTree(s, depth=3, branching=3) for s in range(5)]
    gen = TreeGenerator({t.problem: t.tree for t in trees})
    rules = {t.problem: t.reachable for t in trees}
    scorer = ScriptedScorer(lambda p, prefix: 0.95 if prefix[-1] in rules[p] else 0.05)
    cfg = BeamConfig(n=6, beam_width=3)
    alone = [beam_search(t.problem, gen, scorer, cfg).steps for t in trees]
    calls = gen.usage.forward_passes
    together = beam_search_many([t.problem for t in trees], gen, scorer, cfg)
    assert [r.steps for r in together] == alone
    # One generation call per step for all five problems, not five.
    assert gen.usage.forward_passes - calls == 3


def test_cost_comes_from_the_models_usage():
    gen, scorer = seed_models()
    r = beam_search(SEED_PROBLEM, gen, scorer, BeamConfig(n=4, beam_width=2))
    assert r.cost.tokens_generated == gen.usage.tokens
    assert r.cost.tokens_scored == scorer.usage.tokens
    assert r.cost.forward_passes == scorer.usage.forward_passes == 2
    assert r.cost.steps_generated == len(r.tree) - 1
    assert sum(n.tokens for n in r.tree) == r.cost.tokens_generated


def test_budget_stops_the_search_and_says_so():
    t = RandomTree(5, depth=6, branching=2)
    gen = TreeGenerator({t.problem: t.tree})
    r = beam_search(
        t.problem, gen, t.scorer(), BeamConfig(n=4, beam_width=2, token_budget=10)
    )
    assert r.stopped.startswith("budget spent")
    assert r.steps  # it returns the best partial solution it has
    assert any("not expanded: budget spent" in n.reason for n in r.tree)


def test_dedupe_prunes_identical_beams():
    gen, scorer = seed_models()
    r = beam_search(SEED_PROBLEM, gen, scorer, BeamConfig(n=6, beam_width=3))
    dupes = [n for n in r.tree if n.reason.startswith("duplicate of node")]
    assert dupes and all(n.score is None for n in dupes)
    assert scorer.usage.tokens == r.cost.tokens_scored
    # Copies of finished solutions still count as finished beams: the search
    # ends after two steps instead of running on to max_depth.
    assert max(n.depth for n in r.tree) == 2
    plain = beam_search(
        SEED_PROBLEM, gen, scorer, BeamConfig(n=6, beam_width=3, dedupe=False)
    )
    assert not any(n.reason.startswith("duplicate") for n in plain.tree)
    assert plain.cost.tokens_scored > r.cost.tokens_scored


def test_weighted_selection_votes_over_answers():
    problem = "vote"
    tree = {"a = 1": None, "b = 1": None, "c = 2": None}
    scores = {"a = 1": 0.5, "b = 1": 0.5, "c = 2": 0.8}
    gen, scorer = scripted_models(problem, tree, scores)
    best = beam_search(
        problem, gen, scorer, BeamConfig(n=3, beam_width=3), answer_of=tree_answer
    )
    vote = beam_search(
        problem,
        gen,
        scorer,
        BeamConfig(n=3, beam_width=3, select="weighted"),
        answer_of=tree_answer,
    )
    assert best.answer == "2" and vote.answer == "1"


def test_a_finished_beam_without_an_answer_is_not_chosen():
    # "stop" ends the solution before its answer and scores best.
    problem = "stops early"
    tree = {"stop": None, "a = right": None, "b = wrong": None}
    scores = {"stop": 0.99, "a = right": 0.9, "b = wrong": 0.2}
    gen, scorer = scripted_models(problem, tree, scores)
    config = BeamConfig(n=3, beam_width=3)
    assert beam_search(problem, gen, scorer, config).steps == ["stop"]
    r = beam_search(problem, gen, scorer, config, answer_of=tree_answer)
    assert r.steps == ["a = right"] and r.answer == "right"


def test_copies_of_a_step_keep_their_places_among_the_beams():
    # The generator writes the right first step twice and each wrong one
    # once: the right step takes two of the three places (n=6, width 2) and
    # gets four of the six children, as without deduplication.
    problem = "copies"
    tree = {
        "right": {"right end": None},
        "wrong a": {"a end": None},
        "wrong b": {"b end": None},
    }
    order = ["right", "wrong a", "right", "wrong b", "wrong a", "wrong b"]

    class Writer(TreeGenerator):
        def next_steps(self, states, *, temperature=1.0, seed=None):
            if states and not states[0][1]:  # the first step: as `order` says
                self.usage.forward_passes += 1
                return [GeneratedStep(t, 2, False) for t in order[: len(states)]]
            return super().next_steps(states, temperature=temperature, seed=seed)

    scores = {"right": 0.9, "wrong a": 0.2, "wrong b": 0.1}
    scorer = ScriptedScorer(lambda p, prefix: scores.get(prefix[0], 0.5))
    for dedupe in (True, False):
        r = beam_search(
            problem,
            Writer({problem: tree}),
            scorer,
            BeamConfig(n=6, beam_width=2, dedupe=dedupe),
        )
        second = [n for n in r.tree if n.depth == 2]
        parents = [r.tree.nodes[n.parent].step for n in second]
        assert parents.count("right") == 4, (dedupe, parents)
        assert r.steps == ["right", "right end"]
