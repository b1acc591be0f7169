"""shapes.py against PyTorch (float64 values and gradients), finite differences, and
PyTorch's errors: repeat, roll, flip, split, gather, scatter, pad, ..."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import shapes

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


def I(L, values):
    """An int64 index tensor of the library L (tg or torch)."""
    return L.tensor(np.asarray(values, dtype=np.int64))


def M(L, values):
    return L.tensor(np.asarray(values, dtype=bool))


def PAD(L):
    return shapes if L is tg else TF


# (id, fn(L, *inputs), input shapes). fn returns a tensor or a tuple of tensors.
CASES = [
    ("repeat", lambda L, x: x.repeat(2, 1, 3), [(2, 3)]),
    ("repeat-0d", lambda L, x: x.repeat(3, 2), [()]),
    ("repeat-zero", lambda L, x: x.repeat(0, 2), [(2, 3)]),
    ("tile-short", lambda L, x: L.tile(x, (2,)), [(2, 3)]),
    ("tile-long", lambda L, x: x.tile(2, 1, 2), [(2, 3)]),
    ("repeat_interleave-int", lambda L, x: L.repeat_interleave(x, 2), [(2, 3)]),
    ("repeat_interleave-dim", lambda L, x: x.repeat_interleave(I(L, [1, 0, 3]), dim=-1), [(2, 3)]),
    ("repeat_interleave-one", lambda L, x: x.repeat_interleave(I(L, [2]), dim=0), [(2, 3)]),
    ("roll-flat", lambda L, x: L.roll(x, 4), [(2, 3)]),
    ("roll-dims", lambda L, x: x.roll((1, -5), (0, -1)), [(3, 4)]),
    ("roll-empty", lambda L, x: x.roll(2, 1), [(3, 0)]),
    ("flip", lambda L, x: L.flip(x, (0, -1)), [(2, 3, 4)]),
    ("flip-method", lambda L, x: x.flip(1), [(2, 3, 4)]),
    ("flip-none", lambda L, x: L.flip(x, ()) * 1, [(2, 3)]),
    ("fliplr", lambda L, x: L.fliplr(x), [(2, 3, 2)]),
    ("flipud", lambda L, x: x.flipud(), [(3,)]),
    ("rot90", lambda L, x: L.rot90(x), [(2, 3)]),
    ("rot90-k2", lambda L, x: x.rot90(2, (2, 0)), [(2, 3, 4)]),
    ("rot90-k-1", lambda L, x: x.rot90(-1, (1, -1)), [(2, 3, 4)]),
    ("rot90-k4", lambda L, x: x.rot90(4) * 1, [(2, 3)]),
    ("movedim", lambda L, x: L.movedim(x, 0, -1), [(2, 3, 4)]),
    ("movedim-tuple", lambda L, x: x.movedim((0, 3), (2, 0)), [(2, 3, 4, 5)]),
    ("moveaxis", lambda L, x: L.moveaxis(x, (-1, 1), (0, 2)), [(2, 3, 4)]),
    ("swapaxes", lambda L, x: L.swapaxes(x, 0, -1), [(2, 3, 4)]),
    ("swapdims", lambda L, x: x.swapdims(1, 2), [(2, 3, 4)]),
    ("ravel", lambda L, x: L.ravel(x.transpose(0, 1)), [(2, 3)]),
    ("narrow", lambda L, x: L.narrow(x, 1, 1, 2), [(2, 4)]),
    ("narrow-negative", lambda L, x: x.narrow(-1, -3, 3), [(2, 4)]),
    ("narrow-empty", lambda L, x: x.narrow(0, 2, 0), [(2, 4)]),
    ("unflatten", lambda L, x: L.unflatten(x, 1, (2, -1)), [(3, 6)]),
    ("unflatten-method", lambda L, x: x.unflatten(-1, (3, 1, 2)), [(3, 6)]),
    ("atleast_1d", lambda L, x: L.atleast_1d(x), [()]),
    ("atleast_2d", lambda L, x, y: L.atleast_2d(x, y), [(3,), (2, 2)]),
    ("atleast_3d", lambda L, x, y, z: L.atleast_3d([x, y, z]), [(), (3,), (2, 4)]),
    ("diff", lambda L, x: L.diff(x), [(3, 5)]),
    ("diff-n2-dim0", lambda L, x: x.diff(2, 0), [(4, 3)]),
    ("diff-too-many", lambda L, x: x.diff(7), [(2, 3)]),
    ("diff-prepend-append", lambda L, x, p, a: x.diff(1, 1, p, a), [(2, 3), (2, 1), (2, 2)]),
    ("split-int", lambda L, x: L.split(x, 2, 1), [(3, 5)]),
    ("split-sizes", lambda L, x: x.split([1, 0, 2], dim=-2), [(3, 5)]),
    ("split-empty-dim", lambda L, x: x.split(2), [(0, 2)]),
    ("tensor_split-sections", lambda L, x: L.tensor_split(x, 3, dim=1), [(2, 7)]),
    ("tensor_split-indices", lambda L, x: x.tensor_split([-2, 3, 9], 1), [(2, 7)]),
    ("tensor_split-tensor", lambda L, x: x.tensor_split(I(L, 4)), [(7,)]),
    ("chunk", lambda L, x: L.chunk(x, 3, -1), [(2, 5)]),
    ("chunk-fewer", lambda L, x: x.chunk(4), [(6, 2)]),
    ("chunk-empty", lambda L, x: x.chunk(3, 1), [(2, 0)]),
    ("unbind", lambda L, x: L.unbind(x, 1), [(2, 3)]),
    ("unbind-method", lambda L, x: x.unbind(-1), [(2, 3)]),
    ("hstack", lambda L, x, y: L.hstack([x, y]), [(2, 3), (2, 1)]),
    ("hstack-1d", lambda L, x, y: L.hstack((x, y)), [(), (3,)]),
    ("vstack", lambda L, x, y: L.vstack([x, y]), [(3,), (2, 3)]),
    ("row_stack", lambda L, x, y: L.row_stack([x, y]), [(3,), (3,)]),
    ("dstack", lambda L, x, y: L.dstack([x, y]), [(3,), (1, 3)]),
    ("column_stack", lambda L, x, y, z: L.column_stack([x, y, z]), [(2,), (2, 3), (2,)]),
    ("gather", lambda L, x: L.gather(x, 1, I(L, [[0, 0, 2], [1, 2, 1]])), [(2, 3)]),
    ("gather-dim0-small", lambda L, x: x.gather(0, I(L, [[2, 0], [2, 2], [0, 1], [1, 1]])),
     [(3, 4)]),
    ("gather-negative-dim", lambda L, x: x.gather(-1, I(L, np.zeros((2, 1, 0)))), [(2, 3, 2)]),
    ("scatter", lambda L, x, s: L.scatter(x, 1, I(L, [[2, 0], [1, 2]]), s), [(2, 3), (2, 2)]),
    ("scatter-value", lambda L, x: x.scatter(0, I(L, [[1, 1]]), 2.5), [(3, 2)]),
    ("scatter_add", lambda L, x, s: L.scatter_add(x, 0, I(L, [[1, 1], [0, 1], [1, 1]]), s),
     [(2, 2), (3, 2)]),
    ("scatter_add-method", lambda L, x, s: x.scatter_add(-1, I(L, [[3, 3, 0]]), s),
     [(2, 4), (1, 3)]),
    ("index_select", lambda L, x: L.index_select(x, 1, I(L, [2, 0, 2])), [(2, 3)]),
    ("index_select-0d", lambda L, x: x.index_select(0, I(L, 1)), [(2, 3)]),
    ("index_select-empty", lambda L, x: x.index_select(-1, I(L, [])), [(2, 3)]),
    ("index_add", lambda L, x, s: L.index_add(x, 1, I(L, [2, 0, 2]), s, alpha=1.5),
     [(2, 3), (2, 3)]),
    ("index_add-method", lambda L, x, s: x.index_add(0, I(L, [1, 1]), s), [(3,), (2,)]),
    ("masked_select", lambda L, x: L.masked_select(x, M(L, [[1, 0, 1], [0, 0, 1]])), [(2, 3)]),
    ("masked_select-broadcast", lambda L, x: x.masked_select(M(L, [[1], [0], [1]])), [(2, 1, 2)]),
    ("masked_fill-tensor-value", lambda L, x, v: L.masked_fill(x, M(L, [1, 0, 1]), v),
     [(2, 3), ()]),
    ("masked_fill-broadcast", lambda L, x: L.masked_fill(x, M(L, [[1, 0], [0, 1]]), -1.0),
     [(2,)]),
    ("take", lambda L, x: L.take(x, I(L, [[5, -1], [0, 0]])), [(2, 3)]),
    ("take-method", lambda L, x: x.take(I(L, [1, 1, 1])), [(3,)]),
    ("take_along_dim", lambda L, x: L.take_along_dim(x, I(L, [[0, -1]]), 1), [(3, 3)]),
    ("take_along_dim-broadcast", lambda L, x: x.take_along_dim(I(L, [[[1]], [[0]]]), dim=0),
     [(2, 3, 4)]),
    ("take_along_dim-flat", lambda L, x: L.take_along_dim(x, I(L, [[4], [0]])), [(2, 3)]),
    ("gather-0d", lambda L, x: L.gather(x, 0, I(L, [0, 0])), [()]),
    ("scatter-0d", lambda L, x, s: L.scatter(x, -1, I(L, 0), s), [(), ()]),
    ("scatter_add-0d", lambda L, x, s: x.scatter_add(0, I(L, [0, 0]), s), [(), (2,)]),
    ("index_select-0d-input", lambda L, x: x.index_select(0, I(L, [0])), [()]),
    ("index_add-0d", lambda L, x, s: x.index_add(0, I(L, 0), s, alpha=-2), [(), ()]),
    ("flip-keyword", lambda L, x: x.flip(dims=[0]) + L.flip(x, dims=(1,)), [(2, 3)]),
    ("tile-keyword", lambda L, x: x.tile(dims=(2,)) + x.tile(1, 2), [(2, 3)]),
    ("expand_as", lambda L, x, y: x.expand_as(y), [(3, 1), (2, 3, 4)]),
    ("view_as", lambda L, x, y: x.view_as(y), [(2, 6), (3, 4)]),
    ("reshape_as", lambda L, x, y: x.reshape_as(y), [(2, 6), (4, 3)]),
    ("view-minus-one", lambda L, x: x.view(-1), [(2, 3)]),
    ("squeeze-tuple", lambda L, x: x.squeeze((0, -1, 1)), [(1, 3, 1)]),
    ("pad-constant", lambda L, x: PAD(L).pad(x, (1, 2, 0, 1), value=3.0), [(2, 3)]),
    ("pad-crop", lambda L, x: PAD(L).pad(x, (-1, 2)), [(2, 3)]),
    ("pad-reflect", lambda L, x: PAD(L).pad(x, (2, 1), mode="reflect"), [(2, 3)]),
    ("pad-reflect-2d", lambda L, x: PAD(L).pad(x, (1, 2, 2, 0), mode="reflect"), [(1, 3, 4)]),
    ("pad-replicate", lambda L, x: PAD(L).pad(x, (3, 1, 0, 2), mode="replicate"), [(1, 2, 3)]),
    ("pad-circular", lambda L, x: PAD(L).pad(x, (2, 3), mode="circular"), [(2, 3)]),
    ("pad-circular-3d", lambda L, x: PAD(L).pad(x, (1, 0, 0, 2, 1, 1), mode="circular"),
     [(1, 2, 2, 3, 2)]),
]
IDS = [c[0] for c in CASES]


def outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def inputs(shapes_, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes_]


@needs_torch
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_values_and_gradients_match_torch(case):
    _, fn, specs = case
    values = inputs(specs)
    xs = [tg.tensor(v, requires_grad=True) for v in values]
    ts = [torch.tensor(v, requires_grad=True) for v in values]
    ours, theirs = outputs(fn(tg, *xs)), outputs(fn(torch, *ts))
    assert len(ours) == len(theirs)
    rng = np.random.default_rng(1)
    seeds = [rng.standard_normal(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape) and o.dtype == np.float64
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-15, atol=1e-15)
    loss_t = sum((t * torch.tensor(s)).sum() for t, s in zip(theirs, seeds))
    loss_o = sum((o * tg.tensor(s)).sum() for o, s in zip(ours, seeds))
    grads_t = torch.autograd.grad(loss_t, ts, allow_unused=True)
    grads_o = tg.grad(loss_o, xs, allow_unused=True)
    for g, h in zip(grads_o, grads_t):
        expected = np.zeros_like(values[0]) if h is None else h.numpy()
        got = np.zeros_like(expected) if g is None else g.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    _, fn, specs = case
    xs = [tg.tensor(v, requires_grad=True) for v in inputs(specs, seed=2)]
    assert tg.gradcheck(lambda *a: tuple(outputs(fn(tg, *a))), xs)


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in
                                  ("repeat", "roll-dims", "gather", "scatter", "pad-reflect",
                                   "index_add", "diff-n2-dim0")], ids=lambda c: c[0])
def test_gradgradcheck(case):
    _, fn, specs = case
    xs = [tg.tensor(v, requires_grad=True) for v in inputs(specs, seed=3)]
    assert tg.gradgradcheck(lambda *a: tuple(outputs(fn(tg, *a))) , xs)


# --- integer results, integer inputs ---------------------------------------------------

@needs_torch
def test_repeat_interleave_of_counts_is_int64():
    ours = tg.repeat_interleave(tg.tensor([2, 0, 3]))
    assert ours.dtype == np.int64
    assert ours.tolist() == torch.repeat_interleave(torch.tensor([2, 0, 3])).tolist()


@needs_torch
def test_integer_and_bool_tensors_keep_their_dtype():
    x = np.arange(12).reshape(3, 4)
    assert tg.tensor(x).roll(1, 0).dtype == np.int64
    assert tg.gather(tg.tensor(x), 1, tg.tensor([[0], [3], [1]])).tolist() == \
        torch.gather(torch.tensor(x), 1, torch.tensor([[0], [3], [1]])).tolist()
    b = [True, False, False, True]
    assert tg.diff(tg.tensor(b)).tolist() == torch.diff(torch.tensor(b)).tolist()
    assert tg.diff(tg.tensor(x), dim=0).tolist() == torch.diff(torch.tensor(x), dim=0).tolist()


def test_scatter_with_repeated_index_keeps_one_write_and_refuses_a_gradient():
    x = tg.zeros(3)
    src = tg.tensor([1.0, 2.0], requires_grad=True)
    out = tg.scatter(x, 0, tg.tensor([1, 1]), src.detach())
    assert out.tolist()[1] in (1.0, 2.0) and out.tolist()[0] == 0
    with pytest.raises(RuntimeError, match="scatter: index writes some element more than once"):
        tg.scatter(x, 0, tg.tensor([1, 1]), src)
    assert tg.scatter(x, 0, tg.tensor([1, 1]), 7.0).tolist() == [0.0, 7.0, 0.0]


@needs_torch
def test_scatter_from_a_larger_src_uses_its_leading_part():
    """PyTorch computes this, but its backward refuses a src larger than index; ours
    gives src's leading part gather(grad) and zeros elsewhere (gradcheck agrees)."""
    x, src = np.arange(9.0).reshape(3, 3), np.arange(8.0).reshape(2, 4) + 10
    fn = lambda L, x, s: x.scatter(0, I(L, [[1, 0, 2]]), s)
    ours = fn(tg, tg.tensor(x), tg.tensor(src))
    np.testing.assert_array_equal(ours.numpy(), fn(torch, torch.tensor(x), torch.tensor(src)))
    xs = [tg.tensor(x, requires_grad=True), tg.tensor(src, requires_grad=True)]
    assert tg.gradcheck(lambda a, b: fn(tg, a, b), xs)


