"""Elementwise functions beyond the primitives, as PyTorch names them: compositions only.

Each is a formula of the rows in ops.py, so its gradient is the chain rule of that
formula and nothing here defines a derivative. The math, by topic:

    rounding    floor, ceil, round, trunc, sign: piecewise constant, so d/dx = 0.  As in
                PyTorch the result stays on the graph (requires_grad stays True) with a
                zero gradient: where(everywhere, value, x) picks the constant value and
                sends x a zero (x * 0 would turn an infinite x into nan).
                frac x = x - trunc x (d/dx = 1).
    division    fmod(a, b) = a - b trunc(a/b),  remainder(a, b) = a - b floor(a/b)
                (the sign of b, as Python's %): d/da = 1, d/db = -trunc(a/b) or -floor(a/b)
    trig        tan = sin/cos;  atan x = atan2(x, 1);  asin x = atan2(x, sqrt(1 - x^2));
                acos x = atan2(sqrt(1 - x^2), x)   (Atan2 is the primitive)
    hyperbolic  sinh = (expm1 x - expm1(-x))/2,  cosh = (e^x + e^-x)/2,
                asinh t = log1p(t + t^2/(1 + sqrt(1 + t^2))),
                acosh x = log1p(u + sqrt(u (x + 1))) with u = x - 1,
                atanh t = log1p(2t/(1 - t))/2: the forms without cancellation
    exp & log   exp2 x = e^(x ln 2),  log2 x = ln x / ln 2,  log10 x = ln x / ln 10,
                logaddexp(a, b) = max(a, b) + log1p(e^-|a-b|)  (never overflows),
                logaddexp2(a, b) = logaddexp(a ln 2, b ln 2) / ln 2
    selection   fmax/fmin pick the other argument where one is NaN; clamp_min/clamp_max;
                nan_to_num replaces NaN and infinities by constants (zero gradient there)
    predicates  isnan isinf isfinite, logical_*, eq ne lt le gt ge: bool, off the graph
    special     erfc, erfinv, lgamma, digamma/polygamma and the Bessel functions i0, i1 are
                primitives of their own (ops.py says why); here they are only called
"""
import math

import numpy as np

from . import ops
from .tensor import Tensor, apply, as_tensor, lift, wrap, where, maximum, data_of

LN2 = math.log(2.0)
LN10 = math.log(10.0)


def pair(input, other):
    """Two operands as tensors, a Python scalar taking the other's dtype (as in PyTorch)."""
    if isinstance(input, Tensor):
        return input, lift(other, input)
    if isinstance(other, Tensor):
        return lift(input, other), other
    return as_tensor(input), as_tensor(other)


def constant_like(x, values):
    """`values` (an array of x's shape) as a result of x with a zero gradient, as PyTorch's
    floor or sign: on the graph when x requires grad, so backward reaches x with zeros."""
    if not x.requires_grad:
        return wrap(values)
    return where(np.ones(x.shape, dtype=bool), wrap(values), x)


def exact(y, values):
    """y's gradient with NumPy's exactly rounded `values`: adds the constant rounding error
    of y's formula (a - b q rounds twice; np.fmod does not round at all)."""
    if not y.requires_grad:
        return wrap(values)
    with np.errstate(invalid="ignore"):
        return y + wrap(values - y._data)


def is_integral(x):
    return x.dtype.kind in "biu"


def sign_constant(x):
    """+1 where x >= 0, -1 where x < 0: odd and even functions evaluated at |x| = s x,
    which, unlike abs, has the right derivative at 0 (s s = 1)."""
    return np.where(x._data < 0, -1.0, 1.0).astype(x.dtype)


# --- rounding ------------------------------------------------------------------------

def rounded(input, values_of):
    x = as_tensor(input)
    if is_integral(x):
        return wrap(x._data.copy())   # integers are already whole (PyTorch keeps the dtype)
    return constant_like(x, values_of(x._data))


def floor(input):
    return rounded(input, np.floor)


def ceil(input):
    return rounded(input, np.ceil)


def trunc(input):
    return rounded(input, np.trunc)


