"""micrograd's habit, `L.backward(); draw_graph(L)`: backward frees the graph but keeps a small
Record of each node (autograd.free), so the drawing shows every value and gradient without
keeping any activation alive."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

pytest.importorskip("graphviz")

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn, viz  # noqa: E402
from tinygrad_edu.autograd import Record, walk  # noqa: E402
from tinygrad_edu.functional import cross_entropy  # noqa: E402

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def micrograd_example(lib=tg):
    """micrograd's README expression (a few more ops), in tinygrad_edu or PyTorch."""
    a = lib.tensor(-4.0, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    e = (c - d).tanh()
    f = e * e.relu() + (c / 4).sigmoid()
    L = f ** 2
    return [a, b, c, d, e, f, L]


def labels(dot):
    return [line.split('label="')[1].split('"')[0] for line in dot.body
            if 'label="{' in line]


def test_draw_graph_after_backward_shows_every_value_and_gradient():
    *_, L = micrograd_example()
    L.backward()
    after = viz.draw_graph(L, show="grads").source
    *_, L2 = micrograd_example()
    before = viz.draw_graph(viz.retain_grads_and_backward(L2), show="grads").source
    assert after == before   # the same picture as keeping the whole graph
    assert "{ loss | data " in after and " | grad 1.0000 }" in after
    # every tensor but the constants (4 in c / 4, the 3 of b ** 3) shows its gradient
    assert after.count("grad - }") == 1 and '"{  | data 4.0000 | grad - }"' in after


@needs_torch
def test_record_gradients_match_pytorch():
    ours = micrograd_example()
    ours[-1].backward()
    theirs = micrograd_example(torch)
    for t in theirs[2:]:
        t.retain_grad()
    theirs[-1].backward()
    shown = [t for t in walk([ours[-1]], records=True)]
    for mine, ref in zip(ours, theirs):
        node = mine if mine._op is None else mine._record
        assert node in shown or mine in shown
        got = mine.grad._data if mine._op is None else node.grad
        np.testing.assert_allclose(got, ref.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(viz.value_of(node), ref.detach().numpy(), rtol=1e-12)


def test_draw_dot_is_micrograds_picture_right_after_backward():
    a = tg.tensor(2.0, requires_grad=True, name="a")
    b = tg.tensor(-3.0, requires_grad=True, name="b")
    L = (a * b + 10.0) * -2.0
    L.backward()
    dot = viz.draw_dot(L)
    assert labels(dot) == ["{ a | data 2.0000 | grad 6.0000 }",
                           "{ b | data -3.0000 | grad -4.0000 }",
                           "{  | data -6.0000 | grad -2.0000 }",
                           "{  | data 10.0000 | grad - }",
                           "{  | data 4.0000 | grad -2.0000 }",
                           "{  | data -2.0000 | grad - }",
                           "{ loss | data -8.0000 | grad 1.0000 }"]
    assert "shape=circle" in dot.source and dot.format == "svg"
    assert viz.draw_dot(L, format="png", rankdir="TB").graph_attr["rankdir"] == "TB"
    with pytest.raises(ValueError, match="draw_dot: format must be"):
        viz.draw_dot(L, format="jpg")


def test_draw_dot_of_a_tensor_graph_draws_the_tensor_style():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * 3.0).sum()
    y.backward()
    src = viz.draw_dot(y).source
    assert "shape=record" not in src
    assert 'label="x\\n(2,) float64\\n[1, 2]\\ngrad norm 4.24"' in src
    assert '"(2,) float64\\n[3, 6]\\ngrad norm 1.41"' in src   # small: value and gradient kept
    assert '"loss\\nscalar float64\\n9\\ngrad norm 1"' in src


def test_big_intermediates_keep_no_values_but_parameters_keep_theirs():
    model = nn.Linear(3, 2, generator=np.random.default_rng(0))
    x = tg.Tensor(np.ones((5, 3)))
    loss = model(x).sum()
    loss.backward()
    records = [t for t in walk([loss], records=True) if isinstance(t, Record)]
    assert records and all(r.value is None or r.value.size <= 4 for r in records)
    assert all(r.grad is None or r.grad.size <= 4 for r in records)
    src = viz.draw_graph(loss, model, show=("values", "grads")).source
    assert f"grad norm {np.linalg.norm(model.weight.grad.numpy()):.3g}" in src
    assert '"input\\n(5, 3) float64"' in src          # the batch: by shape only
    assert '"(5, 2) float64"' in src                 # a big result: no values, no gradient


def test_order_numbers_are_the_same_after_backward():
    model = nn.MLP([2, 3, 2], generator=np.random.default_rng(0))
    x = tg.Tensor(np.random.default_rng(1).standard_normal((4, 2)))
    loss = cross_entropy(model(x), np.array([0, 1, 1, 0]))
    before = viz.draw_graph(loss, model, show="order").source
    loss.backward()
    assert viz.draw_graph(loss, model, show="order").source == before


def test_a_second_backward_still_raises_after_drawing():
    *_, L = micrograd_example()
    L.backward()
    viz.draw_graph(L)
    with pytest.raises(RuntimeError, match="backward: trying to backward through the graph a "
                                           "second time: the intermediate results of Pow"):
        L.backward()
    # grad() frees the same way, and keeps records the same way
    a, *_, e, f, L = micrograd_example()
    tg.grad(L, a)
    assert L._parents is None and L._record.grad == 1.0 and e._record.grad is not None
    assert "{ loss | data" in viz.draw_dot(L).source


def test_backward_keeps_no_activation_alive():
    rng = np.random.default_rng(0)
    model = nn.MLP([50, 400, 400, 10], generator=rng)
    x = tg.Tensor(rng.standard_normal((256, 50)))
    h = model.fc1(x)                       # a big intermediate, (256, 400)
    loss = cross_entropy(model.fc3(model.fc2(h.relu()).relu()) @ tg.ones(10, 3), np.zeros(256, int))
    h_ref, x_ref = weakref.ref(h), weakref.ref(x)
    del h, x
    loss.backward()
    gc.collect()
    assert h_ref() is None and x_ref() is None   # loss is kept, the activation and batch are not
    assert "fc1.weight" in viz.draw_graph(loss, model).source


def test_a_training_loop_that_keeps_its_losses_keeps_little_memory():
    rng = np.random.default_rng(0)
    model = nn.MLP([20, 200, 200, 3], generator=rng)
    opt = tg.optim.SGD(model.parameters(), lr=0.01)
    X, y = rng.standard_normal((128, 20)), rng.integers(0, 3, 128)

    def growth(keep, steps=20):
        """Bytes per step still allocated after `steps` training steps."""
        losses = []
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            loss = cross_entropy(model(tg.Tensor(X)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss if keep else None)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return grown / steps

    growth(False, 2)   # warm up (the optimizer's and the gradients' buffers)
    kept = growth(True) - growth(False)
    # one activation is 128 x 200 x 8 bytes = 200 KB; a step's records are a few KB
    assert kept < 10_000, kept
