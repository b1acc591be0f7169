"""Tensor: an ndarray that remembers how it was computed.

Every differentiable operation goes through `apply(op, inputs, args)`, right
below: it runs the op's NumPy forward (ops.py) and, when some input requires
grad, records the result as a graph node: its op, its inputs (`_parents`, a
tuple in argument order) and its non-tensor arguments (`_args`). backward() in
autograd.py walks those links in reverse.

Everything after `apply` is either a thin method that calls it with one
primitive, or a formula of such methods (subtraction, mean, var, ...) that never
defines a gradient of its own. The longer composites (softmax, losses, batch
norm) live in nn/functional.py; their Tensor methods are one-line calls.
"""
import collections
import math
import numbers

import numpy as np

from . import ops
from .autograd import (state, creation_site, check_finite, run_backward, seed_gradient,
                       version_owner, bump_version, bump_history, input_versions)


# --- building graph nodes -------------------------------------------------------------

def apply(op, inputs, args=()):
    """Run primitive `op` on tensors `inputs`; record the result if any input requires grad."""
    result = wrap(forward(op, inputs, args))
    if op.view and result._data.base is not None and np.may_share_memory(
            result._data, inputs[0]._data):
        result._base = version_owner(inputs[0])   # W.T changes whenever W does
    if state.anomaly:
        result._trace = creation_site()
        check_finite(result._data, "forward", op, result._trace)
    if state.grad_enabled and any_requires_grad(inputs):
        result.requires_grad = True
        result._op, result._parents, result._args = op, inputs, args
        result._module = state.module
        result._saved_version = input_versions(inputs)
    return result


def forward(op, inputs, args):
    """op's NumPy forward on the inputs' arrays; its errors name the op and the shapes."""
    try:
        # Unrolled for one and two inputs: every forward op and every VJP in
        # backward passes through here, and the generic path costs ~0.4 us more.
        if len(inputs) == 1:
            return op.forward(inputs[0]._data, *args)
        if len(inputs) == 2:
            return op.forward(inputs[0]._data, inputs[1]._data, *args)
        return op.forward(*[x._data for x in inputs], *args)
    except (ValueError, IndexError, TypeError) as e:
        shapes = " and ".join(str(x.shape) for x in inputs)
        raise type(e)(f"{op.name}: inputs of shape {shapes}: {e}") from None


def any_requires_grad(inputs):
    for x in inputs:
        if x.requires_grad:
            return True
    return False


_new = object.__new__


def init(t, array):
    """Fill every slot of a new tensor (the one constructor all tensors go through)."""
    t._data = array
    t.grad = None
    t.requires_grad = False
    t.name = None
    t._op = None
    t._parents = ()
    t._args = ()
    t._version = 0
    t._saved_version = ()   # the inputs' versions when recorded
    t._base = None   # for a view: the tensor that owns the memory (and its version)
    t._retains_grad = False
    t._module = None
    t._trace = None        # where detect_anomaly saw it created
    t._rewritten = 0       # version at which an in-place op rewrote its history (0: never)


def wrap(array):
    """A tensor around `array`, off the graph (results, constants, detach)."""
    t = _new(Tensor)
    init(t, array if type(array) is np.ndarray else np.asarray(array))
    return t


