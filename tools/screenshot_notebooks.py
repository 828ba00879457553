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
import shutil
import sys
import tempfile
import time
from pathlib import Path

from labdriver import Lab, jupyterlab, launch_chromium, open_notebook, run_all

ROOT = Path(__file__).resolve().parents[1]
RICH_OUTPUT = (
    ".jp-OutputArea-output:has(img), .jp-OutputArea-output:has(.widget-box),"
    " .jp-OutputArea-output:has(.prm-step-scores)"
)


def run_and_shoot(browser, lab: Lab, name: str, out: Path, timeout_s: int) -> str:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = open_notebook(
        browser, lab, name, workspace=f"shot{name[:2]}", viewport=(1400, 5000)
    )
    start = time.monotonic()
    finished = "all cells run"
    try:
        run_all(page, timeout_s)
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
        with jupyterlab(work, home) as lab, sync_playwright() as p:
            browser = launch_chromium(p)
            for name in names:
                line = run_and_shoot(browser, lab, name, args.out, args.timeout)
                print(line, flush=True)
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
