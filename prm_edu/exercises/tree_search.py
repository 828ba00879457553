"""Checks for notebook 05's exercises: what ToT keeps, what beam search keeps,
the order in which backtracking DFS expands states, and how many whole samples
fit in a search's token budget.

Each check recomputes the answer with the rules the searches themselves use:
the DFS check runs `prm_edu.search.dfs` on the scripted example below, so the
answer is what the package's search really does.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from prm_edu.exercises.check import Verdict
from prm_edu.search.dfs import DFSConfig, dfs
from prm_edu.search.scripted import ScriptedScorer, TreeGenerator

# ------------------------------------------------------------ the DFS example

DFS_PROBLEM = "Solve 2x + 5 = 15"
# Short names for the steps, so an answer is a list of letters.
DFS_STEPS: dict[str, str] = {
    "A": "Divide both sides by 2: x + 5 = 15/2",
    "B": "Subtract 5 from both sides: 2x = 10",
    "C": "Subtract 5 from both sides: 2x = 20",
    "D": "Subtract 5 from both sides: x = 5/2",
    "E": "Multiply both sides by 2: 2x + 10 = 15",
    "F": "Subtract 5 from both sides: x = 7/2",
    "G": "Divide both sides by 2: x = 5",
    "H": "Divide both sides by 5: x = 2",
    "I": "Divide both sides by 2: x = 10",
}
_ENDS = {"G": None, "H": None, "I": None}
# What the generator may write after each state (None: the step ends it).
DFS_TREE = {
    DFS_STEPS["A"]: {DFS_STEPS[k]: None for k in "DEF"},
    DFS_STEPS["B"]: {DFS_STEPS[k]: v for k, v in _ENDS.items()},
    DFS_STEPS["C"]: {DFS_STEPS[k]: v for k, v in _ENDS.items()},
}
# The PRM's score of each step where it appears: a made-up but plausible PRM
# that misses A's slip (5 was not divided by 2) and catches it one step later,
# when every way on from A scores low.
DFS_SCORES: dict[str, float] = {
    "A": 0.81,
    "B": 0.74,
    "C": 0.05,
    "D": 0.12,
    "E": 0.30,
    "F": 0.10,
    "G": 0.97,
    "H": 0.08,
    "I": 0.04,
}
DFS_THRESHOLD = 0.5


def dfs_example():
    """The scripted example: (problem, generator, scorer, config).

    Run it with ``dfs(problem, generator, scorer, config)`` to watch the
    backtrack the exercise asks about."""
    names = {text: name for name, text in DFS_STEPS.items()}

    def rule(problem: str, prefix: tuple[str, ...]) -> float:
        return DFS_SCORES[names[prefix[-1]]]

    config = DFSConfig(n_children=3, threshold=DFS_THRESHOLD, seed=0)
    generator = TreeGenerator({DFS_PROBLEM: DFS_TREE})
    return DFS_PROBLEM, generator, ScriptedScorer(rule), config


def dfs_expansion_order() -> list[str]:
    """The states the package's DFS expands on the example, after the problem
    itself, by their letters (a state is named by its last step)."""
    problem, generator, scorer, config = dfs_example()
    tree = dfs(problem, generator, scorer, config).tree
    names = {text: name for name, text in DFS_STEPS.items()}
    order: list[int] = []
    for node in tree.nodes[1:]:
        if node.parent not in order:
            order.append(node.parent)
    return [names[tree.nodes[i].step] for i in order if i != 0]


def check_dfs_order(mine: Sequence[str]) -> Verdict:
    """Your order of the states DFS expands after the problem, as letters,
    e.g. ``["B", "F"]``."""
    if isinstance(mine, str) or not isinstance(mine, (list, tuple)):
        return Verdict(
            "DFS order",
            False,
            f"give a list of step letters such as ['B', 'F'], got {mine!r}.",
        )
    mine = [str(x).strip().upper() for x in mine]
    unknown = [x for x in mine if x not in DFS_STEPS]
    if unknown:
        return Verdict(
            "DFS order",
            False,
            f"{unknown} are not step letters: use {sorted(DFS_STEPS)}.",
        )
    right = dfs_expansion_order()
    if mine == right:
        return Verdict(
            "DFS order",
            True,
            f"DFS expands {' then '.join(right)}: it follows the best step "
            f"first, finds a dead end there, and backtracks.",
        )
    for k, (a, b) in enumerate(zip(mine, right)):
        if a != b:
            why = {
                "C": f"C scores {DFS_SCORES['C']} < {DFS_THRESHOLD}: it is "
                f"pruned, never expanded.",
            }.get(a, "")
            return Verdict(
                "DFS order",
                False,
                f"expansion {k + 1} is {b}, not {a}. {why} DFS expands the "
                f"highest-scoring surviving child first, and goes back up only "
                f"when every child of a state is pruned.".strip(),
            )
    if len(mine) < len(right):
        return Verdict(
            "DFS order",
            False,
            f"right so far, but DFS expands {len(right)} states: after a dead "
            f"end it backtracks to the next-best state it has not tried.",
        )
    return Verdict(
        "DFS order",
        False,
        f"too many: DFS stops after {len(right)} expansions, at the first "
        f"finished solution scoring above the threshold.",
    )


# ------------------------------------------------------------ ToT and beam


def _check_values(values: Sequence[float], what: str) -> list[float]:
    out = [float(v) for v in values]
    if not out or any(math.isnan(v) for v in out):
        raise ValueError(f"{what} must be a non-empty list of numbers, got {values!r}.")
    return out


def _ranked(values: Sequence[float], skip: set[int]) -> list[int]:
    # Highest value first, ties to the earlier candidate, as the searches do
    # (a stable sort by value).
    live = [i for i in range(len(values)) if i not in skip]
    return sorted(live, key=lambda i: values[i], reverse=True)


def tot_kept(
    values: Sequence[float], keep: int, finished: Sequence[int] = ()
) -> list[int]:
    """Indices of the candidates ToT BFS keeps: finished ones are set aside,
    then the top `keep` by value (ties to the earlier candidate)."""
    values = _check_values(values, "values")
    return sorted(_ranked(values, set(finished))[:keep])


def _as_indices(mine) -> list[int] | None:
    if isinstance(mine, (str, bytes)) or not isinstance(mine, (list, tuple, set)):
        return None
    try:
        return sorted(int(x) for x in mine)
    except (TypeError, ValueError):
        return None


def check_tot_keep(
    values: Sequence[float],
    keep: int,
    mine,
    finished: Sequence[int] = (),
) -> Verdict:
    """The candidates (indices from 0) ToT keeps among candidates scoring
    `values` when it keeps `keep`; `finished` lists candidates that ended
    their solution (set aside, not kept for expansion)."""
    idx = _as_indices(mine)
    if idx is None:
        return Verdict(
            "ToT keeps",
            False,
            f"give a list of candidate indices (from 0), got {mine!r}.",
        )
    right = tot_kept(values, keep, finished)
    if idx == right:
        return Verdict(
            "ToT keeps",
            True,
            f"candidates {right}: the top {keep} unfinished by value.",
        )
    done = [i for i in idx if i in set(finished)]
    if done:
        return Verdict(
            "ToT keeps",
            False,
            f"{done} finished their solution: ToT sets finished candidates "
            f"aside as answers and keeps only unfinished ones to expand.",
        )
    if len(idx) != len(right):
        return Verdict(
            "ToT keeps",
            False,
            f"ToT keeps {len(right)} candidates, you gave {len(idx)}.",
        )
    wrong = [i for i in idx if i not in right]
    return Verdict(
        "ToT keeps",
        False,
        f"{wrong} is not among the top {keep}: rank the unfinished candidates "
        f"by value, highest first.",
    )


def check_beam_step(
    values: Sequence[float], n: int, beam_width: int, mine: Mapping
) -> Verdict:
    """One step of beam search with `n` beams and `beam_width` among `n`
    candidates scoring `values`: ``{"kept": [indices], "children": k}``, the
    beams kept and how many children each gets at the next step."""
    if not isinstance(mine, Mapping) or not {"kept", "children"} <= set(mine):
        return Verdict(
            "beam step",
            False,
            f"give a dict {{'kept': [indices], 'children': k}}, got {mine!r}.",
        )
    values = _check_values(values, "values")
    keep = n // beam_width
    right = sorted(_ranked(values, set())[:keep])
    idx = _as_indices(mine["kept"])
    if idx is None:
        return Verdict(
            "beam step",
            False,
            f"'kept' must be a list of indices, got {mine['kept']!r}.",
        )
    if len(idx) != keep:
        return Verdict(
            "beam step",
            False,
            f"beam search keeps n // beam_width = {n} // {beam_width} = {keep} "
            f"beams, you kept {len(idx)}.",
        )
    if idx != right:
        return Verdict(
            "beam step",
            False,
            f"kept {idx}, but the top {keep} by value are {right}.",
        )
    if mine["children"] != beam_width:
        return Verdict(
            "beam step",
            False,
            f"kept beams are right; each of the {keep} gets beam_width = "
            f"{beam_width} children, so that n = {n} beams are alive again.",
        )
    return Verdict(
        "beam step",
        True,
        f"keep {right}, {beam_width} children each: {keep} x {beam_width} = {n} "
        f"beams again.",
    )


# ------------------------------------------------------------ equal compute


def matched_n(tokens_per_sample: float, budget_tokens: float) -> int:
    """How many whole samples fit in `budget_tokens` (at least 1)."""
    if tokens_per_sample <= 0:
        raise ValueError(f"tokens_per_sample must be > 0, got {tokens_per_sample!r}.")
    return max(1, int(budget_tokens // tokens_per_sample))


def check_matched_n(tokens_per_sample: float, budget_tokens: float, mine) -> Verdict:
    """How many whole samples of `tokens_per_sample` tokens best-of-N may draw
    within a search's `budget_tokens`, so that neither gets more compute."""
    right = matched_n(tokens_per_sample, budget_tokens)
    if isinstance(mine, bool) or not isinstance(mine, int):
        return Verdict("matched N", False, f"give a whole number, got {mine!r}.")
    if mine == right:
        return Verdict(
            "matched N",
            True,
            f"{budget_tokens:.0f} // {tokens_per_sample:.1f} = {right} samples.",
        )
    if mine > right:
        return Verdict(
            "matched N",
            False,
            f"{mine} samples cost about {mine * tokens_per_sample:.0f} tokens, "
            f"more than the search's {budget_tokens:.0f}: round down.",
        )
    return Verdict(
        "matched N",
        False,
        f"{mine} samples use only {mine * tokens_per_sample:.0f} of "
        f"{budget_tokens:.0f} tokens: more fit.",
    )
