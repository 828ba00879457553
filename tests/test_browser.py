"""Notebook 01 in a real JupyterLab, driven in headless Chromium.

Starts JupyterLab on loopback with a token, opens `01_orm_vs_prm.ipynb`, runs
every cell, then checks what a learner sees: one score bar per step in the
StepScoreView, and a flashcard that flips when its button is clicked.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from labdriver import CHROMIUM, jupyterlab, launch_chromium, open_notebook, run_all

ROOT = Path(__file__).parents[1]
NOTEBOOK = "01_orm_vs_prm.ipynb"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (make test installs it)",
    ),
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("notebooks")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    with jupyterlab(work, home) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = open_notebook(browser, lab, NOTEBOOK)
        run_all(page, timeout_s=240)
        yield page
        shots = os.environ.get("PRM_EDU_SCREENSHOTS")
        if shots:
            page.screenshot(path=str(Path(shots) / "notebook01.png"), full_page=True)
        browser.close()


def test_no_cell_failed(page):
    errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']")
    assert errors.count() == 0, errors.first.inner_text()


def test_score_view_shows_one_bar_per_step(page):
    view = page.locator(".prm-step-scores").first
    view.scroll_into_view_if_needed()
    bars = view.locator(".prm-step-bar")
    steps = int(view.get_attribute("data-n-steps"))
    assert steps > 0
    assert bars.count() == steps


def test_flashcard_flips_on_click(page):
    card = page.locator(".prm-flashcard").first
    card.scroll_into_view_if_needed()
    face = card.locator(".prm-flashcard-face")
    before = face.inner_text()
    card.get_by_role("button", name="Flip").click()
    page.wait_for_function(
        "([el, text]) => el.innerText !== text",
        arg=[face.element_handle(), before],
        timeout=10_000,
    )
    assert face.inner_text() != before
