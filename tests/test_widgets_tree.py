"""SearchTreeView: shapes tell kept / pruned / finished apart, the chosen path
stands out, the slider replays the search, node details, large trees, bad input."""

from __future__ import annotations

import random
import re
import time

import pytest

from prm_edu.search.tree import Cost, SearchResult, SearchTree
from prm_edu.widgets import SearchTreeView


def beam_tree(width: int = 2, expand: int = 3, depth: int = 3, seed: int = 0):
    """A tree as step-level beam search grows it: keep `width` of
    `width * expand` candidates per iteration; the last level finishes."""
    rng = random.Random(seed)
    tree = SearchTree("Solve $2x + 5 = 15$.")
    beams = [0]
    for it in range(1, depth + 1):
        children = []
        for parent in beams:
            for k in range(expand):
                score = round(rng.random(), 2)
                node = tree.add(
                    parent,
                    f"step {it}.{k} after {parent}",
                    score,
                    it,
                    final=it == depth,
                )
                children.append(node)
        children.sort(key=lambda n: n.score, reverse=True)
        for node in children[width:]:
            tree.prune(node.id, f"score {node.score:.2f} below the top {width}")
        beams = [n.id for n in children[:width]]
    for leaf in beams:
        tree.finish(leaf, "final step")
    tree.chosen = beams[0]
    return tree


def test_statuses_differ_by_shape_and_stroke_not_only_colour():
    view = SearchTreeView(beam_tree())
    svg = view.drawing.value

    def glyph(status: str) -> str:
        pattern = rf'<g class="prm-node prm-node-{status}[^"]*"[^>]*>.*?</g>'
        return re.search(pattern, svg, re.S).group(0)

    kept, pruned, done = glyph("kept"), glyph("pruned"), glyph("finished")
    assert "<circle" in kept
    assert "<rect" in pruned and "stroke-dasharray" in pruned
    assert "<path" in pruned  # crossed out
    assert "<polygon" in done and 'stroke-width="2.6"' in done
    assert "kept (solid circle)" in view.legend.value


def test_every_node_has_a_tooltip_with_step_score_and_reason():
    tree = beam_tree()
    svg = SearchTreeView(tree).drawing.value
    assert svg.count("<title>") == len(tree.nodes)
    pruned = next(n for n in tree.nodes if n.status == "pruned")
    assert f"node {pruned.id} · depth" in svg
    assert f"why: {pruned.reason}" in svg
    assert f"step: {pruned.step}" in svg


def test_chosen_path_is_highlighted():
    tree = beam_tree()
    view = SearchTreeView(tree)
    svg = view.drawing.value
    path = [n.id for n in tree.path(tree.chosen)]
    for node_id in path:
        assert re.search(rf'prm-node-chosen" data-node="{node_id}"', svg)
    assert svg.count('stroke="#000" stroke-width="4"') == len(path)
    assert "★" in svg
    assert view.selected == tree.chosen
    assert "chosen path: 3 steps" in view.summary.value


def test_iteration_slider_replays_the_search():
    tree = beam_tree()
    view = SearchTreeView(tree)
    assert view.iteration_slider.max == 3
    assert len(view.visible_nodes()) == len(tree.nodes)
    view.iteration_slider.value = 1
    assert view.visible_nodes() == [0] + [n.id for n in tree.nodes if n.iteration == 1]
    assert 'data-node="4"' not in view.drawing.value
    assert "appears in a later iteration" in view.summary.value
    assert "later iteration" in view.details.value  # the chosen leaf is hidden
    view.iteration = 2
    assert max(tree.nodes[i].iteration for i in view.visible_nodes()) == 2
    with pytest.raises(ValueError, match="iteration must be in"):
        view.iteration = 9


def test_picking_a_node_shows_its_step_score_reason_and_path():
    tree = beam_tree()
    view = SearchTreeView(tree)
    pruned = next(n for n in tree.nodes if n.status == "pruned" and n.depth == 2)
    view.node_picker.value = pruned.id
    details = view.details.value
    assert f"Node {pruned.id}" in details and "pruned" in details
    assert pruned.step in details and pruned.reason in details
    assert f"{pruned.score:.3f}" in details
    parent = tree.nodes[pruned.parent]
    assert parent.step in details  # the path that led here
    assert 'stroke="#e08214"' in view.drawing.value  # ringed
    view.select(0)
    assert "Root: the problem" in view.details.value
    with pytest.raises(ValueError, match="no node 999"):
        view.select(999)


