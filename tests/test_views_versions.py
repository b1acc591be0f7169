"""Views share their base's version counter, so in-place changes through either are caught."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim


def test_optimizer_step_before_backward_through_linear_raises():
    # F.linear saves weight.T (a view); updating the weight must still be detected.
    tg.manual_seed(0)
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3, requires_grad=True)
    loss = lin(x).sum()
    loss.backward(retain_graph=True)
    optim.SGD(lin.parameters(), lr=0.1).step()
    with pytest.raises(RuntimeError, match="MatMul.*view of a tensor of shape"):
        loss.backward()


def test_change_through_view_of_saved_output_raises():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    with tg.no_grad():
        y.reshape(3, 1)[0] = 5.0
    with pytest.raises(RuntimeError, match="output of Exp"):
        y.sum().backward()


def test_detach_shares_version_with_its_source():
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = tg.tensor([1.0, 1.0], requires_grad=True)
    y = (w @ x).sum()
    w.detach().data += 1      # the same memory as w
    with pytest.raises(RuntimeError, match="MatMul"):
        y.backward()


def test_advanced_index_is_a_copy_not_a_view():
    w = tg.tensor([1.0, 2.0, 3.0])
    x = tg.tensor([1.0, 1.0], requires_grad=True)
    y = (x * w[[0, 2]]).sum()    # w[[0, 2]] is a new array: changing w later is harmless
    w.data += 1
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 3.0])


def test_unaffected_when_nothing_changes():
    tg.manual_seed(1)
    lin = nn.Linear(3, 2)
    x = tg.randn(5, 3, requires_grad=True)
    lin(x).sum().backward()
    assert x.grad.shape == (5, 3)
