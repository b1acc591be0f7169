"""Every primitive and composite against finite differences (check.gradcheck).

CASES is one table of differentiable expressions. Each is written as
fn(L, *inputs) where L is the library (tinygrad_edu here; test_torch_oracle.py
runs the same table with L = torch), so one expression serves both oracles.
"""
from dataclasses import dataclass

import numpy as np
import pytest

import tinygrad_edu as tg


@dataclass(frozen=True)
class Pos:
    """An input shape whose values must be positive (log, sqrt, divisors, pow bases)."""
    shape: tuple


@dataclass(frozen=True)
class Case:
    id: str
    fn: object            # fn(L, *inputs) -> Tensor
    specs: tuple          # one shape (or Pos) per input
    torch_fn: object = None   # when PyTorch spells it differently
    smooth: bool = True   # gradgradcheck it too (twice differentiable at random points)
    torch: bool = True    # has a PyTorch counterpart


def make_inputs(randt, specs):
    return [randt(*s.shape, positive=True) if isinstance(s, Pos) else randt(*s) for s in specs]


BROADCAST_PAIRS = [((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (2, 3)),
                   ((2, 1, 3), (4, 1))]


def pair_id(a, b):
    return f"{a}&{b}".replace(" ", "")


def flip(L, x, axis):
    """x reversed along axis (torch has no negative-step slicing)."""
    if L is tg:
        return x[(slice(None),) * axis + (slice(None, None, -1),)]
    return x.flip(axis)


CASES = []

# --- elementwise unary -----------------------------------------------------------
U = (3, 4)
CASES += [
    Case("neg", lambda L, x: -x, (U,)),
    Case("exp", lambda L, x: x.exp(), (U,)),
    Case("log", lambda L, x: x.log(), (Pos(U),)),
    Case("tanh", lambda L, x: x.tanh(), (U,)),
    Case("sigmoid", lambda L, x: x.sigmoid(), (U,)),
    Case("relu", lambda L, x: x.relu(), (U,), smooth=False),
    Case("abs", lambda L, x: x.abs(), (U,), smooth=False),
    Case("abs-builtin", lambda L, x: abs(x), (U,), smooth=False),
    Case("sin", lambda L, x: x.sin(), (U,)),
    Case("cos", lambda L, x: x.cos(), (U,)),
    Case("sqrt", lambda L, x: x.sqrt(), (Pos(U),)),
    Case("leaky_relu", lambda L, x: x.leaky_relu(0.1), (U,),
         torch_fn=lambda x: __import__("torch").nn.functional.leaky_relu(x, 0.1), smooth=False),
    Case("leaky_relu-default", lambda L, x: x.leaky_relu(), (U,),
         torch_fn=lambda x: __import__("torch").nn.functional.leaky_relu(x), smooth=False),
    Case("pow2", lambda L, x: x ** 2, (U,)),
    Case("pow3", lambda L, x: x ** 3, (U,)),
    Case("pow0", lambda L, x: x ** 0, (U,)),
    Case("pow0.5", lambda L, x: x ** 0.5, (Pos(U),)),
    Case("pow-1", lambda L, x: x ** -1, (Pos(U),)),
    Case("pow-1.5", lambda L, x: x.pow(-1.5), (Pos(U),)),
    Case("pow-npscalar", lambda L, x: x ** np.float64(2.5), (Pos(U),)),
    Case("rpow", lambda L, x: 2 ** x, (U,)),
    Case("rpow-e", lambda L, x: 0.5 ** x, (U,)),
    Case("clip", lambda L, x: x.clip(-0.5, 0.5), (U,), smooth=False),
    Case("clamp-min", lambda L, x: x.clamp(min=0.1), (U,), smooth=False),
    Case("clamp-max", lambda L, x: x.clamp(max=-0.1), (U,), smooth=False),
    Case("scalar-exp", lambda L, x: x.exp(), ((),)),
    Case("1d-tanh", lambda L, x: x.tanh(), ((5,),)),
    Case("radd", lambda L, x: 2.0 + x, (U,)),
    Case("rsub", lambda L, x: 2.0 - x, (U,)),
    Case("rmul", lambda L, x: 3.0 * x, (U,)),
    Case("rdiv", lambda L, x: 2.0 / x, (Pos(U),)),
    Case("div-scalar", lambda L, x: x / 4.0, (U,)),
    Case("sub-scalar", lambda L, x: x - 1.5, (U,)),
    Case("pos", lambda L, x: +x * 1.0, (U,)),
]

# --- elementwise binary, with every broadcasting pair both ways ------------------
BINARY = [
    ("add", lambda L, a, b: a + b, False),
    ("sub", lambda L, a, b: a - b, False),
    ("mul", lambda L, a, b: a * b, False),
    ("div", lambda L, a, b: a / b, True),
    ("pow-tensor", lambda L, a, b: a ** b, True),          # base a > 0
    ("maximum", lambda L, a, b: L.maximum(a, b), False),
    ("minimum", lambda L, a, b: L.minimum(a, b), False),
    ("where", lambda L, a, b: L.where(a > b, a, b * 2), False),
]
for name, fn, positive in BINARY:
    for sa, sb in BROADCAST_PAIRS + [((3, 4), (3, 4))]:
        specs = (Pos(sa), Pos(sb)) if positive else (sa, sb)
        smooth = name not in ("maximum", "minimum", "where")
        CASES.append(Case(f"{name}-{pair_id(sa, sb)}", fn, specs, smooth=smooth))
CASES += [
    Case("where-scalar-other", lambda L, x: L.where(x > 0, x, 0.0 * x), (U,), smooth=False),
    Case("where-tensor-cond", lambda L, a, b: L.where(a.detach() > 0, a, b), (U, (4,)),
         smooth=False),
    Case("maximum-scalar", lambda L, x: L.maximum(x, L.zeros_like(x)), (U,), smooth=False),
]

# --- reductions over every kind of axis, keepdims both ways ---------------------
R = (2, 3, 4)
AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def axis_id(axis):
    return str(axis).replace(" ", "")


for axis in AXES:
    for keep in (False, True):
        kw = "" if axis is None else f"ax={axis_id(axis)}"
        tid = f"{kw}-keep={keep}"
        d = {} if axis is None else {"dim": axis}
        td = {"dim": (0, 1, 2)} if axis is None else d     # torch's sum(keepdim=) needs dim
        CASES += [
            Case(f"sum-{tid}", lambda L, x, d=d, k=keep: x.sum(**d, keepdim=k), (R,),
                 torch_fn=lambda x, d=td, k=keep: x.sum(**d, keepdim=k)),
            Case(f"mean-{tid}", lambda L, x, d=d, k=keep: x.mean(**d, keepdim=k), (R,),
                 torch_fn=lambda x, d=td, k=keep: x.mean(**d, keepdim=k)),
            Case(f"amax-{tid}", lambda L, x, d=d, k=keep: x.amax(**d, keepdim=k), (R,),
                 torch_fn=lambda x, d=d, k=keep: x.amax(**d, keepdim=k), smooth=False),
            Case(f"amin-{tid}", lambda L, x, d=d, k=keep: x.amin(**d, keepdim=k), (R,),
                 torch_fn=lambda x, d=d, k=keep: x.amin(**d, keepdim=k), smooth=False),
            Case(f"logsumexp-{tid}", lambda L, x, d=d, k=keep: x.logsumexp(**d, keepdim=k), (R,),
                 torch_fn=lambda x, d=d, k=keep: x.logsumexp(d.get("dim", (0, 1, 2)), keepdim=k)),
        ]
        for c in (0, 1):
            CASES += [
                Case(f"var-c{c}-{tid}",
                     lambda L, x, d=d, k=keep, c=c: x.var(**d, keepdim=k, correction=c), (R,)),
                Case(f"std-c{c}-{tid}",
                     lambda L, x, d=d, k=keep, c=c: x.std(**d, keepdim=k, correction=c), (R,)),
            ]
# max(dim)/min(dim) as PyTorch: (values, indices), the gradient to the returned index.
for d in (0, 1, -1):
    for keep in (False, True):
        for name in ("max", "min"):
            CASES.append(Case(f"{name}(dim={d})-keep={keep}",
                              lambda L, x, n=name, d=d, k=keep: getattr(x, n)(d, keepdim=k).values,
                              (R,), smooth=False))
# NumPy spellings (axis=, keepdims=) of the same reductions; not torch API.
for name in ("sum", "mean", "amax", "amin", "var", "std", "logsumexp"):
    CASES += [
        Case(f"{name}-numpy-names-axis1-keep", lambda L, x, n=name: getattr(x, n)(axis=1, keepdims=True),
             (R,), smooth=name not in ("amax", "amin"), torch=False),
        Case(f"{name}-positional-(0,-1)", lambda L, x, n=name: getattr(x, n)((0, -1), True),
             (R,), smooth=name not in ("amax", "amin"), torch=False),
    ]
CASES += [
    Case("sum-scalar", lambda L, x: x.sum(), ((),)),
    Case("mean-1d", lambda L, x: x.mean(), ((5,),)),
    Case("std-default", lambda L, x: x.std(), (U,)),
    Case("var-default", lambda L, x: x.var(dim=0), (U,)),
]

# --- softmax family ----------------------------------------------------------------
for dim in (0, 1, -1):
    CASES += [
        Case(f"softmax-dim{dim}", lambda L, x, d=dim: x.softmax(dim=d), (R,)),
        Case(f"log_softmax-dim{dim}", lambda L, x, d=dim: x.log_softmax(dim=d), (R,)),
    ]
CASES += [
    Case("softmax-default", lambda L, x: x.softmax(-1), (U,)),
    Case("functional-softmax", lambda L, x: tg.functional.softmax(x, 1), (U,),
         torch_fn=lambda x: x.softmax(1)),
    Case("functional-log_softmax", lambda L, x: tg.functional.log_softmax(x, 0), (U,),
         torch_fn=lambda x: x.log_softmax(0)),
    Case("functional-logsumexp", lambda L, x: tg.functional.logsumexp(x, 1, True), (U,),
         torch_fn=lambda x: x.logsumexp(1, True)),
]

# --- matmul: 1-D, 2-D, batched, broadcast-batched ------------------------------------
MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
          ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
          ((2, 1, 2, 3), (5, 3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4))]
