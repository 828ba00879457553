"""Drive a real JupyterLab 4 in headless Chromium: start it, open, run all.

Shared by the browser test (`tests/test_browser.py`) and the screenshot
tools. `jupyterlab(work, home)` starts a server on loopback with a random
token, serving `work`, with `home` as its settings home; `open_notebook`
opens a notebook once its kernel is idle; `run_all` runs every cell from the
Run menu and waits until each code cell shows its execution number. Needs
Debian's chromium and playwright (a dev dependency).
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Settings that make a page show what a learner sees, all of it: every cell
# rendered (JupyterLab 4 otherwise renders only the cells in view, and cells
# out of view have no prompt and no output), and no "news?" toast on top.
_SETTINGS = {
    "notebook-extension/tracker": '{"windowingMode": "none"}',
    "apputils-extension/notification": (
        '{"fetchNews": "false", "doNotDisturbMode": true}'
    ),
}
_ALL_RUN = """(n) => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


@dataclass(frozen=True)
class Lab:
    base: str  # http://127.0.0.1:PORT
    token: str
    log: Path  # the server's stderr

    def url(self, path: str) -> str:
        return f"{self.base}/{path}?token={self.token}"


@contextmanager
def jupyterlab(work: Path, home: Path, start_timeout_s: float = 120) -> Iterator[Lab]:
    """A JupyterLab server for `work`, stopped on exit. Progress files go to
    `home`, figures use the Agg backend. Raises RuntimeError with the end of
    the server's log when it does not answer within `start_timeout_s`."""
    settings = home / ".jupyter" / "lab" / "user-settings"
    for name, text in _SETTINGS.items():
        path = settings / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = Lab(f"http://127.0.0.1:{port}", secrets.token_hex(16), home / "lab.log")
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "PRM_EDU_PROGRESS": str(home / "progress.json"),
        "MPLBACKEND": "Agg",
    }
    with open(lab.log, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser",
                "--ip=127.0.0.1", f"--port={port}",
                f"--ServerApp.token={lab.token}", f"--ServerApp.root_dir={work}",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                # JupyterLab refuses to run as root without it (CI containers do).
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )  # fmt: skip
        try:
            _wait_until_up(proc, lab, start_timeout_s)
            yield lab
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_up(proc: subprocess.Popen, lab: Lab, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(lab.url("api/status"), timeout=2)
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = lab.log.read_text()[-2000:]
                raise RuntimeError(
                    f"JupyterLab did not start on {lab.base}:\n{tail}"
                ) from None
            time.sleep(0.5)


def launch_chromium(playwright):
    """Debian's chromium, headless, through playwright."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )


def open_notebook(browser, lab: Lab, name: str, *, workspace: str | None = None,
                  viewport: tuple[int, int] = (1400, 1000)):  # fmt: skip
    """A page with notebook `name` open and its kernel idle. Give each
    notebook its own `workspace` when several are opened on one server, or
    JupyterLab reopens the earlier ones beside it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    where = f"lab/workspaces/{workspace}/tree" if workspace else "lab/tree"
    page.goto(lab.url(f"{where}/{name}"))
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    # Wait for the kernel before running, or "Run All" is queued behind the
    # kernel's start and the first cells time out.
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
    return page


def run_all(page, timeout_s: float) -> None:
    """Run every cell from the Run menu; wait until each code cell shows its
    execution number (cells whose input is collapsed show no prompt). Raises
    playwright's TimeoutError after `timeout_s`."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    # JupyterLab 4's Run menu calls it runmenu:run-all.
    page.locator(
        "li.lm-Menu-item[data-command='runmenu:run-all'],"
        "li.lm-Menu-item[data-command='notebook:run-all-cells']"
    ).first.click()
    n_code = page.locator(".jp-CodeCell .jp-InputArea-prompt").count()
    page.wait_for_function(_ALL_RUN, arg=n_code, timeout=timeout_s * 1000)
