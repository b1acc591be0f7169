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
from .autograd import (state, creation_site, check_finite, version_owner, bump_version,
                       bump_history, input_versions)


# --- building graph nodes -------------------------------------------------------------

def apply(op, inputs, args=()):
    """Run primitive `op` on tensors `inputs`; record the result if any input requires grad."""
    # Every forward op and every VJP's op comes through here, so the forward call is
    # unrolled for one and two inputs (the generic path costs ~0.4 us more).
    try:
        if len(inputs) == 2:
            out = op.forward(inputs[0]._data, inputs[1]._data, *args)
        elif len(inputs) == 1:
            out = op.forward(inputs[0]._data, *args)
        else:
            out = op.forward(*[x._data for x in inputs], *args)
    except (ValueError, IndexError, TypeError) as e:
        shapes = " and ".join(str(x.shape) for x in inputs)
        raise type(e)(f"{op.name}: inputs of shape {shapes}: {e}") from None
    # wrap(out), written out
    result = _new(Tensor)
    init(result, out if type(out) is np.ndarray else np.asarray(out))
    local = state   # one global lookup for the three switches
    if local.recorder is not None:   # tg.compile is tracing (compile.py); None otherwise
        local.recorder.op(op, inputs, args, result, out is result._data)
    if op.view:
        view, x = result._data, inputs[0]._data
        # A non-empty view of the input's memory owner (a view op's result is made from
        # its input alone) shares memory with it: NumPy's overlap test, ~0.5 us, is left
        # for the rest (a copy, an empty view).
        if view.base is not None and (view.size and view.base is (x if x.base is None else x.base)
                                      or np.may_share_memory(view, x)):
            result._base = version_owner(inputs[0])   # W.T changes whenever W does
    if local.anomaly:
        result._trace = creation_site()
        check_finite(result._data, "forward", op, result._trace)
    if local.grad_enabled:
        for x in inputs:   # does any input require grad? (a loop, not a call: every op)
            if x.requires_grad:
                result.requires_grad = True
                result._op, result._parents, result._args = op, inputs, args
                result._module = local.module
                result._saved_version = input_versions(inputs)
                break
    return result


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
    t._record = None       # what a drawing shows once backward frees it (autograd.free)


def wrap(array):
    """A tensor around `array`, off the graph (results, constants, detach)."""
    t = _new(Tensor)
    init(t, array if type(array) is np.ndarray else np.asarray(array))
    return t


_computations = {}   # code -> the function it defines


def computed(code, *operands):
    """The array `code` computes from `operands` (arrays, numbers, generators), off the
    graph: masks, comparisons, random draws, private copies.

    `code` is NumPy text with {0}, {1}, ... for the operands ("{0} > {1}"). It is both
    what runs here and what tg.compile writes into its program, so a mask that depends
    on the data is recomputed on every compiled call instead of being frozen.
    """
    fn = _computations.get(code)
    if fn is None:
        names = [f"a{i}" for i in range(len(operands))]
        fn = _computations[code] = eval(f"lambda {', '.join(names)}: {code.format(*names)}",
                                        {"np": np, "K": ops.K, "check_range": check_range})
    result = fn(*operands)
    if type(result) is not np.ndarray:
        result = np.asarray(result)
    if state.recorder is not None:
        state.recorder.computed(code, operands, result)
    return result


def python_constant(array):
    """`array`, made from Python data alone (numbers, lists, shapes), so the same on every
    call of a compiled step: tg.compile may keep it as a constant of its program. Any other
    array made outside apply/computed must be the same object on every call (compile.py)."""
    if state.recorder is not None:
        state.recorder.constant(array)
    return array


def private_copy(x):
    """np.array(x) for an array, a tensor or Python data: a copy the caller can't change
    later (indices, labels kept for backward), made where tg.compile sees it."""
    if isinstance(x, Tensor):
        x = x._data
    if isinstance(x, np.ndarray):
        return computed("np.array({0})", x)
    return python_constant(np.array(x))


def python_value(value, who):
    """`value`, a value of the step that library code uses in Python (a branch, a size):
    a compiled program could not follow it, so such a step runs eagerly (tg.compile warns)."""
    if state.recorder is not None:
        state.recorder.fail(f"{who} uses a value of the step in Python")
    return value


