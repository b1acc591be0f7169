"""The Tensor contract: construction, dtypes, attributes, operators, repr, helpers."""
import numpy as np
import pytest

import tinygrad_edu as tg


# --- dtypes -----------------------------------------------------------------------

def test_python_floats_and_lists_become_float64():
    assert tg.tensor(1.5).dtype == np.float64
    assert tg.tensor([1.0, 2.0]).dtype == np.float64
    assert tg.Tensor([[1, 2.5]]).dtype == np.float64
    assert tg.tensor([1, 2]).dtype == np.int64


def test_float32_stays_float32():
    x = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    assert x.dtype == np.float32
    assert tg.tensor([1.0], dtype=tg.float32).dtype == np.float32
    results = [x * 2.0, x * np.float64(2), 2.0 - x, x / 3, x + 1, x ** 2, 2 ** x,
               x.exp(), x.sum(), x.mean(), x.var(), x.softmax(0), x.logsumexp(0),
               x.clip(0.0, 0.5), tg.maximum(x, 0.0), tg.where(x > 0, x, 0.0), x.leaky_relu()]
    for y in results:
        assert y.dtype == np.float32, y


def test_float32_gradients_are_float32():
    x = tg.tensor(np.arange(1, 4, dtype=np.float32), requires_grad=True)
    (x * 2.0 + x.exp() * np.float64(3)).sum().backward()
    assert x.grad.dtype == np.float32


def test_mixed_float32_and_float64_promotes_and_grads_keep_each_dtype():
    a = tg.tensor(np.ones(2, np.float32), requires_grad=True)
    b = tg.tensor(np.ones(2), requires_grad=True)
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_cast_between_float_dtypes_is_differentiable():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(np.float32)
    assert y.dtype == np.float32 and y.grad_fn.name == "Cast"
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [3.0, 3.0]
    assert x.float().dtype == np.float32 and x.float().double().dtype == np.float64
    assert x.to(np.float64) is x


def test_int_cast_cuts_the_graph():
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    y = x.to(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad


def test_integer_and_bool_tensors_cannot_require_grad():
    for values in ([1, 2], [True, False]):
        with pytest.raises(RuntimeError, match="floating point"):
            tg.tensor(values, requires_grad=True)


def test_object_arrays_are_rejected():
    with pytest.raises(TypeError, match="Tensor"):
        tg.tensor([1.0, "a", None])


# --- attributes and conversion ------------------------------------------------------

def test_attributes():
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True, name="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.dtype == np.float64 and x.is_leaf and x.grad is None and x.name == "x"
    assert x.T.shape == (3, 2)
    assert isinstance(x.data, tg.Tensor) and x.data.numpy() is x.numpy()


def test_constructor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = tg.tensor(a)
    a[0] = 99
    assert t.tolist() == [1.0, 2.0]


def test_item_float_int_bool():
    assert tg.tensor([[2.5]]).item() == 2.5
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3.0)) == 3
    assert bool(tg.tensor(1.0)) and not bool(tg.tensor(0.0))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        tg.tensor([1.0, 2.0]).item()
    with pytest.raises(ValueError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))


def test_np_asarray_of_a_tensor():
    x = tg.tensor([1.0, 2.0])
    assert np.asarray(x) is x.numpy()
    assert np.asarray(x, dtype=np.float32).dtype == np.float32


def test_iteration_and_len_of_scalars():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError):
        len(tg.tensor(1.0))
    with pytest.raises(TypeError):
        iter(tg.tensor(1.0))


# --- ndarray interop --------------------------------------------------------------------

def test_ndarray_on_the_left_gives_a_tensor_on_the_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    m = np.eye(2)
    for y in (a + x, a - x, a * x, a / x, a ** x, m @ x):
        assert isinstance(y, tg.Tensor) and y.requires_grad
    (a * x + m @ x).sum().backward()
    assert x.grad.tolist() == [4.0, 5.0]


def test_ndarray_on_the_right():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    y = x @ np.array([[1.0], [1.0]]) + np.array([1.0])
    assert isinstance(y, tg.Tensor) and y.tolist() == [[4.0]]


# --- hashing and comparisons ---------------------------------------------------------

def test_tensors_hash_by_identity_though_eq_is_elementwise():
    a = tg.tensor([1.0, 2.0])
    b = tg.tensor([1.0, 2.0])
    assert (a == b).tolist() == [True, True]
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b" and len({a, b, a}) == 2


