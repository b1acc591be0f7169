"""Drawings that fit a notebook cell: direction="auto", the max_width cap (checked by
rendering the demo model's default drawing), no legend on small graphs, a legend of only
the marks drawn, and the output and input nodes named."""
import re
import shutil

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn, viz  # noqa: E402
from tinygrad_edu.functional import cross_entropy  # noqa: E402

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def chain(n):
    t = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    for _ in range(n - 1):
        t = t.tanh()
    return t.sum()   # n ops along the one path


def demo_loss():
    """The demo's model (tinygrad-edu demo) on a batch of 64."""
    rng = np.random.default_rng(0)
    model = nn.MLP([2, 16, 16, 8, 8, 3], batchnorm=True, generator=rng)
    x = tg.Tensor(rng.standard_normal((64, 2)))
    return model, cross_entropy(model(x), rng.integers(0, 3, 64))


def legend(src):
    found = re.findall(r"\tlegend \[label=<(.*)> shape=plaintext\]", src)
    return found[0] if found else None


def test_direction_auto_is_left_to_right_up_to_four_ops_then_top_to_bottom():
    # eight ops left to right are about 17 boxes in a row: scaled to a cell, unreadable
    assert viz.draw_graph(chain(4)).graph_attr["rankdir"] == "LR"
    assert viz.draw_graph(chain(5)).graph_attr["rankdir"] == "TB"
    assert viz.draw_graph(chain(5), direction="LR").graph_attr["rankdir"] == "LR"
    assert viz.draw_graph(chain(3), direction="BT").graph_attr["rankdir"] == "BT"
    model, loss = demo_loss()
    assert viz.draw_graph(loss, model).graph_attr["rankdir"] == "TB"


def test_a_collapsed_layer_counts_as_one_op_along_the_path():
    model, loss = demo_loss()
    drawn = viz.draw_graph(loss, model, modules="collapse")
    # 15 layers and cross-entropy's 8 ops: deep, top to bottom
    assert drawn.graph_attr["rankdir"] == "TB"
    tiny = nn.Linear(2, 2, generator=np.random.default_rng(0))
    loss = tiny(tg.ones(3, 2)).sum()
    assert viz.draw_graph(loss, tiny, modules="collapse").graph_attr["rankdir"] == "LR"


def test_max_width_becomes_graphvizs_size_in_inches():
    loss = chain(3)
    assert viz.draw_graph(loss).graph_attr["size"] == "10.42,1000"      # 1000 px / 96
    assert viz.draw_graph(loss, max_width=480).graph_attr["size"] == "5,1000"
    assert "size" not in viz.draw_graph(loss, max_width=None).graph_attr
    for bad in (0, -5, "wide", True):
        with pytest.raises(ValueError, match="draw_graph: max_width must be a positive number "
                                             "of pixels or None"):
            viz.draw_graph(loss, max_width=bad)


def rendered_size(svg):
    """(width in CSS px, smallest text in CSS px) of a Graphviz SVG (1 pt = 4/3 px)."""
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    scale = float(re.search(r'transform="scale\(([\d.]+)', svg).group(1))
    fonts = [float(f) for f in re.findall(r'font-size="([\d.]+)"', svg)]
    return width_pt * 4 / 3, min(fonts) * scale * 4 / 3


@needs_dot
@pytest.mark.parametrize("modules", ["auto", "collapse", "cluster"])
def test_the_demo_models_drawings_fit_1000_px_with_text_of_8_px(modules):
    model, loss = demo_loss()
    svg = viz.draw_graph(loss, model, modules=modules).pipe(format="svg").decode()
    width, text = rendered_size(svg)
    assert width <= 1000.5
    if modules == "auto":   # the default; the others fit too, with smaller edge labels
        assert text >= 8, text


@needs_dot
def test_a_small_graph_is_not_blown_up():
    svg = viz.draw_graph(chain(2)).pipe(format="svg").decode()
    width, text = rendered_size(svg)
    assert width < 1000 and text == pytest.approx(10 * 4 / 3, rel=0.01)   # 10 pt, unscaled


def test_no_legend_on_graphs_of_at_most_six_nodes():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    small = (x * 2.0).sum()          # x, Mul, result, Sum, loss: 5 nodes
    assert legend(viz.draw_graph(small).source) is None
    assert legend(viz.draw_graph(chain(4)).source) is not None


def test_the_legend_lists_only_the_marks_drawn():
    model, loss = demo_loss()
    text = legend(viz.draw_graph(loss, model).source)
    for mark in ["parameter (named by module path)", "constant / input", "result of an op",
                 "output", "ellipse: an operation", "broadcast"]:
        assert mark in text
    # no leaf that requires grad, no collapsed layer: not listed
    assert "leaf that requires grad" not in text and "layer drawn as one node" not in text
    text = legend(viz.draw_graph(chain(5)).source)
    assert "leaf that requires grad" in text and "broadcast" not in text
    assert "parameter" not in text and "constant" not in text
    text = legend(viz.draw_graph(loss, model, modules="collapse").source)
    assert "layer drawn as one node" in text
    micro = legend(viz.draw_dot(chain(5)).source)
    assert "circle: an operation" in micro or "ellipse: an operation" in micro


def test_the_output_and_the_inputs_are_named():
    model, loss = demo_loss()
    src = viz.draw_graph(loss, model).source
    assert '"input\\n(64, 2) float64"' in src and '"loss\\nscalar float64"' in src
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    out = x * tg.tensor([3.0, 4.0])
    src = viz.draw_graph(out).source
    assert '"output\\n(2,) float64"' in src and '"input\\n(2,) float64"' in src
    assert '"x\\n(2,) float64"' in src
    named = (x * tg.tensor([3.0, 4.0], name="scale")).sum()
    named.name = "total"
    src = viz.draw_graph(named).source
    assert '"scale\\n(2,) float64"' in src and '"total\\nscalar float64"' in src
    assert "input" not in src and "loss" not in src
    # a scalar constant is written into its op, not drawn as an input
    assert "Mul(\u00b7, 2)" in viz.draw_graph(x * 2.0).source
