"""The primitive set is closed: ops.PRIMITIVES is the whole derivative table.

Adding a primitive (or a hand-written gradient anywhere else) must be a
deliberate change to this list, never an accident. And each row's declared
facts are proved: what its VJP reads is found by changing the values.
"""
import ast
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import functional as F, ops
from tinygrad_edu.autograd import walk
from tinygrad_edu.tensor import apply

EXPECTED = {
    "Add", "Sub", "Mul", "Div", "Maximum", "Neg", "Pow", "Exp", "Log", "Expm1", "Log1p", "Sqrt",
    "Tanh", "Sigmoid", "ReLU", "Abs", "Sin", "Cos", "Erf", "Erfc", "Erfinv",
    "Lgamma", "Polygamma", "BesselI", "Atan2", "Where", "Cast", "Sum", "Max",
    "Reshape", "Permute", "Expand", "SumTo", "Index", "ScatterAdd", "Cat", "MatMul",
    "Unfold", "Fold",
}


def test_the_primitives_are_exactly_these():
    names = [op.name for op in ops.PRIMITIVES]
    assert len(names) == len(set(names)), "two primitives share a name"
    assert set(names) == EXPECTED


def test_every_op_defined_in_ops_is_listed():
    defined = {v for v in vars(ops).values() if isinstance(v, ops.Op)}
    assert defined == set(ops.PRIMITIVES)


def test_each_primitive_has_a_vjp_per_input_and_a_docstring():
    for op in ops.PRIMITIVES:
        assert op.__doc__, f"{op.name} has no docstring stating its math"
        if op.name != "Cat":       # Cat takes any number of inputs (indexed VJP)
            assert op.vjps, f"{op.name} has no VJP"


def constructs_op(module):
    """Names of calls to Op(...)/CatOp(...) in a module's source."""
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name in ("Op", "CatOp"):
                found.append(name)
    return found


def package_modules():
    """Every module of tinygrad_edu, nn/ and optim/ included."""
    names = [m.name for m in pkgutil.walk_packages(tg.__path__, "tinygrad_edu.")]
    return [importlib.import_module(n) for n in names if n != "tinygrad_edu.__main__"]


def test_the_scan_reaches_every_subpackage():
    names = {m.__name__ for m in package_modules()}
    assert {"tinygrad_edu.tensor", "tinygrad_edu.nn.functional", "tinygrad_edu.nn.layers",
            "tinygrad_edu.optim.adam", "tinygrad_edu.optim.optimizer"} <= names


def test_no_module_but_ops_defines_an_op():
    for module in package_modules():
        if module is ops:
            continue
        assert constructs_op(module) == [], module.__name__
        assert not [v for v in vars(module).values() if isinstance(v, ops.Op)
                    and v not in ops.PRIMITIVES], module.__name__
        assert not [v for v in vars(module).values() if isinstance(v, type)
                    and issubclass(v, ops.Op)], module.__name__


# --- what each VJP reads, found by changing it ------------------------------------------

rng = np.random.default_rng(0)


def normal(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


# op name -> (input arrays, non-tensor args): a small call of each primitive
CALLS = {
    "Add": ([normal(3, 4), normal(3, 4)], ()),
    "Sub": ([normal(3, 4), normal(3, 4)], ()),
    "Mul": ([normal(3, 4), normal(3, 4)], ()),
    "Div": ([normal(3, 4), positive(3, 4)], ()),
    "Maximum": ([normal(3, 4), normal(3, 4)], ()),
    "Neg": ([normal(3, 4)], ()),
    "Pow": ([positive(3, 4)], (2.5,)),
    "Exp": ([normal(3, 4)], ()),
    "Log": ([positive(3, 4)], ()),
    "Sqrt": ([positive(3, 4)], ()),
    "Tanh": ([normal(3, 4)], ()),
    "Sigmoid": ([normal(3, 4)], ()),
    "ReLU": ([normal(3, 4)], ()),
    "Abs": ([normal(3, 4)], ()),
    "Sin": ([normal(3, 4)], ()),
    "Cos": ([normal(3, 4)], ()),
    "Erf": ([normal(3, 4)], ()),
    "Erfc": ([normal(3, 4)], ()),
    "Erfinv": ([np.tanh(normal(3, 4))], ()),
    "Lgamma": ([positive(3, 4)], ()),
    "Polygamma": ([positive(3, 4)], (1,)),
    "BesselI": ([normal(3, 4)], (1,)),
    "Expm1": ([normal(3, 4)], ()),
    "Log1p": ([positive(3, 4)], ()),
    "Atan2": ([normal(3, 4), normal(3, 4)], ()),
    "Where": ([normal(3, 4), normal(3, 4)], (normal(3, 4) > 0,)),
    "Cast": ([normal(3, 4)], (np.dtype(np.float32),)),
    "Sum": ([normal(3, 4)], ((1,), False)),
    "Max": ([normal(3, 4)], ((1,), False)),
    "Reshape": ([normal(3, 4)], ((4, 3),)),
    "Permute": ([normal(3, 4)], ((1, 0),)),
    "Expand": ([normal(1, 4)], ((3, 4),)),
    "SumTo": ([normal(3, 4)], ((1, 4),)),
    "Index": ([normal(3, 4)], (np.array([0, 2, 2]),)),
    "ScatterAdd": ([normal(3, 4)], (np.array([0, 1, 1]), (2, 4))),
    "Cat": ([normal(2, 4), normal(3, 4)], (0,)),
    "MatMul": ([normal(3, 4), normal(4, 2)], ()),
    "Unfold": ([normal(2, 3, 5, 6)], ((2, 3), (1, 2), (2, 1))),
    "Fold": ([normal(2, 3, 2, 3, 3, 2)], ((5, 6), (2, 3), (1, 2), (2, 1))),
}


def gradients(op, arrays, args, change=None):
    """The op's input gradients for a fixed output gradient; `change` ("y" or an input's
    position) is overwritten in place between forward and backward, behind the version
    counters' back, so only the VJP itself can notice."""
    xs = tuple(tg.tensor(a.copy(), requires_grad=True) for a in arrays)
    y = apply(op, xs, args)
    g = tg.tensor(np.linspace(-1, 2, y.numel()).reshape(y.shape))
    target = y if change == "y" else None if change is None else xs[change]
    if target is not None:
        if not target._data.flags.writeable:
            return None   # a read-only broadcast view: nobody can change it in place
        target._data[...] = -1.5 * target._data + 0.25
    with np.errstate(all="ignore"):
        return [gx.numpy().copy() for gx in tg.grad(y, list(xs), g)]


def differs(before, after):
    if after is None:
        return False
    return any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(before, after))


