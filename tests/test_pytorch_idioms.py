"""PyTorch idioms from course code that must mean here what they mean there."""
import numpy as np
import pytest

import tinygrad_edu as tg

try:
    import torch
except ImportError:   # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def test_cuda_is_not_available_and_code_that_asks_stays_on_the_cpu():
    device = "cuda" if tg.cuda.is_available() else "cpu"
    x = tg.ones(2).to(device)
    assert device == "cpu" and tg.cuda.device_count() == 0 and x.device.type == "cpu"


def test_reshape_and_view_take_shape_as_a_keyword():
    x = tg.arange(6.0)
    assert x.reshape(shape=(2, 3)).shape == (2, 3) and x.view(shape=[3, 2]).shape == (3, 2)
    with pytest.raises(TypeError, match="reshape: takes the shape as arguments or as shape="):
        x.reshape(2, shape=(3,))
    with pytest.raises(TypeError, match="view: sizes must be ints, got 2.5"):
        x.view(2.5, 2)
    with pytest.raises(TypeError, match="view: viewing as another dtype"):
        x.view(np.float32)


@needs_torch
def test_masked_fill_follows_torch_dtype_and_mask_rules():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    mask = tg.tensor([True, False, True])
    y = x.masked_fill(mask, 0.5)
    (y * y).sum().backward()
    t = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    yt = t.masked_fill(torch.tensor([True, False, True]), 0.5)
    (yt * yt).sum().backward()
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    assert tg.tensor([1, 2]).masked_fill(tg.tensor([True, False]), 1.5).dtype == np.int64
    with pytest.raises(TypeError, match="masked_fill: mask must be a bool tensor"):
        x.masked_fill(tg.tensor([1, 0, 1]), 0.0)


