"""The derivative table: every primitive tinygrad_edu knows how to differentiate.

Each entry is an `Op`: a NumPy forward and one vector-Jacobian product (VJP)
per differentiable input. A VJP is called as ``vjp(g, y, *inputs, *args)``:

    g       the gradient flowing into the op's output (a Tensor, shape of y)
    y       the op's output (a Tensor)
    inputs  the op's inputs (Tensors)
    args    the op's non-tensor arguments (axis, shape, index, ...)

and returns the gradient for its input as a Tensor expression. Because VJPs
are written with Tensor operations, ``backward(create_graph=True)`` records
them like any forward computation, so higher-order gradients need nothing more.

Two things are deliberately *not* here: broadcasting (the engine sums every
gradient back to its input's shape, in one place: autograd.py) and anything
that can be written as a composition of these primitives (mean, var, min,
softmax, cross-entropy, ...: see tensor.py and functional.py). Subtraction
could be one too (a + -b), but as a primitive it is one graph node instead of
two, in the graphs users draw and in every backward (1 - y*y in tanh's VJP).

`saves` says which values a VJP reads ("x" inputs, "y" output). The engine
uses it to detect in-place changes to those tensors between forward and
backward (version counters), as PyTorch does for its saved tensors. `view`
marks ops whose result can share memory with their input (W.T, x.reshape):
such a result counts changes to its input's memory as its own.
"""
import numpy as np


class Op:
    """One primitive: a NumPy forward and a VJP per input (see module docstring)."""

    def __init__(self, name, forward, *vjps, saves="", view=False, doc=""):
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.saves_inputs = "x" in saves
        self.saves_output = "y" in saves
        self.view = view   # the result may share memory with the (first) input
        self.__doc__ = doc

    def vjp(self, i, g, y, inputs, args):
        """Gradient for input `i`, given the output gradient `g`."""
        return self.vjps[i](g, y, *inputs, *args)

    def __repr__(self):
        return f"<op {self.name}>"


# --- NumPy helpers used by forwards (pure shape arithmetic, no Tensors) ---

def reduced_shape_kept(shape, axis):
    """Shape of a reduction over `axis` (tuple or None) with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def np_sum_to(x, shape):
    """Sum `x` down to `shape`, undoing NumPy broadcasting."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if axes:
        x = np_sum(x, axes, True)
    return x.reshape(shape)


def np_sum(x, axis, keepdims):
    """np.add.reduce, except that summing the rows of a matrix is a BLAS product with ones.

    Bias gradients and batch statistics sum over the batch axis of a C-ordered
    (N, features) array, which NumPy reduces row by row: for (960, 16),
    ones(960) @ x gives the same sums in 3 us instead of 14.
    """
    if axis == (0,) and x.ndim == 2 and x.dtype.kind == "f" and x.flags.c_contiguous:
        s = np.ones(x.shape[0], dtype=x.dtype) @ x
        return s.reshape(1, -1) if keepdims else s
    return np.add.reduce(x, axis=axis, keepdims=keepdims)


def np_sigmoid(x):
    # exp(-softplus(-x)) never overflows: logaddexp(0, -x) is computed stably,
    # so sigmoid(-1000) = 0 and sigmoid(1000) = 1 with no warnings.
    return np.exp(-np.logaddexp(0, -x))


def np_scatter_add(g, index, shape):
    """zeros(shape) with `g` added at `index`; repeated indices accumulate."""
    out = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        out[index] += g
    else:
        np.add.at(out, index, g)
    return out


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


# --- VJP helpers that build Tensor expressions ---

def expand_reduced(g, shape, axis):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    kept = reduced_shape_kept(shape, axis)
    if g.shape != kept:
        g = g.reshape(kept)
    return g.broadcast_to(shape)


