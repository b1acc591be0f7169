"""Products, scans, norms, order statistics and truth tests, as PyTorch names them.

Compositions only (see ops.py for the primitives). The math:

    prod       pairwise products along the dim, log2(n) rounds of x[0::2] * x[1::2]: only
               multiplications, so the gradient d prod / d x_i = prod of the others is
               right with one zero or several, and there is no division by zero.
    cumsum     Hillis-Steele scan: y <- y + (y shifted by 1, 2, 4, ...), log2(n) rounds;
    cumprod    the same with *, so (as prod) zeros need no special case.
    norm       torch.norm: the vector norm over dim (linalg.py has the norms themselves)
    order      sort/argsort/topk/median pick elements by index (indices int64, off the graph);
               the values are x at those indices, so the gradient goes to the picked
               elements. median() over all elements splits it among ties, as PyTorch.
    truth      all, any, count_nonzero: off the graph.
"""
import collections
import numpy as np

from . import linalg
from .tensor import as_tensor, wrap, cat, where, normalize_axis, reduction_args

SortResult = collections.namedtuple("sort", ["values", "indices"])
TopkResult = collections.namedtuple("topk", ["values", "indices"])
MedianResult = collections.namedtuple("median", ["values", "indices"])


def along(d, index):
    """The index tuple that applies `index` to axis d and keeps the axes before it."""
    return (slice(None),) * d + (index,)


def integers_as_int64(x):
    """Sums and products of integers are int64 in PyTorch."""
    return wrap(x._data.astype(np.int64)) if x.dtype.kind in "biu" else x


def one_dim(x, dim, who):
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{who}: dim must be an int, got {dim!r}")
    return normalize_axis(dim, x.ndim, who)


# --- products and scans ---------------------------------------------------------------

def pairwise_product(x, d):
    """Product along axis d, kept as a size-1 axis."""
    if x.shape[d] == 0:
        return x.sum(d, keepdims=True) * 0 + 1   # the empty product, on the graph
    while x.shape[d] > 1:
        if x.shape[d] % 2:
            pad = list(x.shape)
            pad[d] = 1
            x = cat([x, np.ones(pad, dtype=x.dtype)], d)
        x = x[along(d, slice(0, None, 2))] * x[along(d, slice(1, None, 2))]
    return x


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements, or along one dim."""
    x = integers_as_int64(as_tensor(input, dtype))
    if dim is None:
        return pairwise_product(x.reshape(-1) if x.ndim != 1 else x, 0).reshape(())
    d = one_dim(x, dim, "prod")
    if x.ndim == 0:
        return x * 1
    y = pairwise_product(x, d)
    return y if keepdim else y.squeeze(d)


def scan(x, dim, combine, identity, who):
    """Inclusive scan along dim: after the rounds with shifts 1, 2, 4, ..., y_i combines
    x_0 .. x_i."""
    if x.ndim == 0:
        return x * 1
    d = one_dim(x, dim, who)
    n, shift = x.shape[d], 1
    while shift < n:
        pad = list(x.shape)
        pad[d] = shift
        shifted = cat([np.full(pad, identity, dtype=x.dtype), x[along(d, slice(0, n - shift))]], d)
        x = combine(x, shifted)
        shift *= 2
    return x * 1 if n <= 1 else x


def cumsum(input, dim, *, dtype=None):
    x = integers_as_int64(as_tensor(input, dtype))
    return scan(x, dim, lambda a, b: a + b, 0, "cumsum")


def cumprod(input, dim, *, dtype=None):
    x = integers_as_int64(as_tensor(input, dtype))
    return scan(x, dim, lambda a, b: a * b, 1, "cumprod")


# --- norms ----------------------------------------------------------------------------

def norm(input, p="fro", dim=None, keepdim=False, *, dtype=None):
    """torch.norm: 'fro' (or a number) is the vector norm over dim (None: all elements)."""
    x = as_tensor(input)
    if p == "nuc":
        raise NotImplementedError("norm: p='nuc' needs singular values, which tinygrad_edu "
                                  "does not have")
    if p == "fro" or p is None:
        p = 2
    elif isinstance(p, str):
        raise ValueError(f"norm: p must be 'fro', 'nuc' or a number, got {p!r}")
    return linalg.vector_norm(x, p, dim, keepdim, dtype=dtype)



# --- order statistics -------------------------------------------------------------------

def take_along(x, idx, d):
    """x at the positions `idx` along axis d (np.take_along_axis, differentiable)."""
    grid = list(np.indices(idx.shape, sparse=True))
    grid[d] = idx
    return x[tuple(grid)]


def sort_indices(data, d, descending):
    """Stable order along d; NaN counts as the largest value (as PyTorch)."""
    if not descending:
        return np.argsort(data, axis=d, kind="stable")
    flipped = np.argsort(np.flip(data, d), axis=d, kind="stable")
    return data.shape[d] - 1 - np.flip(flipped, d)


def sort(input, dim=-1, descending=False, stable=False):
    """(values, indices) with values = input at the indices, sorted along dim; always
    stable (ties keep their order), which stable=False allows."""
    x = as_tensor(input)
    if x.ndim == 0:
        return SortResult(x * 1, wrap(np.zeros((), dtype=np.int64)))
    d = one_dim(x, dim, "sort")
    idx = sort_indices(x._data, d, descending)
    return SortResult(take_along(x, idx, d), wrap(idx.astype(np.int64)))


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) values along dim and their indices, always in sorted
    order (sorted=False leaves the order to the implementation in PyTorch too)."""
    x = as_tensor(input)
    size = x.shape[one_dim(x, dim, "topk")] if x.ndim else 1
    if not 0 <= k <= size:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {size} "
                         f"(shape {x.shape})")
    values, indices = sort(x, dim, descending=largest)
    if x.ndim == 0:
        return TopkResult(values, indices)
    d = one_dim(x, dim, "topk")
    return TopkResult(values[along(d, slice(0, k))], indices[along(d, slice(0, k))])


