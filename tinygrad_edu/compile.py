"""tg.compile: a training step written out as one straight-line NumPy program.

    step = tg.compile(fn)     # fn(*args): forward, backward(), optimizer step; returns the loss
    loss = step(x, y)         # 1st call (and 2nd, to check): eager, recorded
    loss = step(x, y)         # later calls with the same shapes: the program, no Tensors
    print(step.source)        # the program, one NumPy call a line

How the record is made. While a call is traced, `autograd.state.recorder` (per thread,
None otherwise: one attribute check per op) is a `Trace`. Every array computation of a
step passes one of a few places, and each reports what it did:

  tensor.apply        every primitive (forward, the VJPs run by backward, unbroadcast,
                      gradient sums): its row's NumPy text (Op.code in ops.py)
  tensor.computed     arrays off the graph: comparisons, relu masks, index copies,
                      dropout's draws (the code it runs is the code written out)
  store_grad          a gradient stored into .grad (written as a call that does what
                      the engine does: set, or add in place)
  zero_grad           .grad set to None (optimizer's and module's)
  Optimizer.step      one call of the optimizer's own `update` per parameter: the same
                      NumPy code eager runs, reading lr and the step count live, so
                      schedulers and step-dependent factors stay right
  .data = ...         a rebinding (BatchNorm's running statistics, num_batches_tracked)
  inplace write_all   in-place changes (copyto, t[index] = v)

Each array is known by identity: a result of a recorded line gets a name; an array
first seen as some tensor's ._data is read from that tensor when the program starts
(parameters, buffers, the arguments); any other array is a constant of the program.

What may be a constant. A value computed with NumPy outside those places (a mask
made from ._data) would be frozen into the program: a silent wrong result, even when
it happened to be equal in the two traced calls. So the second call runs eagerly and
is traced again, and the two records must agree line for line, and:
  - a tensor read at the start is the same tensor object in both calls (a parameter,
    a buffer, a tensor fn closes over), never one made inside fn;
  - an array constant is the same array object in both calls (one fn closes over,
    read live), unless it was made from Python data alone (tensor.python_constant:
    tg.tensor([...]), zeros(shape), arange(n), scalar constants); those compare by value.
An array made inside fn by NumPy outside the recorded operations is a new object on
every call, so it fails these tests: a warning names the line and the library
functions that made it, and that signature stays eager. So does a step that read a
value into Python (.item(), .numpy(), bool(t), or a library function that needs a
value of the step as a Python number): control flow the program cannot follow.
Checks that eager code does on values (class labels, index bounds) are recorded
calls (tensor.check_range), so each replay checks its own data and raises as eager.

Replays equal eager bit for bit: the same NumPy calls on the same arrays in the same
order. The program is rewritten only where that cannot change a value:
  - each result is deleted after its last use (NumPy reuses its memory while it is
    still in cache);
  - a view that equals its input whatever the input's layout (a SumTo or Reshape to the
    same shape, a Permute undoing a Permute) is its input, and an Expand read by +, -,
    * or / is left to the ufunc's own broadcasting when the shape comes out the same;
  - sums have their axes worked out at trace time, the vectors of ones made once;
  - a primitive repeated on the same arrays is made once (share_common);
  - a broadcast NumPy makes slowly is repeated once into a full array, beside C-ordered
    operands only, so results keep eager's layouts (Trace.stretched);
  - the small parameters of an optimizer group are updated by one call on their
    concatenation (FusedUpdate: the update is elementwise).
No out= buffers: measured, a ufunc writing into a reused buffer is no faster here than
one whose fresh result takes the memory just freed (and nothing of one call is kept for
the next, so no result a caller holds can be overwritten). A replay is refused
(retraced) when argument shapes, strides, dtypes or non-tensor arguments, grad mode, a
module's `training` flag, a parameter's shape, dtype or strides, or an optimizer's state
object differ from the trace; a signature whose programs keep being refused without a
replay goes eager, with a warning.
"""
import builtins
import math
import os
import re
import sys
import warnings

import numpy as np

from . import ops
from . import kernels as K
from .autograd import state, bump_version, store_grad as eager_store_grad
from .tensor import Tensor, wrap, check_range, _constants

CACHE_SIZE = 8   # traced signatures kept per compiled function
RETRACES = 3     # programs dropped in a row, without a replay, before a signature goes eager


class Untraceable(Exception):
    """Why a call can't be compiled (the step then runs eagerly)."""


