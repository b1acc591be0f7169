"""NumPy helpers behind the derivative table: shape arithmetic and speed tricks, no Tensors.

ops.py calls these from its forwards and VJPs so that each table row stays one line
of math; nothing here knows about graphs or gradients.
"""
import math

import numpy as np


def reduced_shape_kept(shape, axis):
    """Shape of a reduction over `axis` (tuple or None) with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def sum_to(x, shape):
    """Sum `x` down to `shape`, undoing NumPy broadcasting."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if axes:
        x = sum_(x, axes, True)
    return x.reshape(shape)


def sum_(x, axis, keepdims):
    """np.add.reduce, except that sums along the first axis of a float matrix or the last
    axis of a float array are BLAS products with ones (when C-ordered).

    Bias gradients and batch statistics sum over the batch axis of an (N, features)
    array, which NumPy reduces row by row: for (960, 16), ones(960) @ x gives the same
    sums in 3 us instead of 14. Softmax sums over a short last axis, which NumPy reduces
    at ~25 ns a row: x @ ones(3) takes 4 us for 960 rows instead of 26.
    """
    if x.dtype.kind == "f" and x.ndim >= 2 and axis is not None:
        if axis == (0,) and x.ndim == 2:
            return sum_rows(x, ones(x.shape[0], x.dtype), keepdims)
        if axis == (x.ndim - 1,) and x.shape[-1] <= LAST_AXIS_MAX:
            return sum_last(x, ones(x.shape[-1], x.dtype), keepdims)
        if x.flags.c_contiguous:
            outer = sum_outer(x, axis, keepdims)
            if outer is not None:
                return outer
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def sum_outer(x, axis, keepdims):
    """A C-ordered float array summed over its first and/or last axes (BatchNorm2d's
    statistics and bias gradients: (N, C, H*W) over (0, 2); a conv's weight gradient
    summed over the batch) as products with ones: 60 us for (64, 32, 16) over (0, 2) in
    NumPy's reduce, 5 this way. None for other axes."""
    axis = tuple(sorted(axis))
    a = next((i for i, k in enumerate(axis) if k != i), len(axis))   # leading axes 0..a-1
    b = x.ndim - (len(axis) - a)                                     # trailing axes b..
    if axis[a:] != tuple(range(b, x.ndim)) or a > b:
        return None
    lead, middle, trail = (math.prod(x.shape[:a]), math.prod(x.shape[a:b]),
                           math.prod(x.shape[b:]))
    if trail > LAST_AXIS_MAX:
        return None
    s = x.reshape(lead, middle * trail)
    s = ones(lead, x.dtype) @ s if lead > 1 else s.reshape(middle * trail)
    s = s.reshape(middle, trail) @ ones(trail, x.dtype) if trail > 1 else s.reshape(middle)
    shape = tuple(1 if i in axis else n for i, n in enumerate(x.shape)) if keepdims \
        else x.shape[a:b]
    return s.reshape(shape)


_ones = {}   # (n, dtype) -> a read-only vector of ones: a W1 step sums 23 times over 960 rows


def ones(n, dtype):
    """np.ones(n, dtype), made once per size and dtype (read-only, so sharing it is safe;
    two threads making the same one at once just make it twice)."""
    key = (n, dtype)
    vector = _ones.get(key)
    if vector is None:
        if len(_ones) > 256:   # many sizes (a batch that varies): keep the cache small
            _ones.clear()
        vector = np.ones(n, dtype=dtype)
        vector.flags.writeable = False
        _ones[key] = vector
    return vector


# Longer rows are left to NumPy's pairwise summation, whose rounding error grows with
# log n, where a dot product's grows with n.
LAST_AXIS_MAX = 1024


def sum_rows(x, ones, keepdims):
    """x.sum(0) for a float matrix, given ones(len(x)): ones @ x when x is C-ordered
    (tg.compile passes ones made once)."""
    if x.flags.c_contiguous:
        s = ones @ x
        return s.reshape(1, -1) if keepdims else s
    return np.add.reduce(x, axis=(0,), keepdims=keepdims)


def sum_last(x, ones, keepdims):
    """x.sum(-1) for a float array, given ones(x.shape[-1]): x @ ones when C-ordered."""
    if x.flags.c_contiguous:
        s = x @ ones
        return s[..., None] if keepdims else s
    return np.add.reduce(x, axis=(x.ndim - 1,), keepdims=keepdims)


def max_shift(x, axis):
    """The max along axis (kept), with 0 where it is not finite (softmax's shift). Over a
    short last axis, as a few np.maximum of columns: NumPy's reduce there costs ~50 ns a
    row (960 rows of 3: 50 us, the columns 10 us). max is exact, so the order of the
    comparisons can't change a value; NaN propagates either way."""
    n = x.shape[-1] if x.ndim else 0
    if axis in (x.ndim - 1, (x.ndim - 1,)) and 2 <= n <= 8:
        m = np.maximum(x[..., 0:1], x[..., 1:2])
        for i in range(2, n):
            m = np.maximum(m, x[..., i:i + 1])
    else:
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0)


