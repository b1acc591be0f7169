"""Shape and indexing functions with PyTorch's names: repeat, roll, flip, split, gather,
scatter, pad, ...

All compositions: each one only moves values, so it is built from Reshape, Permute,
Expand, Index, ScatterAdd, Cat and Where, and autograd differentiates it through
them (Expand's VJP sums the copies of repeat, Index's scatters the gradient of
gather back, adding repeated indices). Nothing here defines a gradient. Tensor
methods such as x.roll(1, 0) are one-line calls of these.

Index arrays are copied when read (`index_of`), so changing the caller's array
after the call can't change a gradient; indices that come out are int64.
"""
import math
import numbers

import numpy as np

from .tensor import (Tensor, as_tensor, cat, computed, normalize_axis, python_constant, shape_of,
                     wrap, where)


# --- argument handling ----------------------------------------------------------------

def along(dim, index):
    """The index that applies `index` to axis `dim` and takes everything else."""
    return (slice(None),) * dim + (index,)


def dims_of(dims, ndim, who):
    """An int or a sequence of ints -> a tuple of distinct non-negative axes."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    axes = tuple(normalize_axis(int(d), ndim, who) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{who}: dims {dims} name an axis more than once")
    return axes


def index_of(index, who, name="index"):
    """A private int64 copy of an integer index (a Tensor, array or list)."""
    array = np.array(index._data if isinstance(index, Tensor) else index)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"{who}: {name} must be an integer tensor, got dtype {array.dtype}")
    return array.astype(np.int64)


def in_range(index, size, who, dim, low=0):
    """Refuse indices outside [low, size), as PyTorch's gather/scatter/index_select do."""
    bad = index[(index < low) | (index >= size)]
    if bad.size:
        raise IndexError(f"{who}: index {bad.flat[0]} is out of bounds for dim {dim} "
                         f"with size {size}")


def needs_dims(input, who):
    if input.ndim == 0:
        raise RuntimeError(f"{who}: expects a tensor with at least one dim, got a 0-d tensor")


def same_dtype(input, src, who, name="src"):
    """PyTorch refuses to mix dtypes here (a float32 src into a float64 input)."""
    if src.dtype != input.dtype:
        raise RuntimeError(f"{who}: {name} has dtype {src.dtype} but the input has dtype "
                           f"{input.dtype}; convert one with .to()")
    return src


def tensors_of(tensors, who):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)) or not tensors:
        raise TypeError(f"{who}: expected a non-empty list or tuple of tensors")
    return [as_tensor(t) for t in tensors]


# --- repeating, reordering, reversing -------------------------------------------------

