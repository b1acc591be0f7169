"""PyTorch's Tensor basics: size() and friends, t, clone, to/type and the dtype
names, new_*, add/sub with alpha, and the constructors, checked against torch."""
import numpy as np
import pytest

import tinygrad_edu as tg

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


def test_size_is_a_method_returning_the_shape():
    x = tg.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and isinstance(x.size(), tuple) and isinstance(x.size(), tg.Size)
    assert x.size(0) == 2 and x.size(-1) == 4
    assert repr(x.size()) == "Size([2, 3, 4])" and x.size().numel() == 24
    assert x.numel() == x.nelement() == 24 and x.dim() == x.ndimension() == 3
    assert tg.zeros(()).size() == () and tg.zeros(()).numel() == 1
    with pytest.raises(IndexError, match="size: axis 3 is out of range"):
        x.size(3)
    with pytest.raises(IndexError, match="size: dim 0 given, but the tensor has no dims"):
        tg.zeros(()).size(0)


@needs_torch
def test_size_and_t_agree_with_torch():
    for shape in [(), (3,), (2, 3)]:
        a = np.arange(float(np.prod(shape))).reshape(shape)
        ours, theirs = tg.tensor(a), torch.tensor(a)
        assert ours.size() == tuple(theirs.size()) and ours.numel() == theirs.numel()
        np.testing.assert_array_equal(ours.t().numpy(), theirs.t().numpy())
    with pytest.raises(ValueError, match="t: expects a tensor with <= 2 dims"):
        tg.zeros(2, 3, 4).t()


def test_t_and_clone_are_differentiable():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    w = tg.tensor([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]])
    (x.t() * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), w.numpy().T)
    assert tg.gradcheck(lambda a: (a.clone() * a).sum(), [tg.randn(3, requires_grad=True)])
    assert tg.gradgradcheck(lambda a: (a.clone() ** 2).sum(), [tg.randn(3, requires_grad=True)])
    c = x.clone()
    assert c.requires_grad and not c.is_leaf
    n = tg.tensor([-0.0, np.nan, 1.0])
    c = n.clone()
    c[2] = 5.0   # its own memory
    assert n[2].item() == 1.0 and np.signbit(c[0].item()) and np.isnan(c[1].item())
    with tg.no_grad():
        assert not x.clone().requires_grad


def test_contiguous():
    x = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert x.is_contiguous() and x.contiguous() is x
    y = x.T
    assert not y.is_contiguous()
    c = y.contiguous()
    assert c.is_contiguous() and c.shape == (3, 2)
    c[0, 0] = 100.0   # a copy, as PyTorch: the original is unchanged
    assert x[0, 0].item() == 0.0
    assert isinstance(x.data_ptr(), int)


def test_dtype_names_and_conversions():
    assert tg.float is np.float32 and tg.double is np.float64 and tg.long is np.int64
    assert tg.int is np.int32 and tg.bool is np.bool_ and tg.half is np.float16
    x = tg.tensor([1.5, -2.0, 0.0], dtype=tg.float32)
    assert x.dtype == tg.float32
    assert x.long().dtype == np.int64 and x.long().tolist() == [1, -2, 0]
    assert x.int().dtype == np.int32 and x.bool().tolist() == [True, True, False]
    assert x.double().dtype == np.float64 and x.half().dtype == np.float16
    assert x.element_size() == 4 and x.double().element_size() == 8
    assert x.is_floating_point() and not x.long().is_floating_point()
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type(tg.float64).dtype == np.float64
    assert x.type("torch.LongTensor").dtype == np.int64
    with pytest.raises(TypeError, match="type: unknown tensor type"):
        x.type("torch.FooTensor")
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([1, 2], dtype=tg.float).dtype == np.float32


def test_to_and_devices():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert x.to("cpu") is x and x.cpu() is x and x.to(tg.device("cpu")) is x
    assert x.to(tg.float64) is x and x.to("cpu", tg.float64) is x
    y = x.to(tg.float32)
    assert y.dtype == np.float32 and y.requires_grad
    assert x.to(tg.zeros(1, dtype=tg.float32)).dtype == np.float32
    assert x.to(dtype=tg.float32, device="cpu").dtype == np.float32
    c = x.to("cpu", copy=True)
    assert c is not x and c.requires_grad
    assert x.device == "cpu" and x.device == tg.device("cpu") and str(x.device) == "cpu"
    assert repr(tg.device("cuda:1")) == "device(type='cuda', index=1)"
    with pytest.raises(RuntimeError, match="to: device 'cuda' is not available"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="to: device 'cuda:0'"):
        x.to(0)
    with pytest.raises(RuntimeError, match="cuda: tinygrad_edu computes with NumPy"):
        x.cuda()
    with pytest.raises(RuntimeError, match="zeros: device 'mps'"):
        tg.zeros(2, device="mps")
    (y.double() * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_new_methods_take_dtype_not_requires_grad():
    x = tg.tensor([1.0, 2.0], dtype=tg.float32, requires_grad=True)
    for t in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_empty(2, 3), x.new_full((2, 3), 7)):
        assert t.shape == (2, 3) and t.dtype == np.float32 and not t.requires_grad
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_tensor([1, 2]).dtype == np.float32
    assert x.new_zeros(2, dtype=tg.int64).dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad


