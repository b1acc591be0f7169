"""Property tests (hypothesis) over shapes, axes, keepdims and broadcast pairs."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinygrad_edu as tg

hypothesis_settings = settings(deadline=None, derandomize=True, max_examples=30)

broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                max_side=3)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2**16)


def values(seed, shape, positive=False):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, shape) if positive else rng.standard_normal(shape)


@st.composite
def axes_for(draw, ndim):
    """None, one axis (maybe negative), or a tuple of distinct axes."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in picked)


def sum_to(array, shape):
    """NumPy reference for undoing broadcasting."""
    array = array.sum(axis=tuple(range(array.ndim - len(shape))))
    return array.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


# the gradients of sum(op(a, b)) with respect to a and b, in NumPy
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    "sub": (lambda a, b: a - b, lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    "mul": (lambda a, b: a * b, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    "div": (lambda a, b: a / b, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b ** 2),
}


@hypothesis_settings
@given(pair=broadcast_pairs, op=st.sampled_from(sorted(BINARY)), seed=seeds)
def test_broadcast_binary_gradients_have_input_shapes_and_right_values(pair, op, seed):
    (sa, sb), out_shape = pair.input_shapes, pair.result_shape
    fn, da, db = BINARY[op]
    a = tg.tensor(values(seed, sa), requires_grad=True)
    b = tg.tensor(values(seed + 1, sb, positive=True), requires_grad=True)
    out = fn(a, b)
    assert out.shape == out_shape
    out.sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), sum_to(np.broadcast_to(da(a.numpy(), b.numpy()), out_shape), sa))
    np.testing.assert_allclose(b.grad.numpy(), sum_to(np.broadcast_to(db(a.numpy(), b.numpy()), out_shape), sb))


@hypothesis_settings
@given(pair=broadcast_pairs, seed=seeds)
def test_broadcast_binary_gradcheck(pair, seed):
    sa, sb = pair.input_shapes
    a = tg.tensor(values(seed, sa), requires_grad=True)
    b = tg.tensor(values(seed + 1, sb), requires_grad=True)
    assert tg.gradcheck(lambda a, b: (a * b).tanh() + a.exp() / (1 + b * b) - tg.maximum(a, b), [a, b])


NUMPY_REDUCTIONS = {
    "sum": lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims),
    "mean": lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
    "amax": lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
    "amin": lambda x, axis, keepdims: x.min(axis=axis, keepdims=keepdims),
    "logsumexp": lambda x, axis, keepdims: np.log(np.exp(x).sum(axis=axis, keepdims=keepdims)),
}


@hypothesis_settings
@given(data=st.data(), shape=shapes, name=st.sampled_from(sorted(NUMPY_REDUCTIONS)),
       keepdims=st.booleans(), seed=seeds)
def test_reductions_agree_with_numpy(data, shape, name, keepdims, seed):
    axis = data.draw(axes_for(len(shape)))
    x = tg.tensor(values(seed, shape), requires_grad=True)
    out = getattr(x, name)(axis, keepdims)
    np_axis = tuple(axis) if isinstance(axis, tuple) else axis
    expected = NUMPY_REDUCTIONS[name](x.numpy(), np_axis, keepdims)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert out.shape == np.shape(expected)
    # the torch spelling gives the same
    np.testing.assert_array_equal(getattr(x, name)(dim=axis, keepdim=keepdims).numpy(), out.numpy())
    out.sum().backward()
    assert x.grad.shape == shape
    n = x.numel() // max(np.size(expected), 1)
    if name == "sum":
        np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))
    if name == "mean":
        np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1 / n))
    if name in ("amax", "amin"):    # random values: one winner per slice gets all the gradient
        assert np.isclose(x.grad.numpy().sum(), np.size(expected))


@hypothesis_settings
@given(data=st.data(), shape=shapes, keepdims=st.booleans(), correction=st.sampled_from([0, 1]),
       seed=seeds)
def test_var_and_std_agree_with_numpy(data, shape, keepdims, correction, seed):
    axis = data.draw(axes_for(len(shape)))
    x = tg.tensor(values(seed, shape))
    n = x.numel() // tg.tensor(np.ones(shape)).sum(axis, True).numel()
    if n - correction <= 0:
        return    # NumPy warns and gives nan/inf; nothing to compare
    np_axis = tuple(axis) if isinstance(axis, tuple) else axis
    np.testing.assert_allclose(x.var(axis, keepdim=keepdims, correction=correction).numpy(),
                               x.numpy().var(axis=np_axis, keepdims=keepdims, ddof=correction),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.std(axis, keepdim=keepdims, correction=correction).numpy(),
                               x.numpy().std(axis=np_axis, keepdims=keepdims, ddof=correction),
                               rtol=1e-12, atol=1e-12)


@hypothesis_settings
@given(data=st.data(), shape=array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3),
       name=st.sampled_from(["sum", "mean", "max", "min", "logsumexp", "var", "std"]),
       keepdims=st.booleans(), seed=seeds)
def test_reductions_gradcheck(data, shape, name, keepdims, seed):
    axis = data.draw(axes_for(len(shape)))
    x = tg.tensor(values(seed, shape), requires_grad=True)
    assert tg.gradcheck(lambda x: getattr(x, name)(axis, keepdims), [x])


@hypothesis_settings
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data(),
       seed=seeds)
def test_softmax_rows_sum_to_one_and_gradcheck(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = tg.tensor(values(seed, shape) * 5, requires_grad=True)
    np.testing.assert_allclose(x.softmax(axis).sum(axis).numpy(), 1.0)
    np.testing.assert_allclose(x.log_softmax(axis).exp().numpy(), x.softmax(axis).numpy())
    assert tg.gradcheck(lambda x: x.log_softmax(axis), [x])


@hypothesis_settings
@given(shape=array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data(),
       seed=seeds)
def test_permute_and_reshape_gradients_route_back(shape, data, seed):
    dims = tuple(data.draw(st.permutations(range(len(shape)))))
    x = tg.tensor(values(seed, shape), requires_grad=True)
    w = values(seed + 1, tuple(shape[d] for d in dims))
    (x.permute(*dims) * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.transpose(w, np.argsort(dims)))
    assert tg.gradcheck(lambda x: x.permute(*dims).reshape(-1)[::2], [x])