class Tensor:
    __slots__ = ("_data", "grad", "requires_grad", "name", "_op", "_parents", "_args",
                 "_version", "_saved_version", "_base", "_retains_grad", "_module", "_trace",
                 "_rewritten",
                 "__weakref__")

    # ndarray (+ - * / @ ...) Tensor defers to Tensor's reflected operators,
    # so `arr + t` is a Tensor on the graph rather than an object array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data._data
        array = np.array(data, dtype=dtype)   # a copy, like torch.tensor(data)
        if array.dtype == object:
            raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} "
                            f"(got an object array; pass numbers or nested lists of numbers)")
        init(self, array)
        self.name = name
        if requires_grad:
            self.requires_grad_()

    # --- basic attributes -----------------------------------------------------

    @property
    def data(self):
        """The values, as a NumPy array (shared, not copied)."""
        return self._data

    @data.setter
    def data(self, value):
        # `t.data = ...` and `t.data += ...` both land here: count it as a change,
        # so a backward that needs the old values can tell (see autograd.check_versions).
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"data: expected numbers, got an array of dtype {array.dtype}")
        if self.requires_grad and array.dtype.kind != "f":
            raise TypeError(f"data: this tensor requires grad, so its values must be floating "
                            f"point; got dtype {array.dtype} (convert with .astype(float))")
        self._data = array
        bump_version(self)

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    dtype = property(lambda self: self._data.dtype)
    is_leaf = property(lambda self: self._op is None,
                       doc="True for tensors not produced by a recorded operation.")
    grad_fn = property(lambda self: self._op,
                       doc="The primitive that produced this tensor (None for leaves).")

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self._op is not None:
            extra += f", grad_fn=<{self._op.name}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    # --- conversion -------------------------------------------------------------

    def numpy(self):
        """The underlying array (shared with the tensor, like torch's .numpy())."""
        return self._data

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) shares memory; np.array(t) (copy=True) gets its own
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self):
        if self.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a "
                             f"Python number, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is "
                             f"ambiguous; use .any() or .all()")
        return bool(self._data)

    def to(self, dtype):
        """The same values as another dtype (differentiable between float dtypes)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return Tensor(self._data.astype(dtype))   # integer casts cut the graph
        return apply(ops.cast, (self,), (dtype,))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    astype = to

    # --- autograd ------------------------------------------------------------------

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(f"requires_grad: only floating point tensors can require "
                            f"gradients, got dtype {self.dtype}")
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("requires_grad_: the result of an operation can't stop "
                               "requiring grad; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """The same data, cut from the graph (changes to either show in both)."""
        t = wrap(self._data)
        t._base = version_owner(self)
        return t

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True
        return self

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's .grad.

        `grad` is required unless self is a scalar (it is the gradient of some
        final scalar with respect to self). The graph is freed afterwards unless
        retain_graph=True; create_graph=True records the backward pass itself so
        the resulting .grad can be differentiated again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn (was "
                "it computed from tensors with requires_grad=False, or under no_grad()?)")
        seed = seed_gradient(self, None if grad is None else as_tensor(grad), "backward")
        run_backward([self], [seed], retain_graph or create_graph, create_graph)

    def zero_grad(self):
        self.grad = None

    # --- operators --------------------------------------------------------------------
    # Written out one by one: a dozen one-liners read better than a generator.

    def __add__(self, other):
        return apply(ops.add, (self, lift(other, self)))

    def __radd__(self, other):
        return apply(ops.add, (lift(other, self), self))

    def __sub__(self, other):
        return apply(ops.sub, (self, lift(other, self)))

    def __rsub__(self, other):
        return apply(ops.sub, (lift(other, self), self))

    def __mul__(self, other):
        return apply(ops.mul, (self, lift(other, self)))

    def __rmul__(self, other):
        return apply(ops.mul, (lift(other, self), self))

    def __truediv__(self, other):
        return apply(ops.div, (self, lift(other, self)))

    def __rtruediv__(self, other):
        return apply(ops.div, (lift(other, self), self))

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor) and exponent.requires_grad:
            return power_of_tensor(self, exponent)
        if isinstance(exponent, Tensor) or np.ndim(exponent) > 0:
            # a constant array exponent: Pow with a private copy (changing the caller's
            # array later must not change the gradient)
            exponent = np.array(data_of(exponent), dtype=np.result_type(self.dtype, data_of(exponent)))
            return apply(ops.power, (self,), (exponent,))
        return apply(ops.power, (self,), (python_scalar(exponent),))

    def __rpow__(self, base):
        return lift(base, self) ** self

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(lift(other, self), self)

    def __neg__(self):
        return apply(ops.neg, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return apply(ops.absolute, (self,))

    # Comparisons give bool tensors, off the graph. Tensors still hash by
    # identity, so sets and dicts of tensors (graph walks) never call __eq__.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return wrap(self._data == data_of(other))

    def __ne__(self, other):
        return wrap(self._data != data_of(other))

    def __lt__(self, other):
        return wrap(self._data < data_of(other))

    def __le__(self, other):
        return wrap(self._data <= data_of(other))

    def __gt__(self, other):
        return wrap(self._data > data_of(other))

    def __ge__(self, other):
        return wrap(self._data >= data_of(other))

    def __invert__(self):
        return wrap(~self._data)

    def __and__(self, other):
        return wrap(self._data & data_of(other))

    def __or__(self, other):
        return wrap(self._data | data_of(other))

    # --- indexing ------------------------------------------------------------------------

    def __getitem__(self, index):
        return apply(ops.getitem, (self,), (normalize_index(index),))

    def __setitem__(self, index, value):
        """t[index] = value, in place. Differentiable as in PyTorch: if value requires
        grad, t joins the graph as where(written, value placed at index, old t)."""
        index = normalize_index(index)
        inplace(self, "__setitem__", lambda old, v: assigned(old, index, v), value,
                lambda: write_part(self, index, data_of(value)))

    # --- in place ---------------------------------------------------------------------
    # As in PyTorch: the tensor's own memory changes and its version goes up, so a
    # backward that needs the old values raises. When the tensor or the operand
    # requires grad (and grad mode is on) the change is recorded: the tensor becomes
    # the result of the op. A leaf that requires grad changes only under no_grad().

    def __iadd__(self, other):
        return inplace(self, "+=", lambda old, o: old + o, other)

    def __isub__(self, other):
        return inplace(self, "-=", lambda old, o: old - o, other)

    def __imul__(self, other):
        return inplace(self, "*=", lambda old, o: old * o, other)

    def __itruediv__(self, other):
        return inplace(self, "/=", lambda old, o: old / o, other)

    def add_(self, other, *, alpha=1):
        return inplace(self, "add_", lambda old, o: old + o * alpha if alpha != 1 else old + o, other)

    def sub_(self, other, *, alpha=1):
        return inplace(self, "sub_", lambda old, o: old - o * alpha if alpha != 1 else old - o, other)

    def mul_(self, other):
        return inplace(self, "mul_", lambda old, o: old * o, other)

    def div_(self, other):
        return inplace(self, "div_", lambda old, o: old / o, other)

    def clamp_(self, min=None, max=None):
        return inplace(self, "clamp_", lambda old, o: old.clamp(min, max), None)

    clip_ = clamp_

    # The next three replace every value; as formulas they are where(everywhere, new, old),
    # so the result still comes from old in the graph (a zero gradient to it).
    def copy_(self, src):
        """Overwrite the values with src's (broadcast to this shape); differentiable in src."""
        return inplace(self, "copy_", lambda old, o: where(np.ones(old.shape, dtype=bool),
                                                           lift(o, old).to(old.dtype), old), src)

    def fill_(self, value):
        return inplace(self, "fill_", lambda old, o: where(np.ones(old.shape, dtype=bool),
                                                           lift(o, old).to(old.dtype), old), value)

    def zero_(self):
        return self.fill_(0)

    def scatter_add(self, index, shape):
        """zeros(shape) with self added at `index` (repeated indices add up)."""
        return apply(ops.scatter_add, (self,), (normalize_index(index), tuple(shape)))

    def masked_fill(self, mask, value):
        """self with `value` where `mask` is True."""
        return where(mask, value, self)

    # --- elementwise ---------------------------------------------------------------------

    def exp(self):
        return apply(ops.exp, (self,))

    def log(self):
        return apply(ops.log, (self,))

    def sqrt(self):
        return apply(ops.sqrt, (self,))

    def tanh(self):
        return apply(ops.tanh, (self,))

    def sigmoid(self):
        return apply(ops.sigmoid, (self,))

    def relu(self):
        return apply(ops.relu, (self,))

    def leaky_relu(self, negative_slope=0.01):
        return where(self._data > 0, self, self * negative_slope)

    def abs(self):
        return apply(ops.absolute, (self,))

    def sin(self):
        return apply(ops.sin, (self,))

    def cos(self):
        return apply(ops.cos, (self,))

    def pow(self, exponent):
        return self ** exponent

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    def clip(self, min=None, max=None):
        """Limit values to [min, max]; the gradient passes where min <= x <= max."""
        out = self
        if min is not None:
            out = where(data_of(out) < data_of(min), lift(min, self), out)
        if max is not None:
            out = where(data_of(out) > data_of(max), lift(max, self), out)
        return out

    clamp = clip

    def sign(self):
        """-1, 0 or 1 (off the graph: its derivative is zero wherever it exists)."""
        return wrap(np.sign(self._data))

    def isfinite(self):
        return wrap(np.isfinite(self._data))

    # --- reductions ---------------------------------------------------------------------
    # axis= and keepdims= as in NumPy; dim= and keepdim= as in PyTorch.

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = reduction_args(self, "sum", axis, keepdims, dim, keepdim)
        return apply(ops.sum_, (self,), (axis, keepdims))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = reduction_args(self, "mean", axis, keepdims, dim, keepdim)
        return apply(ops.sum_, (self,), (axis, keepdims)) / count(self.shape, axis)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As PyTorch: max() is the largest value (the gradient split evenly among ties);
        max(dim) is the pair (values, indices), the gradient going to the returned index;
        max(other_tensor) is maximum(self, other)."""
        if isinstance(dim, Tensor):
            return maximum(self, dim)
        dim, keepdim = pick(dim, axis), bool(pick(keepdim, keepdims))
        if dim is None:
            return self.amax()
        return max_along(self, dim, keepdim, np.argmax, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """As max: min(), min(dim) -> (values, indices), min(other_tensor)."""
        if isinstance(dim, Tensor):
            return minimum(self, dim)
        dim, keepdim = pick(dim, axis), bool(pick(keepdim, keepdims))
        if dim is None:
            return self.amin()
        return max_along(self, dim, keepdim, np.argmin, "min")

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Largest value over dim (an int, a tuple, or None for all); ties split the gradient."""
        axis, keepdims = reduction_args(self, "amax", axis, keepdims, dim, keepdim)
        if self.size == 0 and (axis is None or any(self.shape[a] == 0 for a in axis)):
            raise RuntimeError(f"amax: the reduced dims of a tensor of shape {self.shape} are "
                               f"empty; a maximum needs at least one element")
        return apply(ops.max_, (self,), (axis, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return -(-self).amax(dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, *, correction=1, dim=None, keepdim=None):
        """Variance with Bessel's correction by default (correction=0: biased)."""
        axis, keepdims = reduction_args(self, "var", axis, keepdims, dim, keepdim)
        centered = self - self.mean(axis, keepdims=True)
        n = count(self.shape, axis)
        return (centered * centered).sum(axis, keepdims) / max(n - correction, 0)

    def std(self, axis=None, keepdims=False, *, correction=1, dim=None, keepdim=None):
        """sqrt(var); where the std is 0 its gradient is 0, as in PyTorch (not 0 * inf)."""
        v = self.var(axis, keepdims, correction=correction, dim=dim, keepdim=keepdim)
        positive = v._data != 0   # nan (too few elements) stays nan
        return where(positive, where(positive, v, 1).sqrt(), 0)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F().logsumexp(self, pick(axis, dim), pick(keepdims, keepdim))

    def softmax(self, axis=-1, *, dim=None):
        return F().softmax(self, pick(axis, dim))

    def log_softmax(self, axis=-1, *, dim=None):
        return F().log_softmax(self, pick(axis, dim))

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return wrap(np.argmax(self._data, axis=pick(axis, dim),
                              keepdims=pick(keepdims, keepdim)))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return wrap(np.argmin(self._data, axis=pick(axis, dim),
                              keepdims=pick(keepdims, keepdim)))

    def any(self, axis=None, keepdims=False):
        return wrap(np.any(self._data, axis=axis, keepdims=keepdims))

    def all(self, axis=None, keepdims=False):
        return wrap(np.all(self._data, axis=axis, keepdims=keepdims))

    # --- more math: one-line calls of pointwise.py, reductions.py, linalg.py ---
    # Those modules are built on this one, so they are imported when first called (as F()).

    @staticmethod
    def _pointwise():
        from . import pointwise
        return pointwise

    @staticmethod
    def _reductions():
        from . import reductions
        return reductions

    @staticmethod
    def _linalg():
        from . import linalg
        return linalg

    def __mod__(self, other):
        return self._pointwise().remainder(self, other)

    def __rmod__(self, other):
        return self._pointwise().remainder(other, self)

    def remainder(self, other):
        return self._pointwise().remainder(self, other)

    def fmod(self, other):
        return self._pointwise().fmod(self, other)

    def floor(self):
        return self._pointwise().floor(self)

    def ceil(self):
        return self._pointwise().ceil(self)

    def round(self, *, decimals=0):
        return self._pointwise().round(self, decimals=decimals)

    def trunc(self):
        return self._pointwise().trunc(self)

    def frac(self):
        return self._pointwise().frac(self)

    def tan(self):
        return self._pointwise().tan(self)

    def sinh(self):
        return self._pointwise().sinh(self)

    def cosh(self):
        return self._pointwise().cosh(self)

    def asinh(self):
        return self._pointwise().asinh(self)

    def acosh(self):
        return self._pointwise().acosh(self)

    def atanh(self):
        return self._pointwise().atanh(self)

    def asin(self):
        return self._pointwise().asin(self)

    def acos(self):
        return self._pointwise().acos(self)

    def atan(self):
        return self._pointwise().atan(self)

    def atan2(self, other):
        return self._pointwise().atan2(self, other)

    def hypot(self, other):
        return self._pointwise().hypot(self, other)

    def exp2(self):
        return self._pointwise().exp2(self)

    def expm1(self):
        return self._pointwise().expm1(self)

    def log1p(self):
        return self._pointwise().log1p(self)

    def log2(self):
        return self._pointwise().log2(self)

    def log10(self):
        return self._pointwise().log10(self)

    def square(self):
        return self._pointwise().square(self)

    def rsqrt(self):
        return self._pointwise().rsqrt(self)

    def reciprocal(self):
        return self._pointwise().reciprocal(self)

    def logaddexp(self, other):
        return self._pointwise().logaddexp(self, other)

    def logaddexp2(self, other):
        return self._pointwise().logaddexp2(self, other)

    def fmax(self, other):
        return self._pointwise().fmax(self, other)

    def fmin(self, other):
        return self._pointwise().fmin(self, other)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return self._pointwise().nan_to_num(self, nan, posinf, neginf)

    def deg2rad(self):
        return self._pointwise().deg2rad(self)

    def rad2deg(self):
        return self._pointwise().rad2deg(self)

    def lerp(self, end, weight):
        return self._pointwise().lerp(self, end, weight)

    def clamp_min(self, min):
        return self._pointwise().clamp_min(self, min)

    def clamp_max(self, max):
        return self._pointwise().clamp_max(self, max)

    def neg(self):
        return self._pointwise().neg(self)

    def negative(self):
        return self._pointwise().negative(self)

    def absolute(self):
        return self._pointwise().absolute(self)

    def isnan(self):
        return self._pointwise().isnan(self)

    def isinf(self):
        return self._pointwise().isinf(self)

    def logical_not(self):
        return self._pointwise().logical_not(self)

    def logical_and(self, other):
        return self._pointwise().logical_and(self, other)

    def logical_or(self, other):
        return self._pointwise().logical_or(self, other)

    def logical_xor(self, other):
        return self._pointwise().logical_xor(self, other)

    def eq(self, other):
        return self._pointwise().eq(self, other)

    def ne(self, other):
        return self._pointwise().ne(self, other)

    def lt(self, other):
        return self._pointwise().lt(self, other)

    def le(self, other):
        return self._pointwise().le(self, other)

    def gt(self, other):
        return self._pointwise().gt(self, other)

    def ge(self, other):
        return self._pointwise().ge(self, other)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        return self._reductions().prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim, *, dtype=None):
        return self._reductions().cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return self._reductions().cumprod(self, dim, dtype=dtype)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return self._reductions().norm(self, p, dim, keepdim, dtype=dtype)

    def sort(self, dim=-1, descending=False, stable=False):
        return self._reductions().sort(self, dim, descending, stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return self._reductions().argsort(self, dim, descending, stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):
        return self._reductions().topk(self, k, dim, largest, sorted)

    def median(self, dim=None, keepdim=False):
        return self._reductions().median(self, dim, keepdim)

    def count_nonzero(self, dim=None):
        return self._reductions().count_nonzero(self, dim)

    def outer(self, vec2):
        return self._linalg().outer(self, vec2)

    def inner(self, other):
        return self._linalg().inner(self, other)

    def kron(self, other):
        return self._linalg().kron(self, other)

    def mm(self, mat2):
        return self._linalg().mm(self, mat2)

    def bmm(self, mat2):
        return self._linalg().bmm(self, mat2)

    def mv(self, vec):
        return self._linalg().mv(self, vec)

    def vdot(self, other):
        return self._linalg().vdot(self, other)

    def matrix_power(self, n):
        return self._linalg().matrix_power(self, n)

    def diagonal(self, offset=0, dim1=0, dim2=1):
        return self._linalg().take_diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        return self._linalg().diag(self, diagonal)

    def diag_embed(self, offset=0, dim1=-2, dim2=-1):
        return self._linalg().diag_embed(self, offset, dim1, dim2)

    def trace(self):
        return self._linalg().trace(self)

    def tril(self, diagonal=0):
        return self._linalg().tril(self, diagonal)

    def triu(self, diagonal=0):
        return self._linalg().triu(self, diagonal)

    # --- shape ------------------------------------------------------------------------------

    def reshape(self, *shape):
        return apply(ops.reshape, (self,), (shape_arg(shape),))

    view = reshape

    def permute(self, *dims):
        dims = tuple(normalize_axis(d, self.ndim, "permute") for d in shape_arg(dims))
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} are not a permutation of the "
                             f"{self.ndim} axes of a tensor of shape {self.shape}")
        return apply(ops.permute, (self,), (dims,))

    def transpose(self, dim0=-2, dim1=-1):
        """Swap two axes (PyTorch's transpose, not NumPy's)."""
        dims = list(range(self.ndim))
        d0, d1 = normalize_axis(dim0, self.ndim, "transpose"), normalize_axis(dim1, self.ndim, "transpose")
        dims[d0], dims[d1] = dims[d1], dims[d0]
        return apply(ops.permute, (self,), (tuple(dims),))

    @property
    def T(self):
        """All axes reversed (a matrix transpose for 2-D tensors)."""
        if self.ndim < 2:
            return self
        return apply(ops.permute, (self,), (tuple(range(self.ndim - 1, -1, -1)),))

    @property
    def mT(self):
        """The last two axes swapped (batched matrix transpose)."""
        return self.transpose(-2, -1)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s = normalize_axis(start_dim, self.ndim, "flatten")
        e = normalize_axis(end_dim, self.ndim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape
        return self.reshape(shape[:s] + (count(shape, range(s, e + 1)),) + shape[e + 1:])

    def squeeze(self, dim=None):
        """Drop axes of size 1 (all of them, or the given ones if they have size 1)."""
        if dim is None:
            axes = range(self.ndim)
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            axes = [normalize_axis(d, self.ndim, "squeeze") for d in dims]
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        d = normalize_axis(dim, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def broadcast_to(self, *shape):
        shape = shape_arg(shape)
        if shape == self.shape:
            return self
        return apply(ops.broadcast_to, (self,), (shape,))

    def expand(self, *sizes):
        """Broadcast to `sizes`; -1 keeps an axis as it is."""
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: {sizes} has fewer axes than the tensor's shape {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def sum_to_size(self, *shape):
        """Sum over broadcast axes down to `shape` (undoes broadcast_to)."""
        shape = shape_arg(shape)
        if shape == self.shape:
            return self
        return apply(ops.sum_to, (self,), (shape,))

    def matmul(self, other):
        return matmul(self, other)

    def dot(self, other):
        return matmul(self, other)

    def where(self, condition, other):
        """PyTorch's x.where(condition, y): x where condition is True, else y."""
        return where(condition, self, other)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))