def matmul_vjp_a(g, y, a, b):
    if b.ndim == 1:                       # (..., n, k) @ (k,) -> (..., n)
        return g.unsqueeze(-1) * b        # outer product, broadcast over batch
    if a.ndim == 1:                       # (k,) @ (..., k, m) -> (..., m)
        return (g.unsqueeze(-2) @ b.transpose(-1, -2)).squeeze(-2)
    return g @ b.transpose(-1, -2)


def matmul_vjp_b(g, y, a, b):
    if a.ndim == 1 and b.ndim == 1:       # (k,) @ (k,) -> () : a dot product
        return g * a
    if a.ndim == 1:                       # (k,) @ (..., k, m) -> (..., m)
        return a.unsqueeze(-1) * g.unsqueeze(-2)
    if b.ndim == 1:                       # (..., n, k) @ (k,) -> (..., n)
        return (a.transpose(-1, -2) @ g.unsqueeze(-1)).squeeze(-1)
    # (g^T a)^T rather than a^T g: the same values, but for y = x @ W.T (nn.Linear)
    # W's gradient then comes out C-ordered, and needs no copy to become W.grad.
    return (g.transpose(-1, -2) @ a).transpose(-1, -2)


class CatOp(Op):
    """Concatenation takes any number of inputs, so its VJP is indexed."""

    def vjp(self, i, g, y, inputs, args):
        axis, = args
        start = sum(x.shape[axis] for x in inputs[:i])
        window = slice(start, start + inputs[i].shape[axis])
        return g[(slice(None),) * axis + (window,)]


# --- The table ---------------------------------------------------------------
# Elementwise binary ops broadcast; the engine sums gradients back to shape.

add = Op("Add", np.add,
         lambda g, y, a, b: g,
         lambda g, y, a, b: g,
         doc="y = a + b;  dy/da = 1,  dy/db = 1")
sub = Op("Sub", np.subtract,
         lambda g, y, a, b: g,
         lambda g, y, a, b: -g,
         doc="y = a - b;  dy/da = 1,  dy/db = -1")
mul = Op("Mul", np.multiply,
         lambda g, y, a, b: g * b,
         lambda g, y, a, b: g * a,
         saves="x", doc="y = a * b;  dy/da = b,  dy/db = a")
div = Op("Div", np.divide,
         lambda g, y, a, b: g / b,
         lambda g, y, a, b: -g * y / b,
         saves="xy", doc="y = a / b;  dy/da = 1/b,  dy/db = -a/b^2 = -y/b")
maximum = Op("Maximum", np.maximum,
             lambda g, y, a, b: g * tie_split(a.data, b.data),
             lambda g, y, a, b: g * tie_split(b.data, a.data),
             saves="x", doc="y = max(a, b);  dy/da = [a > b] + [a == b]/2 (ties split evenly)")
neg = Op("Neg", np.negative,
         lambda g, y, x: -g,
         doc="y = -x;  dy/dx = -1")
# The exponent is a constant; tensor ** tensor is exp(b * log(a)) in tensor.py.
power = Op("Pow", np.power,
           lambda g, y, x, p: g * (p * x ** (p - 1)) if p != 0 else g * 0,
           saves="x", doc="y = x^p (constant p);  dy/dx = p x^(p-1)")
exp = Op("Exp", np.exp,
         lambda g, y, x: g * y,
         saves="y", doc="y = e^x;  dy/dx = e^x = y")
log = Op("Log", np.log,
         lambda g, y, x: g / x,
         saves="x", doc="y = ln x;  dy/dx = 1/x")
tanh = Op("Tanh", np.tanh,
          lambda g, y, x: g * (1 - y * y),
          saves="y", doc="y = tanh x;  dy/dx = 1 - y^2")
sigmoid = Op("Sigmoid", np_sigmoid,
             lambda g, y, x: g * (y * (1 - y)),
             saves="y", doc="y = 1/(1 + e^-x);  dy/dx = y (1 - y)")
