"""The backward engine, grad(), backward(), tensor hooks, the recording switches, and
the version counters: `tinygrad_edu.autograd`, used as `torch.autograd` is.

A package (rather than autograd.py) only so that `tinygrad_edu.autograd.functional`
(jacobian, hessian, vjp, jvp, hvp, vhp: built on grad) is importable as
`torch.autograd.functional` is; this file is the whole engine.

backward() in four steps:
  1. walk(): the graph behind the roots in topological order, with an explicit
     stack (no recursion, so a 100,000-op chain is fine). The same walk serves
     the drawings and the backward trace;
  2. validate(): before anything changes, check that the graph was not freed by
     an earlier backward and that no value a VJP reads was modified in place;
  3. run the VJPs in reverse order, keeping each node's incoming gradient in a
     dict local to this pass and popping it once used (memory is released
     early), and sum each result back to its input's shape, undoing
     broadcasting: the one place where that happens;
  4. give leaves (and tensors that asked with retain_grad()) their .grad, and
     free what each VJP that ran had kept, unless retain_graph=True; a small
     Record of each node stays for drawings (free()).
A tensor's hooks (register_hook) run when its total gradient is ready, before it
is stored or flows on.

Recording state (grad mode, anomaly mode, the running Module) is per thread, as
in PyTorch: a no_grad() in one thread never changes what another records.
"""
import inspect
import itertools
import os
import sys
import threading
import traceback
import weakref

import numpy as np


class _State(threading.local):
    """Per-thread recording switches, changed only through the context managers below.

    The class attributes are every new thread's starting values.
    """
    grad_enabled = True   # record operations for backward (no_grad turns it off)
    anomaly = False       # detect_anomaly(): remember where each op was created ...
    check_nan = True      # ... and check every result for nan/inf
    module = None         # the nn.Module whose forward is running (for graph drawings)
    recorder = None       # tg.compile's trace while it records a call (compile.py)


state = _State()


def decorate(fn, make_context):
    """fn wrapped so that it runs inside make_context(); for a generator function, so
    that every step of the generator does (a plain wrapper would only cover creating it)."""
    if inspect.isgeneratorfunction(fn):
        def wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make_context():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make_context():
                            gen.close()
                        raise
                    except BaseException:
                        with make_context():
                            response = gen.throw(*sys.exc_info())
                    else:
                        with make_context():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
    else:
        def wrapper(*args, **kwargs):
            with make_context():
                return fn(*args, **kwargs)
    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = fn.__name__, fn.__doc__, fn
    return wrapper


class _GradMode:
    """Context manager and decorator that sets grad mode, restoring it afterwards."""
    enabled = True

    def __enter__(self):
        self._prev = state.grad_enabled
        state.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        return decorate(fn, type(self))


class no_grad(_GradMode):
    """Don't record operations: results don't require grad (inference, optimizer steps)."""
    enabled = False


class enable_grad(_GradMode):
    """Record operations again, e.g. inside a no_grad block."""
    enabled = True


class inference_mode:
    """PyTorch's inference_mode(mode=True): here the same as no_grad(); mode=False changes nothing."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = state.grad_enabled
        if self.mode:
            state.grad_enabled = False
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode
        return decorate(fn, lambda: inference_mode(mode))


class set_grad_enabled:
    """set_grad_enabled(mode): switch grad mode now; as a context manager, restore it on exit."""

    def __init__(self, mode):
        self._prev = state.grad_enabled
        self._mode = bool(mode)
        state.grad_enabled = self._mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.grad_enabled = self._prev
        return False

    def __call__(self, fn):
        # As a decorator (@set_grad_enabled(False)): undo the switch made by
        # __init__ and apply the mode only while fn runs, as PyTorch does.
        state.grad_enabled = self._prev
        mode = self._mode
        return decorate(fn, lambda: set_grad_enabled(mode))


def is_grad_enabled():
    return state.grad_enabled


class detect_anomaly:
    """detect_anomaly(check_nan=True): raise at the first op whose forward or backward
    produces nan or inf, naming the op and the line of user code that created it.

    While active, every op remembers where it was created. check_nan=False only
    remembers (as PyTorch). Slow: for debugging only.
    """

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        self._prev = state.anomaly, state.check_nan
        state.anomaly, state.check_nan = True, self.check_nan
        return self

    def __exit__(self, *exc):
        state.anomaly, state.check_nan = self._prev
        return False

    def __call__(self, fn):
        check_nan = self.check_nan
        return decorate(fn, lambda: detect_anomaly(check_nan))


class set_detect_anomaly:
    """set_detect_anomaly(mode, check_nan=True): switch anomaly mode now; as a context
    manager, restore the previous mode on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = state.anomaly, state.check_nan
        state.anomaly, state.check_nan = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.anomaly, state.check_nan = self._prev
        return False