# --- in-place changes -------------------------------------------------------------------

def inplace(t, who, compute, other=None, write=None):
    """Change t in place to compute(t, other) (a Tensor formula of t's old value), as PyTorch.

    Not recorded (grad mode off, or neither t nor `other` requires grad): the new values
    are written into t's memory. Recorded: t's old state moves to a new tensor, `old`,
    the formula is recorded on it, and t becomes its result (memory written too, so
    views of t see the change). `write`, if given, does the unrecorded write itself.
    """
    recording = state.grad_enabled and (
        t.requires_grad or (isinstance(other, Tensor) and other.requires_grad))
    if recording and t.requires_grad and t._op is None:
        raise RuntimeError(
            f"{who}: a leaf tensor that requires grad (shape {t.shape}) can't be changed in "
            f"place while grad mode is on, as in PyTorch; do it under tg.no_grad() (as an "
            f"optimizer step does), or build a new tensor")
    if not t._data.flags.writeable:
        raise RuntimeError(f"{who}: the tensor (shape {t.shape}) is read-only (a broadcast "
                           f"view or a shared constant); clone() it first")
    if not recording:
        if write is not None:
            write()
        else:
            write_all(t, compute(t, other)._data, who)
        bump_version(t)
        return t
    if t._base is not None:
        raise RuntimeError(
            f"{who}: an in-place change of a view (shape {t.shape}, of a tensor of shape "
            f"{t._base.shape}) can't be recorded, because the base tensor's history would "
            f"not see it; write into the base instead, e.g. base[index] = base[index] + value")
    old = wrap(t._data.copy())
    old.requires_grad, old.name = t.requires_grad, t.name
    old._op, old._parents, old._args = t._op, t._parents, t._args
    old._saved_version, old._module, old._trace = t._saved_version, t._module, t._trace
    new = compute(old, old if other is t else other)   # x *= x: both sides are the old x
    write_all(t, new._data, who)
    t.requires_grad = True
    t._op, t._parents, t._args = new._op, new._parents, new._args
    t._saved_version, t._module, t._trace = new._saved_version, new._module, new._trace
    bump_history(t)
    return t