def store_grad(t, array, copy):
    """What autograd.store_grad does with a fresh gradient: set .grad, or add in place."""
    if t.grad is None:
        t.grad = wrap(array.copy() if copy else array)
        return t.grad._data
    if t.grad.shape != array.shape:
        raise RuntimeError(f"compiled step: .grad has shape {t.grad.shape} but the gradient "
                           f"has shape {array.shape}")
    t.grad._data += array
    return t.grad._data


def literal(value):
    """value as Python text when it is one, else None."""
    if value is None or value is Ellipsis or isinstance(value, (bool, int, float, str)):
        return "..." if value is Ellipsis else repr(value)
    if isinstance(value, np.dtype):
        return f"np.dtype({value.name!r})"
    if isinstance(value, type) and issubclass(value, np.generic):
        return f"np.{value.__name__}"
    if isinstance(value, np.generic) and not isinstance(value, np.void):
        return repr(value)
    return None


class Trace:
    """The record of one eager call (see the module docstring)."""

    def __init__(self, args):
        self.lines = []      # (code, comment, kind): see emit
        self.names = {}      # id(array) -> its name in the program
        self.permuted = {}   # name of a Permute's result -> (its input's name, dims)
        self.expanded = {}   # name of an Expand's result -> (its input's name, shape)
        self.keep = []       # every named array stays alive, so ids stay unique
        self.env = {"np": np, "K": K, "ops": ops, "store_grad": store_grad,
                    "bump_version": bump_version, "wrap": wrap, "check_range": check_range}
        self.tensor_names = {}   # id(tensor) -> name bound in env (or an argument's)
        self.reads = []      # (name, tensor): name = tensor._data at the start
        self.constants = []  # (name, value)
        self.made_by = {}    # constant's name -> the library functions that made it
        self.from_python = set()     # ids of arrays made from Python data alone
        self.modules = []    # (module, training) for every module called
        self.optimizer_states = []   # (optimizer, param, state dict)
        self.cleared = set()         # ids of tensors whose .grad fn cleared
        self.grad_none = []          # tensors whose .grad must be None on entry
        self.updates = {}            # line number -> (optimizer, p, group, state, names)
        self.problem = None
        self.module = None
        self.arg_names = []
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                self.tensor_names[id(a)] = f"a{i}"
                self.arg_names.append(f"a{i}")
                self.keep.append(a)
                self.array(a._data, a)
            else:
                self.arg_names.append(f"_{i}")

    # --- naming ---

    def tensor(self, t):
        name = self.tensor_names.get(id(t))
        if name is None:
            name = self.tensor_names[id(t)] = f"T{len(self.tensor_names)}"
            self.env[name] = t
            self.keep.append(t)
        return name

    def array(self, array, owner=None):
        """The name of an array the program reads."""
        name = self.names.get(id(array))
        if name is not None:
            return name
        if owner is not None and owner._base is not None and owner._base._data is array:
            owner = owner._base   # t.detach(), t.data: read the tensor that owns the memory
        if owner is not None and not array.flags.writeable and shared_scalar(owner):
            self.from_python.add(id(array))   # made by an earlier call: the same Python number
        if owner is not None and owner._data is array and id(array) not in self.from_python:
            name = f"t{len(self.reads)}"
            self.reads.append((name, owner))
            self.made_by[name] = library_callers()
        else:
            name = f"k{len(self.constants)}"
            self.constants.append((name, array))
            self.made_by[name] = library_callers()
            self.env[name] = array
        self.names[id(array)] = name
        self.keep.append(array)
        return name

    def operand(self, value):
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, Tensor):
            return self.array(value._data, value)
        if isinstance(value, tuple):
            inner = [self.operand(v) for v in value]
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.operand(v) for v in value) + "]"
        if isinstance(value, slice):
            return (f"slice({self.operand(value.start)}, {self.operand(value.stop)}, "
                    f"{self.operand(value.step)})")
        text = literal(value)
        if text is not None:
            return text
        name = f"k{len(self.constants)}"   # a generator, a function: used by identity
        self.constants.append((name, value))
        self.env[name] = value
        return name

    def result(self, array):
        name = f"v{len(self.lines)}"
        self.names[id(array)] = name
        self.keep.append(array)
        return name

    def emit(self, code, comment, kind="effect"):
        """A line of one of five kinds: "view" (a view that can't raise: left out if
        nothing reads it), "op" (a primitive: a new array from its operands, nothing
        else), "computed" (off the graph; may draw random numbers), "bind" (gives a
        tensor another array: .data =, .grad = None), "effect" (changes arrays in place:
        .grad, parameters, optimizer state)."""
        self.lines.append((code, comment, kind))

    def where(self):
        m = state.module
        return "" if m is None else f"  ({type(m).__name__}#{id(m)})"

    # --- what the hooks report ---

    def op(self, op, inputs, args, result, is_array):
        names = [self.array(x._data, x) for x in inputs]
        if self.same_view(op, names, inputs, args, result):
            return
        if op in EXACT and result.ndim and (any(x.shape != result.shape for x in inputs)
                                            or any(n in self.expanded for n in names)):
            # the ufunc broadcasts the Expand's input itself: the same values, one
            # view fewer (an Expand no line reads any more is then left out)
            unexpanded = [self.expanded.get(n, (n, x.shape)) for n, x in zip(names, inputs)]
            if np.broadcast_shapes(*(shape for _, shape in unexpanded)) == result.shape:
                names = [n for n, _ in unexpanded]
                shapes = [shape for _, shape in unexpanded]
            else:
                shapes = [x.shape for x in inputs]
            # (only beside C-ordered full operands: a repeat is C-ordered, and the ufunc
            # gives its result the full operand's layout, which later lines may depend on)
            if all(x._data.flags.c_contiguous for x in inputs if x.shape == result.shape):
                names = [self.stretched(n, shape, result.shape)
                         for n, shape in zip(names, shapes)]
        if op in (ops.sum_, ops.sum_to):
            code = self.sum_code(op, inputs[0], names[0], args, result)
            if code is not None:
                self.emit(f"{self.result(result._data)} = {code}", op.name + self.where(), "op")
                return
        arg_texts = [self.operand(a) for a in args]
        code = op.code
        if code is None:
            raise Untraceable(f"{op.name} has no code template")
        if "{-1}" in code:
            code = code.replace("{*}", ", ".join(names)).replace("{-1}", arg_texts[-1])
        else:
            code = code.replace("{*}", ", ".join(names + arg_texts)).format(*names, *arg_texts)
        if not is_array:
            code = f"np.asarray({code})"
        name = self.result(result._data)
        if op is ops.permute:
            self.permuted[name] = (names[0], tuple(args[0]))
        if op is ops.broadcast_to:
            self.expanded[name] = (names[0], inputs[0].shape)
        self.emit(f"{name} = {code}", op.name + self.where(), "view" if op in VIEWS else "op")

    def stretched(self, name, shape, full):
        """`name`, or a line repeating it to shape `full` where a ufunc's broadcast of it
        would be slow. NumPy broadcasts (960, 16) * (16,) as 960 loops of 16 elements:
        19 us, where repeating the (16,) to (960, 16) takes 5 and the product of two
        (960, 16) arrays 6; the repeat is made once for all the lines that stretch that
        array so (share_common), e.g. BatchNorm's 1/std, used in forward and backward.
        Each element still meets the same element: the same values."""
        size = math.prod(full)
        if tuple(shape) == tuple(full) or full[-1] > STRETCH_MAX or size < STRETCH_MIN \
                or math.prod(shape) * 4 > size:
            return name
        padded = (1,) * (len(full) - len(shape)) + tuple(shape)
        axes = [k for k, (n, m) in enumerate(zip(padded, full)) if n != m]
        if len(axes) != 1:
            return name
        k = axes[0]
        view = name if padded == tuple(shape) else f"{name}.reshape({padded})"
        new = f"v{len(self.lines)}"
        self.emit(f"{new} = {view}.repeat({full[k]}, axis={k})", "broadcast, repeated", "op")
        return new

    def sum_code(self, op, x, name, args, result):
        """A Sum or SumTo written out for its shapes: the axes worked out now, and a sum
        over a matrix's rows or an array's last axis as kernels.sum_ does it (a product
        with ones) with the ones made once. None: the row's own code."""
        if op is ops.sum_to:
            lead = x.ndim - len(result.shape)
            axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(result.shape)
                                              if n == 1 and x.shape[lead + i] != 1)
            keepdims, reshape = True, f".reshape({result.shape})"
            if not axes:
                return f"np.reshape({name}, {result.shape})"
        else:
            (axes, keepdims), reshape = args, ""
        kernel = None   # the choice kernels.sum_ makes for these shapes
        if x.dtype.kind == "f" and x.ndim >= 2:
            if axes == (0,) and x.ndim == 2:
                kernel, n = "K.sum_rows", x.shape[0]
            elif axes == (x.ndim - 1,) and x.shape[-1] <= K.LAST_AXIS_MAX:
                kernel, n = "K.sum_last", x.shape[-1]
        if kernel is not None:
            ones = f"ones_{n}_{x.dtype.name}"
            self.env[ones] = K.ones(n, x.dtype)
            return f"{kernel}({name}, {ones}, {keepdims}){reshape}"
        return f"K.sum_({name}, {axes}, {keepdims}){reshape}" if op is ops.sum_to else None

    def same_view(self, op, names, inputs, args, result):
        """Is result a view with its input's shape and strides, whatever the input's layout
        (a SumTo or Reshape to the same shape, a Permute undoing a Permute)? Then it is
        that input for the program: its name is the input's, and no line is written."""
        source = None
        if op in (ops.sum_to, ops.reshape) and result.shape == inputs[0].shape:
            source = names[0]
        elif op is ops.permute and names[0] in self.permuted:
            before, dims = self.permuted[names[0]]
            if all(dims[d] == i for i, d in enumerate(args[0])):
                source = before
        if source is None:
            return False
        self.names[id(result._data)] = source
        self.keep.append(result._data)
        return True

    def computed(self, code, operands, result):
        texts = [self.operand(v) for v in operands]
        self.emit(f"{self.result(result)} = np.asarray({code.format(*texts)})",
                  "off the graph" + self.where(), "computed")

    def store_grad(self, node, g, create_graph, stored):
        if create_graph:
            self.fail("backward(create_graph=True) inside fn")
        was_none = node.grad is None
        if was_none and id(node) not in self.cleared:
            self.grad_none.append(node)
        before = node.grad
        value = self.array(g._data, g)
        # the eager engine runs as usual; the program does what it did
        state.recorder = None
        try:
            eager_store_grad(node, g, create_graph, stored)
        finally:
            state.recorder = self
        if node.grad is not before and node.grad._op is not None:
            self.fail(".grad that is itself on a graph")
        copied = was_none and node.grad._data is not g._data
        name = f"v{len(self.lines)}"
        self.names[id(node.grad._data)] = name
        self.keep.append(node.grad._data)
        self.emit(f"{name} = store_grad({self.tensor(node)}, {value}, {copied})",
                  "backward: into .grad")

    def clear_grad(self, t):
        self.cleared.add(id(t))
        self.emit(f"{self.tensor(t)}.grad = None", "zero_grad", "bind")

    def update(self, optimizer, p, grad, group, param_state):
        names = [self.array(p._data, p), self.array(grad)]
        opt, g, s = (self.operand(optimizer), self.operand(group), self.operand(param_state))
        self.optimizer_states.append((optimizer, p, param_state))
        self.updates[len(self.lines)] = (optimizer, p, group, param_state, names)
        self.emit(f"{opt}.update({names[0]}, {names[1]}, {g}, {s}); "
                  f"bump_version({self.tensor(p)})", f"{type(optimizer).__name__}.step")

    def rebind(self, t, array):
        value = self.array(array)
        self.emit(f"{self.tensor(t)}._data = {value}; bump_version({self.tensor(t)})",
                  ".data =", "bind")

    def write(self, t, array):
        self.emit(f"np.copyto({self.array(t._data, t)}, {self.array(array)}, "
                  f"casting='same_kind')", "in place")

    def write_part(self, t, index, values):
        self.emit(f"{self.array(t._data, t)}[{self.operand(index)}] = {self.operand(values)}",
                  "in place: t[index] = ...")

    def constant(self, array):
        if id(array) not in self.names:
            self.from_python.add(id(array))
            self.keep.append(array)

    def module_called(self, module):
        self.modules.append((module, module.training))

    def python_read(self, t, how):
        if id(t._data) in self.names or id(t) in self.tensor_names:
            self.fail(f"{how} read a value of the step into Python (return tensors, and "
                      f"read them after the call)")

    def fail(self, why):
        if self.problem is None:
            self.problem = why

    # --- the program ---

    def finish(self, returned):
        """The program's text, and how to rebuild fn's return value from its results."""
        if isinstance(returned, Tensor):
            outputs, shape = [returned], "one"
        elif isinstance(returned, (tuple, list)) and all(isinstance(r, Tensor) for r in returned):
            outputs, shape = list(returned), type(returned)
        elif returned is None:
            outputs, shape = [], None
        else:
            self.fail(f"fn returned a {type(returned).__name__}; return a Tensor, a tuple "
                      f"of Tensors, or None")
            outputs, shape = [], None
        out_names = [self.array(r._data, r) for r in outputs]
        paths = module_paths([m for m, _ in self.modules])
        tensors = tensor_paths(paths)
        body = [f"    {f'{name} = {self.tensor(t)}._data':<60}  # {tensors.get(id(t), 'a tensor')}"
                for name, t in self.reads]
        lines = share_common(self.fused_updates(tensors), out_names)
        body += [f"    {code:<60}  # {comment}" if comment else f"    {code}"
                 for code, comment, _ in drop_dead(lines, out_names)]
        body.append(f"    return ({', '.join(out_names)}{',' if len(out_names) == 1 else ''})")
        text = "\n".join(body)
        for m, path in paths.items():
            text = text.replace(f"({type(m).__name__}#{id(m)})",
                                f"({path}: {type(m).__name__})" if path else f"({type(m).__name__})")
        source = f"def step({', '.join(self.arg_names)}):\n{text}\n"
        return source, shape

    def fused_updates(self, tensors):
        """self.lines with the updates of each optimizer's parameter group that can be
        fused (see FusedUpdate) replaced by one call."""
        runs = {}   # (optimizer, group, dtype) -> line numbers
        for i, (optimizer, p, group, _, _) in self.updates.items():
            if (type(optimizer).update in FUSABLE and p._data.size <= FUSE_MAX
                    and p._data.dtype.kind == "f"):
                runs.setdefault((id(optimizer), id(group), p._data.dtype), []).append(i)
        replaced, fused_names = {}, []
        for run in runs.values():
            if len(run) < 2:
                continue
            optimizer, _, group, _, _ = self.updates[run[0]]
            fused = FusedUpdate(optimizer, group, [self.updates[i][1] for i in run],
                                [self.updates[i][3] for i in run])
            name = f"update{len(fused_names)}"
            fused_names.append(name)
            self.env[name] = fused
            params = ", ".join(self.updates[i][4][0] for i in run)
            grads = ", ".join(self.updates[i][4][1] for i in run)
            which = " ".join(tensors.get(id(self.updates[i][1]), "?") for i in run)
            # at the last one's place: the gradients are all made by then (maximize's -g)
            replaced[run[-1]] = (f"{name}(({params},), ({grads},))",
                                f"{type(optimizer).__name__}.step on {len(run)} parameters as "
                                f"one flat array: {which}", "effect")
            replaced.update((i, None) for i in run[:-1])
        return [replaced.get(i, line) for i, line in enumerate(self.lines)
                if replaced.get(i, line) is not None]

    def matches(self, other):
        """None if `other` (the next call's trace) recorded the same program, else why not."""
        if len(self.lines) != len(other.lines) or len(self.reads) != len(other.reads):
            return "the two traced calls ran different numbers of operations"
        for i, (a, b) in enumerate(zip(self.lines, other.lines)):
            if a[0] != b[0]:
                return f"line {i} differs: {a[0]!r} then {b[0]!r}"
        for (name, t1), (_, t2) in zip(self.reads, other.reads):
            if self.tensor(t1).startswith("a"):
                continue   # an argument: read anew every call
            if t1 is not t2:
                return (f"{name} reads a tensor made inside fn outside the recorded "
                        f"operations (first used in {self.made_by_text(name)}); a replay would "
                        f"reuse the first call's values")
        for (name, a), (_, b) in zip(self.constants, other.constants):
            by_value = isinstance(a, np.ndarray) and id(a) in self.from_python
            if by_value or not isinstance(a, np.ndarray):
                if not same_value(a, b):
                    return (f"constant {name} in {self.use(name)!r} changed between calls "
                            f"(first used in {self.made_by_text(name)})")
            elif a is not b:
                return (f"constant {name} in {self.use(name)!r} is a new array on every call, "
                        f"made outside the recorded operations (first used in "
                        f"{self.made_by_text(name)}); a replay would reuse the first "
                        f"call's values")
        return None

    def use(self, name):
        return next((c for c, *_ in self.lines if re.search(rf"\b{name}\b", c)), name)

    def made_by_text(self, name):
        return self.made_by.get(name) or "code outside tinygrad_edu"