def repeat(input, *sizes):
    """np.tile: y has shape (r0 s0, r1 s1, ...); each copy is an Expand of a new axis
    placed before each axis, so the gradient of x sums the copies."""
    sizes = shape_of(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise RuntimeError(f"repeat: {len(sizes)} repeat sizes {sizes} for a tensor of shape "
                           f"{input.shape}; give at least one per dim (or use tile)")
    shape = (1,) * (len(sizes) - input.ndim) + input.shape
    spread = input.reshape(sum(((1, n) for n in shape), ()))
    copies = spread.broadcast_to(sum(((r, n) for r, n in zip(sizes, shape)), ()))
    return copies.reshape(tuple(r * n for r, n in zip(sizes, shape)))


def tile(input, dims):
    """repeat, with missing leading dims counting as 1 (torch.tile)."""
    dims = shape_of((dims,) if isinstance(dims, numbers.Integral) else (tuple(dims),), "tile")
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along dim) repeated repeats[i] times, next to itself.
    repeat_interleave(repeats) alone gives arange(len(repeats)) so repeated (int64)."""
    if repeats is None:
        counts = index_of(input, "repeat_interleave", "repeats")
        return wrap(np.repeat(np.arange(counts.size), counts.reshape(-1)))
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else normalize_axis(dim, x.ndim, "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    counts = index_of(repeats, "repeat_interleave", "repeats").reshape(-1)
    if counts.size not in (1, n) or (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative and hold 1 or "
                           f"{n} values (the size of dim {dim}), got {counts.tolist()}")
    picks = np.repeat(np.arange(n), counts if counts.size == n else counts[0])
    if output_size is not None and output_size != picks.size:
        raise RuntimeError(f"repeat_interleave: output_size={output_size}, but the repeats "
                           f"give {picks.size}")
    return x.reshape(1)[picks] if x.ndim == 0 else x[along(d, picks)]


def roll(input, shifts, dims=None):
    """Shift the values `shifts` places along `dims` (wrapping round); without dims,
    along the flattened tensor. Each shift is a Cat of two slices."""
    if dims is None:
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise RuntimeError(f"roll: {len(shifts)} shifts {tuple(shifts)} need as many dims")
        return roll(input.reshape(-1), shifts, 0).reshape(input.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    out = input
    for s, d in zip(shifts, dims):
        needs_dims(out, "roll")
        d = normalize_axis(d, out.ndim, "roll")
        n = out.shape[d]
        if n and int(s) % n:
            k = n - int(s) % n                     # y[i] = x[(i + k) % n]
            out = cat([narrow(out, d, k, n - k), narrow(out, d, 0, k)], d)
    return out


def flip(input, dims):
    """Reverse the order along `dims` (a negative-step slice: a view, as in NumPy)."""
    axes = dims_of(dims, input.ndim, "flip")
    index = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(input.ndim))
    return input[index] if axes else input[...]


def fliplr(input):
    """Columns in reverse order (dim 1); needs at least 2 dims."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must have at least 2 dims, got shape {input.shape}")
    return flip(input, 1)


def flipud(input):
    """Rows in reverse order (dim 0); needs at least 1 dim."""
    if input.ndim < 1:
        raise RuntimeError("flipud: input must have at least 1 dim, got a 0-d tensor")
    return flip(input, 0)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times, from the first of `dims` towards the second."""
    if len(dims) != 2 or input.ndim < 2:
        raise RuntimeError(f"rot90: needs 2 dims and an input with at least 2 dims, got "
                           f"dims {tuple(dims)} and shape {input.shape}")
    d0, d1 = (normalize_axis(d, input.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: the rotation dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return flip(input, d1).transpose(d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(input, d0).transpose(d0, d1)
    return input[...]


def movedim(input, source, destination):
    """Move the axes `source` to the positions `destination`; the others keep their order."""
    src = dims_of(source, input.ndim, "movedim")
    dst = dims_of(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must "
                           f"have the same number of dims")
    rest = iter(a for a in range(input.ndim) if a not in src)
    placed = dict(zip(dst, src))
    return input.permute(*(placed[i] if i in placed else next(rest) for i in range(input.ndim)))


moveaxis = movedim


def swapaxes(input, axis0, axis1):
    return input.transpose(axis0, axis1)


def swapdims(input, dim0, dim1):
    return input.transpose(dim0, dim1)


# --- reshaping ---------------------------------------------------------------------------

def ravel(input):
    return input.reshape(-1)


def narrow(input, dim, start, length):
    """input[..., start:start + length, ...] along dim; start may be negative."""
    needs_dims(input, "narrow")
    d = normalize_axis(dim, input.ndim, "narrow")
    n, start, length = input.shape[d], int(start), int(length)
    if not -n <= start <= n:
        raise IndexError(f"narrow: start {start} is out of range [-{n}, {n}] for dim {dim} "
                         f"of a tensor of shape {input.shape}")
    start = start + n if start < 0 else start
    if length < 0 or start + length > n:
        raise RuntimeError(f"narrow: start {start} + length {length} exceeds the size {n} of "
                           f"dim {dim} of a tensor of shape {input.shape}")
    return input[along(d, slice(start, start + length))]


def unflatten(input, dim, sizes):
    """Split axis `dim` into several of shape `sizes` (one of them may be -1)."""
    d = normalize_axis(dim, input.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    n = input.shape[d]
    if sizes.count(-1) == 1 and known and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    if not sizes or math.prod(sizes) != n or min(sizes) < 0:
        raise RuntimeError(f"unflatten: sizes {sizes} don't multiply up to the size {n} of "
                           f"dim {dim} of a tensor of shape {input.shape}")
    return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])


def atleast_1d(*tensors):
    """Each tensor with at least one dim: a 0-d x becomes shape (1,)."""
    return at_least(tensors, lambda t: (1,) * (1 - t.ndim) + t.shape)


def atleast_2d(*tensors):
    """0-d -> (1, 1), (n,) -> (1, n)."""
    return at_least(tensors, lambda t: (1,) * (2 - t.ndim) + t.shape)


def atleast_3d(*tensors):
    """0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return at_least(tensors, lambda t: ((1, 1, 1), (1,) + t.shape + (1,), t.shape + (1,))[t.ndim]
                    if t.ndim < 3 else t.shape)


