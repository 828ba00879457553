"""Watch a search: the tree of steps it grew, what it kept, what it cut and why.

    from prm_edu.widgets import SearchTreeView
    SearchTreeView(result.tree)      # or SearchTreeView(result)

The tree is drawn as SVG, one row per depth. Kept, pruned and finished nodes
differ in shape and stroke, not only colour (circle; dashed, crossed-out
square; diamond with a heavy outline), and the fill is the step's PRM score
on the same colour-blind-safe scale as `StepScoreView`. The chosen path is
drawn heavy and ringed. The iteration slider replays the search (nodes made
after that iteration are hidden); hover a node for its step, score and
pruning reason, or pick it in the node list to see its whole path. Large
trees stay readable: sibling pruned leaves fold into one "×k" box, and the
drawing scrolls rather than shrinking text. Defined in notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as widgets

from ..search.tree import FINISHED, KEPT, PRUNED, Node, SearchResult, SearchTree
from .static import (
    StaticHTMLFallback,
    attr,
    enable_colab_widgets,
    esc,
    fmt_score,
    panel,
    plain,
    score_color,
    shorten,
)

# When more nodes than this are visible, sibling pruned leaves are folded.
AUTO_COLLAPSE_AT = 60
_DY = 64  # pixels between depths
_TOP = 28
_MARGIN = 24
_MAX_WIDTH = 3000  # beyond this, spacing shrinks and score labels go
_CELL = "padding:1px 10px 1px 0;vertical-align:top"


@dataclass
class _Group:
    """Pruned sibling leaves folded into one box."""

    parent: int
    members: list[Node] = field(default_factory=list)


def check_tree(tree) -> SearchTree:
    """The `SearchTree` in `tree` (a tree or a `SearchResult`), checked."""
    if isinstance(tree, SearchResult):
        tree = tree.tree
    if not isinstance(tree, SearchTree):
        raise ValueError(
            f"SearchTreeView draws a SearchTree (or a SearchResult), got "
            f"{type(tree).__name__}."
        )
    if len(tree.nodes) <= 1:
        raise ValueError(
            "the search tree is empty: it has no steps, only the problem at its "
            "root. Run a search (e.g. prm_edu.search) and pass its result.tree."
        )
    for position, node in enumerate(tree.nodes):
        if node.id != position:
            raise ValueError(
                f"node at position {position} has id {node.id}: a SearchTree's "
                f"node ids must equal their positions (build it with tree.add)."
            )
        if position and not (node.parent is not None and 0 <= node.parent < position):
            raise ValueError(
                f"node {node.id} has parent {node.parent!r}, which is not an "
                f"earlier node of this tree."
            )
    if tree.chosen is not None and not 0 <= tree.chosen < len(tree.nodes):
        raise ValueError(
            f"tree.chosen is {tree.chosen}, but the tree has nodes 0.."
            f"{len(tree.nodes) - 1}."
        )
    return tree


def _chosen_path(tree: SearchTree) -> set[int]:
    if tree.chosen is None:
        return set()
    ids = {n.id for n in tree.path(tree.chosen)}
    ids.add(0)
    return ids


def _tooltip(node: Node, problem: str) -> str:
    if node.parent is None:
        return f"the problem: {shorten(plain(problem), 300)}"
    lines = [
        f"node {node.id} · depth {node.depth} · iteration {node.iteration} · "
        f"{node.status}{' · final step' if node.final else ''}",
        f"step score {fmt_score(node.score)}"
        + (f" · path value {fmt_score(node.value)}" if node.value is not None else ""),
        f"step: {shorten(plain(node.step), 240)}",
    ]
    if node.reason:
        lines.append(f"why: {shorten(plain(node.reason), 200)}")
    return "\n".join(lines)


def _glyph(node: Node, x: float, y: float) -> str:
    fill = score_color(node.score)
    if node.parent is None:
        return (
            f'<rect x="{x - 11}" y="{y - 11}" width="22" height="22" rx="4" '
            'fill="#f7f7f7" stroke="#1a1a1a" stroke-width="1.5"/>'
            f'<text x="{x}" y="{y + 4}" text-anchor="middle" font-size="11" '
            'font-weight="700" fill="#1a1a1a">Q</text>'
        )
    if node.status == PRUNED:
        s = 7
        return (
            f'<rect x="{x - s}" y="{y - s}" width="{2 * s}" height="{2 * s}" '
            f'fill="{fill}" fill-opacity="0.6" stroke="#444" stroke-width="1.3" '
            'stroke-dasharray="3 2"/>'
            f'<path d="M{x - s} {y - s}L{x + s} {y + s}M{x + s} {y - s}L{x - s} '
            f'{y + s}" stroke="#444" stroke-width="1.1"/>'
        )
    if node.status == FINISHED:
        s = 10
        return (
            f'<polygon points="{x},{y - s} {x + s},{y} {x},{y + s} {x - s},{y}" '
            f'fill="{fill}" stroke="#000" stroke-width="2.6"/>'
        )
    return (
        f'<circle cx="{x}" cy="{y}" r="8" fill="{fill}" stroke="#222" '
        'stroke-width="1.5"/>'
    )


def _counts(tree: SearchTree, visible) -> dict[str, int]:
    out = {KEPT: 0, PRUNED: 0, FINISHED: 0}
    for i in visible:
        if i:
            out[tree.nodes[i].status] += 1
    return out


def legend_html() -> str:
    """The legend: shapes for kept / pruned / finished, the chosen path."""

    def icon(svg: str) -> str:
        return (
            '<svg width="26" height="22" viewBox="-13 -11 26 22" '
            f'style="vertical-align:middle">{svg}</svg>'
        )

    fake = {
        KEPT: Node(1, 0, "", 0.8, 1, 0, KEPT),
        PRUNED: Node(1, 0, "", 0.2, 1, 0, PRUNED),
        FINISHED: Node(1, 0, "", 0.9, 1, 0, FINISHED),
    }
    items = [
        icon(_glyph(fake[KEPT], 0, 0)) + "kept (solid circle)",
        icon(_glyph(fake[PRUNED], 0, 0)) + "pruned (dashed, crossed square)",
        icon(_glyph(fake[FINISHED], 0, 0)) + "finished (heavy diamond)",
        icon(
            '<rect x="-12" y="-7" width="24" height="14" rx="3" fill="#eee" '
            'stroke="#444" stroke-dasharray="3 2"/><text x="0" y="4" '
            'text-anchor="middle" font-size="9">×3</text>'
        )
        + " 3 pruned siblings, folded",
        icon('<line x1="-12" y1="0" x2="12" y2="0" stroke="#000" stroke-width="4"/>')
        + "chosen path",
        '<span style="display:inline-block;width:60px;height:9px;border:1px solid '
        "#999;background:linear-gradient(to right,#b2182b,#bababa,#2166ac);"
        'vertical-align:middle"></span> fill = step score 0 → 1',
    ]
    return (
        '<div class="prm-tree-legend" style="display:flex;flex-wrap:wrap;'
        'gap:4px 14px;font-size:11px;align-items:center;line-height:1.4">'
        + "".join(f"<span>{item}</span>" for item in items)
        + "</div>"
    )


def render_svg(
    tree: SearchTree,
    *,
    iteration: int | None = None,
    selected: int | None = None,
    collapse_pruned: bool | str = "auto",
    spacing: int = 34,
) -> tuple[str, dict]:
    """The tree (as of `iteration`) as an SVG string, and drawing facts.

    The facts dict has `visible` (node ids drawn or folded), `groups` (how
    many "×k" boxes) and `width` / `height` in pixels.
    """
    last = max(n.iteration for n in tree.nodes)
    iteration = last if iteration is None else iteration
    visible: set[int] = set()
    for node in tree.nodes:  # parents come before children
        if node.parent is None or (
            node.iteration <= iteration and node.parent in visible
        ):
            visible.add(node.id)
    children: dict[int, list[Node]] = {i: [] for i in visible}
    for node in tree.nodes:
        if node.parent is not None and node.id in visible:
            children[node.parent].append(node)

    collapse = (
        len(visible) > AUTO_COLLAPSE_AT
        if collapse_pruned == "auto"
        else bool(collapse_pruned)
    )
    on_path = _chosen_path(tree) & visible
    # Each parent's child slots: real nodes, and at most one folded group.
    slots: dict[int, list[Node | _Group]] = {}
    n_groups = 0
    for parent, kids in children.items():
        folded = [
            k
            for k in kids
            if collapse
            and k.status == PRUNED
            and not children[k.id]
            and k.id not in on_path
            and k.id != selected
        ]
        entries: list[Node | _Group] = [k for k in kids if k not in folded]
        if len(folded) >= 2:
            entries.append(_Group(parent, folded))
            n_groups += 1
        else:
            entries.extend(folded)
        slots[parent] = entries

    # Tidy layout: leaves take consecutive columns, parents sit over children.
    column: dict[int, float] = {}
    group_column: dict[int, float] = {}
    next_col = 0

    def place(node_id: int) -> float:
        nonlocal next_col
        xs = []
        for entry in slots.get(node_id, []):
            if isinstance(entry, _Group):
                group_column[entry.parent] = next_col
                xs.append(next_col)
                next_col += 1
            else:
                xs.append(place(entry.id))
        if xs:
            column[node_id] = (xs[0] + xs[-1]) / 2
        else:
            column[node_id] = next_col
            next_col += 1
        return column[node_id]

    place(0)
    n_cols = max(next_col, 1)
    dx = spacing
    show_scores = True
    if n_cols * dx > _MAX_WIDTH:
        dx = max(18, _MAX_WIDTH // n_cols)
        show_scores = dx >= 28
    max_depth = max(tree.nodes[i].depth for i in visible)
    width = int(2 * _MARGIN + max(n_cols - 1, 1) * dx)
    height = int(_TOP + max_depth * _DY + 40)

    def xy(col: float, depth: int) -> tuple[float, float]:
        return round(_MARGIN + col * dx, 1), _TOP + depth * _DY

    edges, nodes_svg = [], []
    for parent, entries in slots.items():
        if parent not in column:
            continue  # a folded pruned leaf has no children to draw
        px, py = xy(column[parent], tree.nodes[parent].depth)
        for entry in entries:
            if isinstance(entry, _Group):
                cx, cy = xy(group_column[parent], tree.nodes[parent].depth + 1)
                edges.append(
                    f'<line x1="{px}" y1="{py}" x2="{cx}" y2="{cy}" stroke="#999" '
                    'stroke-width="1" stroke-dasharray="4 3"/>'
                )
                scores = [m.score for m in entry.members if m.score is not None]
                span = f"scores {min(scores):.2f}–{max(scores):.2f}" if scores else ""
                reasons = sorted({m.reason for m in entry.members if m.reason})
                tip = (
                    f"{len(entry.members)} pruned siblings (nodes "
                    f"{', '.join(str(m.id) for m in entry.members[:12])}"
                    f"{'…' if len(entry.members) > 12 else ''}) {span}"
                    + (f"\nwhy: {shorten(reasons[0], 160)}" if reasons else "")
                )
                nodes_svg.append(
                    f'<g class="prm-node prm-node-group" data-count='
                    f'"{len(entry.members)}"><title>{attr(tip)}</title>'
                    f'<rect x="{cx - 13}" y="{cy - 8}" width="26" height="16" rx="3" '
                    'fill="#eeeeee" stroke="#444" stroke-dasharray="3 2"/>'
                    f'<text x="{cx}" y="{cy + 4}" text-anchor="middle" font-size="10"'
                    f' fill="#1a1a1a">×{len(entry.members)}</text></g>'
                )
                continue
            cx, cy = xy(column[entry.id], entry.depth)
            if entry.id in on_path and parent in on_path:
                style = 'stroke="#000" stroke-width="4"'
            elif entry.status == PRUNED:
                style = 'stroke="#999" stroke-width="1.2" stroke-dasharray="4 3"'
            else:
                style = 'stroke="#777" stroke-width="1.5"'
            edges.append(f'<line x1="{px}" y1="{py}" x2="{cx}" y2="{cy}" {style}/>')

    for node_id in visible:
        if node_id not in column:
            continue  # folded into a group
        node = tree.nodes[node_id]
        x, y = xy(column[node_id], node.depth)
        extra = ""
        if node_id in on_path and node_id != 0:
            extra += (
                f'<circle cx="{x}" cy="{y}" r="13" fill="none" stroke="#000" '
                'stroke-width="2"/>'
            )
        if node_id == selected:
            extra += (
                f'<circle cx="{x}" cy="{y}" r="17" fill="none" stroke="#e08214" '
                'stroke-width="3"/>'
            )
        label = ""
        if show_scores and node.parent is not None:
            label = (
                f'<text x="{x}" y="{y + 22}" text-anchor="middle" font-size="9" '
                f'fill="#333">{fmt_score(node.score)}</text>'
            )
        if node_id == tree.chosen:
            label += (
                f'<text x="{x + 12}" y="{y - 8}" font-size="13" fill="#000">★</text>'
            )
        classes = (
            f"prm-node prm-node-{node.status}"
            if node.parent is not None
            else ("prm-node prm-node-root")
        )
        if node_id in on_path:
            classes += " prm-node-chosen"
        nodes_svg.append(
            f'<g class="{classes}" data-node="{node_id}">'
            f"<title>{attr(_tooltip(node, tree.problem))}</title>{extra}"
            f"{_glyph(node, x, y)}{label}</g>"
        )

    depth_labels = "".join(
        f'<text x="4" y="{_TOP + d * _DY + 4}" font-size="9" fill="#888">'
        f"{'' if d == 0 else d}</text>"
        for d in range(max_depth + 1)
    )
    svg = (
        f'<svg class="prm-tree-svg" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'style="background:#ffffff;font-family:system-ui,sans-serif">'
        f"{depth_labels}<g>{''.join(edges)}</g><g>{''.join(nodes_svg)}</g></svg>"
    )
    facts = {
        "visible": visible,
        "groups": n_groups,
        "width": width,
        "height": height,
    }
    return svg, facts


def node_details_html(tree: SearchTree, node_id: int, *, math: bool = True) -> str:
    """A node's step, score, status and reason, and the path that led to it."""
    node = tree.nodes[node_id]
    if node.parent is None:
        return (
            f"<b>Root: the problem.</b> {esc(tree.problem, math=math)}"
            f"<div style='color:#666;font-size:12px'>{len(tree.nodes) - 1} steps "
            "were generated in this search.</div>"
        )
    status = {
        KEPT: "kept",
        PRUNED: "✗ pruned",
        FINISHED: "◆ finished",
    }[node.status]
    rows = []
    for step in tree.path(node_id):
        mark = " style='font-weight:700'" if step.id == node_id else ""
        rows.append(
            f"<tr{mark}><td style='color:#666;{_CELL}'>{step.depth}</td>"
            f"<td style='{_CELL}'>{esc(step.step, math=math)}</td>"
            f"<td style='border-left:4px solid {score_color(step.score)};"
            f"{_CELL};padding-left:4px'>{fmt_score(step.score)}</td>"
            f"<td style='{_CELL}'>{esc(step.status)}</td></tr>"
        )
    reason = (
        f"<div><b>why:</b> {esc(node.reason, math=math)}</div>" if node.reason else ""
    )
    value = (
        f" · path value {fmt_score(node.value, 3)}" if node.value is not None else ""
    )
    chosen = " · ★ on the chosen path" if node.id in _chosen_path(tree) else ""
    return (
        f"<div><b>Node {node.id}</b> · depth {node.depth} · iteration "
        f"{node.iteration} · <b>{status}</b>{chosen}</div>"
        f"<div><b>step:</b> {esc(node.step, math=math)}</div>"
        f"<div><b>step score:</b> {fmt_score(node.score, 3)}{value}</div>{reason}"
        "<div style='margin-top:6px;font-size:12px;color:#444'>Path from the "
        "problem to this node:</div>"
        "<table style='font-size:12px;border-collapse:collapse'>"
        f"<tr style='color:#666'><th style='{_CELL}'>depth</th>"
        f"<th style='text-align:left;{_CELL}'>step</th><th style='{_CELL}'>score"
        f"</th><th style='{_CELL}'>status</th></tr>{''.join(rows)}</table>"
    )