def is_anomaly_enabled():
    return state.anomaly


def is_anomaly_check_nan_enabled():
    return state.check_nan


# every frame in a file under this directory is ours, not the user's
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def creation_site():
    """The innermost stack frame outside tinygrad_edu (where the user created a node)."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "<unknown>"


def check_finite(array, what, op, site):
    if state.check_nan and not np.all(np.isfinite(array)):
        bad = "nan" if np.isnan(array).any() else "inf"
        raise FloatingPointError(
            f"detect_anomaly: {what} of {op.name} produced {bad} "
            f"(op created at {site or 'a place not recorded: before detect_anomaly was on'})")


# --- version counters ---------------------------------------------------------------
# Every in-place change bumps a counter; a node remembers the counters of what its VJP
# reads when it is recorded, and backward refuses to run if they moved. A view (W.T,
# x[0], x.detach()) shares the counter of the tensor that owns its memory.

def version_owner(t):
    """The tensor whose version counts changes to t's memory: t, or the base it views."""
    return t if t._base is None else t._base


def bump_version(t):
    """Record that t's values changed in place."""
    version_owner(t)._version += 1


def bump_history(t):
    """Record that an in-place op made t the result of a new op (its history changed):
    a node that used t before can't send its gradient back through the old history."""
    bump_version(t)
    t._rewritten = t._version


def input_versions(inputs):
    """The inputs' versions when a node is recorded (compared again at backward)."""
    # Every recorded op calls this: one and two inputs spelled out, as in tensor.forward.
    # Inputs never changed in place (most of a graph) share one tuple: a new tuple per node
    # would be a third of a scalar chain's objects for Python's garbage collector.
    if len(inputs) == 1:
        x, = inputs
        v = x._version if x._base is None else x._base._version
        return (v,) if v else UNCHANGED_1
    if len(inputs) == 2:
        x, y = inputs
        v = x._version if x._base is None else x._base._version
        w = y._version if y._base is None else y._base._version
        return (v, w) if v or w else UNCHANGED_2
    return tuple([x._version if x._base is None else x._base._version for x in inputs])


UNCHANGED_1, UNCHANGED_2 = (0,), (0, 0)


