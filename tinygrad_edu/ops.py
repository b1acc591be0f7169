"""The derivative table: every primitive tinygrad_edu knows how to differentiate.

Each row is an `Op`: a NumPy forward, one vector-Jacobian product (VJP) per
differentiable input, and every fact the rest of the library needs about it:

    math    what the forward computes, in one line ("y = tanh x")
    rule    its derivative, in one line ("dy/dx = 1 - y^2"); backward_trace shows it
    reads   the values its VJPs read: "x" the inputs, "y" the output, "" neither.
            The engine checks exactly these for in-place changes between forward
            and backward (version counters, as PyTorch checks its saved tensors);
            tests/test_primitives.py proves each declaration by mutating the values.
    view    the result may share memory with the (first) input (W.T, x.reshape),
            so it counts changes to that memory as its own
    broadcasts  an elementwise op whose inputs broadcast (graphs mark stretched inputs)
    label   how a graph names a node, given the op's arguments (default: the name)
    code    the forward as NumPy text for tg.compile's programs, {0}, {1}, ... standing
            for the inputs, then the arguments ("np.maximum({0}, 0)"); rows whose
            forward is a NumPy or kernels function default to its name (np.exp). The
            arithmetic and view rows use Python's operators and methods ("{0} + {1}",
            "{0}.reshape({1})"): the same ufunc call, read like the math, and half the
            cost of np.add(...) on small arrays (0.5 us instead of 1)

A VJP is called as ``vjp(g, y, *inputs, *args)``:

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
softmax, cross-entropy, ...: see tensor.py and nn/functional.py). NumPy
details the rows call (the BLAS row sum, tie masks) live in kernels.py.
"""
import math

import numpy as np

from . import kernels as K


class Op:
    """One primitive: a NumPy forward, a VJP per input, and its facts (see module docstring)."""

    def __init__(self, name, forward, *vjps, math="", rule="", reads="", view=False,
                 broadcasts=False, label=None, code=None):
        if set(reads) - set("xy"):
            raise ValueError(f"Op {name}: reads must be made of 'x' (inputs) and 'y' "
                             f"(output), got {reads!r}")
        self.name = name
        self.forward = forward
        self.vjps = vjps
        self.math, self.rule = math, rule
        self.reads = reads
        self.reads_inputs = "x" in reads
        self.reads_output = "y" in reads
        self.view = view
        self.broadcasts = broadcasts
        self._label = label
        self.code = code if code is not None else call_code(forward)
        self.__doc__ = f"{math};  {rule}" if rule else math

    def vjp(self, i, g, y, inputs, args):
        """Gradient for input `i`, given the output gradient `g`."""
        return self.vjps[i](g, y, *inputs, *args)

    def label(self, args):
        """The node's name in a graph: the op's name, with its exponent or axes if any."""
        return self.name if self._label is None else self._label(self.name, *args)

    def __repr__(self):
        return f"<op {self.name}>"


def call_code(forward):
    """"np.exp({0})"-style text for a forward that is a NumPy or kernels.py function."""
    name = getattr(forward, "__name__", None)
    module = "K" if getattr(forward, "__module__", None) == K.__name__ else "np"
    if name is None or module == "np" and getattr(np, name, None) is not forward:
        return None   # a lambda: the row gives its code=
    return f"{module}.{name}({{*}})"


# --- VJP helpers that build Tensor expressions ---

def expand_reduced(g, shape, axis):
    """Broadcast the gradient of a reduction back over the reduced axes."""
    kept = K.reduced_shape_kept(shape, axis)
    if g.shape != kept:
        g = g.reshape(kept)
    return g.broadcast_to(shape)


def mask(code, *operands):
    """A constant factor computed from the inputs' arrays (a relu mask, a tie split), as a
    tensor; tensor.computed runs the code, so tg.compile recomputes it on every call."""
    from .tensor import computed, wrap
    return wrap(computed(code, *operands))


