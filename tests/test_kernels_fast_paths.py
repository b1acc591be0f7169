"""kernels.py's fast paths give what the plain NumPy calls give."""
import numpy as np
import pytest

from tinygrad_edu import kernels as K


@pytest.mark.parametrize("shape", [(960, 3), (4, 7, 10), (5, 1), (3, 1024), (2, 1025), (6, 0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sums_along_the_last_axis_match_numpy(shape, dtype):
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    axis = (x.ndim - 1,)
    # any order of summation is within n eps sum|x| of the exact sum (Higham, 4.3)
    bound = shape[-1] * np.finfo(dtype).eps * np.abs(x).sum(axis=axis, keepdims=True)
    for keepdims in (True, False):
        got = K.sum_(x, axis, keepdims)
        want = np.add.reduce(x, axis=axis, keepdims=keepdims)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.all(np.abs(got - want) <= bound.reshape(want.shape))
    # a strided view takes NumPy's reduce: the same sums, to rounding
    view = np.asfortranarray(x)
    assert np.all(np.abs(K.sum_(view, axis, True) - K.sum_(x, axis, True)) <= 2 * bound)


@pytest.mark.parametrize("n", [1, 2, 3, 8, 9])
def test_max_shift_matches_the_max_with_non_finite_rows_shifted_by_zero(n):
    x = np.random.default_rng(1).normal(size=(6, n))
    x[1] = -np.inf
    x[2, 0] = np.nan
    x[3, -1] = np.inf
    want = np.max(x, axis=1, keepdims=True, initial=-np.inf)
    want = np.where(np.isfinite(want), want, 0)
    np.testing.assert_array_equal(K.max_shift(x, 1), want)
    np.testing.assert_array_equal(K.max_shift(x, (1,)), want)
    np.testing.assert_array_equal(K.max_shift(x, 0), np.where(
        np.isfinite(x.max(0, keepdims=True)), x.max(0, keepdims=True), 0))


def test_distinct_positions_recognises_an_arange_on_every_axis():
    rows = np.arange(5)
    labels = np.array([2, 0, 2, 1, 1])
    assert K.distinct_positions((rows, labels)) and K.distinct_positions((labels, rows))
    assert not K.distinct_positions((labels, labels))
    assert not K.distinct_positions((rows[::-1].copy(), labels))      # not an arange
    assert not K.distinct_positions((np.array([0, 2, 2, 3, 4]), labels))
    assert not K.distinct_positions((rows, slice(None)))
    assert not K.distinct_positions(rows)
    i0, i1 = np.indices((4, 5), sparse=True)
    classes = np.zeros((4, 5), dtype=np.int64)
    assert K.distinct_positions((i0, classes, i1))
    assert not K.distinct_positions((i0, classes, classes))           # axis 1 not covered
    assert not K.distinct_positions((np.arange(0), np.arange(0)))


@pytest.mark.parametrize("index", [
    (np.arange(6), np.array([2, 0, 2, 1, 1, 0])),        # distinct: an assignment
    (np.array([0, 0, 3, 3, 5, 5]), np.array([1, 1, 0, 0, 2, 2])),   # repeats add up
    (np.arange(6), np.array([-1, 0, 2, -3, 1, 0])),     # negative labels wrap
])
def test_scatter_add_equals_np_add_at(index):
    g = np.random.default_rng(2).normal(size=6)
    want = np.zeros((6, 3))
    np.add.at(want, index, g)
    np.testing.assert_array_equal(K.scatter_add(g, index, (6, 3)), want)


def test_scatter_add_out_of_bounds_still_raises():
    with pytest.raises(IndexError):
        K.scatter_add(np.ones(3), (np.arange(3), np.array([0, 5, 1])), (3, 3))


def test_ones_vectors_are_shared_and_read_only():
    a = K.ones(7, np.dtype(np.float32))
    assert a is K.ones(7, np.dtype(np.float32)) and a.dtype == np.float32 and not a.flags.writeable
    np.testing.assert_array_equal(a, np.ones(7))
    assert K.ones(7, np.dtype(np.float64)) is not a


@pytest.mark.parametrize("shape, axis", [
    ((64, 32, 16), (0, 2)), ((4, 3, 5, 6), (0, 2, 3)), ((4, 3, 5, 6), (0, 1, 3)),
    ((4, 3, 5), (0, 1)), ((4, 3, 5), (1, 2)), ((4, 3, 5, 2), (0, 3)), ((2, 3, 2000), (0, 2)),
    ((4, 3, 5), (0, 1, 2)), ((4, 1, 5), (0, 2)), ((64, 32, 144), (0,)), ((3, 4, 5), (1,))])
@pytest.mark.parametrize("keepdims", [True, False])
def test_sums_over_outer_axes_match_numpy(shape, axis, keepdims):
    x = np.random.default_rng(3).normal(size=shape).astype(np.float32)
    got = K.sum_(x, axis, keepdims)
    want = np.add.reduce(x, axis=axis, keepdims=keepdims)
    assert got.shape == want.shape and got.dtype == want.dtype
    n = x.size // max(want.size, 1)
    bound = n * np.finfo(np.float32).eps * np.abs(x).sum(axis=axis, keepdims=keepdims)
    assert np.all(np.abs(got - want) <= bound)