def check_versions(node):
    """Raise if a value the node's VJP reads was modified in place after it was recorded,
    or if an input's history was rewritten in place after the node used it."""
    op = node._op
    # a result starts at version 0, or at the version an in-place op made it this op's result
    if op.reads_output and node._version != node._rewritten:
        raise RuntimeError(
            f"backward: the output of {op.name} (shape {node.shape}) was modified in "
            f"place after the forward pass, but {op.name}'s gradient needs its original "
            f"value.")
    now = input_versions(node._parents)
    if now == node._saved_version:
        return
    changed = [(i, x, was) for i, (x, was, v) in enumerate(zip(node._parents, node._saved_version,
                                                               now)) if v != was]
    for i, x, was in changed:
        if x._rewritten > was and x._op is None and not x.requires_grad:
            raise RuntimeError(
                f"backward: input {i} of {op.name} (shape {x.shape}) was detached in place "
                f"(detach_()) after {op.name} used it, so the gradient can't go back through "
                f"it. Call detach_() after backward, or use detach() to get a new tensor.")
    if op.reads_inputs:
        names = ", ".join(
            f"input {i} (shape {x.shape}{', name ' + repr(x.name) if x.name else ''}"
            f"{', a view of a tensor of shape ' + str(x._base.shape) if x._base is not None else ''}"
            f", now at version {version_owner(x)._version})" for i, x, _ in changed)
        raise RuntimeError(
            f"backward: an input of {op.name} was modified in place after it was saved "
            f"for backward: {names}. {op.name}'s gradient needs the original values: use "
            f"out-of-place operations, or change the tensor only after backward.")
    for i, x, was in changed:
        if x._rewritten > was:
            raise RuntimeError(
                f"backward: input {i} of {op.name} (shape {x.shape}) was changed by a "
                f"recorded in-place operation after {op.name} used it, and the gradient can't "
                f"go back through the history {op.name} saw. Use the tensor only after "
                f"changing it, or clone() it before the in-place change.")


# --- tensor hooks -------------------------------------------------------------------
# Kept here, keyed by id(tensor), rather than in a slot of every Tensor: when no tensor
# has a hook, backward checks only that this dict is empty, once. An entry goes when its
# tensor dies (the weakref's callback), so a later tensor with the same id never sees it.

hooks = {}   # id(tensor) -> (weakref to it, {handle id: hook} in registration order)
# register_post_accumulate_grad_hook's, the same way: hook(tensor) after .grad accumulated
post_accumulate_hooks = {}
_handle_ids = itertools.count()


class RemovableHandle:
    """What register_hook returns: .remove() unregisters the hook (`with handle:` too)."""

    def __init__(self, key, hook_id, table=hooks):
        self._key, self.id, self._table = key, hook_id, table

    def remove(self):
        entry = self._table.get(self._key)
        if entry is not None and entry[1].pop(self.id, None) is not None and not entry[1]:
            del self._table[self._key]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def register_hook(t, hook):
    """Call hook(grad) when t's gradient is fully computed; see Tensor.register_hook."""
    if not t.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                           "require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
    return add_hook(hooks, t, hook)


def add_hook(table, t, hook):
    key = id(t)
    entry = table.get(key)
    if entry is None:
        # the dict is bound now: at interpreter exit this module's globals may be gone
        entry = table[key] = (weakref.ref(t, lambda _, key=key, d=table: d.pop(key, None)), {})
    hook_id = next(_handle_ids)
    entry[1][hook_id] = hook
    return RemovableHandle(key, hook_id, table)


def register_post_accumulate_grad_hook(t, hook):
    """Call hook(t) after backward has accumulated into the leaf t's .grad; see Tensor's."""
    if not t.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a "
                           "tensor that doesn't require gradient")
    if t._op is not None:
        raise RuntimeError("register_post_accumulate_grad_hook: post accumulate grad hooks "
                           "cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError("register_post_accumulate_grad_hook: the hook must be callable, got "
                        f"{type(hook).__name__}")
    return add_hook(post_accumulate_hooks, t, hook)


def run_post_accumulate_hooks(node):
    entry = post_accumulate_hooks.get(id(node))
    for hook in list(entry[1].values()) if entry is not None else ():
        if hook(node) is not None:
            name = getattr(hook, "__name__", repr(hook))
            raise RuntimeError(f"post accumulate grad hook {name!r} returned a value; it "
                               f"must return None (it may change tensor.grad in place)")