for sa, sb in MATMUL:
    CASES.append(Case(f"matmul-{pair_id(sa, sb)}", lambda L, a, b: a @ b, (sa, sb)))
CASES += [
    Case("matmul-fn", lambda L, a, b: L.matmul(a, b), ((2, 3), (3, 2))),
    Case("matmul-method", lambda L, a, b: a.matmul(b), ((2, 3), (3, 2))),
]

# --- joining ------------------------------------------------------------------------
CASES += [
    Case("cat-dim0", lambda L, a, b: L.cat([a, b], dim=0), ((2, 3), (4, 3))),
    Case("cat-dim1", lambda L, a, b, c: L.cat([a, b, c], dim=1), ((2, 1), (2, 3), (2, 2))),
    Case("cat-dim-1", lambda L, a, b: L.cat([a, b], dim=-1), ((2, 2, 1), (2, 2, 3))),
    Case("cat-same-twice", lambda L, a: L.cat([a, a * 2], dim=0), ((2, 3),)),
    Case("concatenate-axis", lambda L, a, b: tg.concatenate([a, b], axis=1), ((2, 3), (2, 1)),
         torch=False),
    Case("stack-dim0", lambda L, a, b: L.stack([a, b]), ((2, 3), (2, 3))),
    Case("stack-dim1", lambda L, a, b, c: L.stack([a, b, c], dim=1), ((2, 3),) * 3),
    Case("stack-dim-1", lambda L, a, b: L.stack([a, b], dim=-1), ((2, 3), (2, 3))),
]