def where_of(cond, a, b):
    # where(cond, g, 0) rather than g.masked_fill(~cond, 0): the same values (a choice,
    # no arithmetic), and no NumPy `~cond` that a compiled program would not see
    from .tensor import where
    return where(cond, a, b)


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


def fold_of(g, spatial, kernel, stride, dilation):
    from .tensor import apply   # here, not at the top: tensor.py imports this module
    return apply(fold, (g,), (tuple(spatial), kernel, stride, dilation))


def unfold_of(g, kernel, stride, dilation):
    from .tensor import apply
    return apply(unfold, (g,), (kernel, stride, dilation))


def polygamma_of(n, x):
    from .tensor import apply
    return apply(polygamma, (x,), (n,))


def bessel_i_of(n, x):
    from .tensor import apply
    return apply(bessel_i, (x,), (n,))


def window_label(kernel, stride):
    size = "x".join(str(k) for k in kernel)
    return size if set(stride) == {1} else f"{size} stride {'x'.join(map(str, stride))}"


class CatOp(Op):
    """Concatenation takes any number of inputs, so its VJP is indexed."""

    def vjp(self, i, g, y, inputs, args):
        axis, = args
        start = sum(x.shape[axis] for x in inputs[:i])
        window = slice(start, start + inputs[i].shape[axis])
        return g[(slice(None),) * axis + (window,)]


def axis_label(name, axis, keepdims):
    if axis is None:
        return name
    return f"{name} axis={axis[0] if len(axis) == 1 else axis}"


# --- The table ---------------------------------------------------------------
# Elementwise binary ops broadcast; the engine sums gradients back to shape.

add = Op("Add", np.add,
         lambda g, y, a, b: g,
         lambda g, y, a, b: g,
         math="y = a + b", rule="dy/da = 1,  dy/db = 1", broadcasts=True, code="{0} + {1}")
# a + -b would be two graph nodes in every subtraction (1 - y*y in tanh's VJP).
sub = Op("Sub", np.subtract,
         lambda g, y, a, b: g,
         lambda g, y, a, b: -g,
         math="y = a - b", rule="dy/da = 1,  dy/db = -1", broadcasts=True, code="{0} - {1}")
mul = Op("Mul", np.multiply,
         lambda g, y, a, b: g * b,
         lambda g, y, a, b: g * a,
         math="y = a * b", rule="dy/da = b,  dy/db = a", reads="x", broadcasts=True,
         code="{0} * {1}")
div = Op("Div", np.divide,
         lambda g, y, a, b: g / b,
         lambda g, y, a, b: -g * y / b,
         math="y = a / b", rule="dy/da = 1/b,  dy/db = -a/b^2 = -y/b", reads="xy",
         broadcasts=True, code="{0} / {1}")
maximum = Op("Maximum", np.maximum,
             lambda g, y, a, b: g * mask("K.tie_split({0}, {1})", a._data, b._data),
             lambda g, y, a, b: g * mask("K.tie_split({0}, {1})", b._data, a._data),
             math="y = max(a, b)", rule="dy/da = [a > b] + [a == b]/2 (ties split evenly)",
             reads="x", broadcasts=True)
neg = Op("Neg", np.negative,
         lambda g, y, x: -g,
         math="y = -x", rule="dy/dx = -1", code="-{0}")
# The exponent is a constant; tensor ** tensor is exp(b * log(a)) in tensor.py.
power = Op("Pow", np.power,
           lambda g, y, x, p: g * (p * x ** np.where(p == 0, 1.0, p - 1)) if np.ndim(p)
               else g * (p * x ** (p - 1)) if p != 0 else g * 0,
           math="y = x^p (constant p)", rule="dy/dx = p x^(p-1)", reads="x",
           label=lambda name, p: f"{name} ^{p:g}" if np.ndim(p) == 0 else f"{name} ^array")
exp = Op("Exp", np.exp,
         lambda g, y, x: g * y,
         math="y = e^x", rule="dy/dx = e^x = y", reads="y")
