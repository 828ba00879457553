"""Small HTML helpers shared by the widgets: colours, escaping, Colab set-up.

Every widget builds its look from these pure functions, so the live widget and
its static HTML fallback (what GitHub, nbviewer and exported HTML show) are
drawn by the same code. Styles are inline, because notebook viewers strip
`<style>` blocks but keep `style=` attributes.
"""

from __future__ import annotations

import functools
import html
import math
import re

# ColorBrewer RdBu (red = low score, blue = high score), with a grey middle so
# that a bar near 0.5 is still visible on white. Red-blue scales stay readable
# for the common red-green colour blindnesses; widgets never rely on colour
# alone (bars have a length, flagged steps carry a text marker too).
SCORE_SCALE = (
    (0.00, (178, 24, 43)),
    (0.25, (239, 138, 98)),
    (0.50, (186, 186, 186)),
    (0.75, (103, 169, 207)),
    (1.00, (33, 102, 172)),
)

# Panels carry their own light background so they read the same in light and
# dark JupyterLab themes.
PANEL_STYLE = (
    "background:#ffffff;color:#1a1a1a;border:1px solid #d0d0d0;"
    "border-radius:6px;padding:8px 10px;font-family:system-ui,-apple-system,"
    "'Segoe UI',Roboto,sans-serif;font-size:13px;line-height:1.4"
)


def score_color(score: float | None) -> str:
    """The scale's colour for a score in [0, 1] as `#rrggbb` (white for None)."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "#ffffff"
    s = min(1.0, max(0.0, float(score)))
    for (x0, c0), (x1, c1) in zip(SCORE_SCALE, SCORE_SCALE[1:]):
        if s <= x1:
            t = (s - x0) / (x1 - x0)
            rgb = [round(a + (b - a) * t) for a, b in zip(c0, c1)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#{:02x}{:02x}{:02x}".format(*SCORE_SCALE[-1][1])


def text_color_on(background: str) -> str:
    """Black or white, whichever reads better on `background` (`#rrggbb`)."""
    r, g, b = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 140 else "#ffffff"


def esc(text: str, *, math: bool = True) -> str:
    """Escape `text` for HTML, keeping `$...$` for MathJax when `math` is True.

    With `math=False` the text is wrapped so that MathJax leaves dollar signs
    alone (useful for word problems about prices).
    """
    escaped = html.escape(str(text), quote=False)
    if math:
        return escaped
    return f'<span class="tex2jax_ignore mathjax_ignore">{escaped}</span>'


def attr(text: str) -> str:
    """Escape `text` for use inside a double-quoted HTML attribute."""
    return html.escape(str(text), quote=True)


def plain(text: str) -> str:
    """`text` without `$` math delimiters, for places that cannot typeset
    (tooltips, dropdown entries): "$2x = 20$" reads as "2x = 20"."""
    return _MATH.sub(lambda m: m.group(0).strip("$"), str(text))


def fmt_score(score: float | None, digits: int = 2) -> str:
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return "–"
    return f"{score:.{digits}f}"


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, on one line."""
    one_line = " ".join(str(text).split())
    if len(one_line) <= limit:
        return one_line
    return one_line[: max(1, limit - 1)].rstrip() + "…"


def panel(inner: str, *, css_class: str = "", extra_style: str = "") -> str:
    """Wrap `inner` in the light panel every static rendering uses."""
    cls = f' class="{css_class}"' if css_class else ""
    return f'<div{cls} style="{PANEL_STYLE};{extra_style}">{inner}</div>'


@functools.cache
def enable_colab_widgets() -> bool:
    """Turn on Colab's custom widget manager when running in Colab.

    ipywidgets 8 widgets only display in Colab after this call. Elsewhere it
    does nothing. Returns True when it was enabled. Cached: runs once.
    """
    try:
        from google.colab import output  # type: ignore[import-not-found]
    except ImportError:  # not in Colab
        return False
    try:
        output.enable_custom_widget_manager()
    except Exception:  # noqa: BLE001 - never let display set-up break a lesson
        return False
    return True


class StaticHTMLFallback:
    """Mixin for widgets: adds a static `text/html` rendering to the mime bundle.

    JupyterLab shows the live widget (its renderer outranks HTML); nbconvert,
    nbviewer and GitHub, which have no kernel and no widget state, fall back to
    the static HTML. Subclasses define `_repr_html_`.
    """

    def _repr_html_(self) -> str:  # pragma: no cover - always overridden
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if bundle is None:
            bundle = {"text/plain": type(self).__name__}
        bundle["text/html"] = self._repr_html_()
        return bundle


_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.S)
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")


def rich(text: str) -> str:
    """Card text as HTML: escaped, with `*em*`, `**strong**` and `` `code` ``
    turned into tags, and `$...$` math left for MathJax."""
    parts = _MATH.split(str(text))
    out = []
    for i, part in enumerate(parts):
        if i % 2:  # a math segment: escape only
            out.append(html.escape(part, quote=False))
            continue
        part = html.escape(part, quote=False)
        part = _CODE.sub(r"<code>\1</code>", part)
        part = _STRONG.sub(r"<strong>\1</strong>", part)
        part = _EM.sub(r"<em>\1</em>", part)
        out.append(part.replace("\n", "<br>"))
    return "".join(out)