def sigmoid(x):
    # exp(-softplus(-x)) never overflows: logaddexp(0, -x) is computed stably,
    # so sigmoid(-1000) = 0 and sigmoid(1000) = 1 with no warnings.
    return np.exp(-np.logaddexp(0, -x))


def scatter_add(g, index, shape):
    """zeros(shape) with `g` added at `index`; repeated indices accumulate."""
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index) or distinct_positions(index):
        out[index] = g   # each element at most once: zeros + g is g (one pass fewer)
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size and out.ndim:
        if distinct_rows(index, out.shape[0]):
            out[index] = g   # a max pool's picked elements: no row twice, so no adding
        else:
            add_rows_at(out, index, g)
    else:
        np.add.at(out, index, g)
    return out


def add_rows_at(out, rows, g):
    """out[rows] += g for an integer array `rows` into axis 0, repeated rows adding up (an
    embedding's backward): np.add.at, but with the rows sorted so that one np.add.reduceat
    sums each row's gradients; 4x faster for 512 tokens of 64 features. The additions
    happen in another order than np.add.at's (the same values to rounding)."""
    flat = rows.reshape(-1)
    flat = np.where(flat < 0, flat + out.shape[0], flat)   # -1 and n - 1 are one row
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    if ordered[0] < 0 or ordered[-1] >= out.shape[0]:
        raise IndexError(f"index {rows.min() if ordered[0] < 0 else rows.max()} is out of "
                         f"bounds for axis 0 with size {out.shape[0]}")
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    values = g.reshape((flat.size,) + out.shape[1:])[order]
    out[ordered[starts]] += np.add.reduceat(values, starts, axis=0)


def distinct_rows(rows, n):
    """True when the integer array `rows`, in bounds for an axis of size n, names no row
    twice (-1 and n - 1 are the same row). Out of bounds is False: the caller raises."""
    if rows.size > n:
        return False
    flat = rows.reshape(-1)
    flat = np.where(flat < 0, flat + n, flat)
    if flat.min() < 0 or flat.max() >= n:
        return False
    seen = np.zeros(n, dtype=bool)
    seen[flat] = True
    return np.count_nonzero(seen) == flat.size


def distinct_positions(index):
    """True when a tuple of integer arrays can't name a position twice because, for every
    axis of their broadcast shape, one of them is an arange along that axis and constant
    along the others (np.indices(..., sparse=True), as cross-entropy picks its classes).
    A few us: it runs on every backward of such an index."""
    if type(index) is not tuple or not index:
        return False
    for p in index:
        if (type(p) is not np.ndarray or p.dtype.kind not in "iu" or p.ndim != index[0].ndim
                or not p.size):
            return False
    ndim = index[0].ndim
    full = [max(p.shape[k] for p in index) for k in range(ndim)]
    covered = set()
    for p in index:
        axes = [k for k in range(ndim) if p.shape[k] != 1]
        if len(axes) == 1 and p.shape[axes[0]] == full[axes[0]]:
            flat = p.reshape(-1)   # n increasing integers from 0 to n - 1: arange(n)
            if (flat[0] == 0 and flat[-1] == flat.size - 1
                    and np.count_nonzero(flat[1:] > flat[:-1]) == flat.size - 1):
                covered.add(axes[0])
    return ndim > 0 and len(covered) == ndim


def is_basic_index(index):
    """True when `index` selects each element at most once (no integer arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, np.ndarray) and p.dtype != bool for p in parts)


def max_mask(x, y, axis):
    """Where x attains its max `y` along `axis`, divided by the number of ties."""
    hit = x == y.reshape(reduced_shape_kept(x.shape, axis))
    return (hit / hit.sum(axis=axis, keepdims=True)).astype(x.dtype, copy=False)


def tie_split(a, b):
    """d max(a, b) / da: 1 where a > b, 0.5 where a == b (as PyTorch), else 0."""
    return ((a > b) + 0.5 * (a == b)).astype(a.dtype, copy=False)


def inverse_permutation(dims):
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return tuple(inverse)


def unfold(x, kernel, stride, dilation):
    """Sliding windows of the last len(kernel) axes of x, copied out.

    x: (*lead, *spatial) -> (*lead, *kernel, *out) where, per spatial axis,
    out = (n - dilation (k - 1) - 1) // stride + 1 and
    y[..., i, ..., o, ...] = x[..., o * stride + i * dilation, ...].
    The copy makes the result an ordinary array that owns its memory.
    """
    return window_view(x, kernel, stride, dilation).copy()


def window_view(x, kernel, stride, dilation):
    """unfold's windows as a read-only view of x: as_strided adds one stride per axis."""
    d = len(kernel)
    lead, spatial = x.shape[:-d], x.shape[-d:]
    out = tuple((n - dl * (k - 1) - 1) // s + 1
                for n, k, s, dl in zip(spatial, kernel, stride, dilation))
    if min(out, default=1) < 1:
        raise ValueError(f"kernel {tuple(kernel)} with dilation {tuple(dilation)} is larger "
                         f"than the input's spatial size {tuple(spatial)}")
    steps = x.strides[-d:]
    return np.lib.stride_tricks.as_strided(
        x, lead + tuple(kernel) + out,
        x.strides[:-d] + tuple(t * dl for t, dl in zip(steps, dilation))
        + tuple(t * s for t, s in zip(steps, stride)), writeable=False)