def round(input, *, decimals=0):
    """Round half to even (as PyTorch and NumPy), to `decimals` decimal places."""
    return rounded(input, lambda a: np.round(a, decimals))


def frac(input):
    """x - trunc(x): the fractional part, with x's sign; d/dx = 1."""
    x = as_tensor(input)
    return x - trunc(x)


def sign(input):
    """-1, 0 or +1, and 0 for NaN (as PyTorch); a zero gradient."""
    x = as_tensor(input)
    return constant_like(x, np.where(np.isnan(x._data), 0, np.sign(x._data)).astype(x.dtype))


# --- division with a remainder -------------------------------------------------------

def quotient_remainder(input, other, who, quotient, remainder):
    """a - b q for the whole quotient q (a constant), with NumPy's exact remainder values."""
    a, b = pair(input, other)
    if is_integral(a) and is_integral(b):
        if np.any(b._data == 0):
            raise ZeroDivisionError(f"{who}: integer division by zero")
        return wrap(remainder(a._data, b._data))
    with np.errstate(all="ignore"):
        values = remainder(a._data, b._data)
        q = quotient(a._data / b._data)
    q = np.where(np.isfinite(q), q, 0)   # b = inf: q = 0, and b * q must not be inf * 0
    y = a - where(q != 0, b, 0) * q
    return exact(y, values)


def fmod(input, other):
    """a - b trunc(a/b): the remainder with the sign of a (C's fmod)."""
    return quotient_remainder(input, other, "fmod", np.trunc, np.fmod)


def remainder(input, other):
    """a - b floor(a/b): the remainder with the sign of b (Python's %, PyTorch's remainder)."""
    return quotient_remainder(input, other, "remainder", np.floor, np.remainder)


# --- trigonometry ----------------------------------------------------------------------

def atan2(input, other):
    """The angle of the point (other, input) in (-pi, pi]."""
    a, b = pair(input, other)
    return apply(ops.atan2, (a, b))


def tan(input):
    x = as_tensor(input)
    return x.sin() / x.cos()


def atan(input):
    x = as_tensor(input)
    return atan2(x, 1)


def cosine_of_asin(x):
    """sqrt(1 - x^2) as sqrt((1 - x)(1 + x)): no cancellation near |x| = 1."""
    with np.errstate(invalid="ignore"):
        return ((1 - x) * (1 + x)).sqrt()


def asin(input):
    x = as_tensor(input)
    with np.errstate(invalid="ignore"):
        return atan2(x, cosine_of_asin(x))


def acos(input):
    x = as_tensor(input)
    with np.errstate(invalid="ignore"):
        return atan2(cosine_of_asin(x), x)


def deg2rad(input):
    return as_tensor(input) * (math.pi / 180)


def rad2deg(input):
    return as_tensor(input) * (180 / math.pi)


def hypot(input, other):
    """sqrt(a^2 + b^2), computed on a / s and b / s for a power of two s near max(|a|, |b|)
    (exact scalings, constants), so squares of large or tiny values neither overflow nor
    underflow."""
    a, b = pair(input, other)
    with np.errstate(all="ignore"):
        big = np.maximum(np.abs(a._data), np.abs(b._data))
        s = np.ldexp(1.0, np.frexp(np.where(np.isfinite(big) & (big > 0), big, 1.0))[1])
    a, b = a / s, b / s
    return (a * a + b * b).sqrt() * s


# --- hyperbolic functions ---------------------------------------------------------------

def sinh(input):
    x = as_tensor(input)
    return (expm1(x) - expm1(-x)) / 2


def cosh(input):
    """Evaluated at t = |x| as e^(t - ln 2) + e^(-t - ln 2): finite wherever cosh is."""
    x = as_tensor(input)
    t = x * sign_constant(x)
    return (t - LN2).exp() + (-t - LN2).exp()


def asinh(input):
    """Odd: s asinh(t) at t = s x >= 0; for t > 2^28, asinh t = ln(2t) to the last bit."""
    x = as_tensor(input)
    s = sign_constant(x)
    t = x * s
    big = t._data > 2.0 ** 28
    small, large = where(big, 1, t), where(big, t, 1)
    return s * where(big, large.log() + LN2,
                     log1p(small + small * small / ((small * small + 1).sqrt() + 1)))