class SearchTreeView(StaticHTMLFallback, widgets.VBox):
    """A search tree, replayable iteration by iteration.

    Parameters: `tree` (a `SearchTree` or a `SearchResult`), `collapse_pruned`
    ("auto": fold sibling pruned leaves when more than 60 nodes show; True;
    False), `spacing` (pixels between columns), `math` (render `$...$`).

    State: `iteration` (the slider), `selected` (the node shown in details),
    `visible_nodes()`; `select(node_id)` does what picking in the list does.
    """

    def __init__(
        self,
        tree,
        *,
        collapse_pruned: bool | str = "auto",
        spacing: int = 34,
        math: bool = True,
    ) -> None:
        enable_colab_widgets()
        self.tree = check_tree(tree)
        if collapse_pruned not in ("auto", True, False):
            raise ValueError(
                "collapse_pruned must be 'auto', True or False, got "
                f"{collapse_pruned!r}."
            )
        self.collapse_pruned = collapse_pruned
        self.spacing = int(spacing)
        self.math = math
        iterations = [n.iteration for n in self.tree.nodes]
        first, last = min(iterations), max(iterations)
        self.iteration_slider = widgets.IntSlider(
            value=last,
            min=first,
            max=max(last, first + 1) if last == first else last,
            description="iteration",
            continuous_update=True,
            disabled=last == first,
            layout=widgets.Layout(width="360px"),
        )
        self.play = widgets.Play(
            value=last,
            min=first,
            max=self.iteration_slider.max,
            interval=900,
            description="replay",
            disabled=last == first,
        )
        # A kernel-side link, so that replaying also works when driven from Python.
        widgets.link((self.play, "value"), (self.iteration_slider, "value"))
        self.node_picker = widgets.Dropdown(
            options=[(self._option_label(n), n.id) for n in self.tree.nodes],
            value=self.tree.chosen if self.tree.chosen is not None else 0,
            description="node",
            layout=widgets.Layout(width="420px"),
        )
        self.fit_toggle = widgets.ToggleButton(
            value=False,
            description="Fit width",
            icon="compress",
            tooltip="Shrink the drawing to the width of the notebook",
        )
        self.legend = widgets.HTML(legend_html())
        self.summary = widgets.HTML()
        self.drawing = widgets.HTML(
            layout=widgets.Layout(
                max_height="620px",
                overflow="auto",
                border="1px solid #d0d0d0",
            )
        )
        self.details = widgets.HTMLMath()
        self.iteration_slider.observe(lambda _: self._render(), names="value")
        self.node_picker.observe(lambda _: self._render(), names="value")
        self.fit_toggle.observe(lambda _: self._render(), names="value")
        super().__init__(
            children=[
                self.legend,
                widgets.HBox(
                    [
                        self.play,
                        self.iteration_slider,
                        self.node_picker,
                        self.fit_toggle,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
                ),
                self.summary,
                self.drawing,
                self.details,
            ],
        )
        self.add_class("prm-search-tree-view")
        self._render()

    # -- state --------------------------------------------------------------

    @property
    def iteration(self) -> int:
        return self.iteration_slider.value

    @iteration.setter
    def iteration(self, value: int) -> None:
        lo, hi = self.iteration_slider.min, self.iteration_slider.max
        if not lo <= value <= hi:
            raise ValueError(f"iteration must be in {lo}..{hi}, got {value}.")
        self.iteration_slider.value = value

    @property
    def selected(self) -> int:
        return self.node_picker.value

    def select(self, node_id: int) -> None:
        """Show node `node_id`'s details (and ring it in the drawing)."""
        if not 0 <= node_id < len(self.tree.nodes):
            raise ValueError(
                f"no node {node_id}: this tree has nodes 0..{len(self.tree.nodes) - 1}."
            )
        self.node_picker.value = node_id

    def visible_nodes(self) -> list[int]:
        """Ids of the nodes made up to the slider's iteration."""
        return sorted(self._facts["visible"])

    def counts(self) -> dict[str, int]:
        """How many visible nodes are kept, pruned, finished (root excluded)."""
        return _counts(self.tree, self._facts["visible"])

    # -- drawing ------------------------------------------------------------

    @staticmethod
    def _option_label(node: Node) -> str:
        if node.parent is None:
            return "0 · the problem (root)"
        return (
            f"{node.id} · d{node.depth} · {fmt_score(node.score)} · {node.status}"
            f" · {shorten(plain(node.step), 40)}"
        )

    def _summary_html(self, facts: dict, when: str) -> str:
        counts = _counts(self.tree, facts["visible"])
        chosen = ""
        if self.tree.chosen is not None:
            steps = len(self.tree.path(self.tree.chosen))
            shown = self.tree.chosen in facts["visible"]
            chosen = f" · chosen path: {steps} steps" + (
                "" if shown else " (appears in a later iteration)"
            )
        folded = (
            f" · {facts['groups']} groups of pruned siblings folded (×k)"
            if facts["groups"]
            else ""
        )
        return (
            '<div style="font-size:12px;line-height:1.4">'
            f"{when} · {len(facts['visible']) - 1} of "
            f"{len(self.tree.nodes) - 1} steps shown: {counts[KEPT]} kept, "
            f"{counts[PRUNED]} pruned, {counts[FINISHED]} finished{chosen}{folded}"
            " · hover a node for its step and score</div>"
        )

    def _render(self) -> None:
        svg, self._facts = render_svg(
            self.tree,
            iteration=self.iteration,
            selected=self.selected,
            collapse_pruned=self.collapse_pruned,
            spacing=self.spacing,
        )
        if self.fit_toggle.value:
            # The viewBox keeps the proportions; the width follows the page.
            svg = svg.replace(
                f'width="{self._facts["width"]}" height="{self._facts["height"]}"',
                'width="100%"',
                1,
            )
        self.drawing.value = svg
        self.summary.value = self._summary_html(
            self._facts,
            f"iteration {self.iteration} of {self.iteration_slider.max}",
        )
        note = ""
        if self.selected not in self._facts["visible"]:
            note = (
                "<div style='color:#8a4b00;font-size:12px'>This node is made in a "
                "later iteration: move the slider right to see it.</div>"
            )
        self.details.value = panel(
            note + node_details_html(self.tree, self.selected, math=self.math),
            css_class="prm-tree-details",
        )

    def _repr_html_(self) -> str:
        svg, facts = render_svg(
            self.tree,
            selected=None,
            collapse_pruned=self.collapse_pruned,
            spacing=self.spacing,
        )
        last = max(n.iteration for n in self.tree.nodes)
        summary = self._summary_html(facts, f"all {last} iterations")
        chosen = ""
        if self.tree.chosen is not None:
            chosen = node_details_html(self.tree, self.tree.chosen, math=self.math)
        return panel(
            f"<div><b>Search tree</b> · {esc(self.tree.problem, math=self.math)}</div>"
            + legend_html()
            + summary
            + '<div style="overflow:auto;max-height:620px;border:1px solid #d0d0d0">'
            + svg
            + "</div>"
            + chosen,
            css_class="prm-search-tree",
        )
