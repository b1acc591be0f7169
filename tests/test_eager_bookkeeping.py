"""The eager path's cheaper bookkeeping keeps its meaning: backward lets go of each node
once it is done with it, unchanged inputs share one version tuple (a change is still
seen), and the fast paths of shape arguments and scalar operands give what the general
paths give."""
import gc
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd


def test_backward_lets_go_of_a_node_once_its_vjp_ran():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2.0
    b = a * 3.0
    c = b * 4.0
    loss = c.sum()
    gone = weakref.ref(b)
    del b, c
    seen = []
    # a's hook runs after b's VJP: nothing of the pass may hold b any more
    a.register_hook(lambda g: seen.append(gone() is None))
    gc.disable()   # reference counting alone must free it
    try:
        loss.backward()
    finally:
        gc.enable()
    assert seen == [True]
    assert np.array_equal(x.grad.numpy(), [24.0, 24.0])


def test_unchanged_inputs_share_one_version_tuple_and_a_change_is_still_seen():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0])
    assert autograd.input_versions((x, y)) is autograd.input_versions((y, x))
    assert autograd.input_versions((x,)) == (0,)
    z = x * y
    with tg.no_grad():
        y.add_(1.0)
    assert autograd.input_versions((x, y)) == (0, 1)
    assert autograd.input_versions((y,)) == (1,)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


def test_a_view_counts_the_version_of_its_base():
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    wt = w.T
    with tg.no_grad():
        w.mul_(2.0)
    assert autograd.input_versions((wt, wt)) == (1, 1)


@pytest.mark.parametrize("shape", [(4, 3), ((4, 3),), ([4, 3],), (np.int64(4), 3),
                                   ((np.int64(4), 3),)])
def test_shape_arguments_of_every_kind_give_a_tuple_of_ints(shape):
    t = tg.tensor(np.arange(12.0)).reshape(*shape)
    assert t.shape == (4, 3) and all(type(n) is int for n in t.shape)
    assert tg.tensor(5.0).reshape(()).shape == () and tg.tensor([5.0]).reshape().shape == ()


def test_bad_shape_arguments_still_raise_naming_the_op():
    t = tg.tensor(np.arange(6.0))
    with pytest.raises(TypeError, match="reshape: sizes must be ints"):
        t.reshape(True, 6)
    with pytest.raises(TypeError, match="reshape: sizes must be ints"):
        t.reshape((2.0, 3))


@pytest.mark.parametrize("dtype, scalar, expected", [
    (np.float32, 2.0, np.float32), (np.float32, 2, np.float32), (np.float64, 3, np.float64),
    (np.int64, 2, np.int64), (np.int64, 2.5, np.float64), (np.int32, 2.5, np.float64),
    (np.float32, np.float64(2.0), np.float32), (np.int64, True, np.int64)])
def test_a_python_scalar_takes_the_tensors_dtype_as_before(dtype, scalar, expected):
    t = tg.tensor(np.array([1, 2], dtype=dtype))
    out = t * scalar
    assert out.dtype == expected
    assert np.array_equal(out.numpy(), np.array([1, 2], dtype=dtype) * scalar)


def test_scalar_operands_match_torch_in_float64():
    torch = pytest.importorskip("torch")
    data = np.array([0.5, -1.5, 2.0])
    x = tg.tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    y = ((x * 2.0 + 1) / 3 - 0.5) ** 2
    ty = ((tx * 2.0 + 1) / 3 - 0.5) ** 2
    y.sum().backward()
    ty.sum().backward()
    assert np.allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=0)
    assert np.allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=0)


def test_the_fast_paths_pass_gradcheck():
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    f = lambda t: (t.reshape(3, 2) * 2.0 + 1).reshape((6,)).tanh()
    assert tg.gradcheck(f, (x,))
    assert tg.gradgradcheck(f, (x,))
