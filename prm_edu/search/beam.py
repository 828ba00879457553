"""Step-level beam search guided by a PRM.

`n` partial solutions are alive at each step. Every one of them is extended by
one sampled step, the PRM scores the new prefixes, the best ``n // beam_width``
are kept and each is expanded into ``beam_width`` children at the next step.
A beam whose generator ends the solution is set aside as finished, and the
next step again expands n beams from the best unfinished ones (as
search-and-learn does). With `dedupe`, identical candidates are scored once
and shown once in the tree, but every copy keeps its place among the n
beams: a step the generator wrote five times takes five places in the
ranking and gets children for each, as it would without deduplication.
Handing the copies' places to the next-best distinct steps instead would
spend most of the budget on hopeless beams whenever the generator is sure
of its step. The search stops once `n` beams have finished, when
none is left unfinished, at `max_depth`, or when its token budget is spent,
and answers with the finished beam of highest value. With ``lookahead=k``
each candidate is first rolled out k more steps (greedily by default) and
ranked by the value of that longer prefix, as in Snell et al. (2024).
Defined in notebook 05.
"""

from __future__ import annotations

from collections import Counter
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
class BeamConfig:
    """Every knob of beam search, with its default."""

    n: int = 8  # partial solutions alive at each step (compute per step)
    beam_width: int = 4  # children per kept beam; n // beam_width are kept
    max_depth: int = 10  # most steps in a solution
    aggregation: str = "min"  # how a prefix's step scores become its value
    lookahead: int = 0  # extra steps rolled out before ranking a candidate
    lookahead_temperature: float = 0.0  # 0: greedy rollouts
    temperature: float = 1.0
    dedupe: bool = True  # identical candidates are scored and kept once
    select: str = "best"  # final answer: "best" value or "weighted" vote
    token_budget: int | None = None  # stop after this many generated tokens
    seed: int | None = 0

    def check(self) -> None:
        check_positive("n", self.n)
        check_positive("beam_width", self.beam_width)
        if self.n % self.beam_width:
            raise ValueError(
                f"beam_width={self.beam_width} does not divide n={self.n}: beam "
                f"search keeps n // beam_width beams and expands each into "
                f"beam_width children. Pick n as a multiple of beam_width."
            )
        check_positive("max_depth", self.max_depth)
        check_aggregation(self.aggregation)
        if isinstance(self.lookahead, bool) or not isinstance(self.lookahead, int):
            raise ValueError(
                f"lookahead must be a whole number, got {self.lookahead!r}."
            )
        if self.lookahead < 0:
            raise ValueError(f"lookahead must be >= 0, got {self.lookahead}.")
        check_temperature(self.temperature)
        check_temperature(self.lookahead_temperature, "lookahead_temperature")
        check_budget(self.token_budget)


