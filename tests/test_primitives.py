"""The primitive set is closed: ops.PRIMITIVES is the whole derivative table.

Adding a primitive (or a hand-written gradient anywhere else) must be a
deliberate change to this list, never an accident.
"""
import ast
import inspect

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import functional as F, ops, tensor

EXPECTED = {
    "Add", "Sub", "Mul", "Div", "Maximum", "Neg", "Pow", "Exp", "Log", "Tanh", "Sigmoid", "ReLU",
    "Abs", "Sin", "Cos", "Where", "Cast", "Sum", "Max", "Reshape", "Permute", "Expand",
    "SumTo", "Index", "ScatterAdd", "Cat", "MatMul",
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


def test_composites_define_no_op():
    assert constructs_op(tensor) == []
    assert constructs_op(F) == []
    for module in (tensor, F):
        assert not [v for v in vars(module).values() if isinstance(v, ops.Op)
                    and v not in ops.PRIMITIVES]


def graph_ops(out):
    """Every op in the graph behind `out` (iterative walk)."""
    seen, stack, found = set(), [out], set()
    while stack:
        t = stack.pop()
        if t in seen or t._op is None:
            continue
        seen.add(t)
        found.add(t._op)
        stack.extend(t._parents)
    return found


def test_composites_record_only_primitives():
    x = tg.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    w = tg.tensor(np.linspace(0.5, 1, 4), requires_grad=True)
    outputs = [
        x - w, x / w, (x * x + 1) ** w, 2 ** x, x.mean(1), x.var(0), x.std(), x.min(1),
        (x * x).sqrt().sum(),
        x.logsumexp(1), x.softmax(), x.log_softmax(0), x.leaky_relu(), x.clip(-0.5, 0.5),
        tg.minimum(x, w), tg.where(x.data > 0, x, w), tg.stack([x, x]), x.flatten(),
        x.squeeze(), x.unsqueeze(0), x.expand(2, 3, 4), x.T, x.mT, x.transpose(0, 1),
        F.cross_entropy(x, [0, 1, 3]), F.mse_loss(x, x.detach() * 2), F.linear(x, x, w[:3]),
        F.binary_cross_entropy_with_logits(x, np.ones((3, 4))), F.nll_loss(x, [1, 1, 1]),
        F.multi_margin_loss(x, [0, 1, 2]), F.binary_cross_entropy(x.sigmoid(), np.zeros((3, 4))),
        F.batch_norm(x, training=True), F.dropout(x, 0.5, generator=np.random.default_rng(0)),
    ]
    for out in outputs:
        assert graph_ops(out) <= set(ops.PRIMITIVES)
