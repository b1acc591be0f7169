"""viz: the DOT text draw_graph produces, its options, rendering with dot, and running
without the graphviz package (the backward trace is tested in test_trace.py)."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, ops, viz
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
    """The node statements of a drawing, without the legend's."""
    return [line.strip() for line in dot.body
            if "[label=" in line and " -> " not in line and "legend" not in line]


def chain(n, step=lambda t: t * 1.0):
    t = x = tg.tensor(1.0, requires_grad=True)
    for _ in range(n):
        t = step(t)
    return x, t


def test_exact_source_of_a_tiny_graph():
    _, _, y = tiny()
    dot = viz.draw_graph(y, show="order")
    assert dot.source == """digraph computation_graph {
\tgraph [rankdir=LR size="10.42,1000"]
\tnode [fontname=Helvetica fontsize=10]
\tedge [fontname=Helvetica fontsize=9]
\tn0 [label="x\\n(2,) float64" fillcolor="#d9ead3" shape=box style=filled]
\tn1 [label="w\\nscalar float64" fillcolor="#d9ead3" shape=box style=filled]
\tn2 [label="#2 Mul" shape=ellipse tooltip="y = a * b\\ndy/da = b,  dy/db = a"]
\tn0 -> n2
\tn1 -> n2 [label="broadcast scalar -> (2,)" color="#cc0000" fontcolor="#cc0000" style=dashed]
\tn3 [label="(2,) float64" shape=box]
\tn2 -> n3 [weight=8]
\tn4 [label="#1 Sum" shape=ellipse tooltip="y = sum of x over axis\\ndy/dx = 1 (broadcast back)"]
\tn3 -> n4 [weight=8]
\tn5 [label="loss\\nscalar float64" fillcolor="#fce5cd" penwidth=2 shape=box style=filled]
\tn4 -> n5 [weight=8]
}
"""


def test_same_graph_gives_the_same_text_every_time():
    sources = []
    for _ in range(2):
        _, loss = mlp_loss()
        sources.append(viz.draw_graph(loss).source)
    assert sources[0] == sources[1]
    assert "n0 " in sources[0] and "id(" not in sources[0]


def test_every_op_node_says_its_rows_math_and_rule():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model)
    op_lines = [line for line in node_lines(dot) if "shape=ellipse" in line]
    ops_drawn = [t._op for t in walk([loss]) if t._op is not None]
    assert len(op_lines) == len(ops_drawn)
    for line, op in zip(op_lines, ops_drawn):
        assert f'tooltip="{op.math}\\n{op.rule}"' in line
        assert re.search(f'label="?{re.escape(op.name)}', line)   # op.label starts with it


def test_parameters_are_named_by_module_path_and_coloured():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model)
    src = dot.source
    for name in ["fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "fc2.weight", "fc2.bias"]:
        assert f'label="{name}\\n' in src
    param_line = next(line for line in node_lines(dot) if "fc1.weight" in line)
    assert viz.COLORS["parameter"] in param_line
    # the output is drawn differently, and the input constant too
    out_line = node_lines(dot)[-1]
    assert viz.COLORS["output"] in out_line and "penwidth=2" in out_line
    assert f'label="input\\n(6, 2) float64" fillcolor="{viz.COLORS["constant"]}"' in src


def test_the_legend_comes_with_graphs_of_more_than_six_nodes():
    model, loss = mlp_loss()
    src = viz.draw_graph(loss, model).source
    assert "\tlegend [label=<<table" in src and "parameter (named by module path)" in src
    assert "legend [label=" in viz.draw_graph(loss).source   # with or without a model
    assert "legend" not in viz.draw_graph(tiny()[2]).source   # 6 nodes


def test_model_as_a_dict_of_names():
    x, w, y = tiny()
    src = viz.draw_graph(y, {"weight": w}).source
    assert 'label="weight\\nscalar float64" fillcolor="#cfe2f3"' in src


def test_broadcast_edges_are_marked():
    model, loss = mlp_loss(batchnorm=False)
    src = viz.draw_graph(loss, model).source
    assert 'label="broadcast (4,) -> (6, 4)"' in src      # fc1.bias added to every row
    assert 'label="broadcast (3,) -> (6, 3)"' in src


def test_broadcast_marks_follow_the_ops_row():
    # Expand changes the shape too, but its row does not broadcast: no red edge
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert not ops.broadcast_to.broadcasts
    assert 'label="broadcast' not in viz.draw_graph(x.broadcast_to((3, 2)).sum()).source


def test_x_times_x_draws_two_edges():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    dot = viz.draw_graph((x * x).sum())
    assert sum(line.strip() == "n0 -> n1" for line in dot.body) == 2


def test_scalar_constants_are_written_into_the_op():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    src = viz.draw_graph(((x * 2 - 1) ** 2).mean()).source
    assert "Mul(\u00b7, 2)" in src and "Sub(\u00b7, 1)" in src and "Pow ^2" in src
    assert "Div(\u00b7, 2)" in src


def test_backward_order_numbers_ops_like_the_engine():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, show="order")
    ops_run = [t for t in reversed(list(walk([loss], grad_only=True))) if t._op is not None]
    numbers = sorted(int(line.split('label="#')[1].split(" ")[0])
                     for line in dot.body if 'label="#' in line)
    assert numbers == list(range(1, len(ops_run) + 1))
    # step 1 is the op that produced the loss (the mean's division)
    assert '"#1 Div(\u00b7, 6)"' in dot.source


