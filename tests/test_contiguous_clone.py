"""contiguous() returns row-major memory on every path; clone() copies every value exactly."""
import numpy as np
import pytest

import tinygrad_edu as tg


@pytest.mark.parametrize("requires_grad", [True, False])
def test_contiguous_of_a_transposed_tensor_is_row_major_and_passes_the_gradient(requires_grad):
    a = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=requires_grad)
    c = a.t().contiguous()
    assert c._data.flags.c_contiguous and c.is_contiguous()
    np.testing.assert_array_equal(c.numpy(), np.arange(12.0).reshape(3, 4).T)
    if requires_grad:
        weights = tg.tensor(np.random.default_rng(0).normal(size=(4, 3)))
        (c * weights).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), weights.numpy().T)
    assert a.contiguous() is a


def test_contiguous_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    a = tg.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    out = a.permute(2, 0, 1).contiguous().view(4, 6)
    ref = t.permute(2, 0, 1).contiguous().view(4, 6)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    g = np.random.default_rng(2).normal(size=(4, 6))
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


def test_clone_is_exact_and_its_gradient_passes_unchanged():
    x = tg.tensor([-0.0, np.nan, np.inf, 1.5], requires_grad=True)
    y = x.clone()
    assert y._data is not x._data
    assert np.array_equal(np.signbit(y.numpy()), np.signbit(x.numpy()))
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    g = tg.tensor([1.0, 2.0, 3.0, -0.0])
    y.backward(g)
    assert np.array_equal(np.signbit(x.grad.numpy()), np.signbit(g.numpy()))
    np.testing.assert_array_equal(x.grad.numpy(), g.numpy())
    assert tg.gradcheck(lambda t: t.clone() * t, (tg.randn(3, dtype=tg.float64, requires_grad=True),))