def write_all(t, array, who):
    """Write `array` into t's memory: same shape, and a dtype t can hold (float into int: no)."""
    if array.shape != t.shape:
        raise RuntimeError(f"{who}: the result has shape {array.shape}, but the tensor changed "
                           f"in place has shape {t.shape} (in place, the shape can't change)")
    try:
        np.copyto(t._data, array, casting="same_kind")
    except TypeError:
        raise TypeError(f"{who}: a result of dtype {array.dtype} can't be stored in place in a "
                        f"tensor of dtype {t.dtype}") from None


def write_part(t, index, values):
    try:
        t._data[index] = values
    except (ValueError, IndexError, TypeError) as e:
        raise type(e)(f"__setitem__: tensor of shape {t.shape}: {e}") from None


def assigned(old, index, value):
    """old with `value` written at `index`, as a formula: where(written, placed, old)."""
    value = lift(value, old)
    if value.dtype != old.dtype:
        value = value.to(old.dtype)
    written = np.zeros(old.shape, dtype=bool)
    write_part(wrap(written), index, True)
    if not ops.K.is_basic_index(index):
        hits = np.zeros(old.shape, dtype=np.intp)
        np.add.at(hits, index, 1)
        if hits.max(initial=0) > 1:
            raise RuntimeError("__setitem__: the index names an element more than once; "
                               "which write wins is not differentiable, so it can't be recorded")
    selected = old._data[index].shape
    placed = value.broadcast_to(selected).scatter_add(index, old.shape)
    return where(written, placed, old)