def run_hooks(node, g, stored):
    """node's hooks in registration order, each given the previous one's result."""
    from ..tensor import Tensor
    entry = hooks.get(id(node))
    for hook in list(entry[1].values()) if entry is not None else ():
        new = hook(g)
        if new is None:
            continue
        name = getattr(hook, "__name__", repr(hook))
        if not isinstance(new, Tensor):
            raise TypeError(f"hook {name!r} returned a {type(new).__name__}; a tensor hook "
                            f"must return a Tensor or None")
        if new.shape != g.shape:
            raise RuntimeError(f"hook {name!r} changed the shape of the gradient: it was given "
                               f"shape {g.shape} and returned shape {new.shape}")
        if new.dtype != g.dtype:
            raise RuntimeError(f"hook {name!r} changed the dtype of the gradient: it was given "
                               f"{g.dtype} and returned {new.dtype}")
        remember_memory(new._data, stored)   # the caller may hold it: .grad gets a copy
        g = new
    return g


# --- the graph walk -------------------------------------------------------------------

def walk(roots, grad_only=False, stop=(), records=False):
    """Every tensor behind `roots`, each after all of its inputs (a topological order).

    Depth-first with an explicit stack, visiting inputs in argument order, so the
    order is the same every time. grad_only=True keeps to tensors that require
    grad (what backward visits). A node freed by an earlier backward is reached
    but not entered; validate() reports it. Tensors in `stop` are reached but
    their inputs are not visited. records=True (for drawings) goes through freed
    nodes: it yields, for each, the Record backward kept of it (stand_in).
    """
    visited = set()
    if records:
        roots = [stand_in(r) for r in roots]
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            yield node
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        if node in stop:
            continue
        for p in reversed(node._parents or ()):
            if records:
                p = stand_in(p)
            if p not in visited and (p.requires_grad or not grad_only):
                stack.append((p, False))


def validate(order, who="backward"):
    """Before backward changes anything: no freed node, no stale value a VJP reads."""
    for node in order:
        if node._op is None:
            continue
        if node._parents is None:
            raise RuntimeError(
                f"{who}: trying to backward through the graph a second time: the "
                f"intermediate results of {node._op.name} were freed by the first "
                f"backward. Pass retain_graph=True to the first backward() if you "
                f"need to go through the graph again.")
        check_versions(node)


def leading_to(order, targets):
    """The nodes of `order` from which some target can be reached."""
    needed = set()
    for node in order:   # inputs come before the nodes that use them
        if node in targets or (node._op is not None and node._parents is not None
                               and any(p in needed for p in node._parents)):
            needed.add(node)
    return needed


# --- the engine ---------------------------------------------------------------

def plan(roots, inputs):
    """The pass's nodes in topological order, validated, and (for inputs) those that lead to them."""
    order = list(walk(roots, grad_only=True))
    wanted = None
    if inputs is not None:
        wanted = leading_to(order, inputs)
        if not inputs <= wanted:
            validate(order)   # a freed node may hide the path: say so, not "unused"
    validate(order if wanted is None else [n for n in order if n in wanted])
    return order, wanted


def seed_pass(roots, seeds, create_graph):
    """The gradient dict seeded at the roots, and the memory no .grad may share."""
    if not create_graph:
        seeds = [s.detach() for s in seeds]
    # ids of the memory given to some .grad (or owned by the caller): never share it
    stored = set()
    for s in seeds:
        remember_memory(s._data, stored)
    grads = {}
    for root, seed in zip(roots, seeds):
        grads[root] = seed if root not in grads else grads[root] + seed
    return grads, stored


