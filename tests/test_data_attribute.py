"""t.data as in PyTorch: a tensor off the graph sharing t's memory (t.detach()).

The update line of every hand-written training loop, `p.data += -lr * p.grad`, and the
idioms around it (p.data.mul_, p.data.copy_, p.data[i] = v, p.data.std()) must do what
they do in PyTorch. One difference, on purpose: a change through t.data counts as a
change of t, so a backward that needs t's old values raises instead of using the new ones.
"""
import numpy as np
import pytest

import tinygrad_edu as tg

try:
    import torch
except ImportError:   # the oracle is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

VALUES = [[0.5, -1.25, 2.0], [3.0, 0.25, -0.75]]


def leaf(values=VALUES):
    return tg.tensor(values, requires_grad=True)


def both(values=VALUES):
    """The same parameter here and in PyTorch (float64)."""
    return leaf(values), torch.tensor(values, dtype=torch.float64, requires_grad=True)


# --- what .data is ------------------------------------------------------------------

def test_data_is_a_tensor_off_the_graph():
    p = leaf()
    y = p * 2
    for t in (p, y):
        d = t.data
        assert isinstance(d, tg.Tensor)
        assert not d.requires_grad and d.is_leaf and d.grad_fn is None and d.grad is None
        assert d.shape == t.shape and d.dtype == t.dtype
    assert p.requires_grad and p.is_leaf and y.grad_fn is not None   # t itself unchanged


def test_data_shares_memory_both_ways():
    p = leaf()
    d = p.data
    assert np.shares_memory(d.numpy(), p.numpy()) and d.numpy() is p.numpy()
    d[0, 1] = 7.0                        # through .data: p sees it
    assert p[0, 1].item() == 7.0
    with tg.no_grad():
        p[1, 2] = -9.0                   # through p: the earlier .data sees it
    assert d[1, 2].item() == -9.0


def test_numpy_is_the_shared_array():
    p = leaf()
    array = p.numpy()
    assert isinstance(array, np.ndarray) and p.data.numpy() is array
    array[0, 0] = 4.0
    assert p[0, 0].item() == 4.0


# --- the PyTorch idioms, against PyTorch -------------------------------------------

@needs_torch
def test_sgd_update_line_matches_torch_and_updates_in_place():
    p, pt = both()
    (p * p * p).sum().backward()
    (pt * pt * pt).sum().backward()
    array = p.numpy()
    lr = 0.1
    p.data += -lr * p.grad
    pt.data += -lr * pt.grad
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
    assert p.numpy() is array                       # the same memory, updated in place
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    p.data -= lr * p.grad.data                      # the other spelling
    pt.data -= lr * pt.grad.data
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())


@needs_torch
def test_in_place_methods_through_data_match_torch():
    p, pt = both()
    other = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    p.data.mul_(0.9)
    pt.data.mul_(0.9)
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
    p.data[0] = 1
    pt.data[0] = 1
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
    p.data.copy_(tg.tensor(other))
    pt.data.copy_(torch.tensor(other, dtype=torch.float64))
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
    p.data.zero_()
    pt.data.zero_()
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())
    assert p.requires_grad and p.is_leaf


@needs_torch
def test_reductions_of_data_are_pytorchs():
    p, pt = both()
    # unbiased, as torch's std (NumPy's ndarray.std would divide by n)
    assert p.data.std().item() == pytest.approx(pt.data.std().item(), rel=1e-15)
    assert p.data.std().item() != pytest.approx(np.std(p.numpy()), rel=1e-6)
    np.testing.assert_allclose(p.data.var(0).numpy(), pt.data.var(0).numpy(), rtol=1e-15)
    assert isinstance(p.data.sum(), tg.Tensor)
    assert float(p.data.sum()) == float(pt.data.sum())
    np.testing.assert_array_equal(p.data.T.numpy(), pt.data.T.numpy())


def test_comparisons_of_data_are_tensors():
    p = leaf()
    eq = p.data == p.data
    assert isinstance(eq, tg.Tensor) and eq.dtype == np.bool_ and eq.all().item()


def test_numpy_ufuncs_on_data_raise_loudly():
    p = leaf()
    with pytest.raises(TypeError):
        np.sign(p.data)
    np.testing.assert_array_equal(np.sign(p.numpy()), np.sign(np.array(VALUES)))
    np.testing.assert_array_equal(np.asarray(p.data), np.array(VALUES))


def test_zeroing_a_gradient_through_data():
    p = leaf()
    (p * 3).sum().backward()
    g = p.grad
    p.grad.data.zero_()
    assert p.grad is g and not p.grad.numpy().any()


# --- versions: a change through .data is a change of t ------------------------------

@pytest.mark.parametrize("change", [
    lambda p: p.data.__iadd__(1),
    lambda p: p.data.mul_(0.9),
    lambda p: p.data.copy_(tg.ones(2, 3)),
    lambda p: p.data.__setitem__(0, 1.0),
], ids=["iadd", "mul_", "copy_", "setitem"])
def test_a_change_through_data_bumps_the_version(change):
    p = leaf()
    before = p._version
    change(p)
    assert p._version > before


def test_backward_after_data_update_raises():
    p = leaf()
    y = (p * p).sum()            # Mul saves p
    p.data += 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_backward_through_a_view_after_data_update_raises():
    W = leaf()
    y = (W.T * W.T).sum()        # Mul saves W.T, a view of W
    W.data.mul_(0.5)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_data_of_a_view_counts_on_the_base():
    W = leaf()
    before = W._version
    W.T.data.mul_(2.0)
    assert W._version > before
    np.testing.assert_array_equal(W.numpy(), 2 * np.array(VALUES))


def test_backward_that_needs_no_old_values_still_works():
    p = leaf()
    y = (p + 1).sum()            # Add's gradient reads no inputs
    p.data += 1
    y.backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.ones((2, 3)))


def test_in_place_through_data_with_an_operand_that_requires_grad_says_what_to_do():
    p, q = leaf(), leaf()
    with pytest.raises(RuntimeError, match=r"detached tensor .*p.data \+= q.detach\(\)"):
        p.data += q
    p.data += q.detach()
    with tg.no_grad():
        p.data += q
    np.testing.assert_array_equal(p.numpy(), 3 * np.array(VALUES))


# --- the setter keeps its meaning ------------------------------------------------------

def test_setter_replaces_the_values_and_bumps_the_version():
    p = leaf()
    y = (p * p).sum()
    p.data = np.zeros((2, 3))
    assert p.requires_grad and p.is_leaf and not p.numpy().any()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()
    with pytest.raises(TypeError, match="data: expected numbers"):
        p.data = np.array(["a", "b"])
    with pytest.raises(TypeError, match="floating point"):
        p.data = np.array([1, 2])


@needs_torch
def test_setter_from_another_tensors_data_shares_its_memory_as_torch():
    p, q = leaf(), tg.tensor([[5.0, 5.0, 5.0]] * 2)
    p.data = q.data
    q[0, 0] = 9.0
    pt, qt = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True), torch.full((2, 3), 5.0,
                                                                                   dtype=torch.float64)
    pt.data = qt.data
    qt[0, 0] = 9.0
    np.testing.assert_array_equal(p.numpy(), pt.detach().numpy())


def test_optimizer_still_updates_the_same_array():
    p = leaf()
    array = p.numpy()
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        (p * p).sum().backward()
        opt.step()
    assert p.numpy() is array
