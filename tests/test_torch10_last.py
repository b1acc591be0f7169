"""The last pieces of issue 10: nn.Parameter sharing memory, ConvTranspose1d/2d, the
SequentialLR / ChainedScheduler / CyclicLR / CosineAnnealingWarmRestarts schedulers, and
tg.load; against PyTorch in float64 where it is installed, and gradcheck."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
rng = np.random.default_rng(0)


# --- nn.Parameter shares memory and the version counter ---------------------------------------

@pytest.mark.parametrize("source", ["tensor", "data"])
def test_parameter_shares_memory_with_its_tensor(source):
    t = tg.randn(3)
    p = nn.Parameter(t if source == "tensor" else t.data)
    assert p.is_leaf and p.requires_grad and not t.requires_grad
    with tg.no_grad():
        t.add_(1.0)
    np.testing.assert_array_equal(p.numpy(), t.numpy())
    with tg.no_grad():
        p.mul_(2.0)
    np.testing.assert_array_equal(t.numpy(), p.numpy())
    assert np.shares_memory(p.numpy(), t.numpy())


def test_parameter_change_through_the_source_is_seen_by_backward():
    t = tg.randn(3)
    p = nn.Parameter(t)
    y = (p * p).sum()
    with tg.no_grad():
        t.mul_(2.0)   # p's values changed under y's Mul
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_parameter_change_through_the_parameter_is_seen_by_the_source_graph():
    t = tg.randn(3, requires_grad=True)
    p = nn.Parameter(t.data)
    y = (t * t).sum()
    with tg.no_grad():
        p.sub_(1.0)   # an optimizer step on p changes t under y
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_parameter_of_a_parameter_and_of_a_view_share_one_counter():
    w = tg.randn(2, 3)
    p = nn.Parameter(nn.Parameter(w))
    q = nn.Parameter(w.T)
    y = (q * 2).sum() + (p * p).sum()
    with tg.no_grad():
        w.add_(1.0)
    np.testing.assert_array_equal(q.numpy(), w.numpy().T)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_parameter_of_a_computed_tensor_is_a_leaf_of_its_own():
    x = tg.randn(3, requires_grad=True)
    h = x * 2
    p = nn.Parameter(h)
    assert p.is_leaf and p.grad_fn is None
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [3.0, 3.0, 3.0])
    assert x.grad is None


def test_parameter_forms_that_copy_or_make_new_data():
    a = np.ones(3)
    p = nn.Parameter(a)   # no ndarray form in PyTorch: ours copies, as Tensor(a)
    a[0] = 5.0
    assert p.numpy()[0] == 1.0
    empty = nn.Parameter()
    assert empty.shape == (0,) and empty.requires_grad
    frozen = nn.Parameter(tg.randn(2), requires_grad=False)
    assert not frozen.requires_grad and isinstance(frozen, nn.Parameter)
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(tg.tensor([1, 2]))


def test_parameter_sharing_memory_trains_and_module_registers_it():
    class M(nn.Module):
        def __init__(self, w):
            super().__init__()
            self.w = nn.Parameter(w)

        def forward(self, x):
            return x @ self.w

    w = tg.ones(2, 1)
    m = M(w)
    opt = tg.optim.SGD(m.parameters(), lr=0.5)
    m(tg.tensor([[1.0, 2.0]])).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.numpy(), [[0.5], [0.0]])   # w is the parameter's memory
    assert [n for n, _ in m.named_parameters()] == ["w"]


@needs_torch
def test_parameter_matches_torch_sharing():
    t_ours, t_theirs = tg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0], dtype=torch.float64)
    p_ours, p_theirs = nn.Parameter(t_ours), torch.nn.Parameter(t_theirs)
    with tg.no_grad():
        t_ours[0] = 7.0
    with torch.no_grad():
        t_theirs[0] = 7.0
    np.testing.assert_array_equal(p_ours.numpy(), p_theirs.detach().numpy())
    assert p_ours.requires_grad == p_theirs.requires_grad
    assert p_ours.is_leaf == p_theirs.is_leaf