def run_backward(roots, seeds, retain_graph=False, create_graph=False, inputs=None,
                 accumulate=False):
    """Backpropagate `seeds` (gradients of `roots`) through the graph.

    With inputs=None, gradients accumulate into .grad of leaves (and of
    tensors that called retain_grad()). Otherwise only what leads to `inputs`
    runs, and either (accumulate=True, backward(inputs=...)) their .grad and that
    of retain_grad() tensors on the way accumulate, or nothing's .grad changes and
    the gradients of `inputs` are returned as a dict {tensor: gradient}.
    """
    inputs = None if inputs is None else set(inputs)   # a set: `in` on a list calls __eq__
    order, wanted = plan(roots, inputs)
    found = {}
    grads, stored = seed_pass(roots, seeds, create_graph)
    constants = {}   # constant input -> its Record, so that one input is drawn once

    hooked = hooks or None   # no hook anywhere (the usual case): nothing to look up per node
    post_hooked = post_accumulate_hooks or None
    prev_mode, anomaly = state.grad_enabled, state.anomaly
    check = anomaly and state.check_nan
    state.grad_enabled = create_graph   # record the VJPs only when asked to
    # detect_anomaly checks each gradient (backprop_node), not the ops inside a
    # VJP: an inf there would be blamed on the backward() line, not on the op.
    state.anomaly = False
    try:
        while order:
            # popped rather than iterated: once the pass is done with a node, nothing here
            # holds it, so a freed graph dies node by node (a 100,000-node chain then never
            # has its Records and its tensors alive at once for the garbage collector to scan)
            node = order.pop()
            g = grads.pop(node, None)
            if g is None or (wanted is not None and node not in wanted):
                continue   # no gradient reached it: nothing ran, nothing is freed
            if hooked is not None and id(node) in hooked:
                g = run_hooks(node, g, stored)   # g is complete: every consumer has run
            op = node._op
            if inputs is None:
                if op is None or node._retains_grad:
                    store_grad(node, g, create_graph, stored)
            elif node in inputs and not accumulate:
                found[node] = g
            elif accumulate and (node in inputs or node._retains_grad):
                store_grad(node, g, create_graph, stored)
            if post_hooked is not None and op is None and id(node) in post_hooked \
                    and (inputs is None or accumulate):
                run_post_accumulate_hooks(node)
            if op is not None and backprop_node(node, g, grads, wanted, check) \
                    and not retain_graph:
                free(node, g, constants)
    finally:
        state.grad_enabled, state.anomaly = prev_mode, anomaly
    return found


# --- freeing, and what a drawing keeps of a freed node -------------------------------

SMALL = 4   # a tensor of at most this many elements keeps its value and gradient in its Record


class Record:
    """What a drawing shows of a tensor after backward() freed the graph behind it.

    micrograd's habit, `L.backward(); draw_dot(L)`, needs each node's op, shape,
    name, value and gradient, but not its arrays: a training loop that keeps its
    losses must not keep its activations. So a Record holds the values and the
    gradient only of tensors with at most SMALL elements, and its _parents are
    Records too, or leaves that require grad (parameters: the model holds them
    anyway), or small constants. It has the attributes of a Tensor that walk() and viz read, so a
    drawing reads both the same way.
    """
    __slots__ = ("_op", "_parents", "_args", "_module", "shape", "dtype", "name",
                 "requires_grad", "value", "grad")
    _record = None   # a Record stands for itself (see stand_in)

    def __init__(self, t):
        op, data = t._op, t._data
        self._op, self._module = op, t._module
        # only the arguments a label shows (an axis, an exponent): never an index array
        self._args = t._args if op is not None and op._label is not None else ()
        self._parents = None   # unknown until the tensor's own VJP has run
        self.shape, self.dtype, self.name = data.shape, data.dtype, t.name
        self.requires_grad = t.requires_grad
        self.value = None if data.size > SMALL else small(data)
        self.grad = None

    ndim = property(lambda self: len(self.shape))

    def numel(self):
        return int(np.prod(self.shape))

    def __repr__(self):
        what = self._op.name if self._op is not None else "leaf"
        return f"<Record of a {what} tensor of shape {self.shape}>"