@needs_torch
def test_add_sub_mul_div_methods_match_torch():
    a, b = np.array([1.0, -2.0, 3.5]), np.array([0.5, 4.0, -1.0])
    A, B = torch.tensor(a), torch.tensor(b)
    x, y = tg.tensor(a), tg.tensor(b)
    np.testing.assert_allclose(x.add(y, alpha=2).numpy(), A.add(B, alpha=2).numpy())
    np.testing.assert_allclose(x.sub(y, alpha=-3).numpy(), A.sub(B, alpha=-3).numpy())
    np.testing.assert_allclose(x.add(2).numpy(), A.add(2).numpy())
    np.testing.assert_allclose(x.mul(y).numpy(), A.mul(B).numpy())
    np.testing.assert_allclose(x.div(y).numpy(), A.div(B).numpy())
    with pytest.raises(NotImplementedError, match="div: rounding_mode='floor'"):
        x.div(y, rounding_mode="floor")
    xs = tg.tensor(a, requires_grad=True)
    ys = tg.tensor(b, requires_grad=True)
    assert tg.gradcheck(lambda p, q: p.add(q, alpha=2.5).sub(p.mul(q), alpha=0.5).div(q), [xs, ys])


@needs_torch
def test_constructors_match_torch():
    np.testing.assert_allclose(tg.linspace(-1, 2, 7).numpy(),
                               torch.linspace(-1, 2, 7, dtype=torch.float64).numpy())
    np.testing.assert_allclose(tg.logspace(0, 3, 4, base=2.0).numpy(),
                               torch.logspace(0, 3, 4, base=2.0, dtype=torch.float64).numpy())
    assert tg.linspace(0, 1, 1).tolist() == [0.0] and tg.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(ValueError, match="linspace: sizes can't be negative"):
        tg.linspace(0, 1, -1)
    assert tg.empty(2, 3).shape == (2, 3) and tg.empty(2, dtype=tg.int64).dtype == np.int64
    x = tg.tensor([[1, 2, 3]])
    assert tg.full_like(x, 7).tolist() == [[7, 7, 7]] and tg.full_like(x, 7).dtype == np.int64
    assert tg.full_like(x, 2.5, dtype=tg.float32).dtype == np.float32
    assert tg.zeros_like(x, dtype=tg.float64).dtype == np.float64
    assert tg.ones_like(x).dtype == np.int64 and tg.empty_like(x).shape == (1, 3)
    assert tg.full((2,), True).dtype == np.bool_
    for make in (tg.zeros, tg.ones, tg.empty):
        assert make(2, requires_grad=True).requires_grad
    for make in (tg.zeros_like, tg.ones_like, tg.empty_like):
        assert make(tg.zeros(2), requires_grad=True).requires_grad
    assert tg.full((2,), 1.0, requires_grad=True).requires_grad
    assert tg.linspace(0, 1, 3, requires_grad=True).requires_grad
    assert tg.arange(3.0, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="requires_grad: only floating point"):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)


def test_from_numpy_shares_memory():
    a = np.arange(4.0)
    t = tg.from_numpy(a)
    a[0] = 10.0
    assert t[0].item() == 10.0
    t[1] = 20.0
    assert a[1] == 20.0
    assert tg.from_numpy(np.arange(3)).dtype == np.int64
    with pytest.raises(TypeError, match="from_numpy: expected a np.ndarray"):
        tg.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="from_numpy: can't make a tensor of dtype complex128"):
        tg.from_numpy(np.zeros(2, dtype=complex))


@needs_torch
def test_allclose_isclose_equal_match_torch():
    a = np.array([1.0, np.nan, 2.0, 1e-9])
    b = np.array([1.0 + 1e-6, np.nan, 2.1, 0.0])
    for equal_nan in (False, True):
        np.testing.assert_array_equal(
            tg.isclose(tg.tensor(a), tg.tensor(b), equal_nan=equal_nan).numpy(),
            torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=equal_nan).numpy())
    assert tg.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-7]))
    assert not tg.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.1]))
    assert tg.allclose(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.1]), atol=0.2)
    assert tg.allclose(tg.tensor([np.nan]), tg.tensor([np.nan]), equal_nan=True)
    assert tg.equal(tg.tensor([1, 2]), tg.tensor([1, 2]))
    assert not tg.equal(tg.zeros(2), tg.zeros(3))
    assert not tg.equal(tg.tensor([np.nan]), tg.tensor([np.nan]))
    assert isinstance(tg.allclose(tg.zeros(1), tg.zeros(1)), bool)
