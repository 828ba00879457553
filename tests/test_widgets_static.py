"""Shared widget plumbing: colours, escaping, Colab set-up, mime bundles."""

from __future__ import annotations

import sys
import types

from prm_edu.widgets import static
from prm_edu.widgets.static import rich, score_color, text_color_on


def test_score_scale_runs_red_to_blue_and_clamps():
    assert score_color(0.0) == "#b2182b"
    assert score_color(1.0) == "#2166ac"
    assert score_color(0.5) == "#bababa"
    assert score_color(-3) == score_color(0.0) and score_color(7) == score_color(1)
    assert score_color(None) == score_color(float("nan")) == "#ffffff"
    assert text_color_on("#2166ac") == "#ffffff"
    assert text_color_on("#bababa") == "#000000"


def test_rich_text_renders_markdown_but_leaves_math_alone():
    html = rich("a *b* **c** `d` $x*y*z$ <e>")
    assert "<em>b</em>" in html and "<strong>c</strong>" in html
    assert "<code>d</code>" in html
    assert "$x*y*z$" in html
    assert "&lt;e&gt;" in html


def test_colab_widget_manager_is_enabled_when_in_colab(monkeypatch):
    calls = []
    output = types.SimpleNamespace(
        enable_custom_widget_manager=lambda: calls.append(True)
    )
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    static.enable_colab_widgets.cache_clear()
    try:
        assert static.enable_colab_widgets() is True
        assert static.enable_colab_widgets() is True  # cached: called once
        assert calls == [True]
    finally:
        static.enable_colab_widgets.cache_clear()


def test_outside_colab_nothing_happens(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails
    static.enable_colab_widgets.cache_clear()
    try:
        assert static.enable_colab_widgets() is False
    finally:
        static.enable_colab_widgets.cache_clear()
