"""Where step labels come from: an exact checker, Monte Carlo rollouts, and
choosing which solutions are worth labelling. Defined in notebook 02.

Three ways to get labels, from most to least expensive per label in real life:

- **Exact labels** (`exact_labels`, `label_traces`): the world's checker judges
  every step, like a human annotator in PRM800K would. Here it is free; in the
  research it is the costly part.
- **Monte Carlo labels** (`monte_carlo_labels`), as in Math-Shepherd: from each
  step, let the generator finish the solution `n_rollouts` times and grade the
  final answers. A step is good (hard label) if *any* rollout reaches the right
  answer; the soft label is the *fraction* that do. No checker is needed, only a
  final-answer grader. `mc_agreement` says how often the hard label matches the
  exact one. Two ways it goes wrong: after a wrong step the generator may still
  stumble onto the right answer (the label is too optimistic), and after a right
  step a weak generator may never finish correctly (too pessimistic).
- **Active learning** (`active_learning_curve`), as in PRM800K: with a budget of
  solutions to label, label the *convincing wrong-answer* ones first (the PRM
  likes them, but the final answer is wrong, which is cheap to check), and
  compare against picking solutions uniformly at random.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from prm_edu.data.trace import Trace
from prm_edu.generation import complete
from prm_edu.metrics import step_auroc
from prm_edu.protocols import StepGenerator, StepScorer
from prm_edu.worlds.base import World

__all__ = [
    "exact_labels",
    "label_traces",
    "RolloutConfig",
    "monte_carlo_labels",
    "harden",
    "mc_agreement",
    "MCConfusion",
    "mc_confusion",
    "aggregate",
    "ActiveLearningConfig",
    "CurvePoint",
    "ActiveLearningCurve",
    "select_convincing_wrong",
    "active_learning_curve",
]


# --------------------------------------------------------------------------- #
# Exact labels
# --------------------------------------------------------------------------- #


def _problem(world: World, problem):
    """A problem object from either the object itself or its statement text."""
    return world.parse_problem(problem) if isinstance(problem, str) else problem


def exact_labels(world: World, problem, steps: Sequence[str]) -> Trace:
    """A trace of `steps` labelled by the world's exact checker, with reasons.

    `problem` is a problem object or its statement text. The trace's `answer`
    is the final answer the steps commit to (None if they never finish).
    """
    problem = _problem(world, problem)
    steps = tuple(steps)
    if not steps:
        raise ValueError(
            f"cannot label an empty solution to {problem.text!r}: "
            f"give at least one step."
        )
    checked = world.check(problem, steps)
    if len(checked) != len(steps):
        raise ValueError(
            f"{world.name}.check returned {len(checked)} labels for "
            f"{len(steps)} steps: a checker must judge every step."
        )
    return Trace(
        problem.text,
        steps,
        answer=world.extract_answer(problem, steps),
        labels=[c.value for c in checked],
        reasons=[c.reason for c in checked],
    )


def label_traces(world: World, traces: Sequence[Trace]) -> list[Trace]:
    """Each trace labelled exactly (its `meta` is kept)."""
    out = []
    for trace in traces:
        labelled = exact_labels(world, trace.problem, trace.steps)
        out.append(replace(labelled, meta=dict(trace.meta)))
    return out


# --------------------------------------------------------------------------- #
# Monte Carlo labels (Math-Shepherd)
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class RolloutConfig:
    """How Monte Carlo labels are estimated.

    `n_rollouts` completions per step (Math-Shepherd used 8); each adds at most
    `max_steps` steps, sampled at `temperature`. `batch_size` states are
    advanced together in one call to `prm_edu.generation.complete`; `seed`
    makes the labels repeatable.
    """

    n_rollouts: int = 8
    max_steps: int = 8
    temperature: float = 1.0
    seed: int | None = 0
    batch_size: int = 1024
    progress: bool = False

    def __post_init__(self) -> None:
        for name in ("n_rollouts", "max_steps", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}.")


def monte_carlo_labels(
    world: World,
    generator: StepGenerator,
    traces: Sequence[Trace],
    config: RolloutConfig = RolloutConfig(),
    *,
    soft: bool = False,
) -> list[Trace]:
    """Math-Shepherd labels: roll out from every step and grade the answers.

    For step i of a trace, the generator finishes the solution from
    ``steps[:i + 1]`` `config.n_rollouts` times; each finished solution's final
    answer is graded with `world.grade`. The soft label is the fraction graded
    right, the hard label +1 if any is right and -1 if none is. The last step
    of a trace that already commits to an answer is not rolled out: its
    answer is graded directly (its rollouts would all be the trace itself).

    Rollouts for all steps of all traces are batched together. Each returned
    trace keeps the raw counts in ``meta["mc_correct"]`` (right rollouts per
    step) and ``meta["mc_rollouts"]``, so `harden` can turn soft labels hard.
    """
    if isinstance(traces, Trace):
        raise TypeError("pass a list of traces, e.g. [trace].")
    k = config.n_rollouts
    problems: dict[str, object] = {}
    states, owners = [], []  # owners[j] = (trace index, step index)
    correct = []
    for t, trace in enumerate(traces):
        if not trace.steps:
            raise ValueError(
                f"traces[{t}] has no steps: Monte Carlo labels need at least one."
            )
        if trace.problem not in problems:
            problems[trace.problem] = world.parse_problem(trace.problem)
        problem = problems[trace.problem]
        n = len(trace.steps)
        counts = [0] * n
        rolled = n
        if world.extract_answer(problem, trace.steps) is not None:
            counts[-1] = k if world.grade(problem, trace.steps) else 0
            rolled = n - 1
        for i in range(rolled):
            prefix = list(trace.steps[: i + 1])
            states.extend((trace.problem, prefix) for _ in range(k))
            owners.extend((t, i) for _ in range(k))
        correct.append(counts)

    for start in _chunks(len(states), config.batch_size, config.progress):
        chunk = states[start : start + config.batch_size]
        seed = None if config.seed is None else config.seed * 100_003 + start
        done = complete(
            generator,
            chunk,
            max_steps=config.max_steps,
            temperature=config.temperature,
            seed=seed,
        )
        for (text, prefix), c, (t, i) in zip(
            chunk, done, owners[start : start + len(chunk)], strict=True
        ):
            if world.grade(problems[text], [*prefix, *c.steps]):
                correct[t][i] += 1

    out = []
    for trace, counts in zip(traces, correct, strict=True):
        labelled = _from_counts(trace, counts, k, soft)
        meta = {**trace.meta, "mc_correct": tuple(counts), "mc_rollouts": k}
        out.append(replace(labelled, meta=meta))
    return out


def _chunks(n: int, size: int, progress: bool):
    starts = range(0, n, size)
    if progress:
        from tqdm.auto import tqdm

        return tqdm(starts, desc="rollouts", unit="batch")
    return starts


def _from_counts(trace: Trace, counts, k: int, soft: bool) -> Trace:
    if soft:
        labels = [c / k for c in counts]
        reasons = [f"{c}/{k} rollouts reach the right answer" for c in counts]
    else:
        labels = [1 if c > 0 else -1 for c in counts]
        reasons = [
            f"{c}/{k} rollouts reach the right answer"
            + ("" if c > 0 else ": none does")
            for c in counts
        ]
    return trace.with_labels(labels, reasons, soft=soft)


def harden(trace: Trace) -> Trace:
    """A soft Monte Carlo trace turned hard: +1 where any rollout was right
    (fraction > 0), -1 where none was. Hard traces come back unchanged."""
    if trace.labels is None:
        raise ValueError("this trace has no labels: run monte_carlo_labels first.")
    if not trace.soft:
        return trace
    labels = [1 if v > 0 else -1 for v in trace.labels]
    return trace.with_labels(labels, trace.reasons, soft=False)


@dataclass(frozen=True)
class MCConfusion:
    """How hard Monte Carlo labels compare with exact ones, step by step.

    `optimistic`: exact says wrong, MC says good (a rollout recovered anyway).
    `pessimistic`: exact says good, MC says bad (no rollout finished right).
    """

    both_good: int
    both_bad: int
    optimistic: int
    pessimistic: int

    @property
    def n_steps(self) -> int:
        return self.both_good + self.both_bad + self.optimistic + self.pessimistic

    @property
    def agreement(self) -> float:
        return (self.both_good + self.both_bad) / self.n_steps


def mc_confusion(mc: Sequence[Trace], exact: Sequence[Trace]) -> MCConfusion:
    """Count agreements and both kinds of disagreement between MC and exact labels.

    A step is good for MC when its hard label is +1 (or its soft fraction is
    > 0), and good for the checker when its label is >= 0 (neutral counts).
    The two lists must hold the same traces in the same order.
    """
    if len(mc) != len(exact):
        raise ValueError(
            f"mc has {len(mc)} traces but exact has {len(exact)}: "
            f"pass the same traces, labelled both ways, in the same order."
        )
    tally = {"gg": 0, "bb": 0, "opt": 0, "pes": 0}
    for t, (a, b) in enumerate(zip(mc, exact, strict=True)):
        if a.labels is None or b.labels is None:
            which = "mc" if a.labels is None else "exact"
            raise ValueError(f"{which}[{t}] has no labels: label it first.")
        if a.problem != b.problem or a.steps != b.steps:
            raise ValueError(
                f"mc[{t}] and exact[{t}] are different traces: pass the same "
                f"traces in the same order."
            )
        if b.soft:
            raise ValueError(f"exact[{t}] has soft labels: pass exact labels.")
        for m, e in zip(harden(a).labels, b.labels, strict=True):
            key = {(True, True): "gg", (False, False): "bb"}.get(
                (m > 0, e >= 0), "opt" if m > 0 else "pes"
            )
            tally[key] += 1
    if sum(tally.values()) == 0:
        raise ValueError("no steps to compare: pass at least one non-empty trace.")
    return MCConfusion(tally["gg"], tally["bb"], tally["opt"], tally["pes"])


def mc_agreement(mc: Sequence[Trace], exact: Sequence[Trace]) -> float:
    """Fraction of steps where the hard MC label agrees with the exact one
    (exact good = label >= 0). Math-Shepherd reports 86% against humans."""
    return mc_confusion(mc, exact).agreement


# --------------------------------------------------------------------------- #
# Active learning (PRM800K's convincing wrong-answer selection)
# --------------------------------------------------------------------------- #

_AGGREGATES = {
    "min": lambda s: float(np.min(s)),
    "last": lambda s: float(s[-1]),
    "mean": lambda s: float(np.mean(s)),
    "prod": lambda s: float(np.prod(s)),
}


def aggregate(scores: Sequence[float], how: str = "min") -> float:
    """One number for a whole solution from its step scores.

    "min": the weakest step (a chain is as strong as its weakest link);
    "prod": the chance every step is good if they were independent;
    "last": the final step alone; "mean": the average step.
    """
    if how not in _AGGREGATES:
        raise ValueError(f"how must be one of {sorted(_AGGREGATES)}, got {how!r}.")
    if len(scores) == 0:
        raise ValueError("cannot aggregate the scores of a solution with no steps.")
    return _AGGREGATES[how](scores)


@dataclass(frozen=True)
class ActiveLearningConfig:
    """One active-learning experiment.

    Both strategies start from the same `initial` solutions picked uniformly
    (there is no PRM yet), then label `per_round` more each round, for
    `rounds` rounds, retraining the PRM from scratch on everything labelled so
    far. Active picks by `select_by` (how step scores become one solution
    score, see `aggregate`); `uniform_share` of each active round is still
    picked uniformly, as PRM800K mixed in some uniform picks.
    """

    initial: int = 32
    per_round: int = 32
    rounds: int = 4
    select_by: str = "min"
    uniform_share: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("initial", "per_round", "rounds"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
        if self.select_by not in _AGGREGATES:
            raise ValueError(
                f"select_by must be one of {sorted(_AGGREGATES)}, "
                f"got {self.select_by!r}."
            )
        if not 0.0 <= self.uniform_share <= 1.0:
            raise ValueError(
                f"uniform_share is a fraction in [0, 1], got {self.uniform_share!r}."
            )


@dataclass(frozen=True)
class CurvePoint:
    """The PRM after one round: how many solutions were labelled, how many of
    those had a wrong final answer, and the PRM's step AUROC on held-out data."""

    n_labelled: int
    n_wrong_answer: int
    auroc: float


