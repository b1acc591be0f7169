"""The faster paths behind W6 and W7 (branch cnn) give PyTorch's values and gradients.

Max pooling gathers each window's first maximum by flat index (K.window_argmax,
K.window_flat_index) and its backward is a ScatterAdd that assigns when no element is
picked twice (K.distinct_rows); these check that against torch in float64, against
np.argmax, and with gradcheck, including ties, NaN, -inf, padding and overlapping windows.
"""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import kernels as K
from tinygrad_edu.nn import functional as F


def torch_or_skip():
    return pytest.importorskip("torch")


POOLS = [dict(kernel_size=2), dict(kernel_size=3, stride=1), dict(kernel_size=3, stride=2, padding=1),
         dict(kernel_size=2, stride=1, dilation=2), dict(kernel_size=3, stride=2, ceil_mode=True),
         dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 0))]


@pytest.mark.parametrize("kw", POOLS)
def test_max_pool2d_values_and_gradients_match_torch(kw):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    x[0, 0, :2, :2] = 0.5   # a tied window
    g = rng.standard_normal(torch.nn.functional.max_pool2d(torch.tensor(x), **kw).shape)
    t = tg.tensor(x, requires_grad=True)
    y = F.max_pool2d(t, **kw)
    y.backward(tg.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tt, **kw)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12, atol=1e-12)
    _, idx = F.max_pool2d(tg.tensor(x), return_indices=True, **kw)
    _, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("kw", POOLS[:4])
def test_max_pool2d_gradcheck(kw):
    x = tg.tensor(np.random.default_rng(1).permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6) / 7.0,
                  requires_grad=True)   # distinct values: no ties at the kinks
    assert tg.gradcheck(lambda a: F.max_pool2d(a, **kw), (x,))


def test_window_argmax_is_numpys_argmax_with_ties_nan_and_inf():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, size=(3, 2, 6, 9)).astype(np.float32)   # many ties
    x[0, 0, 0, 1] = np.nan
    x[1, 1, 2:4, 3:6] = np.nan
    x[2, 0, :, :3] = -np.inf
    for kernel, stride, dilation in [((2, 2), (2, 2), (1, 1)), ((3, 3), (1, 2), (1, 1)),
                                     ((2, 3), (1, 1), (2, 1))]:
        cols = K.unfold(x, kernel, stride, dilation)
        flat = cols.reshape(cols.shape[:2] + (-1,) + cols.shape[-2:])
        expected = np.moveaxis(flat, 2, -1).argmax(-1)
        where = K.window_argmax(x, kernel, stride, dilation)
        assert where.dtype == np.int64
        np.testing.assert_array_equal(where, expected)
        index = K.window_flat_index(where, x.shape, kernel, stride, dilation)
        picked = np.take_along_axis(flat, expected[:, :, None], 2)[:, :, 0]
        np.testing.assert_array_equal(x.reshape(-1)[index], picked)


def test_max_pool2d_nan_wins_and_gets_the_gradient():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    t = tg.tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 2)
    assert np.isnan(y.numpy()[0, 0, 0, 0])
    y.sum().backward()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 3] = expected[3, 1] = expected[3, 3] = 1
    np.testing.assert_array_equal(t.grad.numpy()[0, 0], expected)


def test_overlapping_windows_add_their_gradients():
    # stride 1: the middle maximum is in every window, so its gradient is their sum
    x = tg.tensor(np.array([[[[0.0, 0, 0], [0, 9, 0], [0, 0, 0]]]]), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    assert x.grad.numpy()[0, 0, 1, 1] == 4 and x.grad.numpy().sum() == 4


def test_distinct_rows():
    assert K.distinct_rows(np.array([3, 0, 2]), 4)
    assert not K.distinct_rows(np.array([3, 0, 3]), 4)
    assert not K.distinct_rows(np.array([-1, 3]), 4)        # the same row
    assert not K.distinct_rows(np.array([0, 4]), 4)         # out of bounds: the caller raises
    assert not K.distinct_rows(np.array([0, 1, 2, 3, 0]), 4)
    with pytest.raises(IndexError, match="out of bounds"):
        K.scatter_add(np.ones(2), np.array([0, 4]), (4,))
    np.testing.assert_array_equal(K.scatter_add(np.ones(3), np.array([2, -1, 0]), (4,)),
                                  [1, 0, 1, 1])


def test_max_pool2d_bad_input_names_the_function():
    with pytest.raises(RuntimeError, match="max_pool2d"):
        F.max_pool2d(tg.zeros(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="max_pool2d: padding"):
        F.max_pool2d(tg.zeros(1, 1, 4, 4), 2, padding=2)
