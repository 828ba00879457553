"""Accuracy against compute: how much does a verifier or a search buy?

Two kinds of curve, one table format:

- `rerank_curve(pool)`: every reranking method at every N (1, 2, 4, ... up
  to the pool size), by choosing among random subsets of a shared pool of
  samples, repeated over `trials` subsets as the PRM800K evaluation does
  (trial 0 is always the first N samples);
- `search_curve(method, run, problems)`: a tree search run once per budget.

Both give a pandas DataFrame with one row per (method, n): ``accuracy``, a
confidence interval over problems (``ci_low``, ``ci_high``), mean generated
tokens per problem (``tokens_generated``, the x-axis on which searches are
compared fairly), ``seconds``, plus the per-problem results. `plot_accuracy`
draws accuracy against tokens (or N) with the pass@N ceiling; `paired_gap`
says whether one method beats another by more than the noise; and
`tokens_to_match` asks how many tokens a search needs to equal best-of-N.
Defined in notebooks 04 and 05.
"""

from __future__ import annotations

import math
import time
from statistics import NormalDist
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from prm_edu.search.beam import BeamConfig, beam_search_many
from prm_edu.search.choose import answered_only
from prm_edu.search.dfs import DFSConfig, dfs_many
from prm_edu.search.dvts import DVTSConfig, dvts_many
from prm_edu.search.pool import Pool
from prm_edu.search.rerank import pick
from prm_edu.search.tot import ToTConfig, tot_bfs_many
from prm_edu.search.tree import SearchResult

BUDGETS = (1, 2, 4, 8, 16, 32, 64)

# Benchmark name -> (reranker, aggregation of PRM step scores).
RERANK_METHODS: dict[str, tuple[str, str]] = {
    "prm_min": ("prm", "min"),
    "prm_prod": ("prm", "prod"),
    "prm_last": ("prm", "last"),
    "prm_mean": ("prm", "mean"),
    "prm_weighted": ("weighted", "min"),
    "orm": ("orm", "last"),
    "majority": ("majority", "min"),
    "oracle": ("oracle", "min"),
}
SEARCH_METHODS = ("beam", "tot_bfs", "dfs", "dvts")
COLUMNS = [
    "method",
    "n",
    "accuracy",
    "ci_low",
    "ci_high",
    "tokens_generated",
    "seconds",
]


# ---------------------------------------------------------------- intervals


def wilson_ci(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion `successes / n`."""
    if n < 1:
        raise ValueError(f"a proportion needs n >= 1 trials, got n={n}.")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n={n}], got {successes}.")
    _check_level(level)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def bootstrap_ci(
    values: Sequence[float],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of `values`, resampling
    problems (each value is one problem's accuracy)."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to bootstrap: evaluate at least one problem.")
    _check_level(level)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, got {level!r}.")


def _interval(per_problem, ci: str, level: float, seed: int) -> tuple[float, float]:
    if ci == "bootstrap":
        return bootstrap_ci(per_problem, level, seed=seed)
    if ci == "wilson":
        return wilson_ci(float(np.sum(per_problem)), len(per_problem), level)
    raise ValueError(f"ci must be 'bootstrap' or 'wilson', got {ci!r}.")


# ------------------------------------------------------------ reranking


def budgets_up_to(n: int) -> tuple[int, ...]:
    """1, 2, 4, ... up to `n` (and `n` itself)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}.")
    out = [b for b in (2**k for k in range(n.bit_length())) if b <= n]
    return tuple(out if out[-1] == n else [*out, n])


def subsample(n_pool: int, n: int, trials: int, rng: np.random.Generator):
    """`trials` index sets of size n from range(n_pool), sorted; the first is
    always the first n samples, and when n == n_pool there is only one."""
    if not 1 <= n <= n_pool:
        raise ValueError(
            f"cannot choose n={n} of a pool of {n_pool} samples: sample a "
            f"pool at least as large as the biggest budget."
        )
    sets = [np.arange(n)]
    if n < n_pool:
        for _ in range(trials - 1):
            sets.append(np.sort(rng.choice(n_pool, size=n, replace=False)))
    return sets