RESULT = re.compile(r"\bv\d+\b")   # the names of the program's own results


def drop_dead(lines, outputs):
    """lines without the views whose result nothing reads, and with `del` after each
    result's last use, so that NumPy frees (and the next line of that size reuses, still
    in cache) its memory at once, not when the step returns. A name counts as used
    wherever it appears in a line's text (a string constant that looked like one would
    only keep an array longer)."""
    used = set(outputs)
    kept = []
    for code, comment, kind in reversed(lines):
        if kind == "view" and code.split(" = ", 1)[0] not in used:
            continue
        used.update(RESULT.findall(code))
        kept.append((code, comment, kind))
    kept.reverse()
    last = {}
    for i, (code, *_) in enumerate(kept):
        for name in RESULT.findall(code):
            last[name] = i
    for name in outputs:
        last.pop(name, None)
    dead = {}
    for name, i in last.items():
        dead.setdefault(i, []).append(name)
    out = []
    for i, line in enumerate(kept):
        out.append(line)
        if i in dead:
            names = ", ".join(sorted(dead[i], key=lambda n: int(n[1:])))
            out.append((f"del {names}", "", "effect"))
    return out


def share_common(lines, outputs):
    """lines where a primitive that repeats an earlier line's call on the same arrays
    (the two equal gradients of x * x) is that line's result: the same values, one
    NumPy call fewer. Only between lines that change nothing in place, and never for a
    result that goes into .grad, an update or an output (an array someone may change)."""
    pinned = set(outputs)
    for code, _, kind in lines:
        if kind in ("effect", "bind"):
            pinned.update(RESULT.findall(code))
    seen, same, out = {}, {}, []
    for code, comment, kind in lines:
        if same:
            code = RESULT.sub(lambda m: same.get(m.group(0), m.group(0)), code)
        if kind == "effect" and " = store_grad(" in code:
            # it changes one .grad array, named in this line: forget what read it
            touched = set(RESULT.findall(code))
            seen = {c: n for c, n in seen.items() if n not in touched
                    and touched.isdisjoint(RESULT.findall(c))}
        elif kind == "effect":
            seen.clear()   # arrays may have changed
        elif kind in ("op", "view"):
            name, call = code.split(" = ", 1)
            first = seen.get(call)
            if first is not None and name not in pinned and first not in pinned:
                same[name] = first
                continue
            seen.setdefault(call, name)
        out.append((code, comment, kind))
    return out