@needs_torch
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_reduce_add_is_scatter_add():
    """PyTorch has no derivative for scatter(reduce='add'); ours is scatter_add's."""
    x, src = np.arange(3.0), np.array([1.5, 2.0, 4.0])
    ours = tg.tensor(x).scatter(0, tg.tensor([1, 1]), tg.tensor(src), reduce="add")
    theirs = torch.tensor(x).scatter(0, torch.tensor([1, 1]), torch.tensor(src), reduce="add")
    np.testing.assert_array_equal(ours.numpy(), theirs)
    value = tg.tensor(x).scatter(0, tg.tensor([2, 2]), value=0.5, reduce="add")
    assert value.tolist() == [0.0, 1.0, 3.0]
    xs = [tg.tensor(x, requires_grad=True), tg.tensor(src, requires_grad=True)]
    assert tg.gradcheck(lambda a, b: a.scatter(0, tg.tensor([1, 1]), b, reduce="add"), xs)


def test_scatter_gradient_to_the_overwritten_values_is_zero():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = tg.tensor([5.0], requires_grad=True)
    tg.scatter(x, 0, tg.tensor([2]), src).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 0.0] and src.grad.tolist() == [1.0]


def test_index_arrays_are_copied():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 0, 2])
    y = x.gather(0, index) * tg.tensor([1.0, 2.0, 3.0])
    z = x.index_add(0, index, tg.ones(3))
    index[:] = 1
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 3.0]
    assert z.tolist() == [3.0, 2.0, 4.0]