log = Op("Log", np.log,
         lambda g, y, x: g / x,
         math="y = ln x", rule="dy/dx = 1/x", reads="x")
# Not exp(x) - 1 or log(1 + x): for |x| < 1e-8 those lose every digit (exp(1e-17) - 1 = 0).
expm1 = Op("Expm1", np.expm1,
           lambda g, y, x: g * (y + 1),
           math="y = e^x - 1", rule="dy/dx = e^x = y + 1", reads="y")
log1p = Op("Log1p", np.log1p,
           lambda g, y, x: g / (x + 1),
           math="y = ln(1 + x)", rule="dy/dx = 1/(1 + x)", reads="x")
# Not x ** 0.5: Pow gets sqrt(-0.0) = +0.0 and its gradient +inf, where IEEE and PyTorch
# say -0.0 and -inf; and 1/(2y) reads the output instead of computing another power.
sqrt = Op("Sqrt", np.sqrt,
          lambda g, y, x: g / (2 * y),
          math="y = sqrt x", rule="dy/dx = 1/(2 sqrt x) = 1/(2y)", reads="y")
tanh = Op("Tanh", np.tanh,
          lambda g, y, x: g * (1 - y * y),
          math="y = tanh x", rule="dy/dx = 1 - y^2", reads="y")
sigmoid = Op("Sigmoid", K.sigmoid,
             lambda g, y, x: g * (y * (1 - y)),
             math="y = 1/(1 + e^-x)", rule="dy/dx = y (1 - y)", reads="y")
relu = Op("ReLU", lambda x: np.maximum(x, 0),
          lambda g, y, x: g * mask("{0} > 0", x._data),
          math="y = max(x, 0)", rule="dy/dx = [x > 0]  (relu'(0) = 0)", reads="x",
          code="np.maximum({0}, 0)")
absolute = Op("Abs", np.abs,
              lambda g, y, x: g * mask("np.sign({0})", x._data),
              math="y = |x|", rule="dy/dx = sign(x)  (abs'(0) = 0)", reads="x")
sin = Op("Sin", np.sin,
         lambda g, y, x: g * x.cos(),
         math="y = sin x", rule="dy/dx = cos x", reads="x")
cos = Op("Cos", np.cos,
         lambda g, y, x: g * -x.sin(),
         math="y = cos x", rule="dy/dx = -sin x", reads="x")
# A primitive because no composition of the others gives erf exactly (exact GELU needs
# it). The forward is K.erf, Cephes' rational approximations as NumPy passes (a few
# 1e-16 relative; 3x faster than libm's erf per element through np.frompyfunc). Integer
# inputs give floats, as np.exp does.
erf = Op("Erf", lambda x: np.asarray(K.erf(x), dtype=np.result_type(x.dtype, np.float16)),
         lambda g, y, x: g * (2 / math.sqrt(math.pi) * (-(x * x)).exp()),
         math="y = erf x = 2/sqrt(pi) int_0^x e^(-t^2) dt", rule="dy/dx = 2/sqrt(pi) e^(-x^2)",
         reads="x", code="np.asarray(K.erf({0}), dtype=np.result_type({0}.dtype, np.float16))")

# --- special functions: no composition of the rows above gives them (NumPy only, no SciPy).
# Each forward works in float64 and returns the input's float dtype (integers give float64).

def float_result(x, values):
    return np.asarray(values, dtype=np.result_type(x.dtype, np.float16))


def lgamma_scalar(v):
    # math.lgamma raises at the poles 0, -1, -2, ..., where the limit (and PyTorch) is +inf
    try:
        return math.lgamma(v)
    except ValueError:
        return math.inf


lgamma_elementwise = np.frompyfunc(lgamma_scalar, 1, 1)
BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
             43867 / 798, -174611 / 330)   # B_2, B_4, ..., B_20


