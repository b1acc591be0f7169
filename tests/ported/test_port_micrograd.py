"""Port of micrograd's test_engine idea: two scalar expression graphs, written as course
code writes them (`import tinygrad_edu as torch`), compared with PyTorch in float64:
the final value and the gradient of every leaf."""
import pytest

import tinygrad_edu

torch = pytest.importorskip("torch")


def mixed_relu_graph(lib):
    """x -> z = 2x + 2 + x, then relus, products and sums that reuse z and x."""
    x = lib.tensor(-4.0, dtype=lib.float64, requires_grad=True)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return y, {"x": x}


def in_place_accumulation_graph(lib):
    """Two leaves, `+=` on intermediate results, powers, a division by a tensor."""
    a = lib.tensor(-4.0, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return g, {"a": a, "b": b}


def out_of_place_graph(lib):
    """The same arithmetic as in_place_accumulation_graph, with `c = c + ...` instead."""
    a = lib.tensor(-4.0, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g, {"a": a, "b": b}


def tanh_neuron_graph(lib):
    """The lecture's 2-input neuron: tanh(x1 w1 + x2 w2 + b)."""
    leaves = {n: lib.tensor(v, dtype=lib.float64, requires_grad=True)
              for n, v in [("x1", 2.0), ("x2", 0.0), ("w1", -3.0), ("w2", 1.0),
                           ("b", 6.8813735870195432)]}
    n = leaves["x1"] * leaves["w1"] + leaves["x2"] * leaves["w2"] + leaves["b"]
    o = n.tanh()
    o.backward()
    return o, leaves


GRAPHS = [mixed_relu_graph, in_place_accumulation_graph, out_of_place_graph, tanh_neuron_graph]


@pytest.mark.parametrize("graph", GRAPHS, ids=[g.__name__ for g in GRAPHS])
def test_forward_value_matches_torch(graph):
    ours, _ = graph(tinygrad_edu)
    theirs, _ = graph(torch)
    assert abs(ours.item() - theirs.item()) < 1e-9


@pytest.mark.parametrize("graph", GRAPHS, ids=[g.__name__ for g in GRAPHS])
def test_leaf_gradients_match_torch(graph):
    _, ours = graph(tinygrad_edu)
    _, theirs = graph(torch)
    for name in theirs:
        assert ours[name].grad is not None, name
        assert abs(ours[name].grad.item() - theirs[name].grad.item()) < 1e-9, name


def test_scalar_results_are_zero_dimensional():
    ours, _ = mixed_relu_graph(tinygrad_edu)
    theirs, _ = mixed_relu_graph(torch)
    assert tuple(ours.shape) == tuple(theirs.shape) == ()
    assert ours.dtype == tinygrad_edu.float64
