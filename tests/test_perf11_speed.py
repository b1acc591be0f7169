"""The W6/W7 speed paths (issue 11) give the same values and gradients as before and as PyTorch:
fold's tiling fast path, max_pool2d's argmax, softmax as e * (1/s), ScatterAdd's basic-index path."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import kernels as K

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def fold_by_loops(cols, spatial, kernel, stride, dilation):
    """Fold written out one element at a time: the definition the fast paths must match."""
    d = len(kernel)
    lead, out = cols.shape[:cols.ndim - 2 * d], cols.shape[-d:]
    y = np.zeros(lead + tuple(spatial), dtype=cols.dtype)
    for offset in np.ndindex(*kernel):
        for o in np.ndindex(*out):
            at = tuple(oo * s + i * dl for oo, s, i, dl in zip(o, stride, offset, dilation))
            y[(Ellipsis,) + at] += cols[(Ellipsis,) + offset + o]
    return y


@pytest.mark.parametrize("lead, kernel, out", [
    ((3, 5), (2, 2), (4, 4)), ((2, 3), (3, 3), (2, 2)), ((2,), (2, 3), (4, 3)),
    ((), (2, 2), (1, 1)), ((2, 2), (3,), (5,)), ((1,), (1, 1), (3, 2))])
def test_fold_tiling_path_matches_the_definition(lead, kernel, out):
    cols = np.random.default_rng(0).standard_normal(lead + kernel + out)
    spatial = tuple(k * o for k, o in zip(kernel, out))
    got = K.fold(cols, spatial, kernel, kernel, (1,) * len(kernel))
    assert got.flags.c_contiguous and got.shape == lead + spatial
    np.testing.assert_array_equal(got, fold_by_loops(cols, spatial, kernel, kernel,
                                                     (1,) * len(kernel)))


@pytest.mark.parametrize("spatial, kernel, stride, dilation", [
    ((7, 7), (2, 2), (2, 2), (1, 1)),     # windows do not cover the last row and column
    ((8, 8), (2, 2), (3, 3), (1, 1)),     # gaps between windows
    ((8, 8), (2, 2), (2, 2), (2, 2)),     # dilated: overlapping again
    ((6, 6), (3, 3), (1, 1), (1, 1))])
def test_fold_other_geometries_unchanged(spatial, kernel, stride, dilation):
    out = tuple((n - dl * (k - 1) - 1) // s + 1
                for n, k, s, dl in zip(spatial, kernel, stride, dilation))
    cols = np.random.default_rng(1).standard_normal((2, 3) + kernel + out)
    np.testing.assert_allclose(K.fold(cols, spatial, kernel, stride, dilation),
                               fold_by_loops(cols, spatial, kernel, stride, dilation),
                               rtol=1e-12, atol=1e-12)


def test_fold_tiling_of_a_strided_view():
    base = np.random.default_rng(2).standard_normal((2, 3, 4, 2, 2, 4))
    cols = base.transpose(0, 1, 4, 5, 2, 3)   # (2, 3, 2, 4, 4, 2): not C-ordered
    np.testing.assert_array_equal(K.fold(cols, (8, 8), (2, 4), (2, 4), (1, 1)),
                                  fold_by_loops(cols, (8, 8), (2, 4), (2, 4), (1, 1)))


@needs_torch
@pytest.mark.parametrize("size, kernel, stride, padding", [
    (8, 2, None, 0), (4, 2, 2, 0), (7, 2, 2, 1), (9, 3, 3, 0), (8, 3, 2, 1)])
def test_max_pool2d_values_indices_and_gradients_as_torch(size, kernel, stride, padding):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, size, size))
    x[0, 0, :2, :2] = 0.5   # a tie: the first maximum wins, as PyTorch
    g = rng.standard_normal(F.max_pool2d(tg.tensor(x), kernel, stride, padding).shape)
    a = tg.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(a, kernel, stride, padding, return_indices=True)
    (y * tg.tensor(g)).sum().backward()
    t = torch.tensor(x, requires_grad=True)
    ty, tidx = torch.nn.functional.max_pool2d(t, kernel, stride, padding, return_indices=True)
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64
    # overlapping windows add their gradients in another order than PyTorch's
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_max_pool2d_nan_counts_as_the_maximum():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    _, idx = F.max_pool2d(tg.tensor(x), 2, return_indices=True)
    assert idx.numpy()[0, 0, 0, 0] == 1


def test_max_pool2d_gradcheck():
    x = tg.tensor(np.random.default_rng(4).permutation(64).reshape(1, 1, 8, 8) / 7.0,
                  requires_grad=True)
    assert tg.gradcheck(lambda t: F.max_pool2d(t, 2), (x,))


@needs_torch
@pytest.mark.parametrize("shape, dim", [((4, 7), -1), ((2, 3, 5), 1), ((3, 4, 6), 0)])
def test_softmax_values_and_gradients_as_torch(shape, dim):
    rng = np.random.default_rng(5)
    x, g = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    a = tg.tensor(x, requires_grad=True)
    (F.softmax(a, dim) * tg.tensor(g)).sum().backward()
    t = torch.tensor(x, requires_grad=True)
    (torch.softmax(t, dim) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(F.softmax(tg.tensor(x), dim).numpy(),
                               torch.softmax(torch.tensor(x), dim).numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_softmax_gradcheck_and_gradgradcheck():
    x = tg.tensor(np.random.default_rng(6).standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.softmax(t, -1), (x,))
    assert tg.gradgradcheck(lambda t: F.softmax(t, 0), (x,))


def test_softmax_edge_rows():
    x = np.array([[1000.0, -1000.0, 0.0], [-np.inf, -np.inf, -np.inf], [-np.inf, 0.0, 0.0]])
    with np.errstate(invalid="ignore"):
        y = F.softmax(tg.tensor(x), -1).numpy()
    np.testing.assert_allclose(y[0], [1.0, 0.0, 0.0])
    assert np.isnan(y[1]).all()   # as PyTorch: 0/0
    np.testing.assert_allclose(y[2], [0.0, 0.5, 0.5])
    assert F.softmax(tg.zeros(2, 0), -1).shape == (2, 0)


def test_softmax_bad_dim_names_the_function():
    with pytest.raises(Exception, match="softmax"):
        F.softmax(tg.zeros(2, 3), 2)


def test_scatter_add_basic_index_keeps_values_and_accumulates_arrays():
    g = np.array([[-0.0, 1.5], [2.0, -3.0]])
    out = K.scatter_add(g, (slice(1, 3), slice(None)), (4, 2))
    np.testing.assert_array_equal(out, [[0, 0], [-0.0, 1.5], [2.0, -3.0], [0, 0]])
    assert np.signbit(out[1, 0])   # the slice's gradient is copied, as PyTorch's slice_backward
    rows = np.array([1, 1, 0])
    np.testing.assert_array_equal(K.scatter_add(np.ones((3, 2)), rows, (3, 2)),
                                  [[1, 1], [2, 2], [0, 0]])


@needs_torch
def test_split_gradients_as_torch():
    rng = np.random.default_rng(7)
    x, gs = rng.standard_normal((2, 3, 9)), [rng.standard_normal((2, 3, 3)) for _ in range(3)]
    a, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sum((p * tg.tensor(g)).sum() for p, g in zip(a.split(3, dim=2), gs)).backward()
    sum((p * torch.tensor(g)).sum() for p, g in zip(t.split(3, dim=2), gs)).backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("index_shape, dims", [((7,), (5, 3)), ((4, 6), (5, 3)), ((9,), (4,)),
                                               ((3, 2), (6, 2, 2)), ((1,), (1, 1))])
def test_scatter_add_of_integer_rows_matches_add_at(index_shape, dims):
    rng = np.random.default_rng(8)
    rows = rng.integers(-dims[0], dims[0], size=index_shape)   # negatives and repeats
    g = rng.standard_normal(index_shape + dims[1:])
    want = np.zeros(dims)
    np.add.at(want, rows, g)
    got = K.scatter_add(g, rows, dims)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert got.dtype == g.dtype


def test_scatter_add_of_empty_rows():
    np.testing.assert_array_equal(
        K.scatter_add(np.zeros((0, 3)), np.zeros(0, dtype=np.int64), (4, 3)), np.zeros((4, 3)))


@needs_torch
def test_embedding_gradient_with_repeated_tokens_as_torch():
    rng = np.random.default_rng(9)
    w, idx = rng.standard_normal((6, 4)), rng.integers(0, 6, size=(3, 8))
    g = rng.standard_normal((3, 8, 4))
    a, t = tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    (F.embedding(tg.tensor(idx), a) * tg.tensor(g)).sum().backward()
    (torch.nn.functional.embedding(torch.tensor(idx), t) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-14)
    idx_t = tg.tensor(idx)
    assert tg.gradcheck(lambda m: F.embedding(idx_t, m), (tg.tensor(w, requires_grad=True),))
    assert tg.gradgradcheck(lambda m: F.embedding(idx_t, m) ** 2,
                            (tg.tensor(w, requires_grad=True),))


@pytest.mark.parametrize("bad", [4, -5])
def test_scatter_add_of_rows_out_of_bounds_raises(bad):
    with pytest.raises(IndexError, match="out of bounds"):
        K.scatter_add(np.ones((2, 3)), np.array([0, bad]), (4, 3))


def erf_points():
    rng = np.random.default_rng(10)
    return np.concatenate([rng.standard_normal(20000) * 3, rng.uniform(-30, 30, 20000),
                           np.linspace(-9, 9, 20001), rng.standard_normal(200) * 1e-12,
                           [0.0, 1.0, -1.0, 8.0, -8.0, 26.5, 27.0, 28.0, 40.0, 5e-324,
                            np.nextafter(1, 2), np.nextafter(1, 0), np.nextafter(8, 0)]])


def test_erf_matches_libm_to_a_few_ulps():
    import math
    x = erf_points()
    want = np.array([math.erf(v) for v in x])
    got = K.erf(x)
    assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)) < 1e-15


def test_erfc_matches_libm_in_the_tails():
    import math
    x = erf_points()
    want = np.array([math.erfc(v) for v in x])
    got = K.erfc(x)
    normal = want > 1e-300   # below that the subnormals keep few digits either way
    assert np.max(np.abs(got - want)[normal] / want[normal]) < 3e-15
    assert np.max(np.abs(got - want)[~normal]) < 1e-300
    assert K.erfc(np.array([10.0]))[0] == pytest.approx(2.088487583762545e-45, rel=1e-14)


def test_erf_special_values():
    x = np.array([-0.0, np.inf, -np.inf, np.nan])
    got = K.erf(x)
    assert np.signbit(got[0]) and got[0] == 0
    np.testing.assert_array_equal(got[1:3], [1.0, -1.0])
    assert np.isnan(got[3])
    np.testing.assert_array_equal(K.erfc(x[:3]), [1.0, 0.0, 2.0])
    assert np.isnan(K.erfc(x[3:]))[0]
    assert K.erf(np.zeros((2, 0))).shape == (2, 0)
    assert tg.tensor(np.array([1, 2])).erf().dtype == np.float64
    assert tg.tensor(np.array([0.5], dtype=np.float32)).erf().dtype == np.float32


@needs_torch
def test_erf_erfc_gelu_values_and_gradients_as_torch():
    x = np.linspace(-7, 7, 57)
    for ours, theirs in ((lambda t: t.erf(), torch.erf), (lambda t: t.erfc(), torch.erfc),
                         (F.gelu, torch.nn.functional.gelu)):
        a, t = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(a), theirs(t)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-14, atol=1e-300)
        # gelu'(-0.75) = Phi(x) + x phi(x) cancels to 8e-4: absolute rounding of 1e-16
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-13, atol=1e-15)


def test_erf_gelu_gradcheck_and_gradgradcheck():
    x = tg.tensor(np.array([-2.5, -0.7, 0.1, 0.9, 3.0]), requires_grad=True)
    for fn in (lambda t: t.erf(), lambda t: t.erfc(), F.gelu):
        assert tg.gradcheck(fn, (x,))
        assert tg.gradgradcheck(fn, (x,))


def test_erfinv_still_inverts_erf():
    p = np.linspace(-0.999999, 0.999999, 1001)
    np.testing.assert_allclose(K.erf(tg.tensor(p).erfinv().numpy()), p, rtol=1e-15, atol=1e-16)