def median(input, dim=None, keepdim=False):
    """The lower median ((n-1)//2-th smallest); NaN if there is a NaN (as PyTorch).

    median() is a tensor whose gradient is split among the elements equal to it;
    median(dim) is (values, indices), the gradient going to the index."""
    x = as_tensor(input)
    if dim is None:
        flat = x.reshape(-1)
        if flat.shape[0] == 0:
            return wrap(np.array(np.nan, dtype=x.dtype))
        data = flat._data
        m = np.sort(data)[(data.size - 1) // 2]
        ties = np.isnan(data) if np.isnan(data).any() else data == m
        return flat[ties].amax()
    if x.ndim == 0:
        return MedianResult(x * 1, wrap(np.zeros((), dtype=np.int64)))
    d = one_dim(x, dim, "median")
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"median: dim {dim} of a tensor of shape {x.shape} is empty")
    order = sort_indices(x._data, d, False)
    idx = np.take(order, [(n - 1) // 2], axis=d)
    nans = np.isnan(x._data)
    idx = np.where(nans.any(axis=d, keepdims=True), np.argmax(nans, axis=d, keepdims=True), idx)
    values, indices = take_along(x, idx, d), wrap(idx.astype(np.int64))
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return MedianResult(values, indices)


# --- truth tests and counts: off the graph ---------------------------------------------

def all(input, dim=None, keepdim=False):
    x = as_tensor(input)
    axis, keep = reduction_args(x, "all", dim, keepdim, None, None)
    return wrap(np.all(x._data, axis=axis, keepdims=keep))


def any(input, dim=None, keepdim=False):
    x = as_tensor(input)
    axis, keep = reduction_args(x, "any", dim, keepdim, None, None)
    return wrap(np.any(x._data, axis=axis, keepdims=keep))


HistogramResult = collections.namedtuple("histogram", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """Counts of input's values in `bins` equal bins over range (default: min to max), or
    over the given bin edges; (hist, bin_edges) as PyTorch's, off the graph (counts have no
    gradient). The lectures plot activation statistics with it."""
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"histogram: input must be floating point, got dtype {x.dtype}")
    edges = bins._data if hasattr(bins, "_data") else bins
    w = None if weight is None else as_tensor(weight)._data.reshape(-1)
    hist, bin_edges = np.histogram(x._data.reshape(-1), bins=edges, range=range, weights=w,
                                   density=density)
    return HistogramResult(wrap(hist.astype(x.dtype)), wrap(bin_edges.astype(x.dtype)))


def histc(input, bins=100, min=0, max=0):
    """Counts in `bins` equal bins over [min, max] (both 0: the data's range); values
    outside are ignored, as PyTorch's histc."""
    x = as_tensor(input)
    lo, hi = (float(x._data.min()), float(x._data.max())) if min == max == 0 else (min, max)
    return histogram(x, bins, range=(lo, hi)).hist


def nansum(input, dim=None, keepdim=False):
    """The sum, with nan counted as 0 (its gradient is 0 there)."""
    x = as_tensor(input)
    return where(np.isnan(x._data), 0.0, x).sum(dim, keepdim)


def count_nonzero(input, dim=None):
    x = as_tensor(input)
    axis, _ = reduction_args(x, "count_nonzero", dim, False, None, None)
    return wrap(np.asarray(np.count_nonzero(x._data, axis=axis), dtype=np.int64))