relu = Op("ReLU", lambda x: np.maximum(x, 0),
          lambda g, y, x: g * (x.data > 0),
          saves="x", doc="y = max(x, 0);  dy/dx = [x > 0]  (relu'(0) = 0)")
absolute = Op("Abs", np.abs,
              lambda g, y, x: g * np.sign(x.data),
              saves="x", doc="y = |x|;  dy/dx = sign(x)  (abs'(0) = 0)")
sin = Op("Sin", np.sin,
         lambda g, y, x: g * x.cos(),
         saves="x", doc="y = sin x;  dy/dx = cos x")
cos = Op("Cos", np.cos,
         lambda g, y, x: g * -x.sin(),
         saves="x", doc="y = cos x;  dy/dx = -sin x")
# The condition is a constant boolean array, passed as an argument.
where = Op("Where", lambda a, b, cond: np.where(cond, a, b),
           lambda g, y, a, b, cond: g.masked_fill(~cond, 0),
           lambda g, y, a, b, cond: g.masked_fill(cond, 0),
           doc="y = cond ? a : b;  dy/da = [cond],  dy/db = [not cond]")
cast = Op("Cast", lambda x, dtype: x.astype(dtype),
          lambda g, y, x, dtype: g.to(x.dtype),
          doc="y = x converted to another float dtype;  dy/dx = 1")

# Reductions. `axis` is a tuple of non-negative ints or None (all axes).
sum_ = Op("Sum", np_sum,
          lambda g, y, x, axis, keepdims: expand_reduced(g, x.shape, axis),
          doc="y = sum of x over axis;  dy/dx = 1 (broadcast back)")
max_ = Op("Max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
          lambda g, y, x, axis, keepdims:
              expand_reduced(g, x.shape, axis) * max_mask(x.data, y.data, axis),
          saves="xy", doc="y = max of x over axis;  dy/dx = [x == y] / #ties")

# Shape ops: they move values around without changing them.
reshape = Op("Reshape", np.reshape,
             lambda g, y, x, shape: g.reshape(x.shape),
             view=True, doc="y = x viewed with a new shape;  dy/dx = reshape back")
permute = Op("Permute", np.transpose,
             lambda g, y, x, dims: g.permute(*inverse_permutation(dims)),
             view=True, doc="y = x with axes reordered;  dy/dx = inverse reorder")
broadcast_to = Op("Expand", np.broadcast_to,
                  lambda g, y, x, shape: g.sum_to_size(x.shape),
                  view=True, doc="y = x repeated along broadcast axes;  dy/dx = sum over them")
sum_to = Op("SumTo", np_sum_to,
            lambda g, y, x, shape: g.broadcast_to(x.shape),
            doc="y = x summed down to shape (adjoint of Expand)")
getitem = Op("Index", lambda x, index: x[index],
             lambda g, y, x, index: g.scatter_add(index, x.shape),
             view=True, doc="y = x[index];  dy/dx = scatter g back, adding repeated indices")
scatter_add = Op("ScatterAdd", np_scatter_add,
                 lambda g, y, x, index, shape: g[index],
                 doc="y = zeros(shape) with x added at index (adjoint of Index)")
cat = CatOp("Cat", lambda *xs_and_axis: np.concatenate(xs_and_axis[:-1], axis=xs_and_axis[-1]),
            doc="y = inputs joined along axis;  dy/dx_i = the slice of g that came from x_i")

# Linear algebra, with NumPy's matmul semantics (1-D, 2-D, batched).
matmul = Op("MatMul", np.matmul, matmul_vjp_a, matmul_vjp_b,
            saves="x", doc="y = a @ b;  dy/da = g b^T,  dy/db = a^T g")

PRIMITIVES = (add, sub, mul, div, maximum, neg, power, exp, log, tanh, sigmoid, relu,
              absolute, sin, cos, where, cast, sum_, max_, reshape, permute,
              broadcast_to, sum_to, getitem, scatter_add, cat, matmul)