def _draws(n_pool: int, n: int, trials: int, n_problems: int, rng) -> np.ndarray:
    """`subsample` for every problem at once: shape (trials, problems, n)."""
    first = np.broadcast_to(subsample(n_pool, n, 1, rng)[0], (1, n_problems, n))
    if n == n_pool or trials == 1:
        return np.array(first)
    keys = rng.random((trials - 1, n_problems, n_pool))
    rest = np.sort(keys.argsort(axis=2)[..., :n], axis=2)
    return np.concatenate([first, rest], axis=0)


def rerank_curve(
    pool: Pool,
    methods: Sequence[str] | None = None,
    budgets: Sequence[int] | None = None,
    *,
    trials: int = 16,
    seed: int = 0,
    ci: str = "bootstrap",
    level: float = 0.95,
) -> pd.DataFrame:
    """Accuracy of each reranking method (names in `RERANK_METHODS`) at each N.

    Each of `trials` subsets draws N of the pool's samples per problem; a
    problem's accuracy is its mean over trials, the method's accuracy the mean
    over problems, and the interval is over problems. ``seconds`` is the
    pool's measured generation (and, for PRM/ORM methods, scoring) time,
    scaled by N / pool size. ``picks`` holds trial 0's chosen sample index
    per problem, ``final_steps`` that sample's last step.
    """
    methods = list(RERANK_METHODS) if methods is None else list(methods)
    for m in methods:
        if m not in RERANK_METHODS:
            raise ValueError(
                f"unknown method {m!r}: use one of {', '.join(RERANK_METHODS)}."
            )
    budgets = budgets_up_to(pool.n) if budgets is None else list(budgets)
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}.")
    correct = pool.correct()
    tokens = pool.tokens()
    answers = pool.answers()
    answered = np.array([[a is not None for a in row] for row in answers])
    values = {
        agg: pool.values(agg)
        for (how, agg) in (RERANK_METHODS[m] for m in methods)
        if how in ("prm", "weighted")
    }
    orm = (
        pool.orm_values()
        if any(RERANK_METHODS[m][0] == "orm" for m in methods)
        else None
    )
    if any(RERANK_METHODS[m][0] in ("prm", "weighted") for m in methods):
        _need_scores(pool, "prm")
    if orm is not None:
        _need_scores(pool, "orm")
    n_problems = len(pool.problems)
    rng = np.random.default_rng(seed)
    # draws[n][t, i]: the sample indices of trial t for problem i.
    draws = {n: _draws(pool.n, n, trials, n_problems, rng) for n in budgets}
    rows_of = np.arange(n_problems)[None, :, None]
    rows = []
    for m in methods:
        how, agg = RERANK_METHODS[m]
        stage = {"prm": "prm", "weighted": "prm", "orm": "orm"}.get(how)
        pool_seconds = pool.seconds.get("generate", 0.0) + (
            pool.seconds.get(stage, 0.0) if stage else 0.0
        )
        for n in budgets:
            idx = draws[n]  # (trials, problems, n)
            if how in ("prm", "orm", "oracle"):
                # Vectorised `pick`: argmax takes the first of equals (among
                # the samples with an answer), and for the oracle the first
                # right sample (or sample 0).
                table = {"prm": values.get(agg), "orm": orm, "oracle": correct}[how]
                drawn = table[rows_of, idx]
                if how != "oracle":
                    drawn = answered_only(drawn, answered[rows_of, idx])
                chosen = np.take_along_axis(
                    idx, drawn.argmax(axis=2)[..., None], axis=2
                )[..., 0]
            else:
                chosen = np.empty(idx.shape[:2], dtype=int)
                for t in range(idx.shape[0]):
                    for i in range(n_problems):
                        kw = {"answers": [answers[i][j] for j in idx[t, i]]}
                        if how == "weighted":
                            kw["values"] = values[agg][i, idx[t, i]]
                        chosen[t, i] = idx[t, i][pick(how, **kw)]
            hits = correct[np.arange(n_problems)[None, :], chosen].mean(axis=0)
            spent = tokens[rows_of, idx].sum(axis=2).mean(axis=0)
            picks = [int(j) for j in chosen[0]]
            lo, hi = _interval(hits, ci, level, seed)
            rows.append(
                {
                    "method": m,
                    "n": n,
                    "accuracy": float(hits.mean()),
                    "ci_low": lo,
                    "ci_high": hi,
                    "tokens_generated": float(spent.mean()),
                    "seconds": pool_seconds * n / pool.n,
                    "per_problem": hits,
                    "picks": picks,
                    "final_steps": [
                        _last(pool.samples[i][j].steps) for i, j in enumerate(picks)
                    ],
                }
            )
    return pd.DataFrame(rows)