def free(node, g, constants):
    """After node's VJP ran (retain_graph=False): keep node's Record, then free what the VJP read.

    The Record gets node's gradient (if small) and stand-ins for its inputs, made
    here in O(1) per input: the input's own Record (filled when its VJP runs), a
    leaf that requires grad or a small constant itself, or a Record of a bigger
    constant (the input batch: its shape, not its values).
    """
    rec = node._record
    if rec is None:
        rec = node._record = Record(node)
    data = g._data
    rec.grad = None if data.size > SMALL else small(data)
    # one and two inputs spelled out: this runs for every node of every backward
    parents = node._parents
    if len(parents) == 2:
        rec._parents = (record_input(parents[0], constants), record_input(parents[1], constants))
    elif len(parents) == 1:
        rec._parents = (record_input(parents[0], constants),)
    else:
        rec._parents = tuple([record_input(p, constants) for p in parents])
    if node._op.reads:
        # Free what the VJP read, as PyTorch frees saved tensors. An op that reads
        # nothing (Add, Sum, Reshape) keeps its links: running its VJP again is
        # still correct, and PyTorch allows it too.
        node._parents = None
        node._args = None


def small(array):
    """array if it has at most SMALL elements (copied if it views a bigger one), else None."""
    if array.size > SMALL:
        return None
    return array if array.base is None else array.copy()


def record_input(p, constants):
    if p._op is None:
        if p.requires_grad or p._data.size <= SMALL:
            return p   # a parameter (the model holds it anyway), or a small constant: 2, eps
        rec = constants.get(p)
        if rec is None:
            rec = constants[p] = Record(p)
        return rec
    rec = p._record
    if rec is None:
        rec = p._record = Record(p)
    return rec


def stand_in(t):
    """What a drawing shows for t: its Record once backward freed its links, else t."""
    rec = t._record if t._parents is None else None
    return t if rec is None else rec


def backprop_node(node, g, grads, wanted, anomaly=False):
    """Run the node's VJPs for the inputs that need a gradient; False if none did."""
    op, parents, args = node._op, node._parents, node._args
    ran = False
    for i, x in enumerate(parents):
        if not x.requires_grad or (wanted is not None and x not in wanted):
            continue
        ran = True
        gx = op.vjp(i, g, node, parents, args)
        if gx._data.shape != x._data.shape:
            gx = unbroadcast(gx, x, op)
        if gx._data.dtype != x._data.dtype:   # e.g. a float32 input of a float64 op
            gx = gx.to(x.dtype)
        if anomaly:
            check_finite(gx._data, f"backward (gradient of input {i})", op, node._trace)
        prev = grads.get(x)
        grads[x] = gx if prev is None else prev + gx
    return ran


def unbroadcast(gx, x, op):
    """Sum a gradient back to the shape of the input it belongs to."""
    gshape, xshape = gx.shape, x.shape
    lead = len(gshape) - len(xshape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(xshape, gshape[lead:])):
        raise RuntimeError(
            f"backward: the VJP of {op.name} returned a gradient of shape {gshape} "
            f"for an input of shape {xshape}")
    return gx.sum_to_size(xshape)


def store_grad(node, g, create_graph, stored):
    """Accumulate into node.grad, making sure no two tensors share gradient memory."""
    if state.recorder is not None:
        state.recorder.store_grad(node, g, create_graph, stored)
        return
    if node.grad is None:
        data = g._data
        if not create_graph and (id(data) in stored or id(data.base) in stored
                                 or not data.flags.writeable or not data.flags.c_contiguous):
            # Memory another .grad (or the caller) holds, a broadcast view, or a
            # transposed one (the optimizer's in-place math wants C order): copy.
            g = g.detach()
            g._data = data.copy()
        node.grad = g
        remember_memory(g._data, stored)
        return
    if node.grad.shape != node.shape:
        raise RuntimeError(
            f"backward: .grad has shape {node.grad.shape} but the tensor it belongs to has "
            f"shape {node.shape} (was .grad set by hand?); set it to None or to a tensor of "
            f"the tensor's shape")
    if create_graph or node.grad._op is not None:
        node.grad = node.grad + g
    else:
        node.grad._data += g._data   # in place, like PyTorch: p.grad stays the same object