# --- shape ops ----------------------------------------------------------------------
S = (2, 3, 4)
CASES += [
    Case("reshape", lambda L, x: x.reshape(4, 6), (S,)),
    Case("reshape-tuple", lambda L, x: x.reshape((6, 4)), (S,)),
    Case("reshape-minus1", lambda L, x: x.reshape(-1), (S,)),
    Case("reshape-minus1-mid", lambda L, x: x.reshape(2, -1, 2), (S,)),
    Case("view", lambda L, x: x.view(3, 8), (S,)),
    Case("permute", lambda L, x: x.permute(2, 0, 1), (S,)),
    Case("permute-negative", lambda L, x: x.permute(-1, 1, 0), (S,)),
    Case("transpose", lambda L, x: x.transpose(0, 2), (S,)),
    Case("transpose-negative", lambda L, x: x.transpose(-1, -2), (S,)),
    Case("T", lambda L, x: x.T, ((3, 4),)),
    Case("mT", lambda L, x: x.mT, (S,)),
    Case("flatten", lambda L, x: x.flatten(), (S,)),
    Case("flatten-1", lambda L, x: x.flatten(1), (S,)),
    Case("flatten-0-1", lambda L, x: x.flatten(0, 1), (S,)),
    Case("squeeze", lambda L, x: x.squeeze(), ((2, 1, 3, 1),)),
    Case("squeeze-dim", lambda L, x: x.squeeze(1), ((2, 1, 3, 1),)),
    Case("squeeze-dim-negative", lambda L, x: x.squeeze(-1), ((2, 1, 3, 1),)),
    Case("squeeze-not-one", lambda L, x: x.squeeze(0), ((2, 1, 3),)),
    Case("unsqueeze0", lambda L, x: x.unsqueeze(0), ((2, 3),)),
    Case("unsqueeze-1", lambda L, x: x.unsqueeze(-1), ((2, 3),)),
    Case("expand", lambda L, x: x.expand(2, 3, 4), ((3, 1),)),
    Case("expand-minus1", lambda L, x: x.expand(4, -1, 5), ((3, 1),)),
    Case("broadcast_to", lambda L, x: x.broadcast_to((2, 3, 4)), ((4,),)),
    Case("broadcast_to-scalar", lambda L, x: x.broadcast_to((2, 3)), ((),)),
    Case("sum_to_size", lambda L, x: x.sum_to_size(3, 1), ((2, 3, 4),)),
    Case("to-longdouble", lambda L, x: x.to(np.longdouble) * 3, (U,), torch=False),
]

