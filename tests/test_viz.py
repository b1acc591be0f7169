"""viz: the DOT text draw_graph produces, and rendering with dot (the trace: test_trace.py)."""
import re

import graphviz
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, viz
from tinygrad_edu.autograd import walk
from tinygrad_edu.functional import cross_entropy


def tiny():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    w = tg.tensor(3.0, requires_grad=True, name="w")
    return x, w, (x * w).sum()


def mlp_loss(batchnorm=True, seed=0, n=6):
    rng = np.random.default_rng(seed)
    model = nn.MLP([2, 4, 3], batchnorm=batchnorm, generator=rng)
    x = tg.Tensor(rng.standard_normal((n, 2)))
    return model, cross_entropy(model(x), np.arange(n) % 3)


def node_lines(dot):
    return [line.strip() for line in dot.body if "[label=" in line and " -> " not in line]


def test_exact_source_of_a_tiny_graph():
    _, _, y = tiny()
    dot = viz.draw_graph(y, legend=False, backward_order=True)
    assert dot.source == """digraph computation_graph {
\tgraph [rankdir=LR]
\tnode [fontname=Helvetica fontsize=10]
\tedge [fontname=Helvetica fontsize=9]
\tn0 [label="x\\n(2,) float64" fillcolor="#d9ead3" shape=box style=filled]
\tn1 [label="w\\nscalar float64" fillcolor="#d9ead3" shape=box style=filled]
\tn2 [label="#2 Mul" shape=ellipse]
\tn0 -> n2
\tn1 -> n2 [label="broadcast scalar -> (2,)" color="#cc0000" fontcolor="#cc0000" style=dashed]
\tn3 [label="(2,) float64" shape=box]
\tn2 -> n3
\tn4 [label="#1 Sum" shape=ellipse]
\tn3 -> n4
\tn5 [label="scalar float64" fillcolor="#fce5cd" penwidth=2 shape=box style=filled]
\tn4 -> n5
}
"""


def test_same_graph_gives_the_same_text_every_time():
    sources = []
    for _ in range(2):
        _, loss = mlp_loss()
        sources.append(viz.draw_graph(loss, cluster_modules=False).source)
    assert sources[0] == sources[1]
    assert "n0 " in sources[0] and "id(" not in sources[0]


def test_parameters_are_named_by_module_path_and_coloured():
    model, loss = mlp_loss()
    src = viz.draw_graph(loss, model).source
    for name in ["fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "fc2.weight", "fc2.bias"]:
        assert f'label="{name}\\n' in src
    param_line = next(line for line in node_lines(viz.draw_graph(loss, model))
                      if "fc1.weight" in line)
    assert viz.COLORS["parameter"] in param_line
    assert "legend_parameter" in src and "cluster_legend" in src
    # the output is drawn differently, and the input constant too
    out_line = node_lines(viz.draw_graph(loss, model, legend=False))[-1]
    assert viz.COLORS["output"] in out_line and "penwidth=2" in out_line
    assert f'label="(6, 2) float64" fillcolor="{viz.COLORS["constant"]}"' in src


def test_params_as_a_dict():
    x, w, y = tiny()
    src = viz.draw_graph(y, {"weight": w}, legend=False).source
    assert 'label="weight\\nscalar float64" fillcolor="#cfe2f3"' in src


def test_broadcast_edges_are_marked():
    model, loss = mlp_loss(batchnorm=False)
    src = viz.draw_graph(loss, model).source
    assert 'label="broadcast (4,) -> (6, 4)"' in src      # fc1.bias added to every row
    assert 'label="broadcast (3,) -> (6, 3)"' in src


def test_x_times_x_draws_two_edges():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    dot = viz.draw_graph((x * x).sum(), legend=False)
    assert sum(line.strip() == "n0 -> n1" for line in dot.body) == 2


def test_scalar_constants_are_written_into_the_op():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    src = viz.draw_graph(((x * 2 - 1) ** 2).mean(), legend=False).source
    assert "Mul(\u00b7, 2)" in src and "Sub(\u00b7, 1)" in src and "Pow ^2" in src
    assert "Div(\u00b7, 2)" in src


def test_backward_order_numbers_ops_like_the_engine():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, backward_order=True)
    ops = [t for t in reversed(list(walk([loss], grad_only=True))) if t._op is not None]
    numbers = sorted(int(line.split('label="#')[1].split(" ")[0])
                     for line in dot.body if 'label="#' in line)
    assert numbers == list(range(1, len(ops) + 1))
    # step 1 is the op that produced the loss (the mean's division)
    assert '"#1 Div(\u00b7, 6)"' in dot.source


def test_clusters_follow_the_module_tree():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.head = nn.Linear(3, 2)

        def forward(self, x):
            return self.head(self.body(x))

    tg.manual_seed(0)
    net = Net()
    loss = net(tg.randn(4, 2)).sum()
    src = viz.draw_graph(loss, net, cluster_modules=True, legend=False).source
    assert 'label="body (Sequential)"' in src and 'label="body.0 (Linear)"' in src
    assert 'label="head (Linear)"' in src
    # body.0 is nested inside body: its subgraph opens before body's closes
    body = src.index("subgraph cluster_body {")
    inner = src.index('subgraph "cluster_body.0" {')
    head = src.index("subgraph cluster_head {")
    assert body < inner < head
    # the parameter sits in its module's cluster
    assert src.index('label="body.0.weight') > inner


def test_cluster_and_collapse_need_the_model():
    _, loss = mlp_loss()
    with pytest.raises(ValueError, match="need the model"):
        viz.draw_graph(loss, cluster_modules=True)


