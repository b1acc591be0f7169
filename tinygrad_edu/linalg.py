"""Linear algebra as compositions of MatMul, elementwise products, sums and index views;
also the `tg.linalg` namespace (norm, vector_norm, matrix_norm, matrix_power, diagonal).

    products    outer(a, b)_ij = a_i b_j,  inner(a, b) = sum over the last axes,
                tensordot: permute + reshape both to matrices, one MatMul, reshape back,
                kron(a, b)[i*p + k, j*q + l] = a_ij b_kl (an interleaved broadcast product),
                mm / bmm / mv / dot / vdot: MatMul with PyTorch's shape checks
    einsum      each operand's repeated labels become diagonals; then every operand is
                laid out over one common list of labels (size-1 where it lacks one),
                multiplied in by broadcasting, and each label is summed out as soon as
                no later operand and not the output needs it
    diagonals   diagonal: x[..., i, i + offset] after moving dim1, dim2 last (an Index view),
                diag / diag_embed: the adjoint, a ScatterAdd into a zero matrix,
                trace = sum of the diagonal, tril / triu: where(mask, x, 0)
    norms       ||x||_p = (sum |x|^p)^(1/p),  p = inf: max |x|,  -inf: min |x|,  0: #nonzero;
                where the norm is 0 its gradient is 0 (as PyTorch), not 0 * inf.
                Matrices: 'fro' = ||vec A||_2,  1: max column sum of |A|,  inf: max row sum.
    powers      matrix_power(A, n): repeated squaring, A^0 = I
"""
import math

import numpy as np

from .tensor import as_tensor, lift, wrap, where, matmul, normalize_axis, reduction_args
from .pointwise import constant_like


def check_ndim(who, name, x, ndims):
    if x.ndim not in ndims:
        expected = " or ".join(f"{n}-D" for n in ndims)
        raise RuntimeError(f"{who}: {name} must be {expected}, got shape {x.shape}")


def operands(input, other):
    a = as_tensor(input)
    return a, lift(other, a)


# --- products ---------------------------------------------------------------------------

def outer(input, vec2):
    a, b = operands(input, vec2)
    check_ndim("outer", "input", a, (1,))
    check_ndim("outer", "vec2", b, (1,))
    return a.unsqueeze(1) * b


def inner(input, other):
    """Sum of products over the last axis of each (a scalar operand just multiplies)."""
    a, b = operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, ([a.ndim - 1], [b.ndim - 1]))


def tensordot(a, b, dims=2):
    """Contract dims of a with dims of b: an int n (a's last n with b's first n) or two lists."""
    a, b = operands(a, b)
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} is out of range for shapes {a.shape} "
                               f"and {b.shape}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([normalize_axis(d, t.ndim, "tensordot") for d in ds]
                          for ds, t in zip(dims, (a, b)))
    if len(dims_a) != len(dims_b) or any(a.shape[i] != b.shape[j] for i, j in zip(dims_a, dims_b)):
        raise RuntimeError(f"tensordot: dims {dims_a} of shape {a.shape} don't match dims "
                           f"{dims_b} of shape {b.shape}")
    free_a = [i for i in range(a.ndim) if i not in dims_a]
    free_b = [j for j in range(b.ndim) if j not in dims_b]
    k = math.prod(a.shape[i] for i in dims_a)
    shape_a, shape_b = tuple(a.shape[i] for i in free_a), tuple(b.shape[j] for j in free_b)
    left = a.permute(*free_a, *dims_a).reshape(math.prod(shape_a), k)
    right = b.permute(*dims_b, *free_b).reshape(k, math.prod(shape_b))
    return (left @ right).reshape(shape_a + shape_b)


def kron(input, other):
    a, b = operands(input, other)
    n = max(a.ndim, b.ndim)
    sa, sb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
    a = a.reshape(tuple(v for s in sa for v in (s, 1)))
    b = b.reshape(tuple(v for s in sb for v in (1, s)))
    return (a * b).reshape(tuple(p * q for p, q in zip(sa, sb)))