def test_show_takes_one_string_or_several():
    x, w, y = tiny()
    y.backward(retain_graph=True)
    both = viz.draw_graph(y, show=["values", "grads"], style="tensor").source
    assert viz.draw_graph(y, show=("grads", "values"), style="tensor").source == both
    assert both != viz.draw_graph(y, show="values").source
    assert viz.draw_graph(y, show=()).source == viz.draw_graph(y).source


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
    src = viz.draw_graph(loss, net, modules="cluster").source
    assert 'label="body (Sequential)"' in src and 'label="body.0 (Linear)"' in src
    assert 'label="head (Linear)"' in src
    # body.0 is nested inside body: its subgraph opens before body's closes
    body = src.index("subgraph cluster_body {")
    inner = src.index('subgraph "cluster_body.0" {')
    head = src.index("subgraph cluster_head {")
    assert body < inner < head
    # the parameter sits in its module's cluster
    assert src.index('label="body.0.weight') > inner


def test_modules_need_the_model_as_a_module():
    _, loss = mlp_loss()
    with pytest.raises(ValueError, match="draw_graph: modules='cluster' needs the model"):
        viz.draw_graph(loss, modules="cluster")
    x, w, y = tiny()
    with pytest.raises(ValueError, match="needs the model, a Module.*got model=dict"):
        viz.draw_graph(y, {"w": w}, modules="collapse")


def test_collapse_draws_one_node_per_layer():
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, modules="collapse")
    src = dot.source
    # path: layer, then the shapes flowing in (with a gradient) and out
    for layer in ['"fc1: Linear\\n-> (6, 4)"', '"bn1: BatchNorm1d\\n(6, 4) -> (6, 4)"',
                  '"relu1: ReLU\\n(6, 4) -> (6, 4)"', '"fc2: Linear\\n(6, 4) -> (6, 3)"']:
        assert layer in src
    assert "MatMul" not in src and "Sum axis=0" not in src   # hidden inside the layers
    assert "fc1.weight" in src                                # parameters still shown
    partial = viz.draw_graph(loss, model, modules=["bn1"]).source
    assert '"bn1: BatchNorm1d\\n(6, 4) -> (6, 4)"' in partial and "MatMul" in partial
    with pytest.raises(ValueError, match="draw_graph: modules names unknown module paths"):
        viz.draw_graph(loss, model, modules=["nope"])


def test_values_and_gradients_in_labels():
    x, w, y = tiny()
    y.backward(retain_graph=True)
    src = viz.draw_graph(y, show=("values", "grads"), style="tensor").source
    assert "x\\n(2,) float64\\n[1, 2]\\ngrad norm 4.24" in src     # grad of x is [3, 3]
    assert "w\\nscalar float64\\n3\\ngrad norm 3" in src


def test_micrograd_view_of_a_scalar_graph():
    a = tg.tensor(2.0, requires_grad=True, name="a")
    b = tg.tensor(-3.0, requires_grad=True, name="b")
    c = a * b + a
    assert viz.retain_grads_and_backward(c) is c
    dot = viz.draw_graph(c, show="grads")
    src = dot.source
    assert 'label="{ a | data 2.0000 | grad -2.0000 }"' in src
    assert 'label="{ b | data -3.0000 | grad 2.0000 }"' in src
    assert 'label="{  | data -6.0000 | grad 1.0000 }"' in src   # a*b, retained on the way
    assert "shape=record" in src and "shape=circle" in src


def test_a_freed_graph_draws_and_still_refuses_a_second_backward():
    # drawing after backward is tested in test_viz_after_backward.py
    _, _, y = tiny()
    y.backward()
    assert viz.draw_graph(y).source.count("Mul") == 1
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_100k_chain_draws_summarised_without_recursion():
    x, t = chain(100_000)
    dot = viz.draw_graph(t, max_nodes=500)
    nodes = node_lines(dot)
    assert len(nodes) <= 2 * 500 + 1
    note = [line for line in nodes if "more tensors not drawn" in line]
    assert len(note) == 1 and "max_nodes=500" in note[0]
    # 100,001 chain tensors (plus the constant 1.0, if it is one shared tensor)
    assert re.search(r"graph has 10000[12],", note[0])
    # the drawn part is the end of the chain: the output is there, x is not
    assert viz.COLORS["output"] in dot.source and viz.COLORS["leaf"] not in dot.source
    # the note stands in front of the one op whose input was cut off
    note_id = note[0].split()[0]
    assert sum(line.strip().startswith(f"{note_id} -> ") for line in dot.body) == 1


