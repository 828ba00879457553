"""Tree-of-Thoughts breadth-first search (Yao et al., 2023) with a PRM as the
state evaluator.

From each of the `keep` best states, sample `n_candidates` next steps; drop
candidates identical to one already made (the same steps so far), score the
rest with the PRM, set finished solutions aside, and keep the top `keep`
unfinished states for the next step. The seed's example is
``ToTConfig(n_candidates=3, keep=2)``: generate three candidate first steps,
keep the top two, generate second steps from those, and repeat. The answer is
the finished solution with the highest value. Defined in notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.search.aggregate import aggregate, check_aggregation
from prm_edu.search.beam import dedupe
from prm_edu.search.choose import AnswerFn, check_selection, choose_node, conclude
from prm_edu.search.lockstep import (
    Generate,
    Score,
    budget_spent,
    check_budget,
    check_positive,
    check_problems,
    check_temperature,
    run_lockstep,
)
from prm_edu.search.tree import Cost, Node, SearchResult, SearchTree


@dataclass
class ToTConfig:
    """Every knob of Tree-of-Thoughts BFS, with its default."""

    n_candidates: int = 3  # k: next steps sampled from each kept state
    keep: int = 2  # b: states kept at each depth
    max_depth: int = 10
    aggregation: str = "min"
    temperature: float = 1.0
    dedupe: bool = True  # identical states are scored and expanded once
    max_finished: int | None = None  # stop after this many finished solutions
    select: str = "best"  # final answer: "best" value or "weighted" vote
    token_budget: int | None = None
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n_candidates", self.n_candidates)
        check_positive("keep", self.keep)
        check_positive("max_depth", self.max_depth)
        if self.max_finished is not None:
            check_positive("max_finished", self.max_finished)
        check_aggregation(self.aggregation)
        check_temperature(self.temperature)
        check_budget(self.token_budget)


def tot_bfs(
    problem: str,
    generator: StepGenerator,
    scorer: StepScorer,
    config: ToTConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> SearchResult:
    """Tree-of-Thoughts BFS on one problem (its statement)."""
    check_problems([problem])
    return tot_bfs_many([problem], generator, scorer, config, answer_of=answer_of)[0]


def tot_bfs_many(
    problems: Sequence[str],
    generator: StepGenerator,
    scorer: StepScorer,
    config: ToTConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> list[SearchResult]:
    """ToT BFS on many problems, batched per depth across all of them."""
    config = config or ToTConfig()
    config.check()
    check_selection(config.select, answer_of)
    problems = check_problems(problems)
    costs = [Cost() for _ in problems]
    searches = [_tot(p, config, c, answer_of) for p, c in zip(problems, costs)]
    return run_lockstep(searches, costs, generator, scorer, seed=config.seed)


def _tot(problem: str, cfg: ToTConfig, cost: Cost, answer_of: AnswerFn | None):
    tree = SearchTree(problem)
    frontier: list[Node] = [tree.root]
    finished: list[Node] = []
    scored: list[Node] = []
    stopped = ""
    for it in range(cfg.max_depth):
        stopped = budget_spent(cost, cfg.token_budget)
        if stopped:
            for p in frontier:
                p.reason = f"not expanded: {stopped}"
            break
        parents = [p for p in frontier for _ in range(cfg.n_candidates)]
        states = [(problem, tree.steps(p.id)) for p in parents]
        new = yield Generate(states, cfg.temperature)
        children = [
            tree.add(p.id, s.text.strip(), None, it, final=s.final, tokens=s.n_tokens)
            for p, s in zip(parents, new)
        ]
        if cfg.dedupe:
            children = dedupe(tree, children)
        paths = [tree.steps(c.id) for c in children]
        scores = yield Score([(problem, p) for p in paths])
        for c, sc in zip(children, scores):
            c.score = sc[-1]
            c.value = aggregate(sc, cfg.aggregation)
        scored = children
        live = []
        for c in children:
            if c.final:
                tree.finish(c.id, f"finished (value {c.value:.3f})")
                finished.append(c)
            else:
                live.append(c)
        live.sort(key=lambda c: c.value, reverse=True)
        frontier = live[: cfg.keep]
        for rank, c in enumerate(live[cfg.keep :], start=cfg.keep + 1):
            tree.prune(
                c.id,
                f"ranked {rank} of {len(live)}; ToT keeps the top {cfg.keep} "
                f"(value {c.value:.3f}; the last kept: {frontier[-1].value:.3f})",
            )
        if cfg.max_finished is not None and len(finished) >= cfg.max_finished:
            for c in frontier:
                tree.prune(c.id, f"search over: {len(finished)} solutions finished")
            break
        if not frontier:
            break
        if it == cfg.max_depth - 1:
            for c in frontier:
                tree.prune(c.id, f"reached max_depth={cfg.max_depth} unfinished")
            if not finished:
                stopped = f"no solution finished within max_depth={cfg.max_depth}"
    if finished:
        chosen = choose_node(tree, finished, cfg.select, answer_of)
        chosen.reason = f"chosen (value {chosen.value:.3f})"
    else:
        chosen = max(scored, key=lambda c: c.value) if scored else None
        stopped = stopped or "no solution finished"
    return conclude(tree, chosen, answer_of, stopped)
