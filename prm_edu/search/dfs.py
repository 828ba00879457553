"""Backtracking depth-first search: follow the best step, back up on failure.

Expand a state into `n_children` sampled next steps and score them. A child
whose own PRM score is below `threshold` is pruned (the seed's "2x = 20,
score 0.05: search prunes this branch"), and so, given `answer_of`, is one
that ends the solution without a final answer. The surviving children are
visited best first; when every child of a state is pruned the state is a dead
end and the search backtracks to the next-best state it has not tried. It
stops at the first finished solution that passes the threshold, or when
`max_expansions` or the token budget is spent, and then answers with the best
state it has.
Defined in notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.search.aggregate import aggregate, check_aggregation
from prm_edu.search.beam import dedupe
from prm_edu.search.choose import AnswerFn, conclude
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
from prm_edu.search.tree import PRUNED, Cost, Node, SearchResult, SearchTree


@dataclass
class DFSConfig:
    """Every knob of backtracking DFS, with its default."""

    n_children: int = 3  # next steps sampled when a state is expanded
    threshold: float = 0.5  # a step scoring below this is pruned
    max_depth: int = 10
    max_expansions: int = 32  # states expanded before the search gives up
    aggregation: str = "min"  # orders siblings (best first)
    temperature: float = 1.0
    dedupe: bool = True  # identical siblings are scored once
    token_budget: int | None = None
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n_children", self.n_children)
        if not (isinstance(self.threshold, (int, float)) and 0 <= self.threshold <= 1):
            raise ValueError(
                f"threshold must be a probability in [0, 1], got {self.threshold!r}."
            )
        check_positive("max_depth", self.max_depth)
        check_positive("max_expansions", self.max_expansions)
        check_aggregation(self.aggregation)
        check_temperature(self.temperature)
        check_budget(self.token_budget)


def dfs(
    problem: str,
    generator: StepGenerator,
    scorer: StepScorer,
    config: DFSConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> SearchResult:
    """Backtracking DFS on one problem (its statement)."""
    check_problems([problem])
    return dfs_many([problem], generator, scorer, config, answer_of=answer_of)[0]


def dfs_many(
    problems: Sequence[str],
    generator: StepGenerator,
    scorer: StepScorer,
    config: DFSConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> list[SearchResult]:
    """One DFS per problem, run in lockstep: each round expands one state of
    every unfinished search, in one batch."""
    config = config or DFSConfig()
    config.check()
    problems = check_problems(problems)
    costs = [Cost() for _ in problems]
    searches = [_dfs(p, config, c, answer_of) for p, c in zip(problems, costs)]
    return run_lockstep(searches, costs, generator, scorer, seed=config.seed)


def _dfs(problem: str, cfg: DFSConfig, cost: Cost, answer_of: AnswerFn | None):
    tree = SearchTree(problem)
    stack: list[Node] = [tree.root]
    passed: list[Node] = []  # scored and above the threshold
    scored: list[Node] = []
    found: Node | None = None
    stopped = ""
    expansions = 0
    while stack and found is None:
        if expansions >= cfg.max_expansions:
            stopped = f"budget spent: {expansions} expansions (max_expansions)"
        stopped = stopped or budget_spent(cost, cfg.token_budget)
        if stopped:
            for node in stack:
                node.reason = f"not expanded: {stopped}"
            break
        node = stack.pop()
        if node.depth >= cfg.max_depth:
            tree.prune(node.id, f"reached max_depth={cfg.max_depth} unfinished")
            continue
        path = tree.steps(node.id)
        new = yield Generate([(problem, path)] * cfg.n_children, cfg.temperature)
        children = [
            tree.add(
                node.id,
                s.text.strip(),
                None,
                expansions,
                final=s.final,
                tokens=s.n_tokens,
            )
            for s in new
        ]
        expansions += 1
        if cfg.dedupe:
            children = dedupe(tree, children)
        scores = yield Score([(problem, path + [c.step]) for c in children])
        good = []
        for c, sc in zip(children, scores):
            c.score = sc[-1]
            c.value = aggregate(sc, cfg.aggregation)
            scored.append(c)
            if c.score < cfg.threshold:
                tree.prune(c.id, f"score {c.score:.3f} < threshold {cfg.threshold}")
            elif c.final and answer_of and answer_of(problem, path + [c.step]) is None:
                tree.prune(c.id, "finished without a final answer")
            else:
                good.append(c)
        passed.extend(good)
        good.sort(key=lambda c: c.value, reverse=True)
        done = [c for c in good if c.final]
        if done:
            found = done[0]
            for c in done[1:]:
                tree.finish(c.id, "finished, but a sibling scored higher")
            for c in good:
                if not c.final:
                    c.reason = "not expanded: a sibling finished the solution"
            break
        if not good:
            reason = (
                f"dead end: all {len(children)} children scored below "
                f"{cfg.threshold}; backtrack"
            )
            if node.parent is None:
                node.reason = reason
            else:
                tree.prune(node.id, reason)
            continue
        stack.extend(reversed(good))  # best on top: expanded next
    if found is not None:
        tree.finish(
            found.id, f"first solution above the threshold (value {found.value:.3f})"
        )
        return conclude(tree, found, answer_of, stopped)
    if not stopped:
        stopped = "exhausted: every branch fell below the threshold"
    alive = [c for c in passed if tree.nodes[c.id].status != PRUNED]
    pool = alive or passed or scored
    chosen = max(pool, key=lambda c: (c.depth, c.value)) if pool else None
    return conclude(tree, chosen, answer_of, stopped)