def acosh(input):
    x = as_tensor(input)
    big = x._data > 2.0 ** 28
    small, large = where(big, 1, x), where(big, x, 1)
    u = small - 1
    with np.errstate(invalid="ignore"):
        return where(big, large.log() + LN2, log1p(u + (u * (small + 1)).sqrt()))


def atanh(input):
    """Odd: s atanh(t) at t = s x >= 0, as log1p(2t/(1 - t))/2."""
    x = as_tensor(input)
    s = sign_constant(x)
    t = x * s
    with np.errstate(divide="ignore", invalid="ignore"):
        return s * log1p(2 * t / (1 - t)) / 2


# --- exponentials and logarithms ---------------------------------------------------------

def expm1(input):
    """e^x - 1, exact also for tiny x (a primitive: exp(x) - 1 loses every digit there)."""
    return apply(ops.expm1, (as_tensor(input),))


def log1p(input):
    """ln(1 + x), exact also for tiny x (a primitive, as expm1)."""
    return apply(ops.log1p, (as_tensor(input),))


def logit(input, eps=None):
    """ln(p / (1 - p)); with eps, p is first clamped to [eps, 1 - eps] (zero gradient outside)."""
    p = as_tensor(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return p.log() - log1p(-p)


def sinc(input):
    """sin(pi x) / (pi x), and 1 at x = 0 (with gradient 0 there, as PyTorch)."""
    x = as_tensor(input)
    zero = x._data == 0
    safe = where(zero, 1.0, x) * math.pi
    return where(zero, 1.0, safe.sin() / safe)


def xlogy(input, other):
    """x ln y, with 0 where x = 0 (unless y is nan), as PyTorch.

    d/dx = ln y (0 where x = 0 and y <= 0), d/dy = x / y. Where x = 0 and y <= 0 the
    log is taken of 1 instead, so no -inf or nan reaches the gradient (PyTorch's d/dy
    is nan at x = y = 0; ours is 0 there).
    """
    x, y = pair(input, other)
    masked = (x._data == 0) & (y._data <= 0)
    return x * where(masked, 0.0, where(masked, 1.0, y).log())


def copysign(input, other):
    """|input| with the sign of other (-0.0 counts as negative), as PyTorch: the gradient is
    +-1 to input (0 where input is 0) and 0 to other."""
    a, b = pair(input, other)
    shape = np.broadcast_shapes(a.shape, b.shape)
    flip = np.signbit(np.broadcast_to(a._data, shape)) != np.signbit(b._data)
    values = a * np.where(flip, -1.0, 1.0).astype(a.dtype)
    zero = np.broadcast_to(a._data == 0, shape)
    result = where(zero, wrap(np.copysign(np.zeros(shape, a.dtype), b._data)), values)
    return where(np.ones(shape, dtype=bool), result, b) if b.requires_grad else result


def exp2(input):
    return (as_tensor(input) * LN2).exp()


def log2(input):
    return as_tensor(input).log() / LN2


def log10(input):
    return as_tensor(input).log() / LN10


def square(input):
    x = as_tensor(input)
    return x * x


def rsqrt(input):
    return 1 / as_tensor(input).sqrt()


def reciprocal(input):
    return 1 / as_tensor(input)


def logaddexp(input, other):
    """ln(e^a + e^b) = max(a, b) + log1p(e^-|a - b|); at a == b (infinities too) the gap
    is taken as 0, where a - b could be inf - inf."""
    a, b = pair(input, other)
    same = a._data == b._data
    gap = where(same, 0, a) - where(same, 0, b)
    return maximum(a, b) + log1p((-gap.abs()).exp())


def logaddexp2(input, other):
    a, b = pair(input, other)
    return logaddexp(a * LN2, b * LN2) / LN2


# --- selection ----------------------------------------------------------------------

def fmax(input, other):
    """max(a, b), but a NaN loses to a number; ties send the whole gradient to a (as PyTorch)."""
    a, b = pair(input, other)
    return where((a._data >= b._data) | np.isnan(b._data), a, b)


def fmin(input, other):
    a, b = pair(input, other)
    return where((a._data <= b._data) | np.isnan(b._data), a, b)


def clamp_min(input, min):
    return as_tensor(input).clamp(min=min)


def clamp_max(input, max):
    return as_tensor(input).clamp(max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest finite
    values); those places get a zero gradient."""
    x = as_tensor(input)
    if is_integral(x):
        return wrap(x._data.copy())
    values = np.nan_to_num(x._data, nan=nan, posinf=posinf, neginf=neginf)
    return where(np.isfinite(x._data), x, wrap(values))


def lerp(input, end, weight):
    """input + weight (end - input), as PyTorch evaluates it: from `end` when |weight| >= 0.5,
    so that weight = 1 gives end exactly."""
    a, b = pair(input, end)
    w = weight if isinstance(weight, Tensor) else lift(weight, a)
    near_start = np.abs(w._data) < 0.5
    return where(near_start, a + w * (b - a), b - (b - a) * (1 - w))


def neg(input):
    return -as_tensor(input)


negative = neg


def abs(input):
    return as_tensor(input).abs()


absolute = abs


# --- predicates: bool tensors, off the graph --------------------------------------------

def isnan(input):
    return wrap(np.isnan(data_of(input)))


def isinf(input):
    return wrap(np.isinf(data_of(input)))


def isfinite(input):
    return wrap(np.isfinite(data_of(input)))


def logical_not(input):
    return wrap(np.logical_not(data_of(input)))


def logical_and(input, other):
    return wrap(np.logical_and(data_of(input), data_of(other)))


def logical_or(input, other):
    return wrap(np.logical_or(data_of(input), data_of(other)))


def logical_xor(input, other):
    return wrap(np.logical_xor(data_of(input), data_of(other)))


def eq(input, other):
    return wrap(np.equal(data_of(input), data_of(other)))


def ne(input, other):
    return wrap(np.not_equal(data_of(input), data_of(other)))


def lt(input, other):
    return wrap(np.less(data_of(input), data_of(other)))


def le(input, other):
    return wrap(np.less_equal(data_of(input), data_of(other)))


def gt(input, other):
    return wrap(np.greater(data_of(input), data_of(other)))


def ge(input, other):
    return wrap(np.greater_equal(data_of(input), data_of(other)))


# --- special functions: each is one primitive row of ops.py ---------------------------

def floating(input, who):
    x = as_tensor(input)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{who}: expected a real tensor, got dtype {x.dtype}")
    return x


def erfc(input):
    """1 - erf x, accurate in the tail (erfc(10) = 2.1e-45)."""
    return apply(ops.erfc, (floating(input, "erfc"),))


def erfinv(input):
    """The inverse of erf on (-1, 1): erf(erfinv p) = p; +-1 give +-inf, |p| > 1 nan."""
    return apply(ops.erfinv, (floating(input, "erfinv"),))


def lgamma(input):
    """ln |Gamma(x)|; +inf at the poles 0, -1, -2, ..."""
    return apply(ops.lgamma, (floating(input, "lgamma"),))


def polygamma(n, input):
    """psi^(n)(x), the n-th derivative of digamma (torch.polygamma(n, input))."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    return apply(ops.polygamma, (floating(input, "polygamma"),), (int(n),))


def digamma(input):
    """psi(x) = d/dx ln Gamma(x) (= polygamma(0, x)); -inf at 0, nan at -1, -2, ..."""
    return apply(ops.polygamma, (floating(input, "digamma"),), (0,))


def i0(input):
    """The modified Bessel function of the first kind of order 0, I_0(x)."""
    return apply(ops.bessel_i, (floating(input, "i0"),), (0,))


def i1(input):
    """The modified Bessel function of the first kind of order 1, I_1(x) (torch.special.i1)."""
    return apply(ops.bessel_i, (floating(input, "i1"),), (1,))
