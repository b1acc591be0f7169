"""tg.exp(x) and friends: each equals its Tensor method, and torch.* on a sample."""
import numpy as np
import pytest

import tinygrad_edu as tg

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")

A = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
POS = np.abs(A) + 0.1
B = np.array([[1.0, 2.0, -0.5], [0.25, -3.0, 1.0]])

# (name, function args after the tensor, method call); each is checked both ways
UNARY = [
    ("abs", (), lambda x: x.abs()), ("exp", (), lambda x: x.exp()),
    ("log", (), lambda x: x.log()), ("sqrt", (), lambda x: x.sqrt()),
    ("tanh", (), lambda x: x.tanh()), ("sigmoid", (), lambda x: x.sigmoid()),
    ("relu", (), lambda x: x.relu()), ("sin", (), lambda x: x.sin()),
    ("cos", (), lambda x: x.cos()), ("neg", (), lambda x: -x),
    ("sign", (), lambda x: x.sign()), ("isfinite", (), lambda x: x.isfinite()),
    ("clamp", (0.2, 1.0), lambda x: x.clamp(0.2, 1.0)), ("clip", (None, 1.0), lambda x: x.clip(None, 1.0)),
    ("pow", (3,), lambda x: x ** 3),
    ("sum", (), lambda x: x.sum()), ("sum", (1, True), lambda x: x.sum(1, True)),
    ("mean", (0,), lambda x: x.mean(0)), ("amax", (1,), lambda x: x.amax(1)),
    ("amin", ((0, 1),), lambda x: x.amin((0, 1))), ("max", (), lambda x: x.max()),
    ("min", (), lambda x: x.min()),
    ("var", (1,), lambda x: x.var(1)), ("std", (0,), lambda x: x.std(0)),
    ("logsumexp", (1,), lambda x: x.logsumexp(1)), ("softmax", (1,), lambda x: x.softmax(1)),
    ("log_softmax", (0,), lambda x: x.log_softmax(0)),
    ("argmax", (1,), lambda x: x.argmax(1)), ("argmin", (), lambda x: x.argmin()),
    ("all", (), lambda x: x.all()), ("any", (1,), lambda x: x.any(1)),
    ("reshape", ((3, 2),), lambda x: x.reshape(3, 2)), ("flatten", (), lambda x: x.flatten()),
    ("squeeze", (), lambda x: x.squeeze()), ("unsqueeze", (1,), lambda x: x.unsqueeze(1)),
    ("transpose", (0, 1), lambda x: x.transpose(0, 1)), ("permute", ((1, 0),), lambda x: x.permute(1, 0)),
    ("t", (), lambda x: x.t()), ("broadcast_to", ((4, 2, 3),), lambda x: x.broadcast_to(4, 2, 3)),
    ("clone", (), lambda x: x.clone()),
]


@pytest.mark.parametrize("name,args,method", UNARY, ids=[f"{c[0]}{c[1]}" for c in UNARY])
def test_function_equals_method_values_and_gradients(name, args, method):
    x1 = tg.tensor(POS if name in ("log", "sqrt") else A, requires_grad=True)
    x2 = tg.tensor(x1.numpy().copy(), requires_grad=True)
    f, m = getattr(tg, name)(x1, *args), method(x2)
    np.testing.assert_array_equal(f.numpy(), m.numpy())
    assert f.dtype == m.dtype
    if f.requires_grad:
        g = np.linspace(-1, 1, f.numel()).reshape(f.shape)
        f.backward(tg.tensor(g))
        m.backward(tg.tensor(g))
        np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())