# ufuncs whose every element is one correctly rounded operation: how the operands are
# laid out (a broadcast view or the array it broadcasts) cannot change a result
EXACT = (ops.add, ops.sub, ops.mul, ops.div)

# a broadcast is repeated into a full array (Trace.stretched) for results of at least
# STRETCH_MIN elements whose last axis is at most STRETCH_MAX long (NumPy's slow case)
STRETCH_MIN, STRETCH_MAX = 4096, 64

# views that cannot raise on the shapes they were traced with: unread, they are left out
VIEWS = (ops.permute, ops.reshape, ops.broadcast_to)

LIBRARY = os.path.dirname(os.path.abspath(__file__))
HOOKS = {"array", "operand", "op", "computed", "rebind", "write", "write_part", "finish",
         "library_callers", "store_grad", "update"}


def library_callers():
    """'where < softplus': the tinygrad_edu functions on the stack right now, innermost
    first, so that an error can say which library code made an unrecorded array."""
    names, frame = [], sys._getframe(1)
    while frame is not None and len(names) < 4:
        code = frame.f_code
        if not code.co_filename.startswith(LIBRARY):
            break
        if not (code.co_filename == __file__ and code.co_name in HOOKS
                or code.co_name.startswith("<")):
            names.append(code.co_name)
        frame = frame.f_back
    return " < ".join(names)


