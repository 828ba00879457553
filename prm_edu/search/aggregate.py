"""One number for a whole (partial) solution, from its per-step PRM scores.

A PRM gives each step the probability that it is good; ranking solutions needs
one value per solution. The four usual choices:

- ``min``: the weakest step decides (a chain is as strong as its weakest link);
- ``prod``: the probability that every step is good, if the steps were
  independent ("Let's Verify Step by Step" ranks solutions this way);
- ``last``: the score of the last step, which a PRM trained on prefixes reads
  as "is the solution good so far" (search-and-learn's default for search);
- ``mean``: the average step score (the seed's "highest average step-score").

The searches here default to ``min``: the course's PRMs judge each step where
it stands, so a correct step after an earlier mistake can still score high,
and ``last`` would forget the mistake.

Defined in notebook 04.
"""

from __future__ import annotations

import math
from typing import Sequence

AGGREGATIONS = ("min", "prod", "last", "mean")


def aggregate(scores: Sequence[float], how: str = "min") -> float:
    """The value of a solution whose steps scored `scores`, by `how`."""
    check_aggregation(how)
    if len(scores) == 0:
        raise ValueError(
            "no step scores to aggregate: a solution needs at least one step."
        )
    if how == "min":
        return float(min(scores))
    if how == "prod":
        return float(math.prod(scores))
    if how == "last":
        return float(scores[-1])
    return float(sum(scores) / len(scores))


def check_aggregation(how: str) -> None:
    """Refuse an unknown aggregation with the list of known ones."""
    if how not in AGGREGATIONS:
        raise ValueError(
            f"unknown aggregation {how!r}: use one of {', '.join(AGGREGATIONS)}."
        )
