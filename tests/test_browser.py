"""Notebook 01 in a real JupyterLab, driven in headless Chromium.

Starts JupyterLab on loopback with a token, opens `01_orm_vs_prm.ipynb`, runs
every cell, then checks what a learner sees: one score bar per step in the
StepScoreView, and a flashcard that flips when its button is clicked.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = "01_orm_vs_prm.ipynb"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (make test installs it)",
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    work = tmp_path_factory.mktemp("notebooks")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, work / NOTEBOOK)
    # JupyterLab 4 renders only the cells in view ("windowing"), so cells out
    # of view show no prompt and no output: render them all for the checks.
    settings = home / ".jupyter" / "lab" / "user-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "PRM_EDU_PROGRESS": str(home / "progress.json"),
        "MPLBACKEND": "Agg",
    }
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={port}",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={work}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # JupyterLab refuses to run as root without it (CI containers do).
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(home / "lab.log", "w"),  # noqa: SIM115 - closed with the process
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log = (home / "lab.log").read_text()[-2000:]
                pytest.fail(f"JupyterLab did not start on {base}:\n{log}")
            time.sleep(0.5)
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import sync_playwright

    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
        # Wait for the kernel before running, or "Run All" is queued behind
        # the kernel's start and the first cells time out.
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        # On a busy machine JupyterLab may ask which kernel to start: the
        # notebook's own (preselected) is the one.
        try:
            page.locator(".jp-Dialog").get_by_role("button", name="Select").click(
                timeout=5_000
            )
        except PlaywrightTimeoutError:
            pass
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        # JupyterLab 4's Run menu calls it runmenu:run-all.
        page.locator(
            "li.lm-Menu-item[data-command='runmenu:run-all'],"
            "li.lm-Menu-item[data-command='notebook:run-all-cells']"
        ).first.click()
        # Every code cell shows a number once it has run (solution cells,
        # whose input is collapsed, show no prompt).
        n_code = page.locator(".jp-CodeCell .jp-InputArea-prompt").count()
        page.wait_for_function(
            """(n) => {
                const prompts = [...document.querySelectorAll(
                    '.jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length === n &&
                    prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            arg=n_code,
            timeout=240_000,
        )
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