def checked_product(who, input, other, ndims, names):
    """MatMul after PyTorch's checks for `who`: each operand's ndim, batch and contracted sizes."""
    a, b = operands(input, other)
    check_ndim(who, names[0], a, (ndims[0],))
    check_ndim(who, names[1], b, (ndims[1],))
    if a.ndim == 3 and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{who}: batch sizes differ: shapes {a.shape} and {b.shape} "
                           f"({who} does not broadcast; use matmul)")
    rows = b.shape[-2 if b.ndim > 1 else 0]
    if a.shape[-1] != rows:
        raise RuntimeError(f"{who}: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"({a.shape[-1]} against {rows})")
    return matmul(a, b)


def mm(input, mat2):
    return checked_product("mm", input, mat2, (2, 2), ("input", "mat2"))


def bmm(input, mat2):
    return checked_product("bmm", input, mat2, (3, 3), ("input", "mat2"))


def mv(input, vec):
    return checked_product("mv", input, vec, (2, 1), ("input", "vec"))


def dot(input, other):
    return checked_product("dot", input, other, (1, 1), ("input", "other"))


def vdot(input, other):
    """dot with the first vector conjugated: the same as dot for real tensors."""
    return dot(input, other)


def matrix_power(A, n):
    """A @ A @ ... (n times) by repeated squaring; n = 0 gives the identity (zero gradient)."""
    A = as_tensor(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"matrix_power: expected square matrices, got shape {A.shape}")
    if n < 0:
        raise NotImplementedError("matrix_power: a negative n needs the matrix inverse, "
                                  "which tinygrad_edu does not have")
    if n == 0:
        return constant_like(A, np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
    result, power = None, A
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    return result


# --- einsum --------------------------------------------------------------------------

def einsum_labels(term, ndim, who):
    """One operand's subscripts as a list of labels; '...' stands for its leading axes,
    labelled by their position from the right ('.0' is the last axis of the ellipsis)."""
    if term.count("...") > 1 or "." in term.replace("...", ""):
        raise ValueError(f"{who}: bad ellipsis in {term!r}")
    head, dots, tail = term.partition("...")
    for c in head + tail:
        if not c.isalpha():
            raise ValueError(f"{who}: subscripts must be letters, got {c!r} in {term!r}")
    n_ellipsis = ndim - len(head) - len(tail)
    if (dots and n_ellipsis < 0) or (not dots and n_ellipsis != 0):
        raise ValueError(f"{who}: subscripts {term!r} don't fit an operand with {ndim} dims")
    return list(head) + [f".{k}" for k in range(n_ellipsis - 1, -1, -1)] + list(tail)


def einsum(equation, *operands):
    """Einstein summation: torch.einsum("ij,jk->ik", a, b) is a @ b."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    xs = [as_tensor(x) for x in operands]
    lhs, arrow, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(xs):
        raise ValueError(f"einsum: {equation!r} has {len(terms)} operands, got {len(xs)} tensors")
    written = [einsum_labels(t, x.ndim, "einsum") for t, x in zip(terms, xs)]
    xs, labels = zip(*[distinct_labels(x, ls) for x, ls in zip(xs, written)])
    n_ellipsis = max(sum(l[0] == "." for l in ls) for ls in labels)
    ellipsis = [f".{k}" for k in range(n_ellipsis - 1, -1, -1)]
    if arrow:
        n_out = len(rhs.replace("...", "")) + (n_ellipsis if "..." in rhs else 0)
        out = einsum_labels(rhs, n_out, "einsum")
        if len(set(out)) != len(out):
            raise ValueError(f"einsum: an output label appears twice in {equation!r}")
        missing = set(out) - {l for ls in labels for l in ls}
        if missing:
            raise ValueError(f"einsum: output labels {sorted(missing)} appear in no operand")
    else:
        once = [l for l in sorted({l for ls in labels for l in ls if l[0] != "."})
                if sum(ls.count(l) for ls in written) == 1]
        out = ellipsis + once
    order = list(dict.fromkeys(out + [l for ls in labels for l in ls]))
    sizes = {}
    for x, ls in zip(xs, labels):
        for l, n in zip(ls, x.shape):
            if l[0] != "." and sizes.setdefault(l, n) != n:
                raise ValueError(f"einsum: label {l!r} has size {sizes[l]} and {n} in {equation!r}")
    result = None
    for k, (x, ls) in enumerate(zip(xs, labels)):
        x = lay_out(x, ls, order)
        result = x if result is None else result * x
        later = {l for rest in labels[k + 1:] for l in rest} | set(out)
        done = tuple(i for i, l in enumerate(order) if l in ls and l not in later
                     and result.shape[i] != 1)
        if done:
            result = result.sum(done, keepdims=True)
    return result.reshape(result.shape[:len(out)])


def distinct_labels(x, ls):
    """A label repeated within one operand ('ii') takes that operand's diagonal."""
    ls = list(ls)
    for l in list(dict.fromkeys(ls)):
        while ls.count(l) > 1:
            i = ls.index(l)
            j = ls.index(l, i + 1)
            if x.shape[i] != x.shape[j]:
                raise ValueError(f"einsum: label {l!r} repeats over dims of sizes "
                                 f"{x.shape[i]} and {x.shape[j]}")
            x = take_diagonal(x, 0, i, j)
            ls = [m for k, m in enumerate(ls) if k not in (i, j)] + [l]
    return x, ls


def lay_out(x, ls, order):
    """x's axes permuted into `order`, with a size-1 axis for each label it lacks."""
    x = x.permute(*sorted(range(len(ls)), key=lambda i: order.index(ls[i])))
    present = dict(zip(sorted(ls, key=order.index), x.shape))
    return x.reshape(tuple(present.get(l, 1) for l in order))


# --- diagonals and triangles -------------------------------------------------------------

def take_diagonal(input, offset=0, dim1=0, dim2=1):
    """torch.diagonal (tg.diagonal, x.diagonal): the diagonal of the matrices spanned by
    dim1 and dim2, as the last axis of the result (torch.linalg.diagonal is `diagonal`)."""
    x = as_tensor(input)
    d1, d2 = normalize_axis(dim1, x.ndim, "diagonal"), normalize_axis(dim2, x.ndim, "diagonal")
    if x.ndim < 2 or d1 == d2:
        raise RuntimeError(f"diagonal: dim1 and dim2 must be two different dims, got {dim1} "
                           f"and {dim2} for shape {x.shape}")
    x = x.permute(*[i for i in range(x.ndim) if i not in (d1, d2)], d1, d2)
    rows, cols = diagonal_positions(x.shape[-2], x.shape[-1], offset)
    return x[..., rows, cols]


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """torch.linalg.diagonal: as torch.diagonal, but the matrices are the last two dims."""
    return take_diagonal(A, offset, dim1, dim2)


def diagonal_positions(n_rows, n_cols, offset):
    """Row and column indices of the diagonal `offset` (> 0 above the main one)."""
    length = max(min(n_rows, n_cols - offset) if offset >= 0 else min(n_rows + offset, n_cols), 0)
    i = np.arange(length)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with the last axis of input on their diagonal `offset`, spanned by dim1, dim2."""
    x = as_tensor(input)
    n = x.ndim + 1
    d1, d2 = normalize_axis(dim1, n, "diag_embed"), normalize_axis(dim2, n, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    m = (x.shape[-1] if x.ndim else 1) + abs(offset)
    x = x.reshape(1) if x.ndim == 0 else x
    rows, cols = diagonal_positions(m, m, offset)
    built = x._scatter_add_at((Ellipsis, rows, cols), x.shape[:-1] + (m, m))
    rest = iter(range(n - 2))
    return built.permute(*[n - 2 if i == d1 else n - 1 if i == d2 else next(rest) for i in range(n)])


def diag(input, diagonal=0):
    """A 1-D input becomes a matrix with it on the diagonal; a matrix gives its diagonal."""
    x = as_tensor(input)
    check_ndim("diag", "input", x, (1, 2))
    if x.ndim == 2:
        return take_diagonal(x, diagonal)
    return diag_embed(x, diagonal)


def trace(input):
    x = as_tensor(input)
    check_ndim("trace", "input", x, (2,))
    return take_diagonal(x).sum()


def triangle(x, diagonal, keep_lower, who):
    x = as_tensor(x)
    if x.ndim < 2:
        raise RuntimeError(f"{who}: input must have at least 2 dims, got shape {x.shape}")
    ones = np.ones(x.shape[-2:], dtype=bool)
    mask = np.tril(ones, diagonal) if keep_lower else np.triu(ones, diagonal)
    return where(mask, x, 0)


def tril(input, diagonal=0):
    return triangle(input, diagonal, True, "tril")


def triu(input, diagonal=0):
    return triangle(input, diagonal, False, "triu")


# --- norms ----------------------------------------------------------------------------

def root(s, p):
    """s^(1/p), with gradient 0 where s == 0 (PyTorch's choice: the norm's subgradient 0)."""
    positive = s._data != 0
    safe = where(positive, s, 1)
    return where(positive, safe.sqrt() if p == 2 else safe ** (1 / p), 0)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """||x||_ord over dim (None: all elements, as one vector)."""
    x = as_tensor(x, dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"vector_norm: expected a floating point tensor, got dtype {x.dtype}")
    if isinstance(ord, (str, bool)):
        raise ValueError(f"vector_norm: ord must be a number, got {ord!r}")
    axis, keep = reduction_args(x, "vector_norm", dim, keepdim, None, None)
    a = x.abs()
    if ord == math.inf:
        return a.amax(axis, keep)
    if ord == -math.inf:
        return a.amin(axis, keep)
    if ord == 0:
        counts = (x._data != 0).sum(axis=axis, keepdims=keep).astype(x.dtype)
        return constant_like(x.sum(), counts) if x.requires_grad else wrap(counts)
    if ord == 1:
        return a.sum(axis, keep)
    if ord == 2:
        return root((x * x).sum(axis, keep), 2)
    return root((a ** ord).sum(axis, keep), ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius, 1 (max column sum) and inf (max row sum) norms, and -1, -inf (the min)."""
    A = as_tensor(A, dtype)
    if A.ndim < 2:
        raise RuntimeError(f"matrix_norm: expected at least 2 dims, got shape {A.shape}")
    if len(dim) != 2:
        raise ValueError(f"matrix_norm: dim must be a pair, got {dim!r}")
    rows, cols = (normalize_axis(d, A.ndim, "matrix_norm") for d in dim)
    if rows == cols:
        raise ValueError(f"matrix_norm: dim {dim} names one axis twice")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(f"matrix_norm: ord={ord!r} needs singular values, which "
                                  f"tinygrad_edu does not have")
    summed = {1: rows, -1: rows, math.inf: cols, -math.inf: cols}
    if ord not in summed:
        raise ValueError(f"matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, "
                         f"got {ord!r}")
    s = A.abs().sum(summed[ord], keepdims=True)
    other = cols if summed[ord] == rows else rows
    y = s.amax(other, True) if ord > 0 else s.amin(other, True)
    return y if keepdim else y.squeeze((rows, cols))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a vector norm over one dim (or all, when ord is None), a matrix
    norm over two dims (or of a 2-D A when ord is given)."""
    A = as_tensor(A, dtype)
    if dim is None and ord is not None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: with ord={ord!r} and dim=None the input must be "
                               f"1-D or 2-D, got shape {A.shape}")
        dim = tuple(range(A.ndim))
    if isinstance(dim, int) or (dim is not None and len(dim) == 1) or (dim is None):
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm; it needs two dims")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim)