def test_collapse_draws_one_node_per_layer():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, collapse=True, legend=False)
    src = dot.source
    for layer in ['"fc1\\nLinear"', '"bn1\\nBatchNorm1d"', '"relu1\\nReLU"', '"fc2\\nLinear"']:
        assert layer in src
    assert "MatMul" not in src and "Sum axis=0" not in src   # hidden inside the layers
    assert "fc1.weight" in src                                # parameters still shown
    partial = viz.draw_graph(loss, model, collapse=["bn1"], legend=False).source
    assert '"bn1\\nBatchNorm1d"' in partial and "MatMul" in partial
    with pytest.raises(ValueError, match="unknown module paths"):
        viz.draw_graph(loss, model, collapse=["nope"])


def test_values_and_gradients_in_labels():
    x, w, y = tiny()
    y.backward(retain_graph=True)
    src = viz.draw_graph(y, show_values=True, show_grads=True, style="tensor", legend=False).source
    assert "x\\n(2,) float64\\n[1, 2]\\ngrad norm 4.24" in src     # grad of x is [3, 3]
    assert "w\\nscalar float64\\n3\\ngrad norm 3" in src


def test_micrograd_view_of_a_scalar_graph():
    a = tg.tensor(2.0, requires_grad=True, name="a")
    b = tg.tensor(-3.0, requires_grad=True, name="b")
    c = a * b + a
    dot = viz.draw_graph(c, run_backward=True, legend=False)
    src = dot.source
    assert 'label="{ a | data 2.0000 | grad -2.0000 }"' in src
    assert 'label="{ b | data -3.0000 | grad 2.0000 }"' in src
    assert 'label="{  | data -6.0000 | grad 1.0000 }"' in src   # a*b, retained on the way
    assert "shape=record" in src and "shape=circle" in src


def test_a_freed_graph_gives_a_clear_error():
    _, _, y = tiny()
    y.backward()
    with pytest.raises(RuntimeError, match="draw_graph: .* freed by backward.*run_backward"):
        viz.draw_graph(y)


def test_100k_chain_draws_summarised_without_recursion():
    x = tg.tensor(1.0, requires_grad=True)
    t = x
    for _ in range(100_000):
        t = t * 1.0
    dot = viz.draw_graph(t, max_nodes=500, legend=False)
    nodes = node_lines(dot)
    assert len(nodes) <= 2 * 500 + 1
    note = [line for line in nodes if "more tensors not drawn" in line]
    assert len(note) == 1 and "max_nodes=500" in note[0]
    # 100,001 chain tensors (plus the constant 1.0, if it is one shared tensor)
    assert re.search(r"graph has 10000[12],", note[0])
    # the drawn part is the end of the chain: the output is there, x is not
    assert viz.COLORS["output"] in dot.source and viz.COLORS["leaf"] not in dot.source


def test_long_chain_draws_in_full_with_max_nodes_none():
    x = tg.tensor(1.0, requires_grad=True)
    t = x
    for _ in range(5000):
        t = t + 1.0
    dot = viz.draw_graph(t, max_nodes=None, legend=False, backward_order=True)
    assert len(node_lines(dot)) == 5001 + 5000
    assert '"#5000 Add(\u00b7, 1)"' in dot.source and "not drawn" not in dot.source


def test_render_svg_for_real(tmp_path):
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, cluster_modules=True, backward_order=True)
    path = viz.render_graph(dot, tmp_path / "graph", "svg")
    assert path.endswith("graph.svg")
    svg = open(path).read()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "fc1.weight" in svg and "bn1 (BatchNorm1d)" in svg and "#1 Div" in svg
    png = viz.render_graph(dot, tmp_path / "graph.png", "png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    pdf = viz.render_graph(dot, tmp_path / "graph", "pdf")
    assert pdf.endswith("graph.pdf") and open(pdf, "rb").read(5) == b"%PDF-"


def test_missing_dot_gives_one_clear_error(tmp_path, monkeypatch):
    _, _, y = tiny()
    dot = viz.draw_graph(y)
    monkeypatch.setenv("PATH", str(tmp_path))          # hide the dot executable
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.render_graph(dot, tmp_path / "g", "svg")
    msg = str(info.value)
    assert "apt-get install graphviz" in msg and "brew install graphviz" in msg
    assert "conda install graphviz" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not (tmp_path / "g.svg").exists()
    # the DOT text still works without the binary
    assert viz.save_dot(dot, tmp_path / "g.dot") and "digraph" in (tmp_path / "g.dot").read_text()


def test_jupyter_display(tmp_path, monkeypatch):
    _, _, y = tiny()
    dot = viz.draw_graph(y)
    assert isinstance(dot, graphviz.Digraph)
    assert "<svg" in dot._repr_mimebundle_()["image/svg+xml"]
    monkeypatch.setenv("PATH", str(tmp_path))
    shown = dot._repr_mimebundle_()
    assert list(shown) == ["text/plain"] and "apt-get install graphviz" in shown["text/plain"]


def test_render_rejects_unknown_format(tmp_path):
    _, _, y = tiny()
    with pytest.raises(ValueError, match="format"):
        viz.render_graph(viz.draw_graph(y), tmp_path / "g", "jpg")


def test_non_tensors_are_refused_by_name():
    with pytest.raises(TypeError, match="draw_graph: expected a Tensor.*ndarray"):
        viz.draw_graph(np.ones(3))


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_max_nodes_must_be_positive(bad):
    _, _, y = tiny()
    with pytest.raises(ValueError, match="max_nodes must be a positive int or None"):
        viz.draw_graph(y, max_nodes=bad)