def window_argmax(x, kernel, stride, dilation):
    """Where each window of x (*lead, *spatial) has its first maximum, NaN counting as the
    largest (np.argmax's rule): int64 (*lead, *out), the row-major position in the window.

    np.argmax along a window axis pays ~30 ns per window (16k windows of 2x2: 0.5 ms);
    here the windows are copied out kernel offset first, so that each offset is one
    contiguous block, and a running comparison over the offsets takes a few vectorised
    passes per offset instead."""
    d = len(kernel)
    windows = window_view(x, kernel, stride, dilation)
    n_lead = x.ndim - d
    offset_first = tuple(range(n_lead, n_lead + d)) + tuple(range(n_lead)) + tuple(
        range(n_lead + d, n_lead + 2 * d))
    cols = np.ascontiguousarray(windows.transpose(offset_first))
    cols = cols.reshape((-1,) + cols.shape[d:])
    best = cols[0]
    small = np.int8 if len(cols) <= 127 else np.int64
    where = np.zeros(best.shape, dtype=small)
    for i in range(1, len(cols)):
        c = cols[i]
        # c > best, or c is NaN where best is not: a later equal value never wins
        better = ~(c <= best) & (best == best)
        # i grows, so max(where, i [better]) is where(better, i, where), 4x faster
        np.maximum(where, better * small(i), out=where)
        # = where(better, c, best) as far as the comparisons can tell (NaN stays NaN,
        # and the larger is taken), in one pass instead of a where's three
        best = np.maximum(c, best)
    return where.astype(np.int64)


def window_flat_index(where, shape, kernel, stride, dilation):
    """The flat index, into an array of `shape` (*lead, *spatial) read in C order, of the
    element at window position `where` (window_argmax's result, (*lead, *out))."""
    d = len(kernel)
    lead, spatial = shape[:-d], shape[-d:]
    out = where.shape[-d:]
    steps = [math.prod(spatial[a + 1:]) for a in range(d)]   # C-order strides, in elements
    table = np.zeros(kernel, dtype=np.int64)
    start = np.zeros(out, dtype=np.int64)
    for a in range(d):
        along = (slice(None),) + (None,) * (d - 1 - a)
        table = table + (np.arange(kernel[a]) * dilation[a] * steps[a])[along]
        start = start + (np.arange(out[a]) * stride[a] * steps[a])[along]
    base = (np.arange(math.prod(lead), dtype=np.int64) * math.prod(spatial)).reshape(
        lead + (1,) * d)
    return base + start + table.reshape(-1)[where]


def fold(cols, spatial, kernel, stride, dilation):
    """The adjoint of unfold: zeros(*lead, *spatial) with every window added back in place.

    cols: (*lead, *kernel, *out). One strided slice-add per kernel offset (9 for a 3x3
    kernel), each a vectorised NumPy add over all windows at once; np.add.at with the
    equivalent index arrays is about 4x slower (NumPy 2, (64, 8, 3, 3, 8, 8) windows).
    The adds run on views with the lead axes (batch, channels) last: there they are one
    long run per pixel, where the spatial rows of a small image (4 or 8 values) would
    make NumPy's inner loop that short (2-4x slower on a CNN's (64, 16, 3, 3, 4, 4)).
    """
    d = len(kernel)
    n_lead = cols.ndim - 2 * d
    lead = cols.shape[:n_lead]
    out_sizes = cols.shape[-d:]
    if any(dl * (k - 1) + s * (o - 1) + 1 > n
           for n, k, s, dl, o in zip(spatial, kernel, stride, dilation, out_sizes)):
        raise ValueError(f"{tuple(out_sizes)} windows of kernel {tuple(kernel)} (stride "
                         f"{tuple(stride)}, dilation {tuple(dilation)}) do not fit in "
                         f"spatial size {tuple(spatial)}")
    if all(s == k and dl == 1 and o * k == n
           for n, k, s, dl, o in zip(spatial, kernel, stride, dilation, out_sizes)):
        # Windows that tile the input exactly (a 2x2 max-pool of an 8x8 image) never
        # overlap: fold is then one transposed copy, (*lead, *kernel, *out) ->
        # (*lead, out_0, kernel_0, out_1, kernel_1, ...), 4x faster than the slice-adds.
        order = tuple(range(n_lead)) + tuple(
            a for i in range(d) for a in (n_lead + d + i, n_lead + i))
        return np.ascontiguousarray(cols.transpose(order)).reshape(lead + tuple(spatial))
    windows_first = cols.transpose(tuple(range(n_lead, cols.ndim)) + tuple(range(n_lead)))
    y = np.zeros(tuple(spatial) + lead, dtype=cols.dtype)
    for offset in np.ndindex(*kernel):
        where = tuple(slice(i * dl, i * dl + s * (o - 1) + 1, s)
                      for i, dl, s, o in zip(offset, dilation, stride, out_sizes))
        y[where] += windows_first[offset]
    return np.ascontiguousarray(y.transpose(tuple(range(d, d + n_lead)) + tuple(range(d))))