def test_every_primitive_has_a_call():
    assert set(CALLS) == {op.name for op in ops.PRIMITIVES}


@pytest.mark.parametrize("op", ops.PRIMITIVES, ids=lambda op: op.name)
def test_declared_reads_are_what_the_vjp_reads(op):
    arrays, args = CALLS[op.name]
    base = gradients(op, arrays, args)
    reads_inputs = any(differs(base, gradients(op, arrays, args, i)) for i in range(len(arrays)))
    reads_output = differs(base, gradients(op, arrays, args, "y"))
    assert (reads_inputs, reads_output) == (op.reads_inputs, op.reads_output), (
        f"{op.name} declares reads={op.reads!r}, but its VJP reads "
        f"{'inputs ' if reads_inputs else ''}{'output' if reads_output else ''}".strip())


@pytest.mark.parametrize("op", [op for op in ops.PRIMITIVES if op.reads],
                         ids=lambda op: op.name)
def test_a_tracked_change_of_what_a_vjp_reads_raises(op):
    arrays, args = CALLS[op.name]
    xs = tuple(tg.tensor(a.copy(), requires_grad=True) for a in arrays)
    y = apply(op, xs, args)
    target = xs[0] if op.reads_inputs else y
    with tg.no_grad():
        target.data = target.data * 2   # a tracked change: bumps the version
    with pytest.raises(RuntimeError, match=f"(input|output) of {op.name}"):
        y.backward(tg.ones_like(y))


def graph_ops(out):
    """Every op in the graph behind `out` (the engine's one walk)."""
    return {t._op for t in walk([out]) if t._op is not None}


def test_composites_record_only_primitives():
    x = tg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    w = tg.tensor(np.linspace(0.5, 1, 4), requires_grad=True)
    outputs = [
        x - w, x / w, (x * x + 1) ** w, 2 ** x, x.mean(1), x.var(0), x.std(), x.amin(1), x.max(1).values, x.min(0)[0],
        (x * x).sqrt().sum(),
        x.logsumexp(1), x.softmax(), x.log_softmax(0), x.leaky_relu(), x.clip(-0.5, 0.5),
        tg.minimum(x, w), tg.where(x.numpy() > 0, x, w), tg.stack([x, x]), x.flatten(),
        x.squeeze(), x.unsqueeze(0), x.expand(2, 3, 4), x.T, x.mT, x.transpose(0, 1),
        F.cross_entropy(x, [0, 1, 3]), F.mse_loss(x, x.detach() * 2), F.linear(x, x, w[:3]),
        F.binary_cross_entropy_with_logits(x, np.ones((3, 4))), F.nll_loss(x, [1, 1, 1]),
        F.multi_margin_loss(x, [0, 1, 2]), F.binary_cross_entropy(x.sigmoid(), np.zeros((3, 4))),
        F.batch_norm(x, training=True), F.dropout(x, 0.5, generator=np.random.default_rng(0)),
    ]
    for out in outputs:
        assert graph_ops(out) <= set(ops.PRIMITIVES)