def beam_search(
    problem: str,
    generator: StepGenerator,
    scorer: StepScorer,
    config: BeamConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> SearchResult:
    """Beam search on one problem (its statement, `problem.text`)."""
    check_problems([problem])
    return beam_search_many([problem], generator, scorer, config, answer_of=answer_of)[
        0
    ]


def beam_search_many(
    problems: Sequence[str],
    generator: StepGenerator,
    scorer: StepScorer,
    config: BeamConfig | None = None,
    *,
    answer_of: AnswerFn | None = None,
) -> list[SearchResult]:
    """Beam search on many problems at once: a separate beam pool per problem,
    and one generation batch and one scoring batch per step for all of them."""
    config = config or BeamConfig()
    config.check()
    check_selection(config.select, answer_of)
    problems = check_problems(problems)
    costs = [Cost() for _ in problems]
    searches = [_beam(p, config, c, answer_of) for p, c in zip(problems, costs)]
    return run_lockstep(searches, costs, generator, scorer, seed=config.seed)


def _beam(problem: str, cfg: BeamConfig, cost: Cost, answer_of: AnswerFn | None):
    tree = SearchTree(problem)
    keep = cfg.n // cfg.beam_width
    parents = [tree.root] * cfg.n
    finished: list[Node] = []
    n_done = 0
    live: list[Node] = []
    stopped = ""
    for it in range(cfg.max_depth):
        stopped = budget_spent(cost, cfg.token_budget)
        if stopped:
            for p in {p.id: p for p in parents}.values():
                p.reason = f"not expanded: {stopped}"
            break
        states = [(problem, tree.steps(p.id)) for p in parents]
        new = yield Generate(states, cfg.temperature)
        children = [
            tree.add(p.id, s.text.strip(), None, it, final=s.final, tokens=s.n_tokens)
            for p, s in zip(parents, new)
        ]
        # A copy of a finished solution is still a finished beam: it counts
        # towards the n, though only the first copy is scored and kept.
        n_done += sum(c.final for c in children)
        copies = Counter(tuple(tree.steps(c.id)) for c in children)
        if cfg.dedupe:
            children = dedupe(tree, children)
        paths = [tree.steps(c.id) for c in children]
        # The beams each node stands for: with dedupe, every copy of its path.
        weight = {
            c.id: copies[tuple(p)] if cfg.dedupe else 1 for c, p in zip(children, paths)
        }
        tails: list[list[str]] = [[] for _ in children]
        if cfg.lookahead:
            tails = yield from _lookahead(problem, children, paths, cfg)
        scores = yield Score([(problem, p + t) for p, t in zip(paths, tails)])
        for c, path, sc in zip(children, paths, scores):
            c.score = sc[len(path) - 1]
            c.value = aggregate(sc, cfg.aggregation)
        live = []
        for c in children:
            if c.final:
                tree.finish(c.id, f"finished (value {c.value:.3f})")
                finished.append(c)
            else:
                live.append(c)
        if n_done >= cfg.n:
            for c in live:
                tree.prune(c.id, f"search over: {n_done} beams finished")
            break
        if it == cfg.max_depth - 1:
            for c in live:
                tree.prune(c.id, f"reached max_depth={cfg.max_depth} unfinished")
            if not finished:
                stopped = f"no beam finished within max_depth={cfg.max_depth}"
            break
        live.sort(key=lambda c: c.value, reverse=True)
        places = [c for c in live for _ in range(weight[c.id])]  # one per beam
        kept = places[:keep]
        first_place = {}
        for rank, c in enumerate(places, start=1):
            first_place.setdefault(c.id, rank)
        for c in live:
            if first_place[c.id] > keep:
                tree.prune(
                    c.id,
                    f"ranked {first_place[c.id]} of {len(places)}; beam keeps "
                    f"the top {keep} (value {c.value:.3f}; the last kept: "
                    f"{kept[-1].value:.3f})",
                )
        if not kept:
            break
        # n children again, beam_width per place; when fewer than
        # n // beam_width places are left, each gets more children.
        parents = [kept[j % len(kept)] for j in range(cfg.n)]
    if finished:
        chosen = choose_node(tree, finished, cfg.select, answer_of)
        chosen.reason = f"chosen (value {chosen.value:.3f})"
    else:
        scored = [c for c in live if c.value is not None]
        chosen = max(scored, key=lambda c: c.value) if scored else None
        stopped = stopped or "no beam finished"
    return conclude(tree, chosen, answer_of, stopped)


def _lookahead(problem: str, children: list[Node], paths, cfg: BeamConfig):
    """Roll each unfinished candidate out `cfg.lookahead` steps; the rollout
    steps count as generated tokens but are not part of the tree."""
    tails: list[list[str]] = [[] for _ in children]
    going = [i for i, c in enumerate(children) if not c.final]
    for _ in range(cfg.lookahead):
        if not going:
            break
        states = [(problem, paths[i] + tails[i]) for i in going]
        new = yield Generate(states, cfg.lookahead_temperature, allow_empty=True)
        still = []
        for i, step in zip(going, new):
            text = step.text.strip() if isinstance(step.text, str) else ""
            if not text:
                continue  # an empty step ends the rollout
            tails[i].append(text)
            if not step.final:
                still.append(i)
        going = still
    return tails


def dedupe(tree: SearchTree, children: list[Node]) -> list[Node]:
    """The children whose whole path is new; later copies are pruned."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for c in children:
        key = tuple(tree.steps(c.id))
        if key in seen:
            tree.prune(c.id, f"duplicate of node {seen[key]}")
        else:
            seen[key] = c.id
            out.append(c)
    return out