# erf and erfc as NumPy passes instead of libm per element (np.frompyfunc, ~10x slower):
# the rational approximations of Cephes (S. L. Moshier, ndtr.c, public domain), accurate
# to a few 1e-16 relative; coefficients from the highest power down.
ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
         7.00332514112805075473E3, 5.55923013010394962768E4)
ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
         2.26290000613890934246E4, 4.92673942608635921086E4)
ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
          4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
          9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
          9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
          1.65666309194161350182E3, 5.57535340817727675546E2)
ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
          6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
          1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)


def check_probabilities(p, who):
    """p itself, after checking that every value lies in [0, 1]."""
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise ValueError(f"{who}: input values must lie in [0, 1] (they are probabilities), "
                         f"got values from {p.min()} to {p.max()}; for logits use "
                         f"binary_cross_entropy_with_logits")
    return p


def bce_clamped(p, y):
    """Binary cross-entropy with each log clamped at -100, as PyTorch (finite at 0 and 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))


def pool_indices(where, kernel, out, stride, padding, dilation, width):
    """max_pool2d's return_indices: the flat index h * W + w, in the unpadded input, of
    each window's maximum, given `where`, its position in the window (N, C, *out)."""
    i, j = np.unravel_index(where, kernel)
    rows = np.arange(out[0]).reshape(-1, 1) * stride[0] - padding[0] + i * dilation[0]
    columns = np.arange(out[1]) * stride[1] - padding[1] + j * dilation[1]
    return (rows * width + columns).astype(np.int64)


def polynomial(x, coefficients):
    """Horner's rule, in place on one array."""
    y = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        y *= x
        y += c
    return y


def erf_near_zero(x):
    """erf(x) = x T(x^2) / U(x^2) for |x| <= 1."""
    z = x * x
    return x * polynomial(z, ERF_T) / polynomial(z, ERF_U)


def erfc_of_positive(a):
    """erfc(a) for a >= 1 (or nan): e^(-a^2) P(a)/Q(a) below 8, R(a)/S(a) above.

    e^(-a^2) is exp(-h^2) exp(-(a - h)(a + h)) with h = a rounded down to 1/16: h^2 is
    exact, where rounding a^2 itself would cost a^2 ulps (1e-14 relative at a = 26).
    Beyond 28 erfc underflows to 0 (erfc(27.3) < the smallest double)."""
    a = np.minimum(a, 28.0)   # inf too; nan stays nan
    ratio = np.empty_like(a)
    mid = a < 8
    ratio[mid] = polynomial(a[mid], ERFC_P) / polynomial(a[mid], ERFC_Q)
    far = ~mid
    ratio[far] = polynomial(a[far], ERFC_R) / polynomial(a[far], ERFC_S)
    h = np.floor(a * 16) / 16
    return np.exp(-h * h) * np.exp(-(a - h) * (a + h)) * ratio


def erf(x):
    """The error function in float64, elementwise (erf(-0.0) = -0.0, erf(+-inf) = +-1)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    out = np.empty_like(x)
    near = a <= 1
    out[near] = erf_near_zero(x[near])
    far = ~near   # and nan
    out[far] = np.copysign(1 - erfc_of_positive(a[far]), x[far])
    return out


def erfc(x):
    """1 - erf(x) in float64, elementwise, with its own tail (erfc(10) = 2.1e-45, not 0)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    out = np.empty_like(x)
    near = a < 1
    out[near] = 1 - erf_near_zero(x[near])
    far = ~near
    tail = erfc_of_positive(a[far])
    out[far] = np.where(x[far] < 0, 2 - tail, tail)
    return out