def check_range(values, low, high, who, what, error="IndexError"):
    """`values` itself, after checking that they lie in [low, high) (labels, indices).

    Called through computed(), so a compiled step runs the same check on every replay's
    data and raises as the eager step would, instead of indexing from the end."""
    if values.size and (values.min() < low or values.max() >= high):
        raise {"IndexError": IndexError, "ValueError": ValueError}[error](
            f"{who}: {what} must lie in [{low}, {high}), got values from {values.min()} "
            f"to {values.max()}")
    return values


class Tensor:
    __slots__ = ("_data", "grad", "requires_grad", "name", "_op", "_parents", "_args",
                 "_version", "_saved_version", "_base", "_retains_grad", "_module", "_trace",
                 "_rewritten", "_record",
                 "__weakref__")

    # ndarray (+ - * / @ ...) Tensor defers to Tensor's reflected operators,
    # so `arr + t` is a Tensor on the graph rather than an object array.
    __array_ufunc__ = None

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        if isinstance(data, Tensor):
            data = data._data
        if isinstance(data, np.ndarray):   # a copy, like torch.tensor(data)
            array = computed("np.array({0}, dtype={1})", data, dtype)
        else:
            array = python_constant(np.array(data, dtype=dtype))
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
        """The values as a tensor off the graph, as in PyTorch: t.detach().

        It shares t's memory (changes to either show in both), doesn't require grad and
        has no history, so `p.data += -lr * p.grad` updates p. Unlike PyTorch, a change
        through it counts as a change of t, so a backward that needs t's old values
        raises instead of using the new ones. For the NumPy array, use t.numpy().
        """
        return self.detach()

    @data.setter
    def data(self, value):
        # `t.data = ...` lands here, and so does `t.data += x` after the in-place add on
        # the detached tensor (Python assigns the result back): count it as a change,
        # so a backward that needs the old values can tell (see autograd.check_versions).
        array = value._data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"data: expected numbers, got an array of dtype {array.dtype}")
        if self.requires_grad and array.dtype.kind != "f":
            raise TypeError(f"data: this tensor requires grad, so its values must be floating "
                            f"point; got dtype {array.dtype} (convert with .astype(float))")
        self._data = array
        bump_version(self)
        if state.recorder is not None:
            state.recorder.rebind(self, array)

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    device = property(lambda self: CPU, doc="Always the CPU: NumPy computes there.")
    is_leaf = property(lambda self: self._op is None,
                       doc="True for tensors not produced by a recorded operation.")
    grad_fn = property(lambda self: self._op,
                       doc="The primitive that produced this tensor (None for leaves).")

    def size(self, dim=None):
        """The shape, as a Size (a tuple), or the length of one dim (PyTorch's; NumPy's
        number of elements is numel())."""
        if dim is None:
            return Size(self._data.shape)
        if self.ndim == 0:
            raise IndexError(f"size: dim {dim} given, but the tensor has no dims (shape ())")
        return self._data.shape[normalize_axis(dim, self.ndim, "size")]

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements (NumPy's .size)."""
        return self._data.size

    nelement = numel

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        return self._data.flags.c_contiguous

    def contiguous(self):
        """self if its memory is in row-major order, else a copy (as PyTorch: writing into
        the result of contiguous() of a transposed tensor doesn't change the original)."""
        if self._data.flags.c_contiguous:
            return self
        # NumPy's reshape of a strided array is a row-major copy: on the graph as a
        # reshape to one axis and back, whose backward passes views (clone's ufunc would
        # keep the strided layout, and cost a pass each way)
        return self.reshape(-1).reshape(self.shape)

    def data_ptr(self):
        """The address of the first element."""
        return self._data.ctypes.data

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
        if state.recorder is not None:
            state.recorder.python_read(self, "numpy()")
        return self._data

    def __array__(self, dtype=None, copy=None):
        # np.asarray(t) shares memory; np.array(t) (copy=True) gets its own
        if state.recorder is not None:
            state.recorder.python_read(self, "np.asarray(tensor)")
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted to a "
                             f"Python number, got shape {self.shape}")
        if state.recorder is not None:
            state.recorder.python_read(self, "item()")
        return self._data.item()

    def tolist(self):
        if state.recorder is not None:
            state.recorder.python_read(self, "tolist()")
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is "
                             f"ambiguous; use .any() or .all()")
        if state.recorder is not None:
            state.recorder.python_read(self, "bool()")
        return bool(self._data)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """PyTorch's to(dtype), to(device), to(device, dtype) and to(other): the same
        values as another dtype (differentiable between float dtypes); self when nothing
        changes (copy=True: always a new tensor). The only device is "cpu"."""
        dtype = to_arguments(args, dtype, device, "to")
        result = self if dtype is None else self.astype(dtype)
        return result.clone() if copy and result is self else result

    def astype(self, dtype):
        """The same values as `dtype` (differentiable between float dtypes; integer casts
        cut the graph)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and dtype.kind != "f":
            return Tensor(self._data.astype(dtype))
        return apply(ops.cast, (self,), (dtype,))

    def type(self, dtype=None):
        """No argument: the type's name ("torch.DoubleTensor", PyTorch's names, for code
        that compares them). With a dtype (or such a name): that dtype, as to(dtype)."""
        if dtype is None:
            return "torch." + TYPE_NAMES.get(self.dtype, str(self.dtype)) + "Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {v: k for k, v in TYPE_NAMES.items()}
            name = dtype.split(".")[-1][:-len("Tensor")]
            if name not in names:
                raise TypeError(f"type: unknown tensor type {dtype!r}")
            dtype = names[name]
        return self.astype(dtype)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def half(self):
        """float16 (NumPy computes each op in float16, sums included: less accurate than
        PyTorch, which accumulates half sums in float32)."""
        return self.astype(np.float16)

    def long(self):
        return self.astype(np.int64)

    def int(self):
        return self.astype(np.int32)

    def bool(self):
        return self.astype(np.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        raise RuntimeError("cuda: tinygrad_edu computes with NumPy on the CPU only; there is "
                           "no GPU support (leave tensors on the CPU, device='cpu')")

    def clone(self):
        """A copy with its own memory; on the graph (the gradient passes through unchanged)."""
        if self.requires_grad and state.grad_enabled:
            # exact for every value (-0.0 - 0.0 is -0.0; nan stays nan), and its backward
            # passes the gradient on as it is, where * 1 would multiply it again
            return self - 0
        return wrap(self._data.copy())

    def t(self):
        """The transpose of a matrix; a tensor with fewer than 2 dims as it is (PyTorch's)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.shape} "
                             f"(use transpose(dim0, dim1) or mT)")
        return self.T

    # PyTorch's method forms of the operators

    def add(self, other, *, alpha=1):
        """self + alpha * other."""
        return self + (other if alpha == 1 else lift(other, self) * alpha)

    def sub(self, other, *, alpha=1):
        """self - alpha * other."""
        return self - (other if alpha == 1 else lift(other, self) * alpha)

    def mul(self, other):
        return self * other

    def div(self, other, *, rounding_mode=None):
        if rounding_mode is not None:
            raise NotImplementedError(f"div: rounding_mode={rounding_mode!r} is not supported "
                                      f"(only true division, rounding_mode=None)")
        return self / other

    # PyTorch's new_* methods: self's dtype unless given, never self's requires_grad

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, requires_grad, self.dtype if dtype is None else dtype, device=device)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return zeros(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return ones(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                    requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return empty(*size, dtype=self.dtype if dtype is None else dtype, device=device,
                     requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=device, requires_grad=requires_grad)

    # Random fills, in place (random.py): a leaf that requires grad only under no_grad()

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return random_fills.normal_(self, mean, std, generator)

    def uniform_(self, from_=0.0, to=1.0, *, generator=None):
        return random_fills.uniform_(self, from_, to, generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        return random_fills.bernoulli_(self, p, generator)

    # --- autograd ------------------------------------------------------------------

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"requires_grad: only floating point tensors can require "
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

    def detach_(self):
        """Cut this tensor from the graph in place: it becomes a leaf that doesn't require
        grad. A view can't: use detach().

        Unlike PyTorch, where what used the tensor before keeps its path (its graph
        links ops, ours links tensors), a backward through such a use raises: the
        change counts as a rewrite of the tensor's history (bump_history).
        """
        if self._base is not None and self._data is not self._base._data:
            raise RuntimeError(f"detach_: can't detach a view (shape {self.shape} of a tensor "
                               f"of shape {self._base.shape}) in place; use detach() instead")
        if self.requires_grad:
            bump_history(self)
        self._op, self._parents, self._args, self._saved_version = None, (), (), ()
        self.requires_grad = False
        self._retains_grad = False
        return self

    retains_grad = property(lambda self: self._retains_grad,
                            doc="True once retain_grad() was called on this non-leaf tensor.")

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True
        return self

    def register_hook(self, hook):
        """Call hook(grad) each time backward (or grad()) has this tensor's full gradient.

        hook returns None or a Tensor of grad's shape and dtype that replaces the
        gradient: for a leaf, before it accumulates into .grad; otherwise before it
        flows on to the inputs (and into .grad after retain_grad()). Several hooks
        run in registration order, each given the previous one's result. With
        create_graph=True, grad is differentiable. Returns a handle: handle.remove().
        """
        from .autograd import register_hook   # here, not at the top: this section is autograd's
        return register_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call hook(self) each time backward has accumulated into this leaf's .grad (after
        every register_hook hook); hook returns None. Returns a handle: handle.remove()."""
        from .autograd import register_post_accumulate_grad_hook
        return register_post_accumulate_grad_hook(self, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (see autograd.backward).

        `gradient` is required unless self is a scalar (it is the gradient of some
        final scalar with respect to self). The graph is freed afterwards unless
        retain_graph=True (the default is create_graph); create_graph=True records
        the backward pass itself so the resulting .grad can be differentiated again;
        inputs=tensors accumulates into those only.
        """
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs)

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
            exponent = computed("np.array({0}, dtype={1})", data_of(exponent),
                                np.result_type(self.dtype, data_of(exponent)))
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
        return wrap(computed("{0} == {1}", self._data, data_of(other)))

    def __ne__(self, other):
        return wrap(computed("{0} != {1}", self._data, data_of(other)))

    def __lt__(self, other):
        return wrap(computed("{0} < {1}", self._data, data_of(other)))

    def __le__(self, other):
        return wrap(computed("{0} <= {1}", self._data, data_of(other)))

    def __gt__(self, other):
        return wrap(computed("{0} > {1}", self._data, data_of(other)))

    def __ge__(self, other):
        return wrap(computed("{0} >= {1}", self._data, data_of(other)))

    def __invert__(self):
        return wrap(computed("~{0}", self._data))

    def __and__(self, other):
        return wrap(computed("{0} & {1}", self._data, data_of(other)))

    def __or__(self, other):
        return wrap(computed("{0} | {1}", self._data, data_of(other)))

    def __xor__(self, other):
        return wrap(computed("{0} ^ {1}", self._data, data_of(other)))

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
    # PyTorch's rules (inplace.py): the memory changes and the version goes up; recorded
    # when something requires grad; a leaf that requires grad only under no_grad().

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

    def _scatter_add_at(self, index, shape):
        """zeros(shape) with self added at `index` (repeated indices add up)."""
        return apply(ops.scatter_add, (self,), (normalize_index(index), tuple(shape)))

    def masked_fill(self, mask, value):
        """self with `value` (a number or a 0-d tensor) where the bool `mask` is True."""
        return self._shapes().masked_fill(self, mask, value)

    def masked_fill_(self, mask, value):
        return inplace(self, "masked_fill_", lambda old, v: old.masked_fill(mask, v), value)

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
        return where(self > 0, self, self * negative_slope)

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
        # the masks through computed(): a compiled step compares each call's values
        if min is not None:
            out = where(computed("{0} < {1}", data_of(out), data_of(min)), lift(min, self), out)
        if max is not None:
            out = where(computed("{0} > {1}", data_of(out), data_of(max)), lift(max, self), out)
        return out

    clamp = clip

    def sign(self):
        """-1, 0 or 1, with a zero gradient (as PyTorch: the result still requires grad)."""
        return self._pointwise().sign(self)

    def isfinite(self):
        return wrap(computed("np.isfinite({0})", self._data))

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

    def amax(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        """Largest value over dim (an int, a tuple, or None for all); ties split the gradient."""
        axis, keepdims = reduction_args(self, "amax", axis, keepdims, dim, keepdim)
        if self.numel() == 0 and (axis is None or any(self.shape[a] == 0 for a in axis)):
            raise RuntimeError(f"amax: the reduced dims of a tensor of shape {self.shape} are "
                               f"empty; a maximum needs at least one element")
        return apply(ops.max_, (self,), (axis, keepdims))

    def amin(self, dim=None, keepdim=None, *, axis=None, keepdims=None):
        return -(-self).amax(dim, keepdim, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
            keepdims=None):
        """Variance with Bessel's correction by default (correction=0 or unbiased=False:
        biased). PyTorch's signature: x.var(1, False) is the biased variance over dim 1."""
        correction = correction_of(unbiased, correction, "var")
        axis, keepdims = reduction_args(self, "var", axis, keepdims, dim, keepdim)
        centered = self - self.mean(axis, keepdims=True)
        n = count(self.shape, axis)
        return (centered * centered).sum(axis, keepdims) / max(n - correction, 0)

    def std(self, dim=None, unbiased=None, keepdim=None, *, correction=None, axis=None,
            keepdims=None):
        """sqrt(var); where the std is 0 its gradient is 0, as in PyTorch (not 0 * inf)."""
        v = self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
        positive = v != 0   # nan (too few elements) stays nan
        return where(positive, where(positive, v, 1).sqrt(), 0)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return F().logsumexp(self, pick(axis, dim), pick(keepdims, keepdim))

    def softmax(self, axis=-1, *, dim=None):
        return F().softmax(self, pick(axis, dim))

    def log_softmax(self, axis=-1, *, dim=None):
        return F().log_softmax(self, pick(axis, dim))

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return wrap(computed("np.argmax({0}, axis={1}, keepdims={2})", self._data,
                             pick(axis, dim), pick(keepdims, keepdim)))

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return wrap(computed("np.argmin({0}, axis={1}, keepdims={2})", self._data,
                             pick(axis, dim), pick(keepdims, keepdim)))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._reductions().any(self, pick(dim, axis), bool(pick(keepdim, keepdims)))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return self._reductions().all(self, pick(dim, axis), bool(pick(keepdim, keepdims)))

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

    def erf(self):
        return F().erf(self)

    def erfc(self):
        return self._pointwise().erfc(self)

    def erfinv(self):
        return self._pointwise().erfinv(self)

    def lgamma(self):
        return self._pointwise().lgamma(self)

    def digamma(self):
        return self._pointwise().digamma(self)

    def polygamma(self, n):
        return self._pointwise().polygamma(n, self)

    def i0(self):
        return self._pointwise().i0(self)

    def exp2(self):
        return self._pointwise().exp2(self)

    def expm1(self):
        return self._pointwise().expm1(self)

    def log1p(self):
        return self._pointwise().log1p(self)

    def logit(self, eps=None):
        return self._pointwise().logit(self, eps)

    def sinc(self):
        return self._pointwise().sinc(self)

    def xlogy(self, other):
        return self._pointwise().xlogy(self, other)

    def copysign(self, other):
        return self._pointwise().copysign(self, other)

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

    def nansum(self, dim=None, keepdim=False):
        return self._reductions().nansum(self, dim, keepdim)

    def histc(self, bins=100, min=0, max=0):
        return self._reductions().histc(self, bins, min, max)

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

    def reshape(self, *shape, **kwargs):
        return apply(ops.reshape, (self,), (shape_arg(shape, kwargs, "reshape"),))

    def view(self, *shape, **kwargs):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            raise TypeError(f"view: viewing as another dtype ({shape[0]!r}) is not supported; "
                            f"use .to(dtype) for a converted copy")
        return apply(ops.reshape, (self,), (shape_arg(shape, kwargs, "view"),))

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
        return self._linalg().dot(self, other)

    def where(self, condition, other):
        """PyTorch's x.where(condition, y): x where condition is True, else y."""
        return where(condition, self, other)

    # --- more shape and indexing: one-line calls of shapes.py ---
    # shapes.py is built on this module, so it is imported when first used.

    @staticmethod
    def _shapes():
        from . import shapes
        return shapes

    def repeat(self, *sizes):
        return self._shapes().repeat(self, *sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        return self._shapes().repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *sizes, dims=None):
        return self._shapes().tile(self, dims if dims is not None else shape_arg(sizes))

    def roll(self, shifts, dims=None):
        return self._shapes().roll(self, shifts, dims)

    def flip(self, *axes, dims=None):
        return self._shapes().flip(self, dims if dims is not None else shape_arg(axes))

    def fliplr(self):
        return self._shapes().fliplr(self)

    def flipud(self):
        return self._shapes().flipud(self)

    def rot90(self, k=1, dims=(0, 1)):
        return self._shapes().rot90(self, k, dims)

    def movedim(self, source, destination):
        return self._shapes().movedim(self, source, destination)

    def moveaxis(self, source, destination):
        return self._shapes().movedim(self, source, destination)

    def swapaxes(self, axis0, axis1):
        return self._shapes().swapaxes(self, axis0, axis1)

    def swapdims(self, dim0, dim1):
        return self._shapes().swapdims(self, dim0, dim1)

    def ravel(self):
        return self._shapes().ravel(self)

    def narrow(self, dim, start, length):
        return self._shapes().narrow(self, dim, start, length)

    def unflatten(self, dim, sizes):
        return self._shapes().unflatten(self, dim, sizes)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        return self._shapes().diff(self, n, dim, prepend, append)

    def split(self, split_size, dim=0):
        return self._shapes().split(self, split_size, dim)

    def tensor_split(self, indices_or_sections, dim=0):
        return self._shapes().tensor_split(self, indices_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return self._shapes().chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return self._shapes().unbind(self, dim)

    def gather(self, dim, index, *, sparse_grad=False):
        return self._shapes().gather(self, dim, index)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return self._shapes().scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return self._shapes().scatter_add(self, dim, index, src)

    def index_select(self, dim, index):
        return self._shapes().index_select(self, dim, index)

    def index_add(self, dim, index, source, *, alpha=1):
        return self._shapes().index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return inplace(self, "index_add_", lambda old, src: old.index_add(dim, index, src,
                                                                          alpha=alpha), source)

    def masked_select(self, mask):
        return self._shapes().masked_select(self, mask)

    def take(self, index):
        return self._shapes().take(self, index)

    def take_along_dim(self, indices, dim=None):
        return self._shapes().take_along_dim(self, indices, dim)

    def expand_as(self, other):
        return self.expand(other.shape)

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))


def power_of_tensor(a, b):
    """a ** b for an exponent that requires grad: e^(b ln a) where a > 0 (every derivative
    right), and Pow with b's values as constants where a <= 0 (right values and d/da;
    d/db is 0 there, where PyTorch gives nan for a < 0)."""
    b = lift(b, a)
    positive = computed("{0} > 0", a._data)
    exp_log = (b * where(positive, a, 1).log()).exp()
    if python_value(positive.all(), "a ** b with b requiring grad"):
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
    idx = (computed(f"np.{arg.__name__}({{0}}, axis={{1}}, keepdims=True)", t._data, d)
           if t.ndim else python_constant(np.zeros((), dtype=np.intp)))
    grid = [python_constant(i) for i in np.indices(idx.shape, sparse=True)]
    if t.ndim:
        grid[d] = idx
    values = t[tuple(grid)] if t.ndim else t * 1
    indices = wrap(computed("{0}.astype(np.int64)", idx))
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
    if type(x) is float or type(x) is int:
        # the usual scalar (x * 2.0), without the abstract-class isinstance check below:
        # the same dtype rule, for a few hundred ns less on every such op
        dtype = like._data.dtype
        return scalar_constant(x, dtype if dtype.kind == "f" else np.result_type(dtype, x))
    if isinstance(x, (numbers.Number, np.generic)):
        x = python_scalar(x)
        dtype = like._data.dtype
        if not (dtype.kind == "f" and type(x) in (float, int)):
            dtype = np.result_type(dtype, x)
        return scalar_constant(x, dtype)
    # a private copy: an array kept for backward must not change when the caller's does
    array = private_copy(x)
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
        array = python_constant(np.array(x, dtype=dtype))
        array.flags.writeable = False
        t = wrap(array)
        # 0.0 == -0.0 and nan != nan as dict keys, so those are never shared.
        if x == x and x != 0:
            if len(cache) > 4096:   # e.g. a learning rate that changes every step
                cache.clear()
            cache[x] = t
            # also under the value the dtype holds (float32(0.1).item() != 0.1): that is
            # how compile.shared_scalar recognises the constant on a later traced call
            cache.setdefault(array.item(), t)
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


def shape_arg(shape, kwargs=None, who="reshape"):
    """reshape(2, 3), reshape((2, 3)) and reshape(shape=(2, 3)) all mean shape (2, 3)."""
    if kwargs:
        if set(kwargs) != {"shape"} or shape:
            raise TypeError(f"{who}: takes the shape as arguments or as shape=, got "
                            f"{shape} and {sorted(kwargs)}")
        shape = (kwargs["shape"],)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    if type(shape) is tuple:
        for n in shape:
            if type(n) is not int:
                break
        else:
            # the usual case (every VJP's sum_to_size): already the answer, and no
            # isinstance(n, numbers.Integral), an abstract-class check (slow with torch loaded)
            return shape
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError(f"{who}: sizes must be ints, got {n!r} in {tuple(shape)}")
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


def correction_of(unbiased, correction, who):
    """PyTorch's two spellings of Bessel's correction: unbiased=True/False or correction=n."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{who}: pass unbiased or correction, not both")
    if unbiased is not None:
        if not isinstance(unbiased, (bool, np.bool_)):
            raise TypeError(f"{who}: unbiased must be True or False, got {unbiased!r} (for "
                            f"the dims, pass dim=)")
        return int(unbiased)
    return 1 if correction is None else correction


def count(shape, axis):
    """How many elements a reduction over `axis` combines."""
    return math.prod(shape if axis is None else [shape[a] for a in axis])


def normalize_index(index):
    """Tensors, lists and ranges inside an index become private arrays, so NumPy sees one
    form, and changing the caller's index array later can't change a gradient."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return computed("{0}.copy()", index._data)
    if isinstance(index, (list, range)):
        index = python_constant(np.asarray(index))
        if index.size == 0:   # x[[]]: an empty selection, as NumPy and PyTorch
            index = index.astype(np.intp)
    if isinstance(index, np.ndarray):
        return computed("{0}.copy()", index)
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
    cond = computed("np.array({0}, dtype=bool)", data_of(condition))   # a copy: kept for backward
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

TYPE_NAMES = {np.dtype(np.float64): "Double", np.dtype(np.float32): "Float",
              np.dtype(np.float16): "Half", np.dtype(np.int64): "Long", np.dtype(np.int32): "Int",
              np.dtype(np.int16): "Short", np.dtype(np.int8): "Char", np.dtype(np.uint8): "Byte",
              np.dtype(np.bool_): "Bool"}

# PyTorch's default dtype is float32; ours is float64 (NumPy's, and what gradcheck needs).

class Size(tuple):
    """A shape, as torch.Size: a tuple of ints (x.size() == (2, 3)) with numel()."""

    def numel(self):
        return math.prod(self)

    def __repr__(self):
        return f"Size({list(self)})"


class Device:
    """Where a tensor lives (torch.device). Only "cpu" exists here: NumPy computes on the CPU."""

    def __init__(self, type="cpu", index=None):
        text = str(type)
        if ":" in text:
            text, number = text.split(":", 1)
            index = int(number)
        self.type, self.index = text, index

    def __eq__(self, other):
        return str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type={self.type!r})" if self.index is None else \
            f"device(type={self.type!r}, index={self.index})"


