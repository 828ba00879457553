"""The key-value cache argument of a Hugging Face forward pass, by version.

transformers 5 renamed the cache argument `past_key_values` to `cache` (and
the output field with it); `CACHE_ARG` and `cache_of` let the course's
samplers and scorers run on either major version.
"""

from __future__ import annotations

import inspect

from transformers import GPT2LMHeadModel

CACHE_ARG = (
    "cache"
    if "cache" in inspect.signature(GPT2LMHeadModel.forward).parameters
    else "past_key_values"
)


def cache_of(out):
    """The key-value cache a forward pass with ``use_cache=True`` returned."""
    cache = out.get("cache")
    return out.get("past_key_values") if cache is None else cache
