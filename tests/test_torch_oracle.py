"""PyTorch as the oracle: forward values, gradients and second derivatives of
every case in test_ops.CASES, plus ties, kinks and extreme logits."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import functional as F
from test_ops import CASES, make_inputs
from conftest import make_randt

torch = pytest.importorskip("torch")

TORCH_CASES = [c for c in CASES if c.torch]
SMOOTH_TORCH_CASES = [c for c in TORCH_CASES if c.smooth]


def T(values, requires_grad=False):
    """A float64 torch tensor (torch.tensor would make Python floats float32)."""
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.numpy() if isinstance(ours, tg.Tensor) else ours
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def both(case, randt):
    """The case's inputs as tinygrad_edu leaves and as torch leaves (same values)."""
    xs = make_inputs(randt, case.specs)
    ts = [torch.tensor(x.numpy(), requires_grad=True) for x in xs]
    ours = case.fn(tg, *xs)
    theirs = case.torch_fn(*ts) if case.torch_fn else case.fn(torch, *ts)
    return xs, ts, ours, theirs


@pytest.mark.parametrize("case", TORCH_CASES, ids=[c.id for c in TORCH_CASES])
def test_values_and_gradients_match_torch(case, randt, rng):
    xs, ts, ours, theirs = both(case, randt)
    close(ours, theirs)
    v = rng.standard_normal(ours.shape)
    ours.backward(tg.tensor(v))
    theirs.backward(torch.tensor(v))
    for x, t in zip(xs, ts):
        close(x.grad, t.grad)


@pytest.mark.parametrize("case", SMOOTH_TORCH_CASES, ids=[c.id for c in SMOOTH_TORCH_CASES])
def test_hessian_vector_products_match_torch(case, randt, rng):
    """d/dx <d<f(x), v>/dx, u>: the second derivative along u, for random v and u."""
    xs, ts, ours, theirs = both(case, randt)
    v = rng.standard_normal(ours.shape)
    us = [rng.standard_normal(x.shape) for x in xs]
    g_ours = tg.grad(ours, xs, tg.tensor(v), create_graph=True)
    g_theirs = torch.autograd.grad(theirs, ts, torch.tensor(v), create_graph=True)
    for g, h in zip(g_ours, g_theirs):
        close(g, h)
    dot_ours = sum((g * u).sum() for g, u in zip(g_ours, us))
    dot_theirs = sum((h * torch.tensor(u)).sum() for h, u in zip(g_theirs, us))
    # a function linear in x has no second derivative: nothing to differentiate
    none = [None] * len(xs)
    hv_ours = tg.grad(dot_ours, xs, allow_unused=True) if dot_ours.requires_grad else none
    hv_theirs = (torch.autograd.grad(dot_theirs, ts, allow_unused=True)
                 if dot_theirs.requires_grad else none)
    for x, a, b in zip(xs, hv_ours, hv_theirs):
        a = np.zeros(x.shape) if a is None else a.numpy()
        b = np.zeros(x.shape) if b is None else b.numpy()
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


# --- ties and kinks: which convention each op follows ---------------------------------

def grads(fn_ours, fn_theirs, values):
    x = tg.tensor(values, requires_grad=True)
    t = T(values, requires_grad=True)
    fn_ours(x).sum().backward()
    fn_theirs(t).sum().backward()
    return x.grad.numpy(), t.grad.numpy()


TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])


def test_full_max_splits_ties_like_torch_max_and_amax():
    ours, amax = grads(lambda x: x.max(), lambda t: t.amax(), TIES)
    _, full_max = grads(lambda x: x.max(), lambda t: t.max(), TIES)
    np.testing.assert_array_equal(ours, amax)
    np.testing.assert_array_equal(ours, full_max)
    assert ours[0, 1] == ours[0, 2] == 0.5


def test_amax_over_an_axis_splits_ties_like_torch():
    ours, amax = grads(lambda x: x.amax(dim=1), lambda t: t.amax(dim=1), TIES)
    np.testing.assert_array_equal(ours, amax)
    np.testing.assert_allclose(ours[1], [0.25] * 4)


def test_max_dim_returns_values_and_indices_like_torch():
    x = tg.tensor(TIES)
    for keep in (False, True):
        for name in ("max", "min"):
            ours, theirs = getattr(x, name)(1, keepdim=keep), getattr(T(TIES), name)(1, keepdim=keep)
            v, i = ours                        # unpacks as torch's return_types
            assert v is ours.values and i is ours.indices and ours[0] is v
            np.testing.assert_array_equal(v.numpy(), theirs.values.numpy())
            np.testing.assert_array_equal(i.numpy(), theirs.indices.numpy())
            assert i.dtype == np.int64
    # the whole gradient goes to the returned index, as torch's max(dim)
    ours, max_dim = grads(lambda x: x.max(dim=1).values, lambda t: t.max(dim=1).values, TIES)
    np.testing.assert_array_equal(ours, max_dim)
    ours, min_dim = grads(lambda x: x.min(0, keepdim=True)[0],
                          lambda t: t.min(0, keepdim=True)[0], TIES.T)
    np.testing.assert_array_equal(ours, min_dim)


def test_min_ties_like_amin():
    ours, amin = grads(lambda x: x.amin(axis=0, keepdims=True),
                       lambda t: t.amin(dim=0, keepdim=True), TIES.T)
    np.testing.assert_array_equal(ours, amin)