CPU = Device("cpu")


def is_device(x):
    """True for what PyTorch takes as a device: a Device, an int, or a device string."""
    if isinstance(x, Device) or type(x).__name__ == "device":
        return True
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return True
    return isinstance(x, str) and x.split(":")[0] in ("cpu", "cuda", "mps", "xpu", "meta")


def to_arguments(args, dtype, device, who):
    """The dtype that to(*args, dtype=, device=) asks for (None: keep it), after checking
    the device (PyTorch's to(dtype), to(device), to(device, dtype), to(other))."""
    if len(args) > 2:
        raise TypeError(f"{who}: expected at most a device and a dtype, got {len(args)} "
                        f"arguments")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif is_device(arg):
            device = arg
        else:
            dtype = arg
    check_device(device, who)
    return dtype


def check_device(where_to, who):
    """None and "cpu" are fine; any other device raises (there is no GPU here)."""
    if where_to is None:
        return
    name = f"cuda:{where_to}" if isinstance(where_to, numbers.Integral) else str(where_to)
    if Device(name).type != "cpu":
        raise RuntimeError(f"{who}: device {name!r} is not available: tinygrad_edu computes "
                           f"with NumPy on the CPU only (device='cpu')")


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


def full_shape(size, who):
    """full(3, ...) and full((2, 3), ...): one int or a sequence of them."""
    return shape_of((size,) if isinstance(size, numbers.Integral) else (tuple(size),), who)


