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


# --- SequentialLR, ChainedScheduler, CyclicLR, CosineAnnealingWarmRestarts ---------------

def two_groups(lib, opt="SGD", **kw):
    """The same two-group optimizer (lr 0.1 and 0.02) in tinygrad_edu or torch."""
    if lib is tg:
        a, b = tg.ones(2, requires_grad=True), tg.ones(1, requires_grad=True)
    else:
        a = torch.ones(2, dtype=torch.float64, requires_grad=True)
        b = torch.ones(1, dtype=torch.float64, requires_grad=True)
    return getattr(lib.optim, opt)([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1,
                                   **kw)


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


SCHEDULES = {
    "sequential": (lambda L, o: L.SequentialLR(o, [L.LinearLR(o, 0.1, total_iters=4),
                                                   L.ExponentialLR(o, 0.9),
                                                   L.CosineAnnealingLR(o, T_max=5)], [5, 12]),
                   "SGD", {}),
    "sequential_closed_forms": (
        lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=0),
                                        L.StepLR(o, 3, 0.5), L.MultiStepLR(o, [0, 2, 2]),
                                        L.PolynomialLR(o, 4, 2.0), L.ConstantLR(o, 0.3)],
                                    [4, 9, 14, 20]), "SGD", {}),
    "sequential_lambda_cyclic": (
        lambda L, o: L.SequentialLR(o, [L.LambdaLR(o, lambda e: 1 / (e + 1)),
                                        L.CyclicLR(o, 0.01, 0.05, step_size_up=3)], [6]),
        "SGD", {"momentum": 0.5}),
    "chained": (lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=3),
                                                 L.ExponentialLR(o, 0.9)]), "SGD", {}),
    "chained_optimizer": (lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), L.LinearLR(o)],
                                                          optimizer=o), "SGD", {}),
    "cyclic_triangular": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4), "SGD",
                          {"momentum": 0.5}),
    "cyclic_triangular2": (lambda L, o: L.CyclicLR(o, [0.01, 0.001], 0.1, step_size_up=3,
                                                   step_size_down=5, mode="triangular2"),
                           "SGD", {"momentum": 0.5}),
    "cyclic_exp_range": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                 mode="exp_range", gamma=0.95,
                                                 cycle_momentum=False), "SGD", {}),
    "cyclic_scale_fn": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                scale_fn=lambda x: 0.9 ** x,
                                                scale_mode="iterations", base_momentum=0.7,
                                                max_momentum=[0.95, 0.85]), "SGD",
                        {"momentum": 0.5}),
    "cyclic_adam_beta1": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3), "Adam", {}),
    "warm_restarts": (lambda L, o: L.CosineAnnealingWarmRestarts(o, 4), "SGD", {}),
    "warm_restarts_mult": (lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2,
                                                                      eta_min=0.001), "SGD", {}),
}


@needs_torch
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_new_schedulers_match_torch_lr_and_momentum_sequences(name):
    make, opt, kw = SCHEDULES[name]
    ours, theirs = two_groups(tg, opt, **kw), two_groups(torch, opt, **kw)
    s_ours = make(tg.optim.lr_scheduler, ours)
    s_theirs = make(torch.optim.lr_scheduler, theirs)
    got = [s_ours.get_last_lr() + momenta(ours)]
    want = [s_theirs.get_last_lr() + momenta(theirs)]
    for _ in range(45):
        ours.step()
        theirs.step()
        s_ours.step()
        s_theirs.step()
        got.append(s_ours.get_last_lr() + momenta(ours))
        want.append(s_theirs.get_last_lr() + momenta(theirs))
        assert [g["lr"] for g in ours.param_groups] == got[-1][:2]
    np.testing.assert_array_equal(np.array(got, dtype=float), np.array(want, dtype=float))


@needs_torch
@pytest.mark.filterwarnings("ignore")
def test_warm_restarts_step_with_fractional_epochs_matches_torch():
    ours, theirs = two_groups(tg), two_groups(torch)
    s_ours = tg.optim.lr_scheduler.CosineAnnealingWarmRestarts(ours, 2, T_mult=3)
    s_theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, 2, T_mult=3)
    for epoch in [0.25, 0.5, 1.75, 2, 3.5, 7.9, 8.0, 9, 30.5, 1]:
        s_ours.step(epoch)
        s_theirs.step(epoch)
        assert s_ours.get_last_lr() == s_theirs.get_last_lr(), epoch
        assert (s_ours.T_cur, s_ours.T_i, s_ours.last_epoch) == \
            (s_theirs.T_cur, s_theirs.T_i, s_theirs.last_epoch)
    with pytest.raises(ValueError, match="epoch"):
        s_ours.step(-1)


@pytest.mark.parametrize("name", ["sequential", "sequential_lambda_cyclic", "chained",
                                  "cyclic_scale_fn", "warm_restarts_mult"])