def test_split_pieces_are_views_of_the_input():
    x = tg.tensor(np.arange(6.0))
    a, b = x.split(3)
    assert np.shares_memory(a.numpy(), x.numpy()) and b.tolist() == [3.0, 4.0, 5.0]


@needs_torch
def test_masked_fill_converts_the_value_to_the_input_dtype():
    x = np.arange(4).reshape(2, 2)
    for value in (1.5, -2.7):
        ours = tg.masked_fill(tg.tensor(x), tg.tensor(x) > 1, value)
        theirs = torch.tensor(x).masked_fill(torch.tensor(x) > 1, value)
        assert ours.dtype == np.int64 and ours.tolist() == theirs.tolist()


def test_take_along_dim_refuses_indices_below_minus_the_size():
    """PyTorch wraps -4 round a dim of size 3 (to 2); that is no index, so we refuse it."""
    with pytest.raises(IndexError, match="take_along_dim: index -4"):
        tg.take_along_dim(tg.tensor(X), tg.tensor([[-4]]), 1)


def test_masked_fill_keeps_the_input_dtype():
    x = tg.tensor([1.0, 2.0], dtype=np.float32)
    out = tg.masked_fill(x, tg.tensor([True, False]), tg.tensor(5.0))
    assert out.dtype == np.float32 and out.tolist() == [5.0, 2.0]


