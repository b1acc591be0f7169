"""reductions.py against PyTorch: products and scans (with zeros), torch.norm, sort,
argsort, topk, median, all/any/count_nonzero; over dims, negative dims, keepdim,
size-1 and empty axes."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
from test_pointwise import oracle, close, sample

torch = pytest.importorskip("torch")

SHAPE_DIMS = [((5,), 0), ((2, 3), 1), ((2, 3), -1), ((3, 1, 4), 1), ((2, 3, 4), -2),
              ((0, 3), 1), ((2, 0), 1), ((7,), -1)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape, dim", SHAPE_DIMS, ids=str)
def test_prod_along_a_dim(shape, dim, keepdim):
    oracle(lambda x: tg.prod(x, dim, keepdim), lambda x: torch.prod(x, dim, keepdim),
           [sample("normal", shape)])
    oracle(lambda x: x.prod(dim, keepdim=keepdim), lambda x: x.prod(dim, keepdim=keepdim),
           [sample("normal", shape)], smooth=False)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (0,), (3, 1, 2)], ids=str)
def test_prod_of_all(shape):
    oracle(tg.prod, torch.prod, [sample("normal", shape)])
    oracle(lambda x: x.prod(), lambda x: x.prod(), [sample("normal", shape)], smooth=False)


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 2.0],
                                    [0.0, 0.0, 0.0], [0.0]], ids=str)
def test_prod_and_cumprod_with_zeros(values):
    x = np.array(values)
    oracle(tg.prod, torch.prod, [x])   # gradgradcheck too: product rule, no division
    oracle(lambda t: tg.cumprod(t, 0), lambda t: torch.cumprod(t, 0), [x])
    m = np.array([values, values[::-1]])
    oracle(lambda t: tg.prod(t, 1), lambda t: torch.prod(t, 1), [m])


@pytest.mark.parametrize("shape, dim", SHAPE_DIMS + [((), 0)], ids=str)
def test_cumsum_and_cumprod(shape, dim):
    oracle(lambda x: tg.cumsum(x, dim), lambda x: torch.cumsum(x, dim), [sample("normal", shape)])
    oracle(lambda x: x.cumprod(dim), lambda x: x.cumprod(dim), [sample("normal", shape)])
    oracle(lambda x: x.cumsum(dim=dim), lambda x: x.cumsum(dim=dim), [sample("normal", shape)],
           smooth=False)


def test_integer_products_and_sums_are_int64():
    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    t = torch.tensor(x)
    close(tg.prod(tg.tensor(x)), torch.prod(t))
    close(tg.prod(tg.tensor(x), 1), torch.prod(t, 1))
    close(tg.cumsum(tg.tensor(x), 0), torch.cumsum(t, 0))
    close(tg.cumprod(tg.tensor(x), 1), torch.cumprod(t, 1))


NORMS = [("fro", None, False), (2, None, False), (1, 1, False), (3, -1, True),
         (math.inf, 0, False), (-math.inf, 1, True), (0, 1, False), (0.5, None, False),
         ("fro", (0, 1), True), (2, (-2, -1), False)]


@pytest.mark.parametrize("p, dim, keepdim", NORMS, ids=str)
def test_norm_matches_torch(p, dim, keepdim):
    smooth = p not in (math.inf, -math.inf, 0, 1)
    oracle(lambda x: tg.norm(x, p, dim, keepdim), lambda x: torch.norm(x, p, dim, keepdim),
           [sample("away", (3, 4))], smooth=smooth)
    oracle(lambda x: x.norm(p, dim, keepdim), lambda x: x.norm(p, dim, keepdim),
           [sample("away", (2, 3, 4))], smooth=False)


def test_norm_of_zeros_has_a_zero_gradient_as_pytorch():
    for p in ("fro", 2, 3, 1):
        oracle(lambda x: tg.norm(x, p), lambda x: torch.norm(x, p), [np.zeros(4)], fd=False)
        oracle(lambda x: tg.norm(x, p, 1), lambda x: torch.norm(x, p, 1),
               [np.array([[0.0, 0.0], [3.0, -4.0]])], fd=False)
    oracle(tg.norm, torch.norm, [np.zeros((0, 3))])


def test_norm_refuses_what_it_cannot_do():
    x = tg.tensor(np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="nuc"):
        tg.norm(x, "nuc")
    with pytest.raises(ValueError, match="norm: p"):
        tg.norm(x, "max")


SORTS = [((5,), -1, False), ((5,), 0, True), ((3, 4), 0, False), ((3, 4), -1, True),
         ((2, 3, 4), 1, True), ((0, 3), 1, False), ((3, 1), 1, False), ((), 0, False)]


@pytest.mark.parametrize("shape, dim, descending", SORTS, ids=str)
def test_sort_and_argsort(shape, dim, descending):
    oracle(lambda x: tg.sort(x, dim, descending), lambda x: torch.sort(x, dim, descending),
           [sample("normal", shape)])
    oracle(lambda x: x.sort(dim=dim, descending=descending),
           lambda x: x.sort(dim=dim, descending=descending), [sample("normal", shape)], smooth=False)
    oracle(lambda x: tg.argsort(x, dim, descending), lambda x: torch.argsort(x, dim, descending),
           [sample("normal", shape)])


def test_sort_returns_a_named_tuple_and_stable_ties_and_nan_as_largest():
    x = np.array([2.0, math.nan, 1.0, 2.0, -math.inf, 1.0])
    for descending in (False, True):
        ours = tg.sort(tg.tensor(x), descending=descending, stable=True)
        theirs = torch.sort(torch.tensor(x), descending=descending, stable=True)
        close(ours.values, theirs.values)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        assert type(ours).__name__ == "sort" and ours.indices.dtype == np.int64


TOPKS = [((6,), 3, -1, True), ((6,), 2, 0, False), ((3, 5), 2, 1, True), ((3, 5), 3, 0, False),
         ((2, 3, 4), 4, -1, True), ((4,), 0, 0, True), ((4,), 4, 0, False)]


@pytest.mark.parametrize("shape, k, dim, largest", TOPKS, ids=str)
def test_topk(shape, k, dim, largest):
    oracle(lambda x: tg.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest),
           [sample("normal", shape)])
    oracle(lambda x: x.topk(k, dim=dim, largest=largest),
           lambda x: x.topk(k, dim=dim, largest=largest), [sample("normal", shape)], smooth=False)


def test_topk_refuses_k_out_of_range():
    with pytest.raises(ValueError, match="topk: k=4"):
        tg.topk(tg.tensor([1.0, 2.0, 3.0]), 4)


MEDIANS = [((5,), 0, False), ((4,), -1, True), ((3, 4), 1, False), ((3, 4), 0, True),
           ((2, 3, 4), -2, False), ((3, 1), 1, False)]


@pytest.mark.parametrize("shape, dim, keepdim", MEDIANS, ids=str)
def test_median_along_a_dim_is_the_lower_median(shape, dim, keepdim):
    oracle(lambda x: tg.median(x, dim, keepdim), lambda x: torch.median(x, dim, keepdim),
           [sample("normal", shape)])
    oracle(lambda x: x.median(dim, keepdim=keepdim), lambda x: x.median(dim, keepdim=keepdim),
           [sample("normal", shape)], smooth=False)


@pytest.mark.parametrize("shape", [(5,), (4,), (2, 3), ()], ids=str)
def test_median_of_all(shape):
    oracle(tg.median, torch.median, [sample("normal", shape)])


def test_median_splits_the_gradient_among_ties_and_propagates_nan():
    oracle(tg.median, torch.median, [np.array([1.0, 2.0, 2.0, 3.0])], fd=False)
    oracle(lambda x: x.median(), lambda x: x.median(), [np.array([[4.0, 2.0], [2.0, 1.0]])],
           fd=False)
    x = np.array([[1.0, math.nan, 3.0], [3.0, 1.0, 2.0]])
    oracle(lambda t: tg.median(t, 1), lambda t: torch.median(t, 1), [x], fd=False)
    oracle(tg.median, torch.median, [x], grad=False)
    assert type(tg.median(tg.tensor(x), 1)).__name__ == "median"


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (-1, True), ((0, 2), False)])
def test_all_any_count_nonzero(dim, keepdim):
    x = np.array([[[1.0, 0.0], [2.0, 3.0]], [[0.0, 0.0], [1.0, -1.0]]])
    t = torch.tensor(x)
    for ours, theirs in [(tg.all, torch.all), (tg.any, torch.any)]:
        out = ours(tg.tensor(x), dim=dim, keepdim=keepdim)
        ref = theirs(t) if dim is None else theirs(t, dim=dim, keepdim=keepdim)
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
    close(tg.count_nonzero(tg.tensor(x), dim), torch.count_nonzero(t, dim))
    close(tg.tensor(x).count_nonzero(dim), torch.count_nonzero(t, dim))