def test_max_of_two_tensors_is_maximum_like_torch():
    a, b = [1.0, 5.0, 3.0], [2.0, 0.0, 3.0]
    np.testing.assert_array_equal(tg.tensor(a).max(tg.tensor(b)).numpy(),
                                  T(a).max(T(b)).numpy())


def test_maximum_and_minimum_ties_like_torch():
    a_vals, b_vals = [1.0, 2.0, 3.0], [1.0, 0.0, 3.0]
    for ours_fn, torch_fn in ((tg.maximum, torch.maximum), (tg.minimum, torch.minimum)):
        a, b = tg.tensor(a_vals, requires_grad=True), tg.tensor(b_vals, requires_grad=True)
        ta = T(a_vals, requires_grad=True)
        tb = T(b_vals, requires_grad=True)
        ours_fn(a, b).sum().backward()
        torch_fn(ta, tb).sum().backward()
        close(a.grad, ta.grad)
        close(b.grad, tb.grad)


KINKS = [-1.0, 0.0, 0.5, 1.0, 2.0]


@pytest.mark.parametrize("name,ours,theirs", [
    ("relu", lambda x: x.relu(), lambda t: t.relu()),
    ("abs", lambda x: x.abs(), lambda t: t.abs()),
    ("clip", lambda x: x.clip(0.0, 1.0), lambda t: t.clip(0.0, 1.0)),
    ("clamp-min", lambda x: x.clamp(min=0.5), lambda t: t.clamp(min=0.5)),
    ("leaky_relu", lambda x: x.leaky_relu(0.1),
     lambda t: torch.nn.functional.leaky_relu(t, 0.1)),
    ("pow0", lambda x: x ** 0, lambda t: t ** 0),
    ("maximum-0", lambda x: tg.maximum(x, 0.0), lambda t: torch.maximum(t, T(0.0))),
    ("minimum-1", lambda x: tg.minimum(x, 1.0), lambda t: torch.minimum(t, T(1.0))),
])
def test_gradients_at_kinks_match_torch(name, ours, theirs):
    g_ours, g_theirs = grads(ours, theirs, KINKS)
    np.testing.assert_array_equal(g_ours, g_theirs)


# --- extreme logits and losses ------------------------------------------------------------

def test_cross_entropy_on_logits_of_1000_matches_torch():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [0.0, 1e-3, 1000.0]])
    target = [1, 0, 2]
    z = tg.tensor(logits, requires_grad=True)
    t = T(logits, requires_grad=True)
    loss = F.cross_entropy(z, target)
    expected = torch.nn.functional.cross_entropy(t, torch.tensor(target))
    close(loss, expected)
    loss.backward()
    expected.backward()
    close(z.grad, t.grad)


def test_softmax_and_log_softmax_of_extreme_logits_match_torch(rng):
    logits = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.5]])
    for name in ("softmax", "log_softmax", "logsumexp"):
        z = tg.tensor(logits, requires_grad=True)
        t = T(logits, requires_grad=True)
        ours, theirs = getattr(z, name)(1), getattr(t, name)(1)
        close(ours, theirs)
        v = rng.standard_normal(ours.shape)
        ours.backward(tg.tensor(v))
        theirs.backward(torch.tensor(v))
        close(z.grad, t.grad)


def test_sigmoid_of_1000_matches_torch():
    values = [-1000.0, -30.0, 0.0, 30.0, 1000.0]
    x, t = tg.tensor(values, requires_grad=True), T(values, requires_grad=True)
    close(x.sigmoid(), t.sigmoid())
    x.sigmoid().sum().backward()
    t.sigmoid().sum().backward()
    close(x.grad, t.grad)


# --- a model-shaped Hessian-vector product and a gradient penalty -----------------------

def mlp(L, x, w1, w2):
    return ((x @ w1).tanh() @ w2).log_softmax(dim=1).sum() + (w1 * w1).sum().sqrt()


def test_mlp_hessian_vector_product_matches_torch(rng):
    randt = make_randt(3)
    xs = [randt(4, 3), randt(3, 5), randt(5, 2)]
    ts = [torch.tensor(x.numpy(), requires_grad=True) for x in xs]
    us = [rng.standard_normal(x.shape) for x in xs]
    g_ours = tg.grad(mlp(tg, *xs), xs, create_graph=True)
    g_theirs = torch.autograd.grad(mlp(torch, *ts), ts, create_graph=True)
    hv_ours = tg.grad(sum((g * u).sum() for g, u in zip(g_ours, us)), xs)
    hv_theirs = torch.autograd.grad(sum((g * torch.tensor(u)).sum()
                                        for g, u in zip(g_theirs, us)), ts)
    for a, b in zip(hv_ours, hv_theirs):
        close(a, b, rtol=1e-9, atol=1e-11)


def test_gradient_penalty_matches_torch():
    randt = make_randt(4)
    x, w = randt(5, 3), randt(3, 1)
    tx, tw = (torch.tensor(a.numpy(), requires_grad=True) for a in (x, w))
    (gx,) = tg.grad((x @ w).sigmoid().sum(), x, create_graph=True)
    (tgx,) = torch.autograd.grad((tx @ tw).sigmoid().sum(), tx, create_graph=True)
    ((gx * gx).sum(1).sqrt() - 1).pow(2).mean().backward()
    ((tgx * tgx).sum(1).sqrt() - 1).pow(2).mean().backward()
    close(w.grad, tw.grad)
    close(x.grad, tx.grad)
