"""Screenshot every widget in headless Chromium, to check how they look.

    .venv/bin/python tools/screenshot_widgets.py [--out /tmp/widget_shots]

For each widget state below it writes two pages and their PNGs:

- `NAME.static.html/png`: the static HTML fallback (`_repr_html_`), what
  GitHub, nbviewer and exported HTML show without a kernel;
- `NAME.live.html/png`: the widget's live look, approximated by walking its
  ipywidgets children (HTML values as they are, buttons, sliders, dropdowns
  and text boxes as plain form elements), after driving it from Python
  (flipping a card, answering a question, moving a slider).

No MathJax is loaded in those pages (the machine is offline), so `$...$`
shows as typed. With `--lab`, the same states are also displayed in a real
JupyterLab 4 (started on loopback, one cell per state) and each cell's output
is shot as `lab_NAME.png`: the true live look, math typeset. Needs Debian's
chromium (`apt-get install chromium`) and playwright (a dev dependency).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import ipywidgets as widgets
from labdriver import CHROMIUM, jupyterlab, launch_chromium, open_notebook, run_all

from prm_edu.data.trace import Trace
from prm_edu.search import (
    BeamConfig,
    ScriptedScorer,
    ToTConfig,
    TreeGenerator,
    beam_search,
    tot_bfs,
)
from prm_edu.widgets import (
    Flashcards,
    Quiz,
    SearchTreeView,
    StepScoreView,
)

SEED_PROBLEM = "Solve $2x + 5 = 15$."
TRACE_A = Trace(
    SEED_PROBLEM,
    ("Subtract 5 from both sides: $2x = 10$.", "Divide by 2: $x = 5$."),
)
TRACE_B = Trace(
    SEED_PROBLEM,
    ("Subtract 5 from both sides: $2x = 20$.", "Divide by 2: $x = 10$."),
    labels=(-1, -1),
    reasons=("15 − 5 = 10, not 20", "follows from a wrong step"),
)
# The seed's own scores where it gives them (0.99, 0.99 and 0.05); Trace B's
# second step has none in the seed, so this picture uses an illustrative 0.62
# (a PRM often rates a locally valid step after an error fairly high).
SCORES_A = [0.99, 0.99]
SCORES_B = [0.05, 0.62]


# -- the widget states ------------------------------------------------------


def seed_tree_result():
    """The seed's Tree-of-Thoughts recipe on its own problem: 3 candidate
    first steps, keep the top 2, continue."""
    tree = {
        "Subtract 5 from both sides: $2x = 20$": {"Divide by 2: $x = 10$": None},
        "Subtract 5 from both sides: $2x = 10$": {
            "Divide by 2: $x = 5$": None,
            "Divide by 2: $x = 4$": None,
        },
        "Add 5 to both sides: $2x = 20$": {"Divide by 2: $x = 10$": None},
    }
    bad = {
        "Subtract 5 from both sides: $2x = 20$",
        "Add 5 to both sides: $2x = 20$",
        "Divide by 2: $x = 4$",
    }
    generator = TreeGenerator({SEED_PROBLEM: tree})
    scorer = ScriptedScorer.perfect(bad, good=0.93, bad=0.06)
    config = ToTConfig(n_candidates=3, keep=2, max_depth=3, seed=0)
    return tot_bfs(SEED_PROBLEM, generator, scorer, config)


def big_tree_result(depth: int = 7, branching: int = 5):
    """Beam search (n=32, beam width 4) over a random tree of arithmetic-ish
    steps, scored by a seeded hash: a few hundred nodes."""
    rng = random.Random(0)

    def grow(level: int):
        if level == depth:
            return None
        return {
            f"step {level + 1}: {rng.randint(2, 99)} + {rng.randint(2, 99)}": grow(
                level + 1
            )
            for _ in range(branching)
        }

    problem = "A long word problem (synthetic tree for the screenshot)"
    generator = TreeGenerator({problem: grow(0)}, order="random")

    def rule(problem_text, prefix):
        digest = hashlib.sha1("|".join(prefix).encode()).digest()
        return round(digest[0] / 255, 2)

    config = BeamConfig(n=32, beam_width=4, max_depth=depth, seed=1)
    return beam_search(problem, generator, ScriptedScorer(rule), config)


def states(progress: Path) -> dict[str, widgets.Widget]:
    """Every widget state to screenshot, by name."""
    out: dict[str, widgets.Widget] = {}
    out["score_view_trace_b"] = StepScoreView(
        TRACE_B, SCORES_B, title="Trace B (labelled)"
    )
    view = StepScoreView(
        [
            "Read the problem: $3$ boxes of $12$ apples",
            "$3 \\times 12 = 36$ apples",
            "Give away $10$: $36 - 10 = 24$",
            "Half of them: $24 / 2 = 13$",
        ],
        [0.91, 0.88, 0.64, 0.08],
        problem="Tom has 3 boxes of 12 apples, gives away 10 and keeps half.",
        title="Threshold moved to 0.7",
    )
    view.threshold_slider.value = 0.7
    out["score_view_threshold"] = view
    out["score_compare_seed"] = StepScoreView.compare(
        TRACE_A, TRACE_B, SCORES_A, SCORES_B
    )
    out["tree_seed"] = SearchTreeView(seed_tree_result())
    replay = SearchTreeView(seed_tree_result())
    replay.iteration_slider.value = replay.iteration_slider.min
    out["tree_seed_replay_first_iteration"] = replay
    big = SearchTreeView(big_tree_result())
    out["tree_big_collapsed"] = big
    cards = Flashcards("orm_vs_prm", progress=progress)
    out["flashcards_front"] = cards
    flipped = Flashcards("orm_vs_prm", progress=progress)
    flipped.flip_button.click()
    out["flashcards_flipped"] = flipped
    quiz = Quiz("best_of_n", progress=progress)
    quiz.answer(0.9801)
    quiz.go(2)
    quiz.select(0)
    quiz.check()
    out["quiz_feedback_wrong"] = quiz
    multi = Quiz("step_labels", progress=progress)
    multi.go(3)
    multi.select([0, 1, 3])
    multi.check()
    out["quiz_multiple_right"] = multi
    return out


# -- HTML pages -------------------------------------------------------------


def live_html(widget: widgets.Widget) -> str:
    """An approximation of how JupyterLab draws `widget`: HTML values as they
    are, controls as plain form elements with their current state."""
    layout = widget.layout
    if getattr(layout, "display", None) == "none":
        return ""
    # The layout traits that shape the pictures (side-by-side views, scroll).
    box = ";".join(
        f"{css}:{getattr(layout, trait)}"
        for trait, css in (
            ("flex", "flex"),
            ("min_width", "min-width"),
            ("max_width", "max-width"),
            ("max_height", "max-height"),
            ("overflow", "overflow"),
            ("border", "border"),
        )
        if getattr(layout, trait, None)
    )
    inner = _control_html(widget)
    return f'<div style="{box}">{inner}</div>' if box else inner


def _control_html(widget: widgets.Widget) -> str:
    if isinstance(widget, (widgets.HTML, widgets.HTMLMath)):
        return f"<div>{widget.value}</div>"
    if isinstance(widget, widgets.Box):
        direction = "row" if isinstance(widget, widgets.HBox) else "column"
        inner = "".join(live_html(c) for c in widget.children)
        return (
            f'<div style="display:flex;flex-direction:{direction};flex-wrap:wrap;'
            f"gap:8px;align-items:{widget.layout.align_items or 'stretch'};"
            f'margin:3px 0">{inner}</div>'
        )
    if isinstance(widget, widgets.ToggleButton):
        on = "background:#1976d2;color:#fff" if widget.value else "background:#eee"
        return (
            f'<button style="{on};border:1px solid #999;padding:4px 10px">'
            f"{html.escape(widget.description)}</button>"
        )
    if isinstance(widget, widgets.Button):
        colours = {
            "primary": "#1976d2",
            "success": "#388e3c",
            "info": "#0097a7",
            "warning": "#f57c00",
            "danger": "#d32f2f",
        }
        style = (
            f"background:{colours[widget.button_style]};color:#fff"
            if widget.button_style
            else "background:#eee"
        )
        if widget.disabled:
            style += ";opacity:.45"
        return (
            f'<button style="{style};border:0;padding:5px 12px;min-width:90px">'
            f"{html.escape(widget.description)}</button>"
        )
    if isinstance(widget, (widgets.FloatSlider, widgets.IntSlider)):
        fmt = f"{widget.value:.2f}" if isinstance(widget.value, float) else widget.value
        return (
            f'<label style="font-size:13px">{html.escape(widget.description)} '
            f'<input type="range" min="{widget.min}" max="{widget.max}" '
            f'step="{widget.step}" value="{widget.value}" '
            f"{'disabled' if widget.disabled else ''}> {fmt}</label>"
        )
    if isinstance(widget, widgets.Dropdown):
        label = next(
            (text for text, value in widget.options if value == widget.value), ""
        )
        return (
            f'<label style="font-size:13px">{html.escape(widget.description)} '
            f"<select><option>{html.escape(str(label))}</option></select></label>"
        )
    if isinstance(widget, widgets.Text):
        return (
            f'<input type="text" value="{html.escape(widget.value, quote=True)}" '
            f'placeholder="{html.escape(widget.placeholder, quote=True)}" '
            'style="min-width:220px">'
        )
    if isinstance(widget, widgets.Play):
        return '<button style="background:#eee;border:0;padding:5px 10px">▶</button>'
    return f"<div>[{type(widget).__name__}]</div>"


def page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='margin:16px;font-family:system-ui,sans-serif;"
        "font-size:13px;max-width:1200px;background:#fafafa'>"
        f"<div style='color:#888;font-size:11px;margin-bottom:6px'>"
        f"{html.escape(title)}</div>{body}</body></html>"
    )


def lab_screenshots(out: Path, names: list[str], progress: Path) -> None:
    """Display every state in a real JupyterLab and shoot each cell's output."""
    import nbformat
    from playwright.sync_api import sync_playwright

    work = progress.parent
    tools = Path(__file__).resolve().parent
    setup = (
        f"import sys; sys.path.insert(0, {str(tools)!r})\n"
        "from pathlib import Path\n"
        "from screenshot_widgets import states\n"
        f"shots = states(Path({str(progress)!r}))"
    )
    cells = [setup] + [f"shots[{name!r}]" for name in names]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, work / "shots.ipynb")
    with jupyterlab(work, work / "home") as lab, sync_playwright() as p:
        browser = launch_chromium(p)
        tab = open_notebook(browser, lab, "shots.ipynb")
        run_all(tab, timeout_s=300)
        time.sleep(2)  # let MathJax typeset
        outputs = tab.locator(".jp-CodeCell .jp-OutputArea")
        for i, name in enumerate(names, start=1):
            output = outputs.nth(i)
            output.scroll_into_view_if_needed()
            png = out / f"lab_{name}.png"
            output.screenshot(path=str(png))
            print(png)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/widget_shots", type=Path)
    parser.add_argument("--width", default=1200, type=int)
    parser.add_argument(
        "--lab", action="store_true", help="also shoot the live widgets in JupyterLab"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        progress = Path(tmp) / "progress.json"
        os.environ["PRM_EDU_PROGRESS"] = str(progress)
        shots = states(progress)
        files = []
        for name, widget in shots.items():
            for kind, body in (
                ("static", widget._repr_html_()),
                ("live", live_html(widget)),
            ):
                path = args.out / f"{name}.{kind}.html"
                path.write_text(page(f"{name} ({kind})", body), encoding="utf-8")
                files.append(path)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        tab = browser.new_page(viewport={"width": args.width, "height": 600})
        for path in files:
            tab.goto(path.as_uri())
            png = path.with_suffix(".png")
            tab.screenshot(path=str(png), full_page=True)
            print(png)
        browser.close()
    if args.lab:
        with tempfile.TemporaryDirectory() as tmp:
            lab_screenshots(args.out, list(shots), Path(tmp) / "progress.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