def _need_scores(pool: Pool, which: str) -> None:
    has = [
        (s.prm if which == "prm" else s.orm) is not None
        for row in pool.samples
        for s in row
        if s.steps
    ]
    if has and not any(has):
        raise ValueError(
            f"this pool has no {which.upper()} scores: pass {which}=... to "
            f"sample_pool, or leave the {which.upper()} methods out."
        )


def _last(steps: Sequence[str]) -> str:
    return steps[-1] if steps else ""


# -------------------------------------------------------------- searches


def search_config(
    method: str,
    n: int,
    *,
    max_depth: int = 10,
    tokens_per_sample: float | None = None,
    temperature: float = 1.0,
    seed: int | None = 0,
):
    """The course's config for tree search `method` at budget `n`, sized to
    generate about as many steps as best-of-n:

    - ``beam``: n beams, beam width 4 (the largest divisor of n up to 4);
    - ``dvts``: n // 4 subtrees of width 4 (the same width rule);
    - ``tot_bfs``: keep n // 3 states (at least 1, at most 5, ToT's b = 5)
      and sample n // keep candidates from each (the seed's 3-keep-2 is n = 6);
    - ``dfs``: 3 children per expansion, stopped at n x `tokens_per_sample`
      generated tokens (the cost of n whole samples) when that is given.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the budget n must be a whole number >= 1, got {n!r}.")
    width = max(w for w in range(1, min(4, n) + 1) if n % w == 0)
    if method == "beam":
        return BeamConfig(
            n=n,
            beam_width=width,
            max_depth=max_depth,
            temperature=temperature,
            seed=seed,
        )
    if method == "dvts":
        return DVTSConfig(
            n=n,
            beam_width=width,
            max_depth=max_depth,
            temperature=temperature,
            seed=seed,
        )
    if method == "tot_bfs":
        # Keep at most 5 states (ToT's b = 5) and spend the rest of the budget
        # on more candidates per state: with 3 candidates and a wide frontier,
        # a peaky generator repeats itself and most of the budget goes unused.
        keep = min(5, max(1, n // 3))
        return ToTConfig(
            n_candidates=max(1, n // keep),
            keep=keep,
            max_depth=max_depth,
            temperature=temperature,
            seed=seed,
        )
    if method == "dfs":
        budget = None
        if tokens_per_sample is not None:
            budget = max(1, math.ceil(n * tokens_per_sample))
        return DFSConfig(
            n_children=min(3, n),
            max_depth=max_depth,
            max_expansions=n * max_depth,
            token_budget=budget,
            temperature=temperature,
            seed=seed,
        )
    raise ValueError(
        f"unknown search {method!r}: use one of {', '.join(SEARCH_METHODS)}."
    )


_RUNNERS = {
    "beam": beam_search_many,
    "dvts": dvts_many,
    "tot_bfs": tot_bfs_many,
    "dfs": dfs_many,
}


def search_runner(method: str, generator, scorer, *, answer_of=None, **kwargs):
    """`run(problems, n) -> list[SearchResult]` for `search_curve`, using
    `search_config(method, n, **kwargs)`."""
    search_config(method, 1, **kwargs)  # refuse an unknown method now
    many = _RUNNERS[method]

    def run(problems: Sequence[str], n: int) -> list[SearchResult]:
        config = search_config(method, n, **kwargs)
        return many(problems, generator, scorer, config, answer_of=answer_of)

    return run


def search_curve(
    method: str,
    run: Callable[[Sequence[str], int], list[SearchResult]],
    problems: Sequence[str],
    grade: Callable[[str, Sequence[str]], bool],
    budgets: Sequence[int] = BUDGETS,
    *,
    ci: str = "bootstrap",
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy of a search at each budget: `run(problems, n)` once per n,
    timed, each chosen solution graded with `grade(problem, steps)`."""
    rows = []
    for n in budgets:
        t0 = time.perf_counter()
        results = run(problems, n)
        seconds = time.perf_counter() - t0
        hits = np.array([bool(grade(r.problem, r.steps)) for r in results], float)
        lo, hi = _interval(hits, ci, level, seed)
        rows.append(
            {
                "method": method,
                "n": n,
                "accuracy": float(hits.mean()) if len(hits) else float("nan"),
                "ci_low": lo,
                "ci_high": hi,
                "tokens_generated": float(
                    np.mean([r.cost.tokens_generated for r in results])
                ),
                "seconds": seconds,
                "per_problem": hits,
                "final_steps": [_last(r.steps) for r in results],
                "stopped": sum(bool(r.stopped) for r in results),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------- comparisons


def accuracy_table(curves: pd.DataFrame, value: str = "accuracy") -> pd.DataFrame:
    """Methods as rows, budgets N as columns, `value` in the cells."""
    return curves.pivot(index="method", columns="n", values=value)


def paired_gap(
    curves: pd.DataFrame,
    a: str,
    b: str,
    n: int,
    *,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> dict:
    """Accuracy of `a` minus `b` at budget `n`, with a paired bootstrap
    interval over problems; ``clear`` is True when the interval excludes 0."""
    pa, pb = (_row(curves, m, n)["per_problem"] for m in (a, b))
    diff = np.asarray(pa, float) - np.asarray(pb, float)
    lo, hi = bootstrap_ci(diff, level, n_boot, seed)
    return {
        "a": a,
        "b": b,
        "n": n,
        "gap": float(diff.mean()),
        "ci_low": lo,
        "ci_high": hi,
        "clear": bool(lo > 0 or hi < 0),
    }


def pool_draws(
    draws: Sequence[tuple[Sequence[str], pd.DataFrame]],
    *,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Curves of several draws of problems, as one table over their distinct
    problems: `draws` holds (problems, curves) per draw, and a problem drawn
    twice counts once, from its first draw. Per method and budget: the hits
    of every problem (``per_problem``), their mean and a bootstrap interval,
    so that `paired_gap` compares two methods over all the draws at once."""
    if not draws:
        raise ValueError("no draws to pool: pass (problems, curves) per draw.")
    seen: set[str] = set()
    keep = []
    for problems, curves in draws:
        sizes = {len(p) for p in curves["per_problem"]}
        if sizes != {len(problems)}:
            raise ValueError(
                f"curves hold {sorted(sizes)} problems per row but the draw "
                f"lists {len(problems)}: pass each draw's own problems."
            )
        keep.append(np.array([p not in seen for p in problems]))
        seen.update(problems)
    rows = []
    for method, n in draws[0][1][["method", "n"]].itertuples(index=False):
        hits = np.concatenate(
            [
                np.asarray(_row(curves, method, n)["per_problem"], float)[mask]
                for (_, curves), mask in zip(draws, keep)
            ]
        )
        lo, hi = bootstrap_ci(hits, level, seed=seed)
        rows.append(
            {
                "method": method,
                "n": int(n),
                "accuracy": float(hits.mean()),
                "ci_low": lo,
                "ci_high": hi,
                "problems": int(hits.size),
                "per_problem": hits,
            }
        )
    return pd.DataFrame(rows)


def _row(curves: pd.DataFrame, method: str, n: int) -> pd.Series:
    rows = curves[(curves["method"] == method) & (curves["n"] == n)]
    if rows.empty:
        raise ValueError(f"no row for method={method!r}, n={n} in these curves.")
    return rows.iloc[0]


def tokens_to_match(curves: pd.DataFrame, method: str, reference: str, n: int) -> dict:
    """The cheapest budget at which `method` reaches `reference`'s accuracy at
    N = `n`, and its share of the reference's generated tokens (None when no
    budget of `method` reaches it)."""
    ref = _row(curves, reference, n)
    rows = curves[curves["method"] == method].sort_values("tokens_generated")
    reach = rows[rows["accuracy"] >= ref["accuracy"]]
    out = {
        "method": method,
        "reference": reference,
        "reference_n": n,
        "reference_accuracy": float(ref["accuracy"]),
        "reference_tokens": float(ref["tokens_generated"]),
        "n": None,
        "accuracy": None,
        "tokens": None,
        "token_ratio": None,
    }
    if not reach.empty:
        first = reach.iloc[0]
        out.update(
            n=int(first["n"]),
            accuracy=float(first["accuracy"]),
            tokens=float(first["tokens_generated"]),
            token_ratio=float(first["tokens_generated"] / ref["tokens_generated"]),
        )
    return out


def records(curves: pd.DataFrame) -> list[dict]:
    """The table as JSON-ready rows with the benchmark's columns only."""
    out = []
    for row in curves[COLUMNS].itertuples(index=False):
        out.append(
            {
                "method": row.method,
                "n": int(row.n),
                "accuracy": round(float(row.accuracy), 4),
                "ci_low": round(float(row.ci_low), 4),
                "ci_high": round(float(row.ci_high), 4),
                "tokens_generated": round(float(row.tokens_generated), 1),
                "seconds": round(float(row.seconds), 3),
            }
        )
    return out


# ------------------------------------------------------------------ plot


def plot_accuracy(
    curves: pd.DataFrame,
    *,
    x: str = "tokens_generated",
    methods: Sequence[str] | None = None,
    ceiling: str = "oracle",
    ax=None,
    title: str | None = None,
):
    """Accuracy against generated tokens (or ``x="n"``), one line per method
    with its confidence band, and pass@N (`ceiling`, the most any reranker
    of those samples can reach) dashed.
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    if x not in ("tokens_generated", "n"):
        raise ValueError(f"x must be 'tokens_generated' or 'n', got {x!r}.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
    else:
        fig = ax.figure
    names = list(dict.fromkeys(curves["method"])) if methods is None else methods
    # Twelve methods need more than the default ten colours; tree searches
    # get squares and thicker lines so they stand out from the rerankers.
    palette = plt.get_cmap("tab20").colors
    drawn = [m for m in names if m != ceiling]
    for m in names:
        rows = curves[curves["method"] == m].sort_values(x)
        if rows.empty:
            continue
        if m == ceiling:
            ax.plot(rows[x], rows["accuracy"], "k--", lw=1.5, label=f"pass@N ({m})")
            continue
        search = m in SEARCH_METHODS
        color = palette[(2 * drawn.index(m)) % 20 + (drawn.index(m) >= 10)]
        ax.plot(
            rows[x],
            rows["accuracy"],
            marker="s" if search else "o",
            ms=4 if search else 3,
            lw=2 if search else 1.2,
            color=color,
            label=m,
        )
        ax.fill_between(
            rows[x], rows["ci_low"], rows["ci_high"], color=color, alpha=0.1, lw=0
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("generated tokens per problem" if x != "n" else "budget N")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2, loc="best")
    if title:
        ax.set_title(title)
    return fig