def test_new_schedulers_state_dict_round_trip(name):
    make, opt, kw = SCHEDULES[name]
    first = two_groups(tg, opt, **kw)
    s1 = make(tg.optim.lr_scheduler, first)
    for _ in range(7):
        first.step()
        s1.step()
    saved = s1.state_dict()
    second = two_groups(tg, opt, **kw)
    s2 = make(tg.optim.lr_scheduler, second)
    second.load_state_dict(first.state_dict())
    s2.load_state_dict(saved)
    assert s2.state_dict() == s1.state_dict()
    for _ in range(10):
        s1.step()
        s2.step()
        assert s2.get_last_lr() == s1.get_last_lr()
        assert momenta(second) == momenta(first)


def test_combined_load_state_dict_checks_everything_before_changing_anything():
    L = tg.optim.lr_scheduler
    o = two_groups(tg)
    s = L.SequentialLR(o, [L.ExponentialLR(o, 0.9), L.StepLR(o, 2)], [3])
    for _ in range(4):
        s.step()
    good = s.state_dict()
    bad = s.state_dict()
    bad["last_epoch"] = 99
    bad["_schedulers"][1]["step_size"] = 0   # refused by StepLR's own check
    with pytest.raises(ValueError, match="step_size"):
        s.load_state_dict(bad)
    assert s.state_dict() == good
    bad = s.state_dict()
    bad["_milestones"] = [2.5]
    with pytest.raises(TypeError, match="milestones"):
        s.load_state_dict(bad)
    with pytest.raises(ValueError, match="lacks '_schedulers'"):
        s.load_state_dict({k: v for k, v in good.items() if k != "_schedulers"})


def test_new_schedulers_bad_arguments():
    L = tg.optim.lr_scheduler
    o, other = two_groups(tg), two_groups(tg)
    with pytest.raises(ValueError, match="at least one scheduler"):
        L.SequentialLR(o, [], [])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [])
    with pytest.raises(ValueError, match="same optimizer"):
        L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(other, 3)], [2])
    with pytest.raises(ValueError, match="same optimizer"):
        L.ChainedScheduler([L.StepLR(o, 2)], optimizer=other)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        L.ChainedScheduler([L.ReduceLROnPlateau(o)])
    with pytest.raises(ValueError, match="increasing order"):
        L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3), L.StepLR(o, 4)], [5, 2])
    with pytest.raises(TypeError, match="list of schedulers"):
        L.ChainedScheduler(L.StepLR(o, 2))
    with pytest.raises(ValueError, match="mode is invalid"):
        L.CyclicLR(o, 0.01, 0.1, mode="sine")
    with pytest.raises(ValueError, match="base_lr has 3 values"):
        L.CyclicLR(o, [0.1, 0.2, 0.3], 0.5)
    with pytest.raises(TypeError, match="T_0 must be an integer"):
        L.CosineAnnealingWarmRestarts(o, 2.5)
    with pytest.raises(ValueError, match="T_mult"):
        L.CosineAnnealingWarmRestarts(o, 2, T_mult=0)


@needs_torch
def test_cyclic_lr_needs_momentum_by_default_as_torch():
    def build(lib):
        p = tg.ones(1, requires_grad=True) if lib is tg else torch.ones(1, requires_grad=True)
        return lib.optim.Adagrad([p], lr=0.1)
    with pytest.raises(ValueError, match="momentum or beta1") as theirs:
        torch.optim.lr_scheduler.CyclicLR(build(torch), 0.01, 0.1)
    with pytest.raises(ValueError, match="momentum or beta1"):
        tg.optim.lr_scheduler.CyclicLR(build(tg), 0.01, 0.1)
    assert "cycle_momentum" in str(theirs.value)
    tg.optim.lr_scheduler.CyclicLR(build(tg), 0.01, 0.1, cycle_momentum=False)


# --- counting the PyTorch names we have ---------------------------------------------------

@needs_torch
def test_count_names_sees_the_new_names_and_splits_out_of_scope_ones():
    from tests.ported.count_names import split
    supported, out, missing = split("torch.optim.lr_scheduler", "tinygrad_edu.optim.lr_scheduler")
    for name in ["SequentialLR", "ChainedScheduler", "CyclicLR", "CosineAnnealingWarmRestarts"]:
        assert name in supported
    assert "MultiplicativeLR" in missing and "Tensor" not in supported + out + missing
    supported, out, missing = split("torch.nn", "tinygrad_edu.nn")
    assert {"ConvTranspose1d", "ConvTranspose2d", "Parameter"} <= set(supported)
    assert "LSTM" in missing and "SyncBatchNorm" in out   # distributed: out of scope
    supported, out, missing = split("torch", "tinygrad_edu")
    assert "view_as_complex" in out and "sparse_coo_tensor" in out and "svd" in missing