# --- indexing -----------------------------------------------------------------------
X = (4, 3)
MASK = np.array([[True, False, True], [False, False, True],
                 [True, True, False], [False, True, False]])
CASES += [
    Case("index-int", lambda L, x: x[1], (X,)),
    Case("index-negative-int", lambda L, x: x[-1], (X,)),
    Case("index-two-ints", lambda L, x: x[2, -1], (X,)),
    Case("index-slice", lambda L, x: x[1:3], (X,)),
    Case("index-slice-step", lambda L, x: x[::2, 1:], (X,)),
    Case("index-None", lambda L, x: x[None, :, None], (X,)),
    Case("index-Ellipsis", lambda L, x: x[..., 1], (S,)),
    Case("index-Ellipsis-None", lambda L, x: x[0, ..., None], (S,)),
    Case("index-negative-step", lambda L, x: flip(L, x, 0), (X,)),
    Case("index-negative-step-2", lambda L, x: x[::-2, 1], (X,), torch=False),
    Case("index-int-list", lambda L, x: x[[0, 2, 3]], (X,)),
    Case("index-repeated", lambda L, x: x[[0, 0, 1]], (X,)),
    Case("index-repeated-2d-array", lambda L, x: x[np.array([[0, 1], [1, 1]])], (X,)),
    Case("index-negative-ints", lambda L, x: x[[-1, -1, 0]], (X,)),
    Case("index-pairs", lambda L, x: x[[0, 1, 0], [2, 2, 2]], (X,)),
    Case("index-int-then-list", lambda L, x: x[1, [2, 2, 0]], (X,)),
    Case("index-ellipsis-list", lambda L, x: x[..., [0, 0]], (S,)),
    Case("index-list-slice", lambda L, x: x[[3, 0, 3], 1:], (X,)),
    Case("index-slice-list", lambda L, x: x[1:, [1, 1]], (X,)),
    Case("index-bool-mask", lambda L, x: x[L.tensor(MASK)], (X,)),
    Case("index-bool-numpy-mask", lambda L, x: x[MASK], (X,), torch=False),
    Case("index-bool-rows", lambda L, x: x[L.tensor([True, False, True, True])], (X,)),
    Case("index-comparison-mask", lambda L, x: x[x > 0], (X,)),
    Case("index-tensor", lambda L, x: x[L.tensor([3, 1, 1])], (X,)),
    Case("index-tensor-pair", lambda L, x: x[L.tensor([0, 1]), L.tensor([2, 0])], (X,)),
    Case("index-mixed", lambda L, x: x[None, 1:, [0, 2]][..., 1], (X,)),
    Case("index-iterate", lambda L, x: L.stack(list(x)[::-1]), (X,)),
    Case("scatter_add", lambda L, x: x._scatter_add_at((np.array([0, 0, 2]),), (4, 3)), ((3, 3),),
         torch=False),
    Case("masked_fill", lambda L, x: x.masked_fill(L.tensor(MASK), 0.5), (X,)),
]

