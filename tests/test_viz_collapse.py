"""draw_graph's default: conv, pooling and attention layers drawn as one node each, with
what they are and the shapes in and out; expandable to their primitives."""
import re

import pytest

pytest.importorskip("graphviz")

import tinygrad_edu as tg  # noqa: E402
import tinygrad_edu.nn as nn  # noqa: E402
import tinygrad_edu.nn.functional as F  # noqa: E402
from tinygrad_edu import viz  # noqa: E402


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(x.flatten(1))


class AttentionNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.attn(x, x, x)[0].mean(1))


def conv_loss(requires_grad=False):
    tg.manual_seed(0)
    model = ConvNet()
    x = tg.randn(2, 1, 8, 8, requires_grad=requires_grad)
    return model, F.cross_entropy(model(x), [0, 2])


def attention_loss():
    tg.manual_seed(0)
    model = AttentionNet()
    return model, model(tg.randn(2, 5, 8, requires_grad=True)).sum()


def collapsed_labels(src):
    return re.findall(r'label="([^"]*)"[^\n]*shape=box3d', src)


def ops_drawn(src):
    """The op names drawn ("Unfold 3x3" -> "Unfold")."""
    return [label.split()[0] for label in re.findall(r'label="?([^"\]]*?)"? shape=ellipse', src)]


def test_conv_and_pool_layers_are_one_node_each_by_default():
    model, loss = conv_loss(requires_grad=True)
    src = viz.draw_graph(loss, model).source
    assert sorted(collapsed_labels(src)) == [   # (drawn in walk order)
        "conv1: Conv2d(1->4, 3x3)\\n(2, 1, 8, 8) -> (2, 4, 6, 6)",
        "conv2: Conv2d(4->6, 3x3, stride 2)\\n(2, 4, 6, 6) -> (2, 6, 3, 3)",
        "pool: MaxPool2d(2x2)\\n(2, 6, 3, 3) -> (2, 6, 1, 1)"]
    assert "Unfold" not in src and "ScatterAdd" not in src   # inside the layers (padding: ScatterAdd)
    # conv2's padding zeros are constants used only inside it: not drawn either
    assert '"(2, 4, 1, 8) float64"' not in src
    ops = ops_drawn(src)
    assert ops.count("ReLU") == 2 and "MatMul" in ops   # the rest is op by op (fc is a Linear)
    assert "conv1.weight" in src and "conv2.bias" in src   # parameters still go in


def test_a_constant_input_is_not_listed_as_flowing_in():
    # x needs no grad: its pad and unfold are not recorded, and the graph starts at
    # the unfolded columns, so the label gives only the shape out
    model, loss = conv_loss()
    src = viz.draw_graph(loss, model).source
    assert "conv1: Conv2d(1->4, 3x3)\\n-> (2, 4, 6, 6)" in collapsed_labels(src)
    assert "(2, 1, 9, 36)" not in src   # those columns are a detail of the layer
    assert "(2, 1, 9, 36)" in viz.draw_graph(loss, model, modules=None).source


def test_other_collapsed_layers_keep_their_constant_inputs():
    # an MLP's input x, a constant, still goes into the collapsed fc1 box
    tg.manual_seed(0)
    mlp = nn.MLP([2, 4, 3])
    src = viz.draw_graph(F.cross_entropy(mlp(tg.randn(6, 2)), [0, 1, 2, 0, 1, 2]), mlp,
                         modules="collapse").source
    assert '"input\\n(6, 2) float64"' in src


def test_modules_none_expands_every_layer_into_its_primitives():
    model, loss = conv_loss(requires_grad=True)
    src = viz.draw_graph(loss, model, modules=None).source
    assert collapsed_labels(src) == []
    ops = ops_drawn(src)
    # two convs (Unfold), the pool (its maxima gathered by Index); zero padding (ScatterAdd)
    assert ops.count("Unfold") == 2 and "Index" in ops and "ScatterAdd" in ops
    assert viz.draw_graph(loss, model, modules="cluster").source.count("Unfold") == 2


def test_one_layer_expands_by_its_draw_collapsed_attribute():
    model, loss = conv_loss(requires_grad=True)
    model.conv2.draw_collapsed = False
    src = viz.draw_graph(loss, model).source
    assert sorted(label.split("\\n")[0] for label in collapsed_labels(src)) == [
        "conv1: Conv2d(1->4, 3x3)", "pool: MaxPool2d(2x2)"]
    assert ops_drawn(src).count("Unfold") == 1   # conv2's; conv1's and pool's stay inside
    assert nn.Conv2d.draw_collapsed and model.conv1.draw_collapsed   # only that instance


def test_a_list_of_paths_collapses_exactly_those():
    model, loss = conv_loss(requires_grad=True)
    src = viz.draw_graph(loss, model, modules=["pool", "fc"]).source
    assert sorted(label.split("\\n")[0] for label in collapsed_labels(src)) == [
        "fc: Linear", "pool: MaxPool2d(2x2)"]
    assert ops_drawn(src).count("Unfold") == 2