def power_of_tensor(a, b):
    """a ** b for an exponent that requires grad: e^(b ln a) where a > 0 (every derivative
    right), and Pow with b's values as constants where a <= 0 (right values and d/da;
    d/db is 0 there, where PyTorch gives nan for a < 0)."""
    b = lift(b, a)
    positive = a._data > 0
    exp_log = (b * where(positive, a, 1).log()).exp()
    if positive.all():
        return exp_log
    return where(positive, exp_log, a ** b._data)


MaxResult = collections.namedtuple("max", ["values", "indices"])
MinResult = collections.namedtuple("min", ["values", "indices"])


def max_along(t, dim, keepdim, arg, who):
    """(values, indices) of the max (arg=np.argmax) or min over one dim, as PyTorch's
    torch.return_types: values are t at the indices, so the gradient goes only there."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{who}: dim must be an int (for several dims use amax/amin)")
    d = normalize_axis(dim, t.ndim, who)
    if t.ndim and t.shape[d] == 0:
        raise IndexError(f"{who}: dim {dim} of a tensor of shape {t.shape} is empty")
    idx = arg(t._data, axis=d, keepdims=True) if t.ndim else np.zeros((), dtype=np.intp)
    grid = list(np.indices(idx.shape, sparse=True))
    if t.ndim:
        grid[d] = idx
    values = t[tuple(grid)] if t.ndim else t * 1
    indices = wrap(idx.astype(np.int64))
    if not keepdim and t.ndim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    result = MaxResult if who == "max" else MinResult
    return result(values, indices)


def F():
    """nn.functional, the composites' home (imported late: it is built on this module)."""
    from .nn import functional
    return functional