# --- a few compositions that exercise several ops and reuse inputs ----------------
CASES += [
    Case("mlp", lambda L, x, w, b: (x @ w + b).tanh().sum(dim=1).log_softmax(dim=0),
         ((5, 3), (3, 4), (4,))),
    Case("x*x+x", lambda L, x: x * x + x, (U,)),
    Case("diamond", lambda L, x: (x.exp() + x.sin()) * (x.exp() - x.cos()), (U,)),
]


def ids(cases):
    return [c.id for c in cases]


SMOOTH = [c for c in CASES if c.smooth]


def test_case_ids_are_unique():
    assert len(set(ids(CASES))) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_gradcheck(case, randt):
    xs = make_inputs(randt, case.specs)
    assert tg.gradcheck(lambda *a: case.fn(tg, *a), xs)


@pytest.mark.parametrize("case", SMOOTH, ids=ids(SMOOTH))
def test_gradgradcheck(case, randt):
    xs = make_inputs(randt, case.specs)
    assert tg.gradgradcheck(lambda *a: case.fn(tg, *a), xs)


def sum_to(array, shape):
    """NumPy reference for undoing broadcasting: sum `array` down to `shape`."""
    array = array.sum(axis=tuple(range(array.ndim - len(shape))))
    return array.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize("sa,sb", BROADCAST_PAIRS, ids=[pair_id(a, b) for a, b in BROADCAST_PAIRS])
def test_broadcast_gradients_are_summed_back_to_each_inputs_shape(sa, sb, randt):
    a, b = randt(*sa), randt(*sb)
    (a * b).sum().backward()
    out_shape = np.broadcast_shapes(sa, sb)
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), sum_to(np.broadcast_to(b.numpy(), out_shape), sa))
    np.testing.assert_allclose(b.grad.numpy(), sum_to(np.broadcast_to(a.numpy(), out_shape), sb))


# --- values at kinks and bounds (documented choices; gradcheck avoids them) --------