def new(array, requires_grad, device, who):
    """A new leaf around `array` (not copied again), checked for device and grad."""
    check_device(device, who)
    t = wrap(python_constant(array))
    if requires_grad:
        t.requires_grad_()
    return t


def tensor(data, requires_grad=False, dtype=None, name=None, *, device=None):
    """Like torch.tensor: a new leaf tensor holding a copy of `data`."""
    check_device(device, "tensor")
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


def from_numpy(ndarray):
    """A tensor sharing `ndarray`'s memory (a change to either shows in both), as PyTorch."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a np.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't make a tensor of dtype {ndarray.dtype} "
                        f"(bool, integer and floating point dtypes only)")
    return wrap(ndarray)


def zeros(*size, dtype=np.float64, device=None, requires_grad=False):
    return new(np.zeros(shape_of(size, "zeros"), dtype=dtype), requires_grad, device, "zeros")


def ones(*size, dtype=np.float64, device=None, requires_grad=False):
    return new(np.ones(shape_of(size, "ones"), dtype=dtype), requires_grad, device, "ones")


def empty(*size, dtype=np.float64, device=None, requires_grad=False):
    """An uninitialised tensor in PyTorch; here filled with zeros (never garbage)."""
    return new(np.zeros(shape_of(size, "empty"), dtype=dtype), requires_grad, device, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """Every element fill_value; the dtype follows fill_value (int64, float64 or bool)."""
    return new(np.full(full_shape(size, "full"), fill_value, dtype=dtype), requires_grad,
               device, "full")


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return new(np.zeros_like(data_of(input), dtype=dtype), requires_grad, device, "zeros_like")


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return new(np.ones_like(data_of(input), dtype=dtype), requires_grad, device, "ones_like")


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return new(np.zeros_like(data_of(input), dtype=dtype), requires_grad, device, "empty_like")


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """input's shape, and its dtype unless given (fill_value converted to it)."""
    return new(np.full_like(data_of(input), fill_value, dtype=dtype), requires_grad, device,
               "full_like")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    return new(np.arange(start, end, step, dtype=dtype), requires_grad, device, "arange")


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    steps = shape_of((steps,), "linspace")[0]
    return new(np.linspace(start, end, steps, dtype=dtype), requires_grad, device, "linspace")


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """base ** linspace(start, end, steps)."""
    steps = shape_of((steps,), "logspace")[0]
    return new(np.logspace(start, end, steps, base=base, dtype=dtype), requires_grad, device,
               "logspace")