def at_least(tensors, shape):
    """One tensor in, one out; several (or one list) in, a tuple out, as PyTorch."""
    single = len(tensors) == 1 and not isinstance(tensors[0], (tuple, list))
    if len(tensors) == 1 and not single:
        tensors = tensors[0]
    out = tuple(t.reshape(shape(t)) for t in map(as_tensor, tensors))
    return out[0] if single else out


# --- differences -------------------------------------------------------------------------

def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference y[i] = x[i+1] - x[i] along dim (prepend/append joined first;
    they need input's number of dims). Booleans give x[i+1] != x[i], as PyTorch."""
    if n < 0:
        raise RuntimeError(f"diff: order n must be non-negative, got {n}")
    d = normalize_axis(dim, input.ndim, "diff")
    if input.ndim == 0:
        raise RuntimeError("diff: expects input to be at least one-dimensional")
    parts = [as_tensor(p) for p in (prepend, input, append) if p is not None]
    if any(p.ndim != input.ndim or p.shape[:d] + p.shape[d + 1:] != input.shape[:d] +
           input.shape[d + 1:] for p in parts):
        raise RuntimeError(f"diff: prepend and append need the input's shape {input.shape} "
                           f"except along dim {dim}")
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x.shape[d]
        a, b = x[along(d, slice(1, None))], x[along(d, slice(0, max(m - 1, 0)))]
        x = wrap(a._data != b._data) if x.dtype == bool else a - b
    return x


# --- splitting -----------------------------------------------------------------------------

def split(tensor, split_size_or_sections, dim=0):
    """Pieces of split_size along dim (the last one smaller), or of the given sizes."""
    needs_dims(tensor, "split")
    d = normalize_axis(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n):
            raise RuntimeError(f"split: split_size {size} can't split a dim of size {n}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or min(sizes, default=0) < 0:
            raise RuntimeError(f"split: split sizes {sizes} must be non-negative and sum to "
                               f"the size {n} of dim {dim}")
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(tensor, d, s, k) for s, k in zip(starts, sizes))


def tensor_split(input, indices_or_sections, dim=0):
    """np.array_split: `sections` pieces as even as possible (the first ones one longer),
    or the pieces between the given indices (Python slices: they may be empty)."""
    needs_dims(input, "tensor_split")
    d = normalize_axis(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        spec = index_of(spec, "tensor_split", "indices_or_sections")
        spec = int(spec) if spec.ndim == 0 else spec.tolist()
    if isinstance(spec, numbers.Integral):
        if spec <= 0:
            raise RuntimeError(f"tensor_split: sections must be positive, got {spec}")
        q, r = divmod(n, int(spec))
        bounds = np.cumsum([0] + [q + 1] * r + [q] * (int(spec) - r)).tolist()
    else:
        bounds = [0] + [int(i) for i in spec] + [n]
    return tuple(input[along(d, slice(a, b))] for a, b in zip(bounds, bounds[1:]))


def chunk(input, chunks, dim=0):
    """split into pieces of ceil(size / chunks) (so possibly fewer than `chunks`)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be positive, got {chunks}")
    needs_dims(input, "chunk")
    d = normalize_axis(dim, input.ndim, "chunk")
    n = input.shape[d]
    if n == 0:   # PyTorch gives `chunks` empty pieces here
        return tuple(input[along(d, slice(0, 0))] for _ in range(chunks))
    return split(input, -(-n // chunks), d)


def unbind(input, dim=0):
    """The slices along dim, that dim removed (for a tensor of shape (0, ...): none)."""
    needs_dims(input, "unbind")
    d = normalize_axis(dim, input.ndim, "unbind")
    return tuple(input[along(d, i)] for i in range(input.shape[d]))


# --- stacking --------------------------------------------------------------------------------

def hstack(tensors):
    """Join along dim 1, or dim 0 when all are 1-D (0-d tensors count as 1-D)."""
    ts = atleast_1d(tensors_of(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-D tensors becoming rows."""
    return cat(atleast_2d(tensors_of(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 (the depth), after atleast_3d."""
    return cat(atleast_3d(tensors_of(tensors, "dstack")), 2)


def column_stack(tensors):
    """Join along dim 1, 0-d and 1-D tensors becoming columns."""
    ts = [t.reshape(t.numel(), 1) if t.ndim < 2 else t for t in tensors_of(tensors, "column_stack")]
    return cat(ts, 1)


# --- gather and scatter --------------------------------------------------------------------

def gather_index(input, dim, index, who, src=None):
    """The full NumPy index for out[i, j, ...] = input[..., index[i, j, ...], ...] (dim
    replaced by index), after PyTorch's checks on index's shape and values."""
    d = normalize_axis(dim, input.ndim, who)
    index = index_of(index, who)
    if index.ndim != input.ndim:
        raise RuntimeError(f"{who}: index of shape {index.shape} needs the {input.ndim} "
                           f"dims of the input (shape {input.shape})")
    others = [a for a in range(index.ndim) if a != d]
    if any(index.shape[a] > input.shape[a] for a in others) or (
            src is not None and any(index.shape[a] > src.shape[a] for a in range(src.ndim))):
        raise RuntimeError(f"{who}: index of shape {index.shape} is larger than the input "
                           f"{input.shape} (apart from dim {dim})"
                           + (f" or than src {src.shape}" if src is not None else ""))
    if src is not None and src.ndim != index.ndim:
        raise RuntimeError(f"{who}: src of shape {src.shape} needs the {index.ndim} dims of index")
    in_range(index, input.shape[d], who, dim)
    grid = list(np.indices(index.shape, sparse=True))
    grid[d] = index
    return tuple(grid), index


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (dim 0) / input[i][index[i][j]] (dim 1); shape of
    index. Its gradient scatter-adds back (Index's VJP), so repeated indices add up."""
    if input.ndim == 0:   # as PyTorch: a 0-d input counts as one of shape (1,)
        index = index_of(index, "gather")
        return gather(input.reshape(1), dim, index.reshape(-1)).reshape(index.shape)
    full, index = gather_index(input, dim, index, "gather")
    return input[full].reshape(index.shape)


def picked(src, index):
    """src's leading part of index's shape (src may be larger)."""
    return src[tuple(slice(0, n) for n in index.shape)]


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with out[index[i][j]][j] = src[i][j] (dim 0), out of place. As PyTorch:
    the overwritten values get no gradient, src gets gather(grad). When an element is
    written twice only one write survives; PyTorch then sends the gradient to both,
    which is wrong, so here that case is refused when src requires grad."""
    if input.ndim == 0:   # as PyTorch: a 0-d input counts as one of shape (1,)
        src = as_tensor(src).reshape(-1) if isinstance(src, (Tensor, np.ndarray)) else src
        return scatter(input.reshape(1), dim, index_of(index, "scatter").reshape(-1), src,
                       value=value, reduce=reduce).reshape(())
    if reduce is not None:
        if reduce == "add":
            return scatter_add(input, dim, index, src if value is None else
                               full_like_index(index, value, input))
        raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported (only 'add'); "
                                  f"use scatter_add, or compose it yourself")
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src (a tensor) or value (a number)")
    src = src if value is None else value
    if isinstance(src, numbers.Number):
        src = full_like_index(index, src, input)
    src = same_dtype(input, as_tensor(src), "scatter")
    full, index = gather_index(input, dim, index, "scatter", src)
    written = np.zeros(input.shape, dtype=bool)
    written[full] = True
    part = picked(src, index)
    if index.size > written.sum():
        if part.requires_grad:
            raise RuntimeError("scatter: index writes some element more than once; which "
                               "write wins is not differentiable (use scatter_add or "
                               "scatter_reduce-style compositions)")
        out = input._data.copy()
        out[full] = part._data
        return where(written, wrap(out), input)
    return where(written, part._scatter_add_at(full, input.shape), input)


def full_like_index(index, value, input):
    return wrap(np.full(np.shape(index._data if isinstance(index, Tensor) else index),
                        value, dtype=input.dtype))


def scatter_add(input, dim, index, src):
    """input with src[i][j] added at out[index[i][j]][j] (dim 0), repeated indices adding
    up; the gradient of src is gather(grad) (ScatterAdd's VJP)."""
    src = same_dtype(input, as_tensor(src), "scatter_add")
    if input.ndim == 0:   # as PyTorch: a 0-d input counts as one of shape (1,)
        return scatter_add(input.reshape(1), dim, index_of(index, "scatter_add").reshape(-1),
                           src.reshape(-1)).reshape(())
    full, index = gather_index(input, dim, index, "scatter_add", src)
    return input + picked(src, index)._scatter_add_at(full, input.shape)


def index_select(input, dim, index):
    """The slices input[..., index[k], ...] along dim, in index's order (index 1-D or 0-d)."""
    d = normalize_axis(dim, input.ndim, "index_select")
    index = index_of(index, "index_select")
    if index.ndim > 1 or (input.ndim == 0 and index.size != 1):
        raise RuntimeError(f"index_select: index must be 1-D or 0-d (one value for a 0-d "
                           f"input), got shape {index.shape}")
    in_range(index, input.shape[d] if input.ndim else 1, "index_select", dim)
    return input.reshape(()) if input.ndim == 0 else input[along(d, index.reshape(-1))]


def index_add(input, dim, index, source, *, alpha=1):
    """input with alpha * source[..., k, ...] added at input[..., index[k], ...] along dim."""
    d = normalize_axis(dim, input.ndim, "index_add")
    index = index_of(index, "index_add").reshape(-1)
    source = same_dtype(input, as_tensor(source), "index_add", "source")
    expected = input.shape[:d] + (index.size,) + input.shape[d + 1:] if input.ndim else ()
    if source.shape != expected or (input.ndim == 0 and index.size != 1):
        raise RuntimeError(f"index_add: source of shape {source.shape} should have shape "
                           f"{expected} (input {input.shape}, {index.size} indices along dim {dim})")
    in_range(index, input.shape[d] if input.ndim else 1, "index_add", dim)
    if input.ndim == 0:
        return input + source * alpha
    return input + (source * alpha)._scatter_add_at(along(d, index), input.shape)


def masked_select(input, mask):
    """The elements where mask (a bool tensor broadcast with input) is True, as a 1-D tensor."""
    mask = computed("np.array({0})", mask._data) if isinstance(mask, Tensor) else np.array(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {mask.dtype}")
    shape = np.broadcast_shapes(input.shape, mask.shape)
    return input.broadcast_to(shape)[np.broadcast_to(mask, shape).copy()]


def masked_fill(input, mask, value):
    """input with `value` (a number or a 0-d tensor, differentiable) where mask is True;
    the result has input's dtype and the broadcast shape of input and mask."""
    mask = np.array(mask._data if isinstance(mask, Tensor) else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill: value must be a number or a 0-d tensor, got "
                               f"shape {value.shape}")
        value = value.to(input.dtype)
    else:   # PyTorch converts the value to the input's dtype (1.5 into an int tensor: 1)
        value = wrap(np.array(value).astype(input.dtype))
    return where(mask, value, input)


def take(input, index):
    """input.flatten()[index], of index's shape; negative indices count from the end."""
    index = index_of(index, "take")
    n = input.numel()
    if index.size and not (-n <= index.min() and index.max() < n):
        raise IndexError(f"take: an index in {index.tolist()} is out of range for a tensor "
                         f"of {n} elements")
    return input.reshape(-1)[index]


def take_along_dim(input, indices, dim=None):
    """gather along dim, input and indices broadcast over the other dims (negative indices
    count from the end); without dim, along the flattened tensor."""
    index = index_of(indices, "take_along_dim", "indices")
    if dim is None:
        return take(input, index.reshape(-1))
    d = normalize_axis(dim, input.ndim, "take_along_dim")
    if index.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: indices of shape {index.shape} need the "
                           f"{input.ndim} dims of the input")
    n = input.shape[d]
    in_range(index, n, "take_along_dim", dim, low=-n)
    index = np.where(index < 0, index + n, index)
    shape = np.broadcast_shapes(input.shape[:d] + (1,) + input.shape[d + 1:],
                                index.shape[:d] + (1,) + index.shape[d + 1:])
    x = input.broadcast_to(shape[:d] + (n,) + shape[d + 1:])
    return gather(x, d, np.broadcast_to(index, shape[:d] + index.shape[d:d + 1] + shape[d + 1:]))


# --- padding -------------------------------------------------------------------------------

def pad(input, pad, mode="constant", value=None):
    """F.pad: pad = (left, right) for the last dim, then (top, bottom) for the one before,
    and so on. 'constant' joins blocks of `value` (negative pads crop); 'reflect' mirrors
    without repeating the edge, 'replicate' repeats it, 'circular' wraps round."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"pad: padding {pad} needs pairs, at most one per dim of a tensor "
                           f"of shape {input.shape}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}")
    if mode != "constant" and value not in (None, 0):
        raise ValueError(f"pad: value is only for mode 'constant', got mode {mode!r}")
    out = input
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        out = pad_dim(out, d, pad[2 * i], pad[2 * i + 1], mode, 0 if value is None else value)
    return out


def pad_dim(x, d, left, right, mode, value):
    """x padded by `left` and `right` elements along dim d."""
    n = x.shape[d]
    if mode == "constant":
        x = narrow(x, d, max(-left, 0), n - max(-left, 0) - max(-right, 0))
        # made from the shape and value alone: tg.compile keeps it as a constant
        block = lambda k: wrap(python_constant(np.full(x.shape[:d] + (k,) + x.shape[d + 1:],
                                                       value, x.dtype)))
        parts = ([block(left)] if left > 0 else []) + [x] + ([block(right)] if right > 0 else [])
        return cat(parts, d) if len(parts) > 1 else x
    limit = {"reflect": n - 1, "replicate": math.inf if n else 0, "circular": n}[mode]
    if min(left, right) < 0 or max(left, right) > limit:
        raise RuntimeError(f"pad: {mode} padding ({left}, {right}) of dim {d} (size {n}) must "
                           f"be non-negative and at most {limit}")
    if mode == "reflect":
        before, after = flip(narrow(x, d, 1, left), d), flip(narrow(x, d, n - 1 - right, right), d)
    elif mode == "replicate":
        edge = lambda i, k: repeat_interleave(x[along(d, slice(i, i + 1))], k, d)
        before, after = edge(0, left), edge(n - 1, right)
    else:
        before, after = x[along(d, slice(n - left, n))], x[along(d, slice(0, right))]
    return cat([before, x, after], d)