def grad_of(fn, values):
    x = tg.tensor(values, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def test_relu_and_abs_have_zero_gradient_at_zero():
    assert grad_of(lambda x: x.relu(), [0.0, -1.0, 2.0]).tolist() == [0.0, 0.0, 1.0]
    assert grad_of(lambda x: x.abs(), [0.0, -1.0, 2.0]).tolist() == [0.0, -1.0, 1.0]


def test_clip_passes_the_gradient_at_the_bounds():
    # as PyTorch: the gradient is 1 where min <= x <= max, bounds included
    g = grad_of(lambda x: x.clip(0.0, 1.0), [-1.0, 0.0, 0.5, 1.0, 2.0])
    assert g.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    g = grad_of(lambda x: x.clamp(min=0.0), [-1.0, 0.0, 3.0])
    assert g.tolist() == [0.0, 1.0, 1.0]


def test_clip_with_tensor_bounds_differentiates_the_bounds():
    x = tg.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    lo = tg.tensor(0.0, requires_grad=True)
    hi = tg.tensor(1.0, requires_grad=True)
    x.clip(lo, hi).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]
    assert lo.grad.item() == 1.0 and hi.grad.item() == 1.0


def test_max_and_min_split_ties_evenly():
    assert grad_of(lambda x: x.max(), [1.0, 3.0, 3.0]).tolist() == [0.0, 0.5, 0.5]
    np.testing.assert_allclose(grad_of(lambda x: x.min(), [2.0, 2.0, 2.0, 5.0]),
                               [1 / 3, 1 / 3, 1 / 3, 0.0])
    g = grad_of(lambda x: x.amax(axis=1), [[1.0, 1.0], [0.0, 2.0]])
    assert g.tolist() == [[0.5, 0.5], [0.0, 1.0]]
    # max(dim) is PyTorch's: the whole gradient goes to the returned (first) index
    g = grad_of(lambda x: x.max(1).values, [[1.0, 1.0], [0.0, 2.0]])
    assert g.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_maximum_and_minimum_split_ties_evenly():
    a = tg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    b = tg.tensor([1.0, 0.0, 5.0], requires_grad=True)
    tg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0, 0.0] and b.grad.tolist() == [0.5, 0.0, 1.0]
    a.grad = b.grad = None
    tg.minimum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]


def test_pow_zero_exponent_has_zero_gradient_even_at_zero():
    assert grad_of(lambda x: x ** 0, [0.0, 2.0]).tolist() == [0.0, 0.0]


def test_repeated_index_accumulates():
    g = grad_of(lambda x: x[[0, 0, 1]], [10.0, 20.0, 30.0])
    assert g.tolist() == [2.0, 1.0, 0.0]
    g = grad_of(lambda x: x[np.array([2, 2, 2, 0])], [1.0, 2.0, 3.0])
    assert g.tolist() == [1.0, 0.0, 3.0]


def test_forward_values_match_numpy(randt):
    x = randt(2, 3, 4)
    d = x.numpy()
    np.testing.assert_allclose(x.var(axis=(0, 2), correction=0).numpy(), d.var(axis=(0, 2)))
    np.testing.assert_allclose(x.std(axis=1).numpy(), d.std(axis=1, ddof=1))
    np.testing.assert_allclose(x.logsumexp(-1).numpy(), np.log(np.exp(d).sum(-1)))
    np.testing.assert_allclose(x.softmax(1).numpy(), np.exp(d) / np.exp(d).sum(1, keepdims=True))
    np.testing.assert_allclose(x.log_softmax(0).numpy(),
                               d - np.log(np.exp(d).sum(0, keepdims=True)))
    np.testing.assert_allclose(x.leaky_relu(0.2).numpy(), np.where(d > 0, d, 0.2 * d))
    np.testing.assert_array_equal(x[::-1, ..., [0, 0]].numpy(), d[::-1, ..., [0, 0]])
    np.testing.assert_array_equal(x.transpose(0, 2).numpy(), d.swapaxes(0, 2))
    np.testing.assert_array_equal(x.argmax(1).numpy(), d.argmax(1))
    np.testing.assert_array_equal(x.argmin(dim=2, keepdim=True).numpy(),
                                  d.argmin(2, keepdims=True))