def test_truncation_keeps_every_user_of_a_kept_result():
    # an unrolled recurrence: each step uses the previous two results and one shared weight
    w = tg.tensor([0.5, 0.25], requires_grad=True, name="w")
    ts = [tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0], requires_grad=True)]
    for _ in range(60):
        ts.append((ts[-1] + ts[-2]) * w)
    root = ts[-1].sum()
    order = list(walk([root]))
    kept = viz.last_tensors(order, [root], 40)
    assert set(order[-40:]) <= kept and root in kept
    assert kept - set(order[-40:]) == {w}     # met early in the walk, used all along
    for t in order:   # a user of a kept result
        if t._op is not None and any(p in kept and p._op is not None for p in t._parents):
            assert t in kept
    src = viz.draw_graph(root, max_nodes=40).source
    assert 'label="w\\n(2,) float64"' in src and "graph has " in src
    # with several roots, each root is drawn even when its subgraph comes early
    first = (ts[0] * 3.0).sum()
    kept = viz.last_tensors(list(walk([first, root])), [first, root], 40)
    assert first in kept and root in kept


def test_long_chain_draws_in_full_with_max_nodes_none():
    x, t = chain(5000, step=lambda t: t + 1.0)
    dot = viz.draw_graph(t, max_nodes=None, show="order")
    assert len(node_lines(dot)) == 5001 + 5000
    assert '"#5000 Add(\u00b7, 1)"' in dot.source and "not drawn" not in dot.source


@pytest.mark.parametrize("option, bad, says", [
    ("show", "value", "show must be some of 'values', 'grads', 'order'"),
    ("show", ["grads", "nope"], "show must be some of"),
    ("show", True, "show must be some of"),
    ("modules", "clusters", "modules must be None, 'cluster', 'collapse' or a list"),
    ("modules", [1, 2], "modules must be None"),
    ("direction", "lr", "direction must be one of 'auto', 'LR', 'TB', 'RL', 'BT'"),
    ("style", "fancy", "style must be one of 'auto', 'tensor', 'micrograd'"),
    ("max_nodes", 0, "max_nodes must be a positive int or None"),
    ("max_nodes", -3, "max_nodes must be a positive int or None"),
    ("max_nodes", 2.5, "max_nodes must be a positive int or None"),
    ("max_nodes", True, "max_nodes must be a positive int or None"),
])
def test_invalid_options_are_named_with_their_choices(option, bad, says):
    model, loss = mlp_loss()
    with pytest.raises(ValueError, match=re.escape("draw_graph: " + says)):
        viz.draw_graph(loss, model, **{option: bad})


def test_invalid_model_and_root_are_named():
    _, _, y = tiny()
    with pytest.raises(TypeError, match="draw_graph: model must be a Module or a dict.*list"):
        viz.draw_graph(y, [1, 2])
    with pytest.raises(TypeError, match="draw_graph: expected a Tensor.*ndarray"):
        viz.draw_graph(np.ones(3))


def test_render_svg_for_real(tmp_path):
    model, loss = mlp_loss()
    dot = viz.draw_graph(loss, model, modules="cluster", show="order")
    path = viz.render_graph(dot, tmp_path / "graph", "svg")
    assert path.endswith("graph.svg")
    svg = open(path).read()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "fc1.weight" in svg and "bn1 (BatchNorm1d)" in svg and "#1 Div" in svg
    assert 'xlink:title="y = a @ b&#10;dy/da = g b^T,' in svg   # hovering an op shows its row
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
    with pytest.raises(ValueError, match="render_graph: format"):
        viz.render_graph(viz.draw_graph(y), tmp_path / "g", "jpg")


WITHOUT_GRAPHVIZ = textwrap.dedent("""
    import sys
    sys.modules["graphviz"] = None          # `import graphviz` now raises ImportError
    import numpy as np
    import tinygrad_edu as tg
    from tinygrad_edu import nn, viz
    from tinygrad_edu.functional import cross_entropy

    model = nn.MLP([2, 3, 2], generator=np.random.default_rng(0))
    x = tg.Tensor(np.random.default_rng(1).standard_normal((4, 2)))
    loss = cross_entropy(model(x), np.array([0, 1, 1, 0]))
    print("trace steps", len(viz.backward_trace(loss, model)))
    assert model.fc1.weight.grad is not None
    y = (tg.tensor([1.0, 2.0], requires_grad=True) ** 2).sum()
    y.backward(retain_graph=True)
    try:
        viz.draw_graph(y)
    except ImportError as e:
        print("ERROR", e)
    assert "graphviz" not in sys.modules or sys.modules["graphviz"] is None
""")


def test_tinygrad_edu_works_without_the_graphviz_package():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", WITHOUT_GRAPHVIZ], capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"trace steps \d+", out)
    error = out[out.index("ERROR"):]
    assert "draw_graph needs the graphviz Python package" in error
    assert "pip install graphviz" in error and "apt-get install graphviz" in error
    assert "brew install graphviz" in error