def test_binary_functions_equal_methods():
    x, y = tg.tensor(A), tg.tensor(B)
    np.testing.assert_array_equal(tg.add(x, y, alpha=2).numpy(), x.add(y, alpha=2).numpy())
    np.testing.assert_array_equal(tg.sub(x, y, alpha=3).numpy(), x.sub(y, alpha=3).numpy())
    np.testing.assert_array_equal(tg.mul(x, y).numpy(), (x * y).numpy())
    np.testing.assert_array_equal(tg.div(x, y).numpy(), (x / y).numpy())
    np.testing.assert_array_equal(tg.pow(x, y.abs()).numpy(), (x ** y.abs()).numpy())
    np.testing.assert_array_equal(tg.masked_fill(x, x.numpy() > 0, 0.0).numpy(),
                                  x.masked_fill(x.numpy() > 0, 0.0).numpy())
    np.testing.assert_array_equal(tg.max(x, y).numpy(), tg.maximum(x, y).numpy())
    np.testing.assert_array_equal(tg.min(x, y).numpy(), tg.minimum(x, y).numpy())
    values, indices = tg.max(x, 1)
    assert values.tolist() == x.max(1).values.tolist() and indices.tolist() == [2, 0]
    assert tg.min(x, dim=0, keepdim=True).indices.shape == (1, 3)
    # a number first takes the tensor's dtype, as 2 - x does
    f = tg.tensor([1.0, 2.0], dtype=tg.float32)
    assert tg.sub(2, f).dtype == np.float32 and tg.sub(2, f).tolist() == [1.0, 0.0]
    assert tg.pow(2, f).tolist() == [2.0, 4.0]
    assert tg.numel(x) == 6 and tg.is_tensor(x) and not tg.is_tensor(A)
    assert tg.is_floating_point(x) and not tg.is_floating_point(tg.tensor([1]))
    assert tg.dot(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])).item() == 11.0
    with pytest.raises(RuntimeError, match="dot: input must be 1-D"):
        tg.dot(x, y)
    assert not tg.detach(tg.tensor([1.0], requires_grad=True)).requires_grad


def test_gradients_through_functions():
    x = tg.tensor(A, requires_grad=True)
    y = tg.tensor(B, requires_grad=True)
    assert tg.gradcheck(lambda a, b: tg.sum(tg.mul(tg.softmax(a, 1), tg.tanh(b))), [x, y])
    assert tg.gradgradcheck(lambda a: tg.logsumexp(tg.sub(a, tg.exp(a), alpha=0.5), 0), [x])


@needs_torch
@pytest.mark.parametrize("name,args", [
    ("exp", ()), ("sigmoid", ()), ("tanh", ()), ("abs", ()), ("sum", (1,)), ("mean", ()),
    ("amax", (0,)), ("var", (1,)), ("std", ()), ("logsumexp", (1,)), ("softmax", (0,)),
    ("log_softmax", (1,)), ("argmax", (1,)), ("clamp", (-0.5, 0.5)), ("flatten", ()),
    ("unsqueeze", (0,)), ("transpose", (0, 1)), ("permute", ((1, 0),)), ("t", ()),
    ("reshape", ((6,),)), ("neg", ()), ("clone", ()), ("pow", (2,)),
])
def test_functions_match_torch(name, args):
    ours = getattr(tg, name)(tg.tensor(A, requires_grad=True), *args)
    X = torch.tensor(A, requires_grad=True)
    theirs = getattr(torch, name)(X, *args)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert ours.shape == tuple(theirs.shape)


@needs_torch
def test_max_min_and_alpha_match_torch():
    X, Y = torch.tensor(A), torch.tensor(B)
    x, y = tg.tensor(A), tg.tensor(B)
    v, i = tg.max(x, 1, keepdim=True)
    V, I = torch.max(X, 1, keepdim=True)
    np.testing.assert_array_equal(v.numpy(), V.numpy())
    np.testing.assert_array_equal(i.numpy(), I.numpy())
    np.testing.assert_array_equal(tg.min(x, y).numpy(), torch.min(X, Y).numpy())
    np.testing.assert_allclose(tg.add(x, y, alpha=0.5).numpy(), torch.add(X, Y, alpha=0.5).numpy())
    np.testing.assert_allclose(tg.sub(x, y, alpha=2).numpy(), torch.sub(X, Y, alpha=2).numpy())
    assert tg.numel(x) == torch.numel(X)