def remember_memory(array, stored):
    """Record an array and, for a view, the array that owns its memory."""
    stored.add(id(array))
    if array.base is not None:
        stored.add(id(array.base))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Gradients of `outputs` with respect to `inputs`, as a tuple of Tensors.

    Unlike backward(), nothing's .grad is changed. With create_graph=True the
    returned gradients are themselves differentiable (Hessian-vector products,
    gradient penalties).
    """
    from ..tensor import Tensor, as_tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"grad: output {i} is a {type(out).__name__}, not a Tensor")
        if not out.requires_grad:
            raise RuntimeError(f"grad: output of shape {out.shape} does not require grad "
                               f"(was it computed under no_grad(), or from constants?)")
        roots.append(out)
        seeds.append(seed_gradient(out, g if g is None else as_tensor(g), "grad"))
    if retain_graph is None:
        retain_graph = create_graph
    found = run_backward(roots, seeds, retain_graph, create_graph, inputs=inputs)
    result = []
    for i, x in enumerate(inputs):
        if x not in found and materialize_grads:
            found[x] = Tensor(np.zeros(x.shape, dtype=x.dtype))   # PyTorch: zeros, not None
        if x not in found and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
        result.append(found.get(x))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into .grad, all roots in ONE backward pass.

    The same as backward() on sum(t * g for t, g in zip(tensors, grad_tensors)):
    grad_tensors holds one gradient per tensor (None allowed for a scalar).
    inputs=None: every leaf (and retain_grad() tensor) behind them gets its .grad;
    inputs=tensor(s): only those (and retain_grad() tensors on the way) do.
    retain_graph defaults to create_graph.
    """
    from ..tensor import Tensor, as_tensor
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    grad_tensors = tuple(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"backward: got {len(tensors)} tensors and {len(grad_tensors)} "
                           f"grad_tensors; give one gradient (or None) per tensor")
    seeds = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not isinstance(t, Tensor):
            raise TypeError(f"backward: tensors[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(
                f"backward: tensors[{i}] (shape {t.shape}) does not require grad and has no "
                f"grad_fn (was it computed from tensors with requires_grad=False, or under "
                f"no_grad()?)")
        seeds.append(seed_gradient(t, None if g is None else as_tensor(g), "backward"))
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("backward: the `inputs` argument cannot be empty")
        for i, x in enumerate(inputs):
            if not isinstance(x, Tensor) or not x.requires_grad:
                raise RuntimeError(f"backward: inputs[{i}] does not require grad, so no "
                                   f"gradient can be accumulated into it")
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(list(tensors), seeds, retain_graph, create_graph, inputs, accumulate=True)


class Function:
    """Not supported: torch.autograd.Function is a custom op with a hand-written backward.

    Every gradient here comes from the derivative table (ops.py), one line per
    primitive, so that a learner finds each derivative in one place and
    gradcheck covers them all. Write the function as a composition of tensor
    operations instead: its gradient then comes for free.
    """

    def __init_subclass__(cls, **kwargs):
        refuse_function()

    def __init__(self, *args, **kwargs):
        refuse_function()


def refuse_function():
    raise NotImplementedError(
        "autograd.Function: custom Functions with a hand-written backward are not supported; "
        "every gradient in tinygrad_edu comes from the derivative table (ops.py). Write the "
        "function as a composition of tensor operations and autograd differentiates it.")


def seed_gradient(out, g, who):
    """The gradient backward starts from: ones for a scalar, else the given `g`."""
    from ..tensor import Tensor, python_constant
    if g is None:
        if out.numel() != 1:
            raise RuntimeError(
                f"{who}: the output has shape {out.shape}; gradients can be created "
                f"implicitly only for scalar outputs. Pass the output gradient, e.g. "
                f"y.backward(ones_like(y)), or reduce y to a scalar first.")
        return Tensor(python_constant(np.ones(out.shape, dtype=out.dtype)))
    if g.shape != out.shape:
        raise RuntimeError(f"{who}: gradient of shape {g.shape} given for an output of "
                           f"shape {out.shape}; the shapes must match")
    return g.to(out.dtype) if g.dtype != out.dtype else g