def test_attention_is_one_node_by_default_and_expands():
    model, loss = attention_loss()
    src = viz.draw_graph(loss, model).source
    assert collapsed_labels(src) == ["attn: MultiheadAttention(8, 2 heads)\\n(2, 5, 8) -> (2, 5, 8)"]
    assert "Exp" not in ops_drawn(src)   # the softmax is inside
    assert "attn.in_proj_weight" in src and "attn.out_proj.weight" in src
    expanded = viz.draw_graph(loss, model, modules=None).source
    assert "Exp" in ops_drawn(expanded) and collapsed_labels(expanded) == []
    assert len(ops_drawn(expanded)) > len(ops_drawn(src)) + 10


def test_attention_inside_an_encoder_layer_collapses_alone():
    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    out = layer(tg.randn(2, 5, 8, requires_grad=True)).sum()
    labels = collapsed_labels(viz.draw_graph(out, layer).source)
    assert labels == ["self_attn: MultiheadAttention(8, 2 heads)\\n(2, 5, 8) -> (2, 5, 8)"]


def test_the_model_itself_is_drawn_open():
    # draw_graph(conv(x), conv): the caller asked to see the conv, so it is not one box
    tg.manual_seed(0)
    conv = nn.Conv2d(2, 3, 2)
    src = viz.draw_graph(conv(tg.randn(1, 2, 4, 4, requires_grad=True)).sum(), conv).source
    assert collapsed_labels(src) == [] and "Unfold" in src


def test_functional_calls_without_a_model_are_drawn_op_by_op():
    # only Module calls are recorded, so F.conv2d alone has nothing to collapse into
    tg.manual_seed(0)
    x, w = tg.randn(1, 2, 5, 5, requires_grad=True), tg.randn(3, 2, 3, 3, requires_grad=True)
    y = F.conv2d(x, w).sum()
    src = viz.draw_graph(y).source
    assert collapsed_labels(src) == [] and "Unfold" in src
    assert viz.draw_graph(y, {"x": x, "w": w}).source.count("Unfold") == 1   # names only


def test_collapsed_drawings_have_one_edge_per_connection():
    model, loss = conv_loss(requires_grad=True)
    src = viz.draw_graph(loss, model).source
    edges = re.findall(r"^\s*(n\d+ -> n\d+)", src, flags=re.M)
    assert len(edges) == len(set(edges))
    # conv1's node: weight, bias and x in; its result out
    conv1 = re.search(r'(n\d+) \[label="conv1:', src).group(1)
    assert sum(e.endswith(f"-> {conv1}") for e in edges) == 3
    assert sum(e.startswith(f"{conv1} ->") for e in edges) == 1


def test_module_option_errors_name_the_choices():
    model, loss = conv_loss()
    with pytest.raises(ValueError, match="modules must be None, 'cluster', 'collapse' or a "
                                         "list of module paths to collapse, or 'auto'"):
        viz.draw_graph(loss, model, modules="expand")
    with pytest.raises(ValueError, match="modules='collapse' needs the model"):
        viz.draw_graph(loss, modules="collapse")
    with pytest.raises(ValueError, match=r"unknown module paths \['conv3'\]"):
        viz.draw_graph(loss, model, modules=["conv3"])


def test_summaries_of_the_collapsible_layers():
    assert viz.module_summary(nn.Conv1d(2, 5, 4, stride=2)) == "Conv1d(2->5, 4, stride 2)"
    assert viz.module_summary(nn.Conv2d(2, 5, 3, stride=(1, 2))) == "Conv2d(2->5, 3x3, stride 1x2)"
    assert viz.module_summary(nn.Conv2d(3, 8, (3, 5))) == "Conv2d(3->8, 3x5)"
    assert viz.module_summary(nn.MaxPool2d(3, 1)) == "MaxPool2d(3x3, stride 1)"
    assert viz.module_summary(nn.AvgPool2d(2)) == "AvgPool2d(2x2)"
    assert viz.module_summary(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(1)"
    assert viz.module_summary(nn.ReLU()) == "ReLU"


def test_render_png_of_the_collapsed_conv_model(tmp_path):
    model, loss = conv_loss(requires_grad=True)
    try:
        path = viz.render_graph(viz.draw_graph(loss, model, direction="TB"),
                                tmp_path / "conv", "png")
    except viz.GraphvizNotFoundError:
        pytest.skip("the Graphviz dot program is not installed")
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_loss_module_called_outside_the_model_is_one_node():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    criterion = nn.CrossEntropyLoss()
    loss = criterion(model(tg.randn(5, 2)), tg.tensor([0, 1, 2, 0, 1]))
    for src in (viz.draw_graph(loss, model).source, viz.draw_graph(loss).source,
                viz.draw_graph(loss, model, modules="collapse").source):
        assert src.count('label="CrossEntropyLoss\\n(5, 3) -> scalar"') == 1
        assert "LogSumExp" not in src and "Exp" not in ops_drawn(src)
    expanded = viz.draw_graph(loss, model, modules=None).source
    assert "CrossEntropyLoss" not in expanded and "Exp" in ops_drawn(expanded)
    other = nn.CrossEntropyLoss(label_smoothing=0.1)   # a second loss module: its own node
    both = other(model(tg.randn(5, 2)), tg.tensor([0, 1, 2, 0, 1])) + loss
    assert 'label="CrossEntropyLoss#2' in viz.draw_graph(both, model).source