def polygamma_values(n, x):
    """psi^(n)(x), the n-th derivative of digamma: the recurrence
    psi^(n)(z) = psi^(n)(z + 1) - (-1)^n n!/z^(n+1) lifts z to >= 10 + n, then the
    asymptotic series (with B_2..B_20 it is accurate to ~1e-15 there). digamma (n = 0) at
    x <= 0 uses the reflection psi(x) = psi(1 - x) - pi/tan(pi x)."""
    x = np.array(x, dtype=np.float64)
    if n == 0 and np.any(x <= 0):
        out = np.empty_like(x)
        left = x <= 0
        out[~left] = polygamma_values(0, x[~left])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[left] = polygamma_values(0, 1 - x[left]) - math.pi / np.tan(math.pi * x[left])
        out[left & (x == np.floor(x)) & (x < 0)] = np.nan   # the poles -1, -2, ... (as PyTorch)
        return out
    if n > 0 and np.any(x < -1e6):
        raise ValueError(f"polygamma: n={n} for x < -1e6 is not supported (the recurrence "
                         f"would take millions of steps)")
    pole = (x <= 0) & (x == np.floor(x))
    z, acc = np.where(pole | ~np.isfinite(x), 20.0 + n, x), np.zeros_like(x)
    low = 10.0 + n
    sign, fact = (-1.0) ** (n + 1), math.factorial(n)
    while True:
        m = z < low
        if not m.any():
            break
        acc[m] -= 1 / z[m] if n == 0 else -sign * fact / z[m] ** (n + 1)
        z[m] += 1
    if n == 0:
        series = np.log(z) - 1 / (2 * z)
        for k, b in enumerate(BERNOULLI, 1):
            series -= b / (2 * k * z ** (2 * k))
    else:
        series = math.factorial(n - 1) / z ** n + fact / (2 * z ** (n + 1))
        for k, b in enumerate(BERNOULLI, 1):
            series += b * (math.factorial(2 * k + n - 1) / math.factorial(2 * k)) / z ** (2 * k + n)
        series *= sign
    out = np.array(series + acc)   # an array even for 0-d x (assigned into below)
    out[pole] = math.inf if n % 2 else -math.inf   # the limit from the right (as PyTorch)
    out[np.isnan(x)] = np.nan
    out[x == math.inf] = math.inf if n == 0 else 0.0
    out[x == -math.inf] = np.nan
    return out


def bessel_i_values(n, x):
    """I_n(x) = sum_k (x/2)^(2k+n) / (k! (k+n)!), summed until the terms stop counting:
    every term has the sign of x^n, so nothing cancels (|x| > ~713 overflows to inf)."""
    x = np.asarray(x, dtype=np.float64)
    half_sq = (x / 2) ** 2
    term = (x / 2) ** n / math.factorial(n)
    total = term.copy()
    k = 1
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            term = term * half_sq / (k * (k + n))
            total += term
            busy = np.abs(term) > 1e-17 * np.abs(total)
            if not busy.any() or k > 2000:
                break
            k += 1
    return total


def erfinv_values(p):
    """erf^-1(p): Winitzki's closed form (~2e-3 relative), then Halley steps on erf for
    |p| <= 1/2 and on erfc elsewhere (where 1 - |p| is exact, so the tail keeps its digits);
    each step triples the correct digits: x -= d/(1 + x d), d = (erf x - p) / (2/sqrt(pi) e^(-x^2))."""
    p = np.asarray(p, dtype=np.float64)
    a = 0.147
    with np.errstate(divide="ignore", invalid="ignore"):
        ln = np.log1p(-p * p)
        b = 2 / (math.pi * a) + ln / 2
        x = np.sqrt(np.sqrt(b * b - ln / a) - b)
        q = np.abs(p)
        tail = q > 0.5
        for _ in range(4):
            slope = 2 / math.sqrt(math.pi) * np.exp(-x * x)
            r = np.where(tail, (1 - q) - K.erfc(x),
                         K.erf(x) - q)
            d = np.where(np.isfinite(x) & (slope > 0), r / slope, 0.0)
            x = x - d / (1 + x * d)
        x = np.where(q == 1, math.inf, np.where(q > 1, np.nan, x))
    return np.copysign(x, p)