@needs_torch
def test_in_place_masked_fill_and_index_add_on_a_non_leaf_like_torch():
    values = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    x = tg.tensor(values, requires_grad=True)
    src = tg.tensor([[10.0, 20.0], [30.0, 40.0]], requires_grad=True)
    h = x * 2
    h.index_add_(0, tg.tensor([2, 0]), src, alpha=0.5)
    h.masked_fill_(h.numpy() > 30, -1.0)
    (h * h).sum().backward()
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    st = torch.tensor([[10.0, 20.0], [30.0, 40.0]], dtype=torch.float64, requires_grad=True)
    ht = t * 2
    ht.index_add_(0, torch.tensor([2, 0]), st, alpha=0.5)
    ht.masked_fill_(ht.detach() > 30, -1.0)
    (ht * ht).sum().backward()
    np.testing.assert_array_equal(h.numpy(), ht.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(src.grad.numpy(), st.grad.numpy())


def test_inference_mode_retains_grad_and_materialize_grads():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    with tg.inference_mode(False):
        assert (x * 2).requires_grad

    @tg.inference_mode()
    def predict(v):
        return v * 3
    assert not predict(x).requires_grad and tg.is_grad_enabled()
    h = x * 2
    assert not h.retains_grad
    h.retain_grad()
    assert h.retains_grad
    unused = tg.tensor([5.0], requires_grad=True)
    gx, gu = tg.grad((x * x).sum(), [x, unused], materialize_grads=True)
    assert gx.tolist() == [2.0, 4.0] and gu.tolist() == [0.0]


def test_requires_grad_on_integers_is_a_runtime_error_as_in_torch():
    with pytest.raises(RuntimeError, match="only floating point tensors can require"):
        tg.tensor([1, 2]).requires_grad_()


@needs_torch
def test_erf_at_the_top_level_and_as_a_method_like_torch():
    values = np.linspace(-3, 3, 7)
    x = tg.tensor(values, requires_grad=True)
    tg.erf(x).sum().backward()
    t = torch.tensor(values, requires_grad=True)
    torch.erf(t).sum().backward()
    np.testing.assert_allclose(x.erf().numpy(), torch.erf(t).detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-14)


def both(fn_ours, fn_torch, *arrays):
    """Values and gradients of ours and torch's on the same float64 inputs."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = fn_ours(*xs), fn_torch(*ts)
    seed = np.linspace(-1, 2, y.numel()).reshape(y.shape)
    gs = tg.grad(y, xs, tg.tensor(seed))
    gts = torch.autograd.grad(yt, ts, torch.tensor(seed))
    return y.numpy(), yt.detach().numpy(), [g.numpy() for g in gs], [g.numpy() for g in gts]


@needs_torch
@pytest.mark.parametrize("name,ours,theirs,arrays", [
    ("nansum", lambda x: tg.nansum(x, 1), lambda x: torch.nansum(x, 1),
     [np.array([[1.0, np.nan, 2.0], [np.nan, 3.0, 4.0]])]),
    ("logit", lambda x: x.logit(), lambda x: torch.logit(x), [np.array([0.1, 0.5, 0.9, 1e-9])]),
    ("logit-eps", lambda x: tg.logit(x, 0.2), lambda x: torch.logit(x, 0.2),
     [np.array([0.1, 0.5, 0.95, 0.3])]),
    # near 0 both sides' d/dx sinc = (u cos u - sin u) / (pi x^2) cancel: rounding differs
    ("sinc", tg.sinc, lambda x: torch.sinc(x), [np.array([0.0, 0.5, 1.0, -2.5, 1e-3])]),
    ("xlogy", tg.xlogy, lambda x, y: torch.xlogy(x, y), [np.array([0.0, 2.0, -1.0, 0.0]), np.array([3.0, 0.5, 2.0, -1.0])]),
    ("copysign", tg.copysign, lambda x, y: torch.copysign(x, y),
     [np.array([1.0, -2.0, 0.0, 3.0, -0.0]), np.array([-1.0, 2.0, -0.0, 0.0, 5.0])]),
])
def test_more_pointwise_names_match_torch(name, ours, theirs, arrays):
    y, yt, gs, gts = both(ours, theirs, *arrays)
    np.testing.assert_allclose(y, yt, rtol=1e-13)
    assert np.array_equal(np.signbit(y), np.signbit(yt))
    for g, gt in zip(gs, gts):
        np.testing.assert_allclose(g, gt, rtol=1e-9 if name == "sinc" else 1e-12, atol=1e-15)


def test_xlogy_at_zero_zero_is_zero_with_a_zero_gradient():
    # PyTorch: value 0, d/dx 0 and d/dy nan there; ours: d/dy 0 (documented in xlogy)
    x, y = tg.tensor([0.0], requires_grad=True), tg.tensor([0.0], requires_grad=True)
    out = tg.xlogy(x, y)
    out.sum().backward()
    assert out.tolist() == [0.0] and x.grad.tolist() == [0.0] and y.grad.tolist() == [0.0]


def test_more_pointwise_names_pass_gradcheck():
    x = tg.tensor([0.2, 0.7, 0.4], requires_grad=True)
    y = tg.tensor([0.5, 1.5, 2.0], requires_grad=True)
    assert tg.gradcheck(lambda x: tg.logit(x), [x])
    assert tg.gradgradcheck(lambda x, y: tg.xlogy(x, y), [x, y])
    assert tg.gradgradcheck(lambda x: tg.sinc(x), [x])


@needs_torch
def test_histogram_and_histc_like_torch():
    values = np.array([1.0, 2.0, 1.0, 4.0, 3.0, 2.5])
    x, t = tg.tensor(values), torch.tensor(values)
    for kwargs in ({"bins": 3}, {"bins": 4, "range": (0.0, 4.0), "density": True}):
        ours, theirs = tg.histogram(x, **kwargs), torch.histogram(t, **kwargs)
        hist, edges = ours
        np.testing.assert_allclose(hist.numpy(), theirs.hist.numpy())
        np.testing.assert_allclose(ours.bin_edges.numpy(), theirs.bin_edges.numpy())
    np.testing.assert_allclose(x.histc(4, 0, 4).numpy(), t.histc(4, 0, 4).numpy())
    np.testing.assert_allclose(tg.histc(x, 5).numpy(), torch.histc(t, 5).numpy())
    with pytest.raises(TypeError, match="histogram: input must be floating point"):
        tg.histogram(tg.tensor([1, 2]))
