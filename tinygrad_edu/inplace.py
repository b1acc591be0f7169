"""In-place changes, as PyTorch: t += x, t[i] = v, t.add_(x), ...

The tensor's own memory changes and its version goes up, so a backward that
needs the old values raises (autograd.check_versions). When the tensor or the
operand requires grad (and grad mode is on), the change is recorded: the tensor's
old state moves to a new tensor `old`, the formula is recorded on `old` as any
operation would be, and the tensor becomes its result. A leaf that requires grad
changes only under no_grad(), as in PyTorch.
"""
import numpy as np

from . import ops
from .autograd import state, bump_version, bump_history, walk
from . import tensor as T


def inplace(t, who, compute, other=None, write=None):
    """Change t in place to compute(t, other) (a Tensor formula of t's old value), as PyTorch.

    Not recorded (grad mode off, or neither t nor `other` requires grad): the new values
    are written into t's memory. Recorded: t's old state moves to a new tensor, `old`,
    the formula is recorded on it, and t becomes its result (memory written too, so
    views of t see the change). `write`, if given, does the unrecorded write itself.
    """
    recording = state.grad_enabled and (
        t.requires_grad or (isinstance(other, T.Tensor) and other.requires_grad))
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
    if t._base is not None and t._data is t._base._data:
        # PyTorch records this on the detached tensor alone; here the tensor it was
        # detached from would change behind its own history.
        raise RuntimeError(
            f"{who}: a detached tensor (t.data or t.detach(), shape {t.shape}) can't be "
            f"changed in place by an operand that requires grad, because the tensor it "
            f"shares memory with would not see the change in its history; detach the "
            f"operand (e.g. p.data += q.detach()) or do it under tg.no_grad()")
    if t._base is not None:
        raise RuntimeError(
            f"{who}: an in-place change of a view (shape {t.shape}, of a tensor of shape "
            f"{t._base.shape}) can't be recorded, because the base tensor's history would "
            f"not see it; write into the base instead, e.g. base[index] = base[index] + value")
    old = T.wrap(T.computed("{0}.copy()", t._data))
    old.requires_grad, old.name = t.requires_grad, t.name
    old._op, old._parents, old._args = t._op, t._parents, t._args
    old._saved_version, old._module, old._trace = t._saved_version, t._module, t._trace
    old._version, old._rewritten = t._version, t._rewritten   # old is t as it is now
    if isinstance(other, T.Tensor) and other.requires_grad:
        redirect(other, t, old)
    new = compute(old, old if other is t else other)   # x *= x: both sides are the old x
    write_all(t, new._data, who)
    t.requires_grad = True
    t._op, t._parents, t._args = new._op, new._parents, new._args
    t._saved_version, t._module, t._trace = new._saved_version, new._module, new._trace
    bump_history(t)
    return t


def redirect(operand, t, old):
    """Ops in the operand's history that used t as it is now (c + 1 in c += c + 1, the
    d[i] in d[i] -= 1) get old, t's state before this change, as their input: in PyTorch
    they keep pointing at t's old history, and here t itself is about to get a new one.
    An earlier use of t (before its last change) is left alone: backward then reports it."""
    for node in walk([operand], stop={t}):
        parents = node._parents
        if not parents or not any(p is t for p in parents):
            continue
        if all(v == t._version for p, v in zip(parents, node._saved_version) if p is t):
            node._parents = tuple(old if p is t else p for p in parents)


def write_all(t, array, who):
    """Write `array` into t's memory: same shape, and a dtype t can hold (float into int: no)."""
    if array.shape != t.shape:
        raise RuntimeError(f"{who}: the result has shape {array.shape}, but the tensor changed "
                           f"in place has shape {t.shape} (in place, the shape can't change)")
    if state.recorder is not None:
        state.recorder.write(t, array)
    try:
        np.copyto(t._data, array, casting="same_kind")
    except TypeError:
        raise TypeError(f"{who}: a result of dtype {array.dtype} can't be stored in place in a "
                        f"tensor of dtype {t.dtype}") from None


def write_part(t, index, values):
    if state.recorder is not None:
        state.recorder.write_part(t, index, values)
    try:
        t._data[index] = values
    except (ValueError, IndexError, TypeError) as e:
        raise type(e)(f"__setitem__: tensor of shape {t.shape}: {e}") from None


def assigned(old, index, value):
    """old with `value` written at `index`, as a formula: where(written, placed, old)."""
    value = T.lift(value, old)
    if value.dtype != old.dtype:
        value = value.to(old.dtype)
    written = np.zeros(old.shape, dtype=bool)
    write_part(T.wrap(written), index, True)
    if not ops.K.is_basic_index(index):
        hits = np.zeros(old.shape, dtype=np.intp)
        np.add.at(hits, index, 1)
        if hits.max(initial=0) > 1:
            raise RuntimeError("__setitem__: the index names an element more than once; "
                               "which write wins is not differentiable, so it can't be recorded")
    selected = old._data[index].shape
    placed = value.broadcast_to(selected)._scatter_add_at(index, old.shape)
    return T.where(written, placed, old)