def test_pruned_siblings_fold_when_the_tree_is_large():
    tree = beam_tree(width=4, expand=6, depth=8, seed=1)  # 1 + 6 + 7*24 nodes
    assert len(tree.nodes) > 150
    view = SearchTreeView(tree)
    assert view._facts["groups"] > 0
    assert "×" in view.drawing.value and "groups of pruned siblings" in (
        view.summary.value
    )
    flat = SearchTreeView(tree, collapse_pruned=False)
    assert flat._facts["groups"] == 0
    assert flat.drawing.value.count("<title>") == len(tree.nodes)
    assert view._facts["width"] < flat._facts["width"]


def test_hundreds_of_nodes_render_fast_and_stay_bounded():
    tree = beam_tree(width=8, expand=8, depth=11, seed=2)  # 1 + 8 + 10*64 nodes
    assert len(tree.nodes) > 600
    start = time.perf_counter()
    view = SearchTreeView(tree)
    for it in range(1, 12):
        view.iteration = it
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, elapsed
    assert view._facts["width"] <= 3100
    flat = SearchTreeView(tree, collapse_pruned=False)
    # Unfolded, columns shrink to the smallest spacing that keeps glyphs apart
    # and the score labels go; the drawing scrolls.
    assert flat._facts["width"] < 22 * len(tree.nodes)
    score_label = 'text-anchor="middle" font-size="9"'
    assert score_label not in flat.drawing.value
    assert score_label in SearchTreeView(beam_tree()).drawing.value


def test_search_result_is_accepted_and_static_html_has_the_tree():
    tree = beam_tree()
    result = SearchResult(tree.problem, tree.steps(tree.chosen), "5", tree, Cost())
    view = SearchTreeView(result)
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "<svg" in html and html.count("<title>") == len(tree.nodes)
    assert "Search tree" in html and "$2x + 5 = 15$" in html
    assert tree.nodes[tree.chosen].step in html  # the chosen path, spelled out
    assert "all 3 iterations" in html


def test_a_one_iteration_tree_disables_the_slider():
    tree = SearchTree("p")
    tree.add(0, "only step", 0.7, 0, final=True)
    view = SearchTreeView(tree)
    assert view.iteration_slider.disabled and view.visible_nodes() == [0, 1]


def test_bad_trees_are_value_errors():
    with pytest.raises(ValueError, match="tree is empty"):
        SearchTreeView(SearchTree("p"))
    empty = SearchTree("p")
    empty.nodes.clear()
    with pytest.raises(ValueError, match="tree is empty"):
        SearchTreeView(empty)
    with pytest.raises(ValueError, match="draws a SearchTree"):
        SearchTreeView([1, 2, 3])
    tree = beam_tree()
    tree.chosen = 999
    with pytest.raises(ValueError, match="tree.chosen is 999"):
        SearchTreeView(tree)
    tree = beam_tree()
    tree.nodes[3].parent = 7
    with pytest.raises(ValueError, match="node 3 has parent 7"):
        SearchTreeView(tree)
    with pytest.raises(ValueError, match="collapse_pruned"):
        SearchTreeView(beam_tree(), collapse_pruned="sometimes")


def test_play_button_drives_the_slider_from_python_too():
    view = SearchTreeView(beam_tree())
    view.play.value = 1
    assert view.iteration == 1
    assert max(beam_tree().nodes[i].iteration for i in view.visible_nodes()) == 1


def test_fit_width_scales_the_drawing_to_the_page():
    view = SearchTreeView(beam_tree(width=4, expand=6, depth=8, seed=1))
    width = view._facts["width"]
    assert f'width="{width}"' in view.drawing.value
    view.fit_toggle.value = True
    assert 'width="100%"' in view.drawing.value
    assert f'viewBox="0 0 {width} ' in view.drawing.value
    view.fit_toggle.value = False
    assert f'width="{width}"' in view.drawing.value


def test_tooltips_and_node_list_read_math_as_plain_text():
    tree = beam_tree()
    tree.nodes[1].step = "Subtract 5 from both sides: $2x = 20$"
    view = SearchTreeView(tree)
    assert "step: Subtract 5 from both sides: 2x = 20" in view.drawing.value
    assert "$2x" not in view.drawing.value
    assert "the problem: Solve 2x + 5 = 15." in view.drawing.value
    labels = [label for label, _ in view.node_picker.options]
    assert any(label.endswith("both sides: 2x = 20") for label in labels)
