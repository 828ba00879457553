"""How a search picks its answer among the solutions it finished.

Two rules, shared by every method: the single best solution by its
aggregated PRM value, or a vote over final answers in which each solution
counts with weight `value` (PRM-weighted vote) or 1 (majority vote).
Either way a solution that gives no final answer (it stopped before writing
one) is not a candidate while another gives one, as in a vote: a PRM judges
the steps written, not the ones missing, and rates such a solution as highly
as its steps. Defined in notebook 04.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence

import numpy as np

from prm_edu.search.tree import Cost, Node, SearchResult, SearchTree

# (problem statement, steps) -> final answer in canonical text, or None.
AnswerFn = Callable[[str, Sequence[str]], "str | None"]

SELECTIONS = ("best", "weighted")


def vote(answers: Sequence[Hashable | None], weights: Sequence[float]) -> int | None:
    """Index of a solution carrying the winning answer, or None if no solution
    has an answer.

    Each answer collects the sum of its solutions' weights (all 1: majority
    vote; PRM values: weighted vote). Ties go to the answer seen first; the
    returned solution is that answer's heaviest (then first) solution.
    """
    totals: dict = {}
    for a, w in zip(answers, weights):
        if a is not None:
            totals[a] = totals.get(a, 0.0) + float(w)
    if not totals:
        return None
    winner = max(totals, key=lambda a: totals[a])  # first of equals wins
    members = [i for i, a in enumerate(answers) if a == winner]
    return max(members, key=lambda i: (weights[i], -i))


def answered_only(values, has_answer) -> np.ndarray:
    """`values` as floats, -inf where `has_answer` is False, unless no
    solution has an answer. The last axis runs over the solutions of one
    problem, so it takes a whole table of draws at once."""
    values = np.asarray(values, dtype=float)
    has = np.asarray(has_answer, dtype=bool)
    keep = has | ~has.any(axis=-1, keepdims=True)
    return np.where(keep, values, -np.inf)


def check_selection(select: str, answer_of: AnswerFn | None) -> None:
    if select not in SELECTIONS:
        raise ValueError(
            f"unknown select={select!r}: use one of {', '.join(SELECTIONS)}."
        )
    if select == "weighted" and answer_of is None:
        raise ValueError(
            "select='weighted' votes over final answers, so it needs "
            "answer_of=prm_edu.search.answer_fn(world)."
        )


def choose_node(
    tree: SearchTree,
    candidates: Sequence[Node],
    select: str = "best",
    answer_of: AnswerFn | None = None,
) -> Node:
    """The candidate with the highest value, or the heaviest of the answer
    that wins the PRM-weighted vote; with `answer_of`, among the candidates
    that give an answer (all of them if none does)."""
    if not candidates:
        raise ValueError("no candidates to choose from.")
    values = [c.value if c.value is not None else float("-inf") for c in candidates]
    if answer_of is not None:
        answers = [answer_of(tree.problem, tree.steps(c.id)) for c in candidates]
        if select == "weighted":
            won = vote(answers, values)
            if won is not None:
                return candidates[won]
        values = answered_only(values, [a is not None for a in answers])
    return candidates[int(np.argmax(values))]  # first of equals


def conclude(
    tree: SearchTree,
    chosen: Node | None,
    answer_of: AnswerFn | None,
    stopped: str = "",
) -> SearchResult:
    """Mark `chosen` in the tree and package the result (cost is filled in by
    the driver)."""
    if chosen is None:
        return SearchResult(tree.problem, [], None, tree, Cost(), stopped)
    tree.chosen = chosen.id
    steps = tree.steps(chosen.id)
    answer = answer_of(tree.problem, steps) if answer_of else None
    return SearchResult(tree.problem, steps, answer, tree, Cost(), stopped)