def eye(n, m=None, dtype=np.float64, device=None, requires_grad=False):
    shape_of((n,) if m is None else (n, m), "eye")
    return new(np.eye(n, m, dtype=dtype), requires_grad, device, "eye")


# --- comparing tensors ---------------------------------------------------------------------

def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (a bool tensor)."""
    return wrap(computed("np.isclose({0}, {1}, rtol={2}, atol={3}, equal_nan={4})",
                         data_of(input), data_of(other), rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when isclose holds everywhere (the shapes must broadcast)."""
    return bool(np.allclose(data_of(input), data_of(other), rtol=rtol, atol=atol,
                            equal_nan=equal_nan))


def equal(input, other):
    """True when both have the same shape and the same values (nan never equals nan)."""
    return bool(np.array_equal(data_of(input), data_of(other)))


from .inplace import inplace, assigned, write_part   # noqa: E402  (built on this module)
# The random constructors and the generators live in random.py; re-exported here, where
# nn.init, nn.functional and data import default_generator from.
from .random import (Generator, default_generator, manual_seed, randn, rand, randint,  # noqa: E402
                     randperm, normal, uniform, bernoulli, multinomial, rand_like,
                     randn_like, randint_like)
from . import random as random_fills  # noqa: E402  (Tensor.normal_, uniform_, bernoulli_)