erfc = Op("Erfc", lambda x: float_result(x, K.erfc(x)),
          lambda g, y, x: g * (-2 / math.sqrt(math.pi) * (-(x * x)).exp()),
          math="y = erfc x = 1 - erf x", rule="dy/dx = -2/sqrt(pi) e^(-x^2)", reads="x")
# (1 - erf x would be 0 for x > 6, where erfc(6) = 2e-17: the tail has to be its own row.)
erfinv = Op("Erfinv", lambda x: float_result(x, erfinv_values(x)),
            lambda g, y, x: g * (math.sqrt(math.pi) / 2 * (y * y).exp()),
            math="y = erfinv x (erf y = x)", rule="dy/dx = sqrt(pi)/2 e^(y^2)", reads="y")
lgamma = Op("Lgamma", lambda x: float_result(x, lgamma_elementwise(x)),
            lambda g, y, x: g * polygamma_of(0, x),
            math="y = ln|Gamma(x)|", rule="dy/dx = digamma x = psi(x)", reads="x")
# The order n is an argument, so every derivative of digamma is this same row again.
polygamma = Op("Polygamma", lambda x, n: float_result(x, polygamma_values(n, x)),
               lambda g, y, x, n: g * polygamma_of(n + 1, x),
               math="y = psi^(n)(x), the n-th derivative of digamma (n = 0: digamma)",
               rule="dy/dx = psi^(n+1)(x)", reads="x",
               label=lambda name, n: "Digamma" if n == 0 else f"{name} n={n}")
bessel_i = Op("BesselI", lambda x, n: float_result(x, bessel_i_values(n, x)),
              lambda g, y, x, n: g * ((bessel_i_of(abs(n - 1), x) + bessel_i_of(n + 1, x)) / 2),
              math="y = I_n(x), the modified Bessel function of the first kind (integer n >= 0)",
              rule="dy/dx = (I_(n-1)(x) + I_(n+1)(x)) / 2  (I_-1 = I_1: I_0' = I_1)", reads="x",
              label=lambda name, n: f"I{n}")

# The arc tangent is no composition of the rows above in real arithmetic; atan2 gives
# atan, asin and acos as compositions (pointwise.py).
atan2 = Op("Atan2", np.arctan2,
           lambda g, y, a, b: g * b / (a * a + b * b),
           lambda g, y, a, b: -g * a / (a * a + b * b),
           math="y = atan2(a, b), the angle of the point (b, a)",
           rule="dy/da = b/(a^2 + b^2),  dy/db = -a/(a^2 + b^2)", reads="x", broadcasts=True)
# The condition is a constant boolean array, passed as an argument.
where = Op("Where", lambda a, b, cond: np.where(cond, a, b),
           lambda g, y, a, b, cond: where_of(cond, g, 0),
           lambda g, y, a, b, cond: where_of(cond, 0, g),
           math="y = cond ? a : b", rule="dy/da = [cond],  dy/db = [not cond]",
           broadcasts=True, code="np.where({2}, {0}, {1})")
cast = Op("Cast", lambda x, dtype: x.astype(dtype),
          lambda g, y, x, dtype: g.to(x.dtype),
          math="y = x converted to another float dtype", rule="dy/dx = 1",
          label=lambda name, dtype: f"{name} {np.dtype(dtype)}", code="{0}.astype({1})")

# Reductions. `axis` is a tuple of non-negative ints or None (all axes).
sum_ = Op("Sum", K.sum_,
          lambda g, y, x, axis, keepdims: expand_reduced(g, x.shape, axis),
          math="y = sum of x over axis", rule="dy/dx = 1 (broadcast back)", label=axis_label)
max_ = Op("Max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims),
          lambda g, y, x, axis, keepdims:
              expand_reduced(g, x.shape, axis) * mask("K.max_mask({0}, {1}, {2})", x._data, y._data, axis),
          math="y = max of x over axis", rule="dy/dx = [x == y] / #ties", reads="xy",
          label=axis_label, code="np.max({0}, axis={1}, keepdims={2})")