@dataclass
class ActiveLearningCurve:
    """Per-round results of both strategies, on the same pool and budget."""

    active: list[CurvePoint]
    uniform: list[CurvePoint]
    config: ActiveLearningConfig
    meta: dict = field(default_factory=dict)

    def labelled_to_reach(self, strategy: str, target: float) -> int | None:
        """Fewest labelled solutions at which `strategy` ("active" or "uniform")
        reached step AUROC >= `target`, or None if it never did."""
        points = {"active": self.active, "uniform": self.uniform}.get(strategy)
        if points is None:
            raise ValueError(f"strategy is 'active' or 'uniform', got {strategy!r}.")
        for p in points:
            if p.auroc >= target:
                return p.n_labelled
        return None

    def rows(self) -> list[dict]:
        """One row per round and strategy, ready for `pandas.DataFrame`."""
        return [
            {"strategy": name, **vars(p)}
            for name, points in (("active", self.active), ("uniform", self.uniform))
            for p in points
        ]


# A trainer takes the labelled traces and a seed and returns a step scorer.
Trainer = Callable[[list[Trace], int], StepScorer]


def select_convincing_wrong(
    world: World,
    scorer: StepScorer,
    candidates: Sequence[Trace],
    k: int,
    select_by: str = "min",
) -> list[int]:
    """Indices of up to `k` candidates with a wrong final answer that the PRM
    scores highest: the mistakes it does not yet see. Best first.

    Grading the final answer is cheap; it is the step labels that cost. Fewer
    than `k` indices come back when fewer candidates have a wrong answer.
    """
    wrong = [
        i
        for i, t in enumerate(candidates)
        if not world.grade(world.parse_problem(t.problem), t.steps)
    ]
    if not wrong or k <= 0:
        return []
    scores = scorer.score_batch(
        [(candidates[i].problem, candidates[i].steps) for i in wrong]
    )
    ranked = sorted(
        zip(wrong, scores, strict=True),
        key=lambda pair: (-aggregate(pair[1], select_by), pair[0]),
    )
    return [i for i, _ in ranked[:k]]


