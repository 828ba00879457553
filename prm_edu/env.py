"""The first cell of every notebook: versions, device, seeds, widgets on Colab.

`start(seed=0)` is what each notebook calls right after installing the package
on Colab. It prints what a learner should paste into a bug report.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import random
import sys

PACKAGES = ("prm_edu", "torch", "transformers", "ipywidgets", "numpy", "pandas")


def on_colab() -> bool:
    """True inside Google Colab (its module is imported in every Colab kernel)."""
    return "google.colab" in sys.modules


def versions() -> dict[str, str]:
    """Installed versions of the packages the course relies on."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def pick_device(prefer: str | None = None) -> str:
    """'cuda' when a GPU is there (or `prefer` says so), else 'cpu'.

    `PRM_EDU_DEVICE=cpu` forces the CPU, for comparing timings.
    """
    import torch

    choice = prefer or os.environ.get("PRM_EDU_DEVICE")
    if choice:
        if choice not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {choice!r}.")
        if choice == "cuda" and not torch.cuda.is_available():
            raise ValueError("device 'cuda' was asked for, but no GPU is visible.")
        return choice
    return "cuda" if torch.cuda.is_available() else "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that a notebook prints the same numbers."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def start(seed: int = 0, *, quiet: bool = False) -> str:
    """Set a notebook up: print versions, pick the device, seed everything.

    Returns the device name ('cpu' or 'cuda'). It also uses one torch thread
    and hides transformers' progress bars; on Colab it turns on the custom
    widget manager, which the course's widgets need there.
    """
    import torch
    from transformers.utils import logging as hf_logging

    # The course's models are tiny: per-operation overhead dominates, and a
    # second thread mostly adds synchronisation (measured: one beam search took
    # 19 s with 2 threads on a busy 2-core machine, 0.9 s with 1). Binder has
    # one CPU anyway. PRM_EDU_THREADS overrides it.
    torch.set_num_threads(int(os.environ.get("PRM_EDU_THREADS", "1")))
    # `load_model` already loads the shipped checkpoints without a bar; this
    # hides it for the other models a notebook loads (notebook 07's tiny
    # checkpoints in published formats), where it would only clutter the page.
    hf_logging.disable_progress_bar()
    if on_colab():
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    device = pick_device()
    seed_everything(seed)
    if not quiet:
        line = "  ".join(f"{k} {v}" for k, v in versions().items())
        print(f"{line}\ndevice: {device}  seed: {seed}")
    return device