def test_comparisons_return_bool_tensors_off_the_graph():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for m in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2, 2 < x):
        assert isinstance(m, tg.Tensor) and m.dtype == np.bool_ and not m.requires_grad
    assert (x > 1).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert (~(x > 1) | (x > 2)).tolist() == [True, False, True]


# --- repr ------------------------------------------------------------------------------------

def test_repr():
    assert repr(tg.tensor([1.0, 2.0])) == "Tensor([1., 2.], dtype=float64)"
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "Tensor([1., 2.], dtype=float64, requires_grad=True)"
    assert repr(x * 2) == "Tensor([2., 4.], dtype=float64, grad_fn=<MulBackward>)"
    assert "grad_fn=<SumBackward>" in repr(x.sum())
    assert "float32" in repr(tg.tensor([1.0], dtype=np.float32))
    assert "name='w'" in repr(tg.tensor(1.0, name="w"))


# --- construction helpers --------------------------------------------------------------------

def test_constant_helpers():
    assert tg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert tg.zeros((2, 3)).shape == (2, 3)
    assert tg.ones(2).tolist() == [1.0, 1.0] and tg.ones(2).dtype == np.float64
    assert tg.full((2,), 7.0).tolist() == [7.0, 7.0] and tg.full(3, 1.0).shape == (3,)
    assert tg.arange(3).tolist() == [0, 1, 2]
    assert tg.arange(1, 2, 0.5).tolist() == [1.0, 1.5]
    assert tg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]] and tg.eye(2, 3).shape == (2, 3)
    x = tg.tensor(np.ones((2, 2), np.float32))
    assert tg.zeros_like(x).dtype == np.float32 and tg.ones_like(x).tolist() == [[1, 1], [1, 1]]
    assert tg.zeros(2, dtype=np.float32).dtype == np.float32
    assert tg.ones(3, requires_grad=True).requires_grad


def test_random_helpers_shapes_and_ranges():
    tg.manual_seed(0)
    assert tg.randn(2, 3).shape == (2, 3) and tg.randn((4,)).shape == (4,)
    r = tg.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1
    u = tg.uniform(-2.0, -1.0, (1000,))
    assert -2 <= u.numpy().min() and u.numpy().max() < -1
    n = tg.normal(5.0, 0.1, (1000,))
    assert abs(n.numpy().mean() - 5.0) < 0.05 and n.shape == (1000,)
    assert tg.randn(3, dtype=np.float32).dtype == np.float32
    assert tg.randn(3, requires_grad=True).requires_grad


def test_manual_seed_reproduces():
    def draw():
        return [tg.randn(3).numpy(), tg.rand(2).numpy(), tg.uniform(0, 1, (2,)).numpy(),
                tg.normal(0, 1, (2,)).numpy()]
    tg.manual_seed(123)
    first = draw()
    tg.manual_seed(123)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(124)
    assert not np.array_equal(tg.randn(3).numpy(), first[0])


def test_explicit_generator():
    a = tg.randn(4, generator=np.random.default_rng(7))
    b = tg.randn(4, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), np.random.default_rng(7).standard_normal(4))
    tg.manual_seed(0)
    before = tg.randn(2).numpy()
    tg.manual_seed(0)
    tg.rand(3, generator=np.random.default_rng(1))   # must not consume the global one
    np.testing.assert_array_equal(tg.randn(2).numpy(), before)


# --- errors name the op and the shapes -----------------------------------------------------

def test_bad_shapes_name_the_op():
    with pytest.raises(ValueError, match=r"MatMul.*\(2, 3\).*\(2, 3\)"):
        tg.ones(2, 3) @ tg.ones(2, 3)
    with pytest.raises(ValueError, match=r"Add.*\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)
    with pytest.raises(ValueError, match="Reshape"):
        tg.ones(2, 3).reshape(4, 2)
    with pytest.raises(ValueError, match="MatMul"):
        tg.ones(2) @ tg.tensor(2.0)
    with pytest.raises(ValueError, match="permute"):
        tg.ones(2, 3).permute(0, 0)
    with pytest.raises(IndexError, match="axis 3"):
        tg.ones(2, 3).sum(3)
    with pytest.raises(ValueError, match="stack"):
        tg.stack([tg.ones(2), tg.ones(3)])
    with pytest.raises(ValueError, match="cat"):
        tg.cat([])


def test_numpy_conversion_shares_or_copies_as_asked():
    t = tg.tensor([1.0, 2.0])
    assert np.asarray(t) is t.numpy()              # a view for np.asarray
    copied = np.array(t)                        # NumPy 2 asks for a copy here
    copied[0] = 9.0
    assert t.numpy()[0] == 1.0
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