def shared_scalar(t):
    """Is t one of tensor.scalar_constant's shared read-only 0-d constants?"""
    return t._data.ndim == 0 and _constants.get(t.dtype, {}).get(t._data.item()) is t


def same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (dict, list)) or callable(a) or isinstance(a, np.random.Generator):
        return a is b
    return type(a) is type(b) and a == b


def module_paths(modules):
    """Each module's dotted path from the outermost module called ("" for that one)."""
    paths = {}
    for m in modules:
        if m not in paths:
            for path, sub in m.named_modules():
                paths.setdefault(sub, path)
    return paths


def tensor_paths(paths):
    """id(parameter or buffer) -> its name in the state dict ("0.weight")."""
    names = {}
    for m, path in paths.items():
        for name, t in m._state_tensors().items():
            names.setdefault(id(t), f"{path}.{name}" if path else name)
    return names


class Compiled:
    """What tg.compile returns: call it like fn; `.source` is the program of the last trace."""

    def __init__(self, fn):
        self.fn = fn
        self.cache = {}        # signature -> Program, Trace (to verify) or "eager"
        self.invalidated = {}  # signature -> programs dropped since its last replay
        self.source = None
        self.__name__ = getattr(fn, "__name__", "step")
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    def __call__(self, *args):
        if state.recorder is not None or state.anomaly:
            return self.fn(*args)   # inside another trace, or detect_anomaly: eager
        key = signature(args)
        entry = self.cache.get(key)
        if isinstance(entry, Program):
            why = entry.unready()
            if why is None:
                self.invalidated.pop(key, None)
                return entry(*args)
            # a guard that fails again and again, with no replay between (the step itself
            # undoes what the program needs): tracing every call is slower than eager
            self.invalidated[key] = self.invalidated.get(key, 0) + 1
            if self.invalidated[key] >= RETRACES:
                warnings.warn(f"tg.compile({self.__name__}): traced {RETRACES} times without "
                              f"a replay, so this step now runs eagerly: {why}",
                              RuntimeWarning, stacklevel=2)
                self.cache[key] = entry = "eager"
        if entry == "eager":
            return self.fn(*args)
        if len(self.cache) >= CACHE_SIZE and key not in self.cache:
            self.cache.pop(next(iter(self.cache)))
        trace = Trace(args)
        state.recorder = trace
        try:
            returned = self.fn(*args)
        finally:
            state.recorder = None
        source, shape = trace.finish(returned)
        why = trace.problem
        if why is None and isinstance(entry, Trace):
            why = entry.matches(trace)
            if why is None:
                self.cache[key] = Program(trace, source, shape)
                self.source = source
                return returned
        if why is not None:
            warnings.warn(f"tg.compile({self.__name__}): can't compile this step, so it runs "
                          f"eagerly: {why}", RuntimeWarning, stacklevel=2)
            self.cache[key] = "eager"
        else:
            self.cache[key] = trace   # compiled after the next call checks it
            self.source = source
        return returned


