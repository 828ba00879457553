"""Every course notebook is committed clean and runs top to bottom on a fresh kernel."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no course notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty, (
        f"{path.name} carries outputs in cells {dirty}: clear them "
        f"(jupyter nbconvert --clear-output --inplace {path.name})"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_cell_sets_up(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code and "start(" in code[0] and "google.colab" in code[0], (
        f"{path.name}: the first code cell must install on Colab only and call "
        f"prm_edu.env.start()"
    )


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    # Progress files and matplotlib caches go to a throwaway home.
    monkeypatch.setenv("PRM_EDU_PROGRESS", str(tmp_path / "progress.json"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    ]
    shown = [out.get("text", "") for out in outputs if out.get("name") == "stderr"]
    warnings = [s for s in shown if "Warning" in s or "Traceback" in s]
    assert not warnings, f"{path.name} shows warnings: {warnings[:3]}"
    # transformers' "Loading weights" bar is a widget whose plain-text
    # fallback says what it is; env.start() should have turned it off.
    bars = [
        out["data"]["text/plain"]
        for out in outputs
        if "Loading weights" in out.get("data", {}).get("text/plain", "")
    ]
    assert not bars, f"{path.name} shows loading progress bars: {bars[:3]}"
