"""The two interfaces that search is built on: a step generator and a step scorer.

The course's own models (`prm_edu.models`), the scripted generator, the
published-PRM adapters (`prm_edu.adapters`) and the test doubles all follow
these, so any search runs with any of them. Defined in notebook 04.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

# A search state: the problem statement and the steps written so far.
State = tuple[str, Sequence[str]]


@dataclass(frozen=True)
class GeneratedStep:
    """One sampled step: its text, how many tokens it cost, and whether the
    generator ended the solution after it."""

    text: str
    n_tokens: int
    final: bool


@dataclass
class Usage:
    """Running totals a model keeps so that searches can report honest cost."""

    forward_passes: int = 0
    tokens: int = 0

    def snapshot(self) -> "Usage":
        return Usage(self.forward_passes, self.tokens)

    def since(self, before: "Usage") -> "Usage":
        return Usage(
            self.forward_passes - before.forward_passes, self.tokens - before.tokens
        )


@runtime_checkable
class StepGenerator(Protocol):
    """Samples the next step for each state, in one batch.

    `usage.tokens` counts tokens generated; `usage.forward_passes` counts
    batched decoding passes.
    """

    usage: Usage

    def next_steps(
        self,
        states: Sequence[State],
        *,
        temperature: float = 1.0,
        seed: int | None = None,
    ) -> list[GeneratedStep]: ...


@runtime_checkable
class StepScorer(Protocol):
    """Gives each step of a trace the probability that it is good.

    `score` handles one trace, `score_batch` many, batched: every step of a
    trace is scored in the same forward pass (`PRMScorer` may first run a
    problem shared by many traces once, on its own). `usage.tokens` counts
    tokens scored.
    """

    usage: Usage

    def score(self, problem: str, steps: Sequence[str]) -> list[float]: ...

    def score_batch(self, items: Sequence[State]) -> list[list[float]]: ...