def signature(args):
    key = [state.grad_enabled]
    for a in args:
        if isinstance(a, Tensor):
            # strides too: the program's lines are chosen for the layouts traced (a
            # transposed argument of the same shape retraces)
            key.append((a.shape, a.dtype.str, a.requires_grad, a._data.strides))
        else:
            try:
                hash(a)
            except TypeError:
                raise TypeError(f"tg.compile: an argument of type {type(a).__name__} can't be "
                                f"part of a compiled call's signature; pass tensors, numbers "
                                f"or strings") from None
            key.append((type(a), a))
    return tuple(key)


class Program:
    """A checked trace, exec'd: replayed while its guards hold."""

    def __init__(self, trace, source, shape):
        namespace = dict(trace.env)
        exec(builtins.compile(source, "<tg.compile>", "exec"), namespace)
        self.run = namespace["step"]
        self.shape = shape
        self.modules = trace.modules
        self.optimizer_states = trace.optimizer_states
        self.grad_none = trace.grad_none
        # the tensors the program reads (parameters, buffers): its lines are written for
        # these shapes, dtypes and layouts (sum axes, reshapes, which sums use BLAS), so
        # `p.data = other shape` (or a transposed copy) retraces
        self.tensors = [(t, t._data.shape, t._data.dtype, t._data.strides)
                        for t in namespace.values() if isinstance(t, Tensor)]

    def unready(self):
        """None while what the trace took for granted (the guards) still holds, else what
        changed."""
        for t, shape, dtype, strides in self.tensors:
            if t._data.shape != shape or t._data.dtype != dtype:
                return f"a tensor of shape {shape} ({dtype}) now has {t._data.shape} ({t.dtype})"
            if t._data.strides != strides:
                return f"a tensor of shape {shape} now has strides {t._data.strides}"
        for m, training in self.modules:
            if m.training != training:
                return f"{type(m).__name__}.training is now {m.training}"
        for opt, p, s in self.optimizer_states:
            if opt.state.get(p) is not s:
                return f"{type(opt).__name__}'s state of a parameter was replaced"
        for t in self.grad_none:
            if t.grad is not None:
                return ("a .grad the step found None is set on entry: clear it with "
                        "opt.zero_grad() or model.zero_grad() inside fn (a hand-written "
                        "`p.grad = None` is not seen)")
        return None

    def __call__(self, *args):
        outputs = self.run(*args)
        if self.shape is None:
            return None
        if self.shape == "one":
            return wrap(outputs[0])
        return self.shape(wrap(o) for o in outputs)