# Shape ops: they move values around without changing them.
reshape = Op("Reshape", np.reshape,
             lambda g, y, x, shape: g.reshape(x.shape),
             math="y = x viewed with a new shape", rule="dy/dx = reshape back", view=True,
             code="{0}.reshape({1})")
permute = Op("Permute", np.transpose,
             lambda g, y, x, dims: g.permute(*K.inverse_permutation(dims)),
             math="y = x with axes reordered", rule="dy/dx = inverse reorder", view=True,
             code="{0}.transpose({1})")
broadcast_to = Op("Expand", np.broadcast_to,
                  lambda g, y, x, shape: g.sum_to_size(x.shape),
                  math="y = x repeated along broadcast axes", rule="dy/dx = sum over them",
                  view=True)
sum_to = Op("SumTo", K.sum_to,
            lambda g, y, x, shape: g.broadcast_to(x.shape),
            math="y = x summed down to shape (adjoint of Expand)",
            rule="dy/dx = broadcast back")
getitem = Op("Index", lambda x, index: x[index],
             lambda g, y, x, index: g._scatter_add_at(index, x.shape),
             math="y = x[index]", rule="dy/dx = scatter g back, adding repeated indices",
             view=True, code="{0}[{1}]")
scatter_add = Op("ScatterAdd", K.scatter_add,
                 lambda g, y, x, index, shape: g[index],
                 math="y = zeros(shape) with x added at index (adjoint of Index)",
                 rule="dy/dx = g[index]")
cat = CatOp("Cat", lambda *xs_and_axis: np.concatenate(xs_and_axis[:-1], axis=xs_and_axis[-1]),
            math="y = inputs joined along axis", code="np.concatenate(({*}), axis={-1})",
            rule="dy/dx_i = the slice of g that came from x_i")

# Sliding windows (convolution, pooling) and their adjoint. Unfold is no composition of
# Index: basic slicing cannot take every window at once, and an integer-array index
# would make backward a ScatterAdd through np.add.at (about 4x slower than Fold's
# slice-adds). Each is the other's VJP, like Expand/SumTo and Index/ScatterAdd.
# args: kernel, stride, dilation (one int per spatial axis, the last axes of x).
unfold = Op("Unfold", K.unfold,
            lambda g, y, x, kernel, stride, dilation:
                fold_of(g, x.shape[-len(kernel):], kernel, stride, dilation),
            math="y[..., i, o] = x[..., o*stride + i*dilation]  (windows: (*lead, *kernel, *out))",
            rule="dy/dx = fold: add each window's gradient back where it came from",
            label=lambda name, kernel, stride, dilation: f"{name} {window_label(kernel, stride)}")
fold = Op("Fold", K.fold,
          lambda g, y, x, spatial, kernel, stride, dilation: unfold_of(g, kernel, stride, dilation),
          math="y = zeros(*lead, *spatial) with each window of x added in place (adjoint of Unfold)",
          rule="dy/dx = unfold g",
          label=lambda name, spatial, kernel, stride, dilation:
              f"{name} {window_label(kernel, stride)}")

# Linear algebra, with NumPy's matmul semantics (1-D, 2-D, batched).
matmul = Op("MatMul", np.matmul, matmul_vjp_a, matmul_vjp_b,
            math="y = a @ b", rule="dy/da = g b^T,  dy/db = a^T g", reads="x")

PRIMITIVES = (add, sub, mul, div, maximum, neg, power, exp, log, expm1, log1p, sqrt, tanh,
              sigmoid, relu, absolute, sin, cos, erf, erfc, erfinv, lgamma, polygamma, bessel_i,
              atan2, where, cast, sum_, max_, reshape,
              permute, broadcast_to, sum_to, getitem, scatter_add, cat, unfold, fold, matmul)
