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


# --- nn.ConvTranspose1d / nn.ConvTranspose2d ----------------------------------------------

CONV_T_CASES = [
    (1, dict(in_channels=4, out_channels=6, kernel_size=3), (2, 4, 5), None),
    (1, dict(in_channels=4, out_channels=6, kernel_size=2, stride=3, padding=1,
             output_padding=2, groups=2, dilation=2, bias=False), (2, 4, 5), None),
    (1, dict(in_channels=2, out_channels=3, kernel_size=3, stride=2), (2, 6), [14]),
    (2, dict(in_channels=4, out_channels=6, kernel_size=(2, 3), stride=2, groups=2,
             output_padding=1), (2, 4, 3, 4), None),
    (2, dict(in_channels=3, out_channels=2, kernel_size=3, stride=(2, 1), padding=(1, 2),
             dilation=(1, 2)), (1, 3, 4, 5), None),
    (2, dict(in_channels=2, out_channels=3, kernel_size=3, stride=2), (1, 2, 4, 4),
     [1, 3, 10, 9]),
]


@needs_torch
@pytest.mark.parametrize("d, kw, shape, output_size", CONV_T_CASES)
def test_conv_transpose_modules_match_torch(d, kw, shape, output_size):
    ours = getattr(nn, f"ConvTranspose{d}d")(**kw)
    theirs = getattr(torch.nn, f"ConvTranspose{d}d")(**kw, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal(shape)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo, output_size), theirs(xt, output_size)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), atol=1e-12)
    g = rng.standard_normal(yo.shape)
    yo.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    for (name, po), pt in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(po.grad.numpy(), pt.grad.numpy(), atol=1e-12, err_msg=name)


@pytest.mark.parametrize("d, kw, shape, output_size", CONV_T_CASES[1:2] + CONV_T_CASES[3:4])
def test_conv_transpose_modules_gradcheck(d, kw, shape, output_size):
    m = getattr(nn, f"ConvTranspose{d}d")(**kw)
    x = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    params = [x] + list(m.parameters())
    assert tg.gradcheck(lambda x, *ps: m(x, output_size), params)
    assert tg.gradgradcheck(lambda x, *ps: (m(x, output_size) ** 2), params)


def test_conv_transpose_default_init_is_torchs_kaiming_uniform():
    m = nn.ConvTranspose2d(4, 8, 3, groups=2, generator=np.random.default_rng(1))
    fan_in = 4 * 9   # out / groups * kh * kw: torch reads the weight's second axis
    bound = 1 / np.sqrt(fan_in)
    w = m.weight.numpy()
    assert w.shape == (4, 4, 3, 3)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert np.abs(m.bias.numpy()).max() <= bound
    again = nn.ConvTranspose2d(4, 8, 3, groups=2, generator=np.random.default_rng(1))
    np.testing.assert_array_equal(again.weight.numpy(), w)
    assert nn.ConvTranspose1d(2, 2, 3).draw_collapsed and nn.ConvTranspose2d.draw_collapsed


@pytest.mark.parametrize("kw, match", [
    (dict(padding_mode="reflect"), 'Only "zeros" padding mode'),
    (dict(padding="same"), "padding='same'"),
    (dict(output_padding=2, stride=2), "output_padding"),
    (dict(groups=2), "divisible by groups"),
])
def test_conv_transpose_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        nn.ConvTranspose2d(3, 4, 3, **kw)


def test_conv_transpose_bad_output_size_and_input():
    m = nn.ConvTranspose2d(2, 3, 3, stride=2)
    with pytest.raises(ValueError, match=r"valid sizes range from \[9, 9\] to \[10, 10\]"):
        m(tg.randn(1, 2, 4, 4), output_size=[11, 10])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        m(tg.randn(1, 2, 4, 4), output_size=[1, 10, 10])
    with pytest.raises(RuntimeError, match="conv_transpose2d: weight of shape"):
        m(tg.randn(1, 3, 4, 4))
