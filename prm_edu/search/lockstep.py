"""Run many searches side by side so each round is one batch for each model.

A search is written as a Python generator (a coroutine) that *asks* for work
instead of doing it: it yields ``Generate(states)`` and gets back one
`GeneratedStep` per state, or yields ``Score(items)`` and gets back the step
scores of each item. `run_lockstep` advances every search by one request per
round and serves all the requests of a round with one `next_steps` call and
one `score_batch` call. One problem or two hundred: the search code is the
same, and the models always see full batches.

The driver also checks what the models return (one step per state, one finite
score per step, no empty steps) and charges each search its honest cost.
Defined in notebook 05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generator as Coroutine
from typing import Sequence

from prm_edu.protocols import GeneratedStep, State, StepGenerator, StepScorer
from prm_edu.search.tree import Cost, SearchResult

# How often a state whose next step came back empty is sampled again before
# the generator is declared broken: a model may end a step at once by chance.
EMPTY_RETRIES = 3


@dataclass(frozen=True)
class Generate:
    """A search asks for one next step for each state, at `temperature`."""

    states: list[State]
    temperature: float = 1.0
    # Lookahead rollouts take an empty step as the end of the rollout; a
    # search step must have text, so empty ones are sampled again.
    allow_empty: bool = False


@dataclass(frozen=True)
class Score:
    """A search asks for the per-step scores of each (problem, steps) item."""

    items: list[State]


Request = Generate | Score
Search = Coroutine[Request, list, SearchResult]


class EmptyStepError(ValueError):
    """The generator kept returning an empty step for the same state."""


def run_lockstep(
    searches: Sequence[Search],
    costs: Sequence[Cost],
    generator: StepGenerator,
    scorer: StepScorer,
    *,
    seed: int | None = 0,
) -> list[SearchResult]:
    """Drive every search to its end; `costs[i]` is updated as search i works.

    Each returned `SearchResult` carries its own `costs[i]`.
    """
    if len(searches) != len(costs):
        raise ValueError(f"{len(searches)} searches but {len(costs)} costs.")
    results: list[SearchResult | None] = [None] * len(searches)
    pending: dict[int, Request] = {}
    calls = [0]

    def advance(i: int, answer) -> None:
        try:
            request = searches[i].send(answer)
        except StopIteration as stop:
            results[i] = stop.value
            stop.value.cost = costs[i]
            return
        if not isinstance(request, (Generate, Score)):
            raise TypeError(f"a search yielded {request!r}: expected Generate/Score.")
        pending[i] = request

    for i in range(len(searches)):
        advance(i, None)
    while pending:
        round_ = dict(pending)
        pending.clear()
        gens = [i for i, r in round_.items() if isinstance(r, Generate)]
        kinds = sorted({(round_[i].temperature, round_[i].allow_empty) for i in gens})
        for temperature, allow_empty in kinds:
            group = [
                i
                for i in gens
                if (round_[i].temperature, round_[i].allow_empty)
                == (temperature, allow_empty)
            ]
            states = [s for i in group for s in round_[i].states]
            owners = [i for i in group for _ in round_[i].states]
            steps = _generate(
                generator,
                states,
                owners,
                costs,
                temperature,
                seed,
                calls,
                retries=0 if allow_empty else EMPTY_RETRIES,
            )
            for i, part in zip(group, _split(steps, group, round_, "states")):
                advance(i, part)
        group = [i for i, r in round_.items() if isinstance(r, Score)]
        if group:
            items = [s for i in group for s in round_[i].items]
            owners = [i for i in group for _ in round_[i].items]
            scores = _score(scorer, items, owners, costs)
            for i, part in zip(group, _split(scores, group, round_, "items")):
                advance(i, part)
    return results  # type: ignore[return-value]


def _split(flat: list, group: list[int], round_: dict, field: str) -> list[list]:
    out, start = [], 0
    for i in group:
        n = len(getattr(round_[i], field))
        out.append(flat[start : start + n])
        start += n
    return out


def _generate(
    generator: StepGenerator,
    states: list[State],
    owners: list[int],
    costs: Sequence[Cost],
    temperature: float,
    seed: int | None,
    calls: list[int],
    retries: int = EMPTY_RETRIES,
) -> list[GeneratedStep]:
    """One step per state; empty steps are sampled again, `retries` times."""
    if not states:
        return []
    out: list[GeneratedStep | None] = [None] * len(states)
    todo = list(range(len(states)))
    for _attempt in range(1 + retries):
        if not todo:
            break
        call_seed = None if seed is None else seed * 1_000_003 + calls[0]
        calls[0] += 1
        batch = [states[j] for j in todo]
        steps = generator.next_steps(batch, temperature=temperature, seed=call_seed)
        steps = list(steps)
        if len(steps) != len(batch):
            raise ValueError(
                f"the generator returned {len(steps)} steps for {len(batch)} "
                f"states: next_steps must return exactly one step per state."
            )
        again = []
        for j, step in zip(todo, steps):
            cost = costs[owners[j]]
            cost.steps_generated += 1
            cost.tokens_generated += int(step.n_tokens)
            if (isinstance(step.text, str) and step.text.strip()) or not retries:
                out[j] = step
            else:
                again.append(j)
        todo = again
    if todo:
        problem, steps_so_far = states[todo[0]]
        raise EmptyStepError(
            f"the generator returned an empty step {1 + retries} times "
            f"in a row for {len(todo)} state(s), e.g. problem {problem!r} after "
            f"{len(steps_so_far)} step(s): a step needs text. Check that the "
            f"generator stops at the step separator only after writing something."
        )
    return out  # type: ignore[return-value]


def _score(
    scorer: StepScorer,
    items: list[State],
    owners: list[int],
    costs: Sequence[Cost],
) -> list[list[float]]:
    if not items:
        return []
    before = scorer.usage.snapshot()
    scores = scorer.score_batch(items)
    used = scorer.usage.since(before)
    scores = check_scores(items, scores)
    # Tokens scored are shared out by the length of each search's text; each
    # search is charged every batched pass its items took part in.
    weights: dict[int, int] = {}
    for (problem, steps), i in zip(items, owners):
        weights[i] = weights.get(i, 0) + len(problem) + sum(len(s) + 1 for s in steps)
    shares = apportion(used.tokens, list(weights.values()))
    for i, share in zip(weights, shares):
        costs[i].tokens_scored += share
        costs[i].forward_passes += used.forward_passes
    return scores


def check_scores(items: Sequence[State], scores) -> list[list[float]]:
    """`scores` as lists of floats, after checking there is one finite
    probability per step of each item; an error naming the item otherwise."""
    scores = list(scores)
    if len(scores) != len(items):
        raise ValueError(
            f"the scorer returned {len(scores)} score lists for {len(items)} "
            f"traces: score_batch must return one list per (problem, steps) item."
        )
    out = []
    for k, ((problem, steps), row) in enumerate(zip(items, scores)):
        row = [float(x) for x in row]
        if len(row) != len(steps):
            raise ValueError(
                f"the scorer returned {len(row)} scores for trace {k} "
                f"({problem!r}), which has {len(steps)} steps: a step scorer "
                f"must return one score per step."
            )
        for j, x in enumerate(row):
            if math.isnan(x) or not -1e-6 <= x <= 1 + 1e-6:
                raise ValueError(
                    f"the scorer returned {x} for step {j} of trace {k} "
                    f"({problem!r}): a step score is a probability in [0, 1]. "
                    f"Check the scorer's weights and inputs."
                )
        out.append([min(1.0, max(0.0, x)) for x in row])
    return out


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split the integer `total` in proportion to `weights` (largest remainder),
    so the shares add up to `total` exactly."""
    if not weights:
        return []
    w = [max(0.0, float(x)) for x in weights]
    s = sum(w)
    if s == 0:
        w, s = [1.0] * len(w), float(len(w))
    exact = [total * x / s for x in w]
    shares = [int(math.floor(e)) for e in exact]
    rest = total - sum(shares)
    order = sorted(range(len(w)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[:rest]:
        shares[i] += 1
    return shares


def check_problems(problems: Sequence[str]) -> list[str]:
    """Problems as statements; a problem object gets a hint to pass `.text`."""
    if isinstance(problems, str):
        raise TypeError(
            "problems must be a list of statements, got one string: wrap it in "
            "a list, or call the single-problem function."
        )
    out = []
    for p in problems:
        if not isinstance(p, str):
            raise TypeError(
                f"a problem must be its statement as text, got "
                f"{type(p).__name__}: pass problem.text instead."
            )
        out.append(p)
    return out


def check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")


def check_temperature(value: float, name: str = "temperature") -> None:
    if not (isinstance(value, (int, float)) and value >= 0):  # refuses NaN too
        raise ValueError(f"{name} must be a number >= 0, got {value!r}.")


def check_budget(token_budget: int | None) -> None:
    """A token budget is None (no limit) or a positive number of tokens."""
    if token_budget is None:
        return
    if isinstance(token_budget, bool) or not isinstance(token_budget, int):
        raise ValueError(
            f"token_budget must be a whole number of tokens or None, got "
            f"{token_budget!r}."
        )
    if token_budget < 1:
        raise ValueError(
            f"token_budget={token_budget}: the budget is already spent before "
            f"the search starts. Give a positive number of tokens, or None for "
            f"no limit."
        )


def budget_spent(cost: Cost, token_budget: int | None) -> str:
    """The reason to stop when the budget is spent, else an empty string."""
    if token_budget is not None and cost.tokens_generated >= token_budget:
        return (
            f"budget spent: {cost.tokens_generated} of {token_budget} tokens generated"
        )
    return ""
