"""Diverse Verifier Tree Search (DVTS; Beeching et al., 2024).

Beam search at large budgets tends to collapse onto one promising prefix.
DVTS splits the budget `n` into ``n // beam_width`` independent subtrees:
each keeps a single path and at every step greedily follows the best of
``beam_width`` sampled next steps by PRM value. A subtree ends when its chosen
step finishes the solution; the answer is the best of the subtrees' finished
solutions (or a PRM-weighted vote over them). Defined in notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.search.aggregate import aggregate, check_aggregation
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
class DVTSConfig:
    """Every knob of DVTS, with its default."""

    n: int = 8  # steps sampled per round in all (subtrees x beam_width)
    beam_width: int = 4  # candidates per subtree per step; n // beam_width subtrees
    max_depth: int = 10
    aggregation: str = "min"
    temperature: float = 1.0
    select: str = "best"  # final answer: "best" value or "weighted" vote
    token_budget: int | None = None
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n", self.n)
        check_positive("beam_width", self.beam_width)
        if self.n % self.beam_width:
            raise ValueError(
                f"beam_width={self.beam_width} does not divide n={self.n}: DVTS "
                f"runs n // beam_width subtrees of beam_width candidates each. "
                f"Pick n as a multiple of beam_width."
            )
        check_positive("max_depth", self.max_depth)
        check_aggregation(self.aggregation)
        check_temperature(self.temperature)
        check_budget(self.token_budget)


def dvts(
    problem: str,
    generator: StepGenerator,
    scorer: StepScorer,
    config: DVTSConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> SearchResult:
    """DVTS on one problem (its statement)."""
    check_problems([problem])
    return dvts_many([problem], generator, scorer, config, answer_of=answer_of)[0]


def dvts_many(
    problems: Sequence[str],
    generator: StepGenerator,
    scorer: StepScorer,
    config: DVTSConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> list[SearchResult]:
    """DVTS on many problems, every subtree of every problem in one batch."""
    config = config or DVTSConfig()
    config.check()
    check_selection(config.select, answer_of)
    problems = check_problems(problems)
    costs = [Cost() for _ in problems]
    searches = [_dvts(p, config, c, answer_of) for p, c in zip(problems, costs)]
    return run_lockstep(searches, costs, generator, scorer, seed=config.seed)


def _dvts(problem: str, cfg: DVTSConfig, cost: Cost, answer_of: AnswerFn | None):
    tree = SearchTree(problem)
    width = cfg.beam_width
    heads: list[Node] = [tree.root] * (cfg.n // width)  # one per live subtree
    finished: list[Node] = []
    stopped = ""
    for it in range(cfg.max_depth):
        stopped = budget_spent(cost, cfg.token_budget)
        if stopped:
            for h in heads:
                h.reason = f"not expanded: {stopped}"
            break
        parents = [h for h in heads for _ in range(width)]
        states = [(problem, tree.steps(p.id)) for p in parents]
        new = yield Generate(states, cfg.temperature)
        children = [
            tree.add(p.id, s.text.strip(), None, it, final=s.final, tokens=s.n_tokens)
            for p, s in zip(parents, new)
        ]
        scores = yield Score([(problem, tree.steps(c.id)) for c in children])
        for c, sc in zip(children, scores):
            c.score = sc[-1]
            c.value = aggregate(sc, cfg.aggregation)
        next_heads = []
        for s in range(len(heads)):
            group = children[s * width : (s + 1) * width]
            best = max(group, key=lambda c: c.value)  # first of equals
            for c in group:
                if c is not best:
                    tree.prune(
                        c.id,
                        f"subtree follows its best candidate (value "
                        f"{c.value:.3f}; the best: {best.value:.3f})",
                    )
            if best.final:
                tree.finish(best.id, f"subtree finished (value {best.value:.3f})")
                finished.append(best)
            elif it == cfg.max_depth - 1:
                tree.prune(best.id, f"reached max_depth={cfg.max_depth} unfinished")
                next_heads.append(best)
            else:
                next_heads.append(best)
        heads = next_heads
        if not heads:
            break
    if finished:
        chosen = choose_node(tree, finished, cfg.select, answer_of)
        chosen.reason = f"chosen (value {chosen.value:.3f})"
    else:
        chosen = (
            max(heads, key=lambda c: c.value)
            if heads and heads[0].value is not None
            else None
        )
        stopped = stopped or f"no subtree finished within max_depth={cfg.max_depth}"
    return conclude(tree, chosen, answer_of, stopped)