# The optimizers whose update is elementwise, with scalars that depend only on the group
# and the step count: run on the concatenation of several parameters (and of their
# state), each element sees the same operations with the same scalars as in its own
# call, so a fused update equals the separate ones bit for bit.
from .optim import SGD, Adam, RMSprop, Adagrad, Adamax   # noqa: E402
FUSABLE = {SGD.update, Adam.update, RMSprop.update, Adagrad.update, Adamax.update}
FUSE_MAX = 16384   # elements: above this, gathering and scattering costs more than calls


class FusedUpdate:
    """One `optimizer.update` for many small parameters of a group, as torch's foreach
    optimizers: per call, a dozen NumPy operations in place of a dozen per parameter.

    On the first replay the parameters' array state (exp_avg, ...) moves into flat
    arrays, and each parameter's state dict gets a view of its part, so that the
    optimizer's state (state_dict, an eager step, a look at opt.state[p]) stays the
    same arrays. Each call: the parameters and gradients are copied into flat arrays,
    the update runs once, and each parameter gets its part back (in place, so arrays
    a user holds stay the parameter's). Counters (step) are read from the states and
    written back to all of them; a state array replaced since (opt.state[p][k] = ...)
    is copied in first. If the counters disagree (some parameter skipped a step), each
    parameter is updated on its own, as eagerly."""

    def __init__(self, optimizer, group, tensors, states):
        self.optimizer, self.group, self.tensors, self.states = optimizer, group, tensors, states
        self.flat = None

    def bind(self):
        shapes = [t._data.shape for t in self.tensors]
        ends = np.cumsum([t._data.size for t in self.tensors])
        parts = [slice(int(a), int(b)) for a, b in zip(np.concatenate(([0], ends[:-1])), ends)]
        dtype = self.tensors[0]._data.dtype

        def views(flat):
            return [flat[part].reshape(shape) for part, shape in zip(parts, shapes)]
        self.param, self.grad = np.empty(ends[-1], dtype), np.empty(ends[-1], dtype)
        self.param_views = views(self.param)
        self.flat, self.links, self.counters = {}, [], []   # links: (state, key, view)
        for k, v in self.states[0].items():
            if isinstance(v, np.ndarray) and all(
                    isinstance(s.get(k), np.ndarray) and s[k].shape == shape
                    and s[k].dtype == v.dtype for s, shape in zip(self.states, shapes)):
                flat = self.flat[k] = np.empty(ends[-1], v.dtype)
                if not k.startswith("_"):   # "_": scratch, nothing to keep
                    parts_k = views(flat)
                    for s, view in zip(self.states, parts_k):
                        np.copyto(view, s[k])
                        s[k] = view
                        self.links.append((s, k, view))
            else:
                self.counters.append(k)

    def __call__(self, params, grads):
        if self.flat is None:
            self.bind()
        states, flat = self.states, self.flat
        for k in self.counters:
            value = states[0][k]
            for s in states:
                if s[k] != value or type(s[k]) is not type(value):
                    return self.separately(params, grads)
            flat[k] = value
        for s, k, view in self.links:
            if s[k] is not view:
                np.copyto(view, s[k])
                s[k] = view
        np.concatenate(params, axis=None, out=self.param)
        np.concatenate(grads, axis=None, out=self.grad)
        self.optimizer.update(self.param, self.grad, self.group, flat)
        for p, view in zip(params, self.param_views):
            np.copyto(p, view)
        for k in self.counters:
            value = flat[k]
            for s in states:
                s[k] = value
        for t in self.tensors:
            bump_version(t)

    def separately(self, params, grads):
        for t, p, g, s in zip(self.tensors, params, grads, self.states):
            self.optimizer.update(p, g, self.group, s)
            bump_version(t)


def compile(fn=None):
    """tg.compile(fn): fn's step recorded once and replayed as a NumPy program (see the
    module docstring). Usable as a decorator."""
    if fn is None:
        return Compiled
    if not callable(fn):
        raise TypeError(f"tg.compile: expected a function, got {type(fn).__name__}")
    return Compiled(fn)