def active_learning_curve(
    world: World,
    pool: Sequence[Trace],
    eval_traces: Sequence[Trace],
    train: Trainer,
    config: ActiveLearningConfig = ActiveLearningConfig(),
    *,
    progress: bool = False,
) -> ActiveLearningCurve:
    """Label solutions from `pool` with two strategies and track the PRM's AUROC.

    `pool` holds unlabelled generator solutions (their final answers can be
    graded, their steps are what labelling costs). `eval_traces` are held-out,
    exactly labelled traces with both good and bad steps. `train(traces, seed)`
    returns a scorer trained on exactly labelled traces, e.g. one built on
    `prm_edu.training.train_prm` with a small budget. Each round, each strategy
    labels more solutions exactly and retrains from scratch with the same seed,
    so the two differ only in *which* solutions they labelled.
    """
    c = config
    need = c.initial + c.rounds * c.per_round
    if len(pool) < need:
        raise ValueError(
            f"the pool has {len(pool)} solutions but the config labels {need} "
            f"(initial + rounds * per_round): give a bigger pool or a smaller budget."
        )
    _check_eval(eval_traces)
    rng = random.Random(c.seed)
    order = list(range(len(pool)))
    rng.shuffle(order)
    first = order[: c.initial]

    def evaluate(labelled: list[int], seed: int) -> tuple[CurvePoint, StepScorer]:
        traces = label_traces(world, [pool[i] for i in labelled])
        scorer = train(traces, seed)
        scores = scorer.score_batch([(t.problem, t.steps) for t in eval_traces])
        wrong = sum(not _right(world, pool[i]) for i in labelled)
        return CurvePoint(len(labelled), wrong, step_auroc(eval_traces, scores)), scorer

    point, scorer = evaluate(first, c.seed)
    active, uniform = [point], [point]
    chosen_a, chosen_u = list(first), list(first)
    uniform_rng = random.Random(c.seed + 1)
    active_rng = random.Random(c.seed + 2)
    rounds = range(c.rounds)
    if progress:
        from tqdm.auto import tqdm

        rounds = tqdm(rounds, desc="active learning", unit="round")
    for _ in rounds:
        # Uniform: a random sample of what is left.
        taken = set(chosen_u)
        left = [i for i in range(len(pool)) if i not in taken]
        chosen_u += uniform_rng.sample(left, c.per_round)
        uniform.append(evaluate(chosen_u, c.seed)[0])

        # Active: mostly convincing wrong answers, topped up uniformly.
        taken = set(chosen_a)
        left = [i for i in range(len(pool)) if i not in taken]
        n_uniform = round(c.per_round * c.uniform_share)
        picks = active_rng.sample(left, n_uniform)
        picked = set(picks)
        left = [i for i in left if i not in picked]
        best = select_convincing_wrong(
            world, scorer, [pool[i] for i in left], c.per_round - n_uniform, c.select_by
        )
        picks += [left[j] for j in best]
        if len(picks) < c.per_round:  # not enough wrong answers left
            picked = set(picks)
            rest = [i for i in left if i not in picked]
            picks += active_rng.sample(rest, c.per_round - len(picks))
        chosen_a += picks
        point, scorer = evaluate(chosen_a, c.seed)
        active.append(point)
    return ActiveLearningCurve(active, uniform, c)


def _check_eval(eval_traces: Sequence[Trace]) -> None:
    """Fail before any training if the held-out traces cannot give an AUROC."""
    kinds = set()
    for t, trace in enumerate(eval_traces):
        if trace.labels is None:
            raise ValueError(
                f"eval_traces[{t}] has no labels: label them with label_traces."
            )
        kinds.update(v >= (0.5 if trace.soft else 0) for v in trace.labels)
    if kinds != {True, False}:
        have = "no steps" if not kinds else f"only {'good' if True in kinds else 'bad'}"
        raise ValueError(
            f"eval_traces have {have} steps: step AUROC needs both good and bad "
            f"steps, so evaluate on more (or more varied) solutions."
        )


def _right(world: World, trace: Trace) -> bool:
    return world.grade(world.parse_problem(trace.problem), trace.steps)