# --- errors name the function ---------------------------------------------------------

X = np.arange(6.0).reshape(2, 3)

ERRORS = [
    (lambda L, x: x.repeat(2), RuntimeError, "repeat: 1 repeat sizes"),
    (lambda L, x: x.roll((1, 2), 0), RuntimeError, "roll: shifts"),
    (lambda L, x: x.roll(1, 2), IndexError, "roll: axis 2"),
    (lambda L, x: x.flip(0, -2), RuntimeError, "flip: dims"),
    (lambda L, x: L.fliplr(x[0]), RuntimeError, "fliplr"),
    (lambda L, x: x.rot90(1, (1, -1)), RuntimeError, "rot90: the rotation dims"),
    (lambda L, x: x.movedim((0, 1), (1, 1)), RuntimeError, "movedim: dims"),
    (lambda L, x: x.narrow(1, -4, 1), IndexError, "narrow: start -4"),
    (lambda L, x: x.narrow(1, 2, 2), RuntimeError, "narrow: start 2 \\+ length 2"),
    (lambda L, x: x.unflatten(1, (2, -1)), RuntimeError, "unflatten: sizes"),
    (lambda L, x: x.diff(-1), RuntimeError, "diff: order"),
    (lambda L, x: x.diff(prepend=L.tensor(1.0)), RuntimeError, "diff: prepend"),
    (lambda L, x: x.split(0, 1), RuntimeError, "split: split_size 0"),
    (lambda L, x: x.split([1, 1], 1), RuntimeError, "split: split sizes"),
    (lambda L, x: x.chunk(0), RuntimeError, "chunk: chunks"),
    (lambda L, x: x.tensor_split(0), RuntimeError, "tensor_split: sections"),
    (lambda L, x: x.gather(1, I(L, [[-1]])), IndexError, "gather: index -1 is out of bounds"),
    (lambda L, x: x.gather(1, I(L, [[3]])), IndexError, "gather: index 3"),
    (lambda L, x: x.gather(1, I(L, [0])), RuntimeError, "gather: index of shape"),
    (lambda L, x: x.gather(0, I(L, [[0, 0, 0, 0]])), RuntimeError, "gather: index of shape"),
    (lambda L, x: x.gather(0, L.tensor([[0.5]])), TypeError, "gather: index must be an integer"),
    (lambda L, x: x.scatter(0, I(L, [[0, 1]]), L.ones(1, 1)), RuntimeError, "scatter: index"),
    (lambda L, x: x.scatter(0, I(L, [[0]]), L.ones(1, 1), reduce="max"),
     NotImplementedError, "scatter: reduce='max'"),
    (lambda L, x: x.scatter_add(1, I(L, [[5]]), L.ones(1, 1)), IndexError, "scatter_add: index 5"),
    (lambda L, x: x.index_select(1, I(L, [-1])), IndexError, "index_select: index -1"),
    (lambda L, x: x.index_select(1, I(L, [[0]])), RuntimeError, "index_select: index must be 1-D"),
    (lambda L, x: x.index_add(1, I(L, [0]), L.ones(2, 2)), RuntimeError, "index_add: source"),
    (lambda L, x: x.masked_select(I(L, [1, 0, 1])), TypeError, "masked_select: mask must be"),
    (lambda L, x: L.masked_fill(x, M(L, [1, 0, 1]), L.ones(3)), RuntimeError,
     "masked_fill: value must be"),
    (lambda L, x: x.take(I(L, [6])), IndexError, "take: an index"),
    (lambda L, x: x[0, 0].split(1), RuntimeError, "split: expects a tensor with at least one"),
    (lambda L, x: x[0, 0].unbind(), RuntimeError, "unbind: expects a tensor with at least one"),
    (lambda L, x: x[0, 0].roll(1, 0), RuntimeError, "roll: expects a tensor with at least one"),
    (lambda L, x: x.diff(dim=0, append=L.ones(1, 2, dtype=L.float64)), RuntimeError,
     "diff: prepend and append need the input's shape"),
    (lambda L, x: x.scatter(1, I(L, [[0]]), L.ones(1, 1, dtype=L.float32)), RuntimeError,
     "scatter: src has dtype float32"),
    (lambda L, x: x.scatter_add(1, I(L, [[0]]), L.ones(1, 1, dtype=L.float32)), RuntimeError,
     "scatter_add: src has dtype float32"),
    (lambda L, x: x.index_add(1, I(L, [0]), L.ones(2, 1, dtype=L.float32)), RuntimeError,
     "index_add: source has dtype float32"),
    (lambda L, x: L.hstack(x), TypeError, "hstack: expected a non-empty list"),
    (lambda L, x: PAD(L).pad(x, (1,)), RuntimeError, "pad: padding"),
    (lambda L, x: PAD(L).pad(x, (3, 0), mode="reflect"), RuntimeError, "pad: reflect padding"),
    (lambda L, x: PAD(L).pad(x, (4, 0), mode="circular"), RuntimeError, "pad: circular padding"),
    (lambda L, x: PAD(L).pad(x, (1, 0), mode="foo"), NotImplementedError, "pad: unrecognised"),
]
ERROR_IDS = [e[2].replace("\\", "") for e in ERRORS]


@pytest.mark.parametrize("fn, error, message", ERRORS, ids=ERROR_IDS)
def test_bad_arguments_raise_an_error_naming_the_function(fn, error, message):
    with pytest.raises(error, match=message):
        fn(tg, tg.tensor(X, requires_grad=True))


@needs_torch
@pytest.mark.parametrize("fn, error, message", ERRORS, ids=ERROR_IDS)
def test_pytorch_refuses_the_same_calls(fn, error, message):
    """We refuse nothing that PyTorch accepts."""
    with pytest.raises(Exception):
        fn(torch, torch.tensor(X, requires_grad=True))