# --- argument handling -----------------------------------------------------------------

def python_scalar(x):
    """NumPy scalars count as Python scalars, so they don't change a tensor's dtype."""
    return x.item() if isinstance(x, np.generic) else x


def lift(x, like):
    """Make `x` a tensor to combine with tensor `like`.

    A Python (or NumPy) scalar takes `like`'s dtype when that holds it
    (float32 tensor * 2.0 stays float32), as in PyTorch and NumPy 2.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.generic)):
        x = python_scalar(x)
        dtype = like._data.dtype
        if not (dtype.kind == "f" and type(x) in (float, int)):
            dtype = np.result_type(dtype, x)
        return scalar_constant(x, dtype)
    # a private copy: an array kept for backward must not change when the caller's does
    array = np.array(x)
    if array.dtype == object:
        raise TypeError(f"cannot combine a {type(x).__name__} with a tensor (got an object "
                        f"array; pass numbers, arrays or tensors)")
    return wrap(array)


_constants = {}   # dtype -> {value: read-only 0-d tensor}


def scalar_constant(x, dtype):
    """A read-only 0-d tensor holding `x`, shared by every op that uses the same constant.

    `x * 2.0` needs the 2.0 as a graph input. Reusing one tensor per (dtype,
    value) instead of making a new one for every op takes a third off the
    cost of scalar-heavy code, mostly by giving Python's garbage collector
    fewer objects to scan in a big graph. Read-only, so sharing is safe.
    """
    cache = _constants.get(dtype)
    if cache is None:
        cache = _constants[dtype] = {}
    t = cache.get(x)
    if t is None:
        array = np.array(x, dtype=dtype)
        array.flags.writeable = False
        t = wrap(array)
        # 0.0 == -0.0 and nan != nan as dict keys, so those are never shared.
        if x == x and x != 0:
            if len(cache) > 4096:   # e.g. a learning rate that changes every step
                cache.clear()
            cache[x] = t
    return t


def as_tensor(x, dtype=None):
    """`x` if it is already a tensor, else a new tensor of its values."""
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    return Tensor(x, dtype=dtype)


def data_of(x):
    return x._data if isinstance(x, Tensor) else x


def pick(numpy_name, torch_name):
    return numpy_name if torch_name is None else torch_name


def shape_arg(shape):
    """reshape(2, 3) and reshape((2, 3)) both mean shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(n) for n in shape)


