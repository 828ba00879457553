"""Run notebooks in a real JupyterLab (headless Chromium) and screenshot them.

    .venv/bin/python tools/screenshot_notebooks.py 01 04 05 [--out /tmp/nb_shots]

For each notebook (by number prefix), JupyterLab 4 is opened on loopback with
a token, every cell is run from the Run menu, and once every code cell shows
its execution number the page is shot: `NN.png`, a tall viewport so that
most of the notebook is in one picture, and `NN_out_K.png` for each of the
first outputs that hold a figure or a widget. Prints one line per notebook:
seconds to run all cells, how many outputs were errors, and the files.
Needs Debian's chromium and playwright (a dev dependency).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
RICH_OUTPUT = (
    ".jp-OutputArea-output:has(img), .jp-OutputArea-output:has(.widget-box),"
    " .jp-OutputArea-output:has(.prm-step-scores)"
)


def start_lab(work: Path, home: Path) -> tuple[subprocess.Popen, str]:
    settings = home / ".jupyter" / "lab" / "user-settings"
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    # Render every cell (no windowing), so that all outputs are in the page.
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "PRM_EDU_PROGRESS": str(home / "progress.json"),
    }
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={work}", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return proc, f"{base}|{token}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"JupyterLab did not start on {base}.") from None
            time.sleep(0.5)


def run_and_shoot(browser, where: str, name: str, out: Path, timeout_s: int) -> str:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    base, token = where.split("|")
    page = browser.new_page(viewport={"width": 1400, "height": 5000})
    # One workspace per notebook, or JupyterLab reopens the previous one too.
    page.goto(f"{base}/lab/workspaces/shot{name[:2]}/tree/{name}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel", timeout=60_000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
    )
    try:  # a busy server may ask which kernel to start: the preselected one
        page.locator(".jp-Dialog").get_by_role("button", name="Select").click(
            timeout=5_000
        )
    except PlaywrightTimeoutError:
        pass
    start = time.monotonic()
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(
        "li.lm-Menu-item[data-command='runmenu:run-all'],"
        "li.lm-Menu-item[data-command='notebook:run-all-cells']"
    ).first.click()
    n_code = page.locator(".jp-CodeCell .jp-InputArea-prompt").count()
    finished = "all cells run"
    try:
        page.wait_for_function(
            """(n) => {
                const prompts = [...document.querySelectorAll(
                    '.jp-CodeCell .jp-InputArea-prompt')];
                return prompts.length === n &&
                    prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            arg=n_code,
            timeout=timeout_s * 1000,
        )
    except PlaywrightTimeoutError:  # shoot what there is, and say so
        finished = f"NOT all cells run within {timeout_s} s"
    seconds = time.monotonic() - start
    page.wait_for_timeout(1500)  # let the widgets finish drawing
    stem = name[:2]
    files = [out / f"{stem}.png"]
    page.screenshot(path=str(files[0]))
    rich = page.locator(RICH_OUTPUT)
    for k in range(min(rich.count(), 4)):
        path = out / f"{stem}_out_{k}.png"
        rich.nth(k).screenshot(path=str(path))
        files.append(path)
    errors = page.locator(".jp-OutputArea-output[data-mime-type*='error']").count()
    page.close()
    shown = ", ".join(f.name for f in files)
    return f"{name}: {finished} ({seconds:.0f} s), {errors} error outputs; {shown}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("numbers", nargs="+", help="notebook prefixes, e.g. 01 04")
    parser.add_argument("--out", default="/tmp/nb_shots", type=Path)
    parser.add_argument("--timeout", default=300, type=int, help="per notebook, s")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work, home = Path(tmp) / "notebooks", Path(tmp) / "home"
        work.mkdir()
        names = []
        for number in args.numbers:
            found = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
            if not found:
                raise SystemExit(f"no notebook starts with {number!r} in notebooks/.")
            shutil.copy(found[0], work / found[0].name)
            names.append(found[0].name)
        proc, where = start_lab(work, home)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM,
                    headless=True,
                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                )
                for name in names:
                    line = run_and_shoot(browser, where, name, args.out, args.timeout)
                    print(line, flush=True)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