def normalize_axis(axis, ndim, who):
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise IndexError(f"{who}: axis {axis} is out of range for a tensor with {ndim} axes")
    return axis % ndim if ndim else 0


def reduction_args(t, who, axis, keepdims, dim, keepdim):
    """Resolve NumPy/PyTorch argument names; axis becomes a sorted tuple or None."""
    axis, keepdims = pick(axis, dim), bool(pick(keepdims, keepdim))
    if axis is None:
        return None, keepdims
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = [normalize_axis(a, t.ndim, who) for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{who}: dim {axis} names an axis more than once")
    axes = tuple(sorted(normalized))
    return (axes if t.ndim else None), keepdims


def count(shape, axis):
    """How many elements a reduction over `axis` combines."""
    return math.prod(shape if axis is None else [shape[a] for a in axis])


def normalize_index(index):
    """Tensors, lists and ranges inside an index become private arrays, so NumPy sees one
    form, and changing the caller's index array later can't change a gradient."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    if isinstance(index, (list, range)):
        index = np.asarray(index)
        if index.size == 0:   # x[[]]: an empty selection, as NumPy and PyTorch
            index = index.astype(np.intp)
    if isinstance(index, np.ndarray):
        return index.copy()
    return index


# --- functions on several tensors ----------------------------------------------------------

def matmul(a, b):
    """Matrix product with NumPy's semantics (1-D, 2-D, batched)."""
    a = as_tensor(a)
    b = lift(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"MatMul: both operands need at least one axis, got shapes "
                         f"{a.shape} and {b.shape}; use * for scalars")
    return apply(ops.matmul, (a, b))


def where(condition, a, b):
    """Elementwise `a if condition else b`; the condition is not differentiated."""
    cond = np.array(data_of(condition), dtype=bool)   # a copy: kept for backward
    if isinstance(a, Tensor):
        b = lift(b, a)
    elif isinstance(b, Tensor):
        a = lift(a, b)
    else:
        a, b = Tensor(a), Tensor(b)
    return apply(ops.where, (a, b), (cond,))


def maximum(a, b):
    """Elementwise max; where a == b the gradient is split evenly (as PyTorch)."""
    a = as_tensor(a)
    return apply(ops.maximum, (a, lift(b, a)))


def minimum(a, b):
    a = as_tensor(a)
    return -maximum(-a, -lift(b, a))


def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ax = normalize_axis(pick(dim, axis), tensors[0].ndim, "cat")
    return apply(ops.cat, tuple(tensors), (ax,))


concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    """Join tensors along a new axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: all tensors must have the same shape, got {sorted(shapes)}")
    d = normalize_axis(pick(dim, axis), tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


# --- construction ----------------------------------------------------------------------------

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed the generator behind randn/rand/uniform/normal (and nn's initialisers)."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def default_generator():
    return _rng


def shape_of(size, who="zeros"):
    """zeros(2, 3) and zeros((2, 3)) both mean shape (2, 3); sizes are non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    for n in size:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{who}: sizes must be ints, got {n!r} in {tuple(size)}")
        if n < 0:
            raise ValueError(f"{who}: sizes can't be negative, got {tuple(size)}")
    return tuple(int(n) for n in size)


def tensor(data, requires_grad=False, dtype=None, name=None):
    """Like torch.tensor: a new leaf tensor holding a copy of `data`."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def zeros(*size, dtype=np.float64, requires_grad=False):
    return Tensor(np.zeros(shape_of(size, "zeros"), dtype=dtype), requires_grad=requires_grad)


def ones(*size, dtype=np.float64, requires_grad=False):
    return Tensor(np.ones(shape_of(size, "ones"), dtype=dtype), requires_grad=requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    shape = shape_of((size,) if isinstance(size, numbers.Integral) else (tuple(size),), "full")
    return Tensor(np.full(shape, fill_value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return Tensor(np.zeros_like(data_of(t), dtype=dtype), requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return Tensor(np.ones_like(data_of(t), dtype=dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def eye(n, m=None, dtype=np.float64, requires_grad=False):
    shape_of((n,) if m is None else (n, m), "eye")
    return Tensor(np.eye(n, m, dtype=dtype), requires_grad=requires_grad)


def randn(*size, dtype=np.float64, requires_grad=False, generator=None):
    """Standard normal samples (from `generator`, or the one manual_seed sets)."""
    rng = generator or _rng
    return Tensor(rng.standard_normal(shape_of(size, "randn")).astype(dtype, copy=False),
                  requires_grad=requires_grad)


def rand(*size, dtype=np.float64, requires_grad=False, generator=None):
    """Uniform samples in [0, 1)."""
    rng = generator or _rng
    return Tensor(rng.random(shape_of(size, "rand")).astype(dtype, copy=False),
                  requires_grad=requires_grad)


def uniform(low=0.0, high=1.0, size=(), dtype=np.float64, requires_grad=False, generator=None):
    rng = generator or _rng
    return Tensor(rng.uniform(low, high, size).astype(dtype, copy=False),
                  requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=(), dtype=np.float64, requires_grad=False, generator=None):
    rng = generator or _rng
    return Tensor(rng.normal(mean, std, size).astype(dtype, copy=False),
                  requires_grad=requires_grad)
