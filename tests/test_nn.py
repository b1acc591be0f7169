"""nn: Module bookkeeping, layers, init, and the losses, checked against NumPy and PyTorch."""
import math
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.autograd import state


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.scale = 2.0   # a plain attribute: not a parameter

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def copy_into_torch(ours, theirs):
    """Copy our Linear/BatchNorm parameters into a torch module with the same keys."""
    import torch
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


# --- Parameter ----------------------------------------------------------------------

def test_parameter_is_a_cheap_leaf_tensor():
    p = nn.Parameter(np.ones(3))
    assert isinstance(p, tg.Tensor) and p.requires_grad and p.is_leaf
    assert not hasattr(p, "__dict__")   # __slots__ kept: no per-instance dict
    y = p * 2
    assert type(y) is tg.Tensor and y.requires_grad
    assert repr(p).startswith("Parameter containing:\nTensor(")
    assert nn.Parameter(np.ones(2, dtype=np.float32)).dtype == np.float32
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(np.arange(3))


# --- Module registration and traversal ---------------------------------------------

def test_registration_and_named_walks():
    tg.manual_seed(0)
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc1.bias", "fc2.weight",
                                                    "fc2.bias"]
    assert [n for n, _ in m.named_children()] == ["fc1", "act", "fc2"]
    assert list(m.children()) == [m.fc1, m.act, m.fc2]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(m.modules())) == 4
    assert len(list(m.parameters())) == 4
    assert [n for n, _ in m.named_parameters(recurse=False)] == []
    assert m.scale == 2.0 and "scale" not in m.state_dict()


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_modules()] == ["", "0", "1"]


def test_reassigning_and_deleting_attributes():
    m = TwoLayer()
    m.fc1 = nn.Linear(3, 4, bias=False)
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc2.weight", "fc2.bias"]
    # As PyTorch: a non-Module over a sub-module, or a plain Tensor over a Parameter,
    # is an error (it would silently drop weights from parameters())
    with pytest.raises(TypeError, match="cannot assign a int to sub-module 'fc2'"):
        m.fc2 = 5
    with pytest.raises(TypeError, match="cannot assign a Tensor to parameter 'weight'"):
        m.fc2.weight = tg.randn(2, 4, requires_grad=True)
    assert [n for n, _ in m.named_parameters()] == ["fc1.weight", "fc2.weight", "fc2.bias"]
    m.fc2 = None   # None is allowed, as in PyTorch
    assert [n for n, _ in m.named_children()] == ["fc1", "act"]
    del m.act
    assert [n for n, _ in m.named_children()] == ["fc1"]
    with pytest.raises(AttributeError, match="no attribute 'act'"):
        m.act


def test_plain_list_hides_parameters_module_list_registers_them():
    class Stack(nn.Module):
        def __init__(self, as_module_list):
            super().__init__()
            layers = [nn.Linear(2, 2), nn.Linear(2, 2)]
            self.layers = nn.ModuleList(layers) if as_module_list else layers

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    assert len(list(Stack(False).parameters())) == 0
    s = Stack(True)
    assert [n for n, _ in s.named_parameters()] == ["layers.0.weight", "layers.0.bias",
                                                    "layers.1.weight", "layers.1.bias"]
    assert s(tg.ones(3, 2)).shape == (3, 2)
    assert len(s.layers) == 2 and s.layers[1] is list(s.layers)[1]
    with pytest.raises(TypeError, match="expected a Module"):
        s.layers.append("not a module")


def test_setattr_before_super_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        Bad()


def test_register_buffer_is_in_state_dict_but_not_parameters():
    m = nn.Module()
    m.register_buffer("count", tg.zeros(2))
    m.w = nn.Parameter(np.ones(2))
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert list(m.state_dict()) == ["w", "count"]
    m.count = tg.ones(2)   # assigning a Tensor to a buffer name updates the buffer
    assert m.state_dict()["count"].tolist() == [1, 1]
    with pytest.raises(TypeError, match="buffer 'count'"):
        m.count = "x"
    with pytest.raises(TypeError, match="register_buffer"):
        m.register_buffer("b", np.ones(2))


def test_train_eval_recursive_and_zero_grad():
    m = nn.MLP([2, 4, 3], batchnorm=True, dropout=0.5)
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    F.cross_entropy(m(tg.randn(4, 2)), [0, 1, 2, 0]).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_call_sets_and_restores_current_module():
    seen = []

    class Probe(nn.Module):
        def __init__(self, fail=False):
            super().__init__()
            self.inner = nn.Linear(2, 2)
            self.fail = fail

        def forward(self, x):
            seen.append(state.module)
            y = self.inner(x)
            seen.append(state.module)
            if self.fail:
                raise RuntimeError("boom")
            return y.relu()

    p = Probe()
    out = p(tg.ones(1, 2))
    assert seen == [p, p] and state.module is None
    assert out._module is p                       # relu ran in Probe's forward
    assert out._parents[0]._module is p.inner     # the Linear's add ran in inner
    with pytest.raises(RuntimeError, match="boom"):
        Probe(fail=True)(tg.ones(1, 2))
    assert state.module is None


def test_repr_tree():
    m = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.25)),
                      nn.BatchNorm1d(3), nn.Flatten())
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Sequential(\n"
        "    (0): ReLU()\n"
        "    (1): Dropout(p=0.25)\n"
        "  )\n"
        "  (2): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        ")")
    assert repr(nn.Linear(2, 1, bias=False)) == "Linear(in_features=2, out_features=1, bias=False)"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"


# --- state_dict ---------------------------------------------------------------------

def test_state_dict_shares_memory_and_round_trips():
    tg.manual_seed(1)
    a, b = nn.MLP([3, 5, 2], batchnorm=True), nn.MLP([3, 5, 2], batchnorm=True)
    a(tg.randn(8, 3))   # move the running stats
    sd = a.state_dict()
    assert list(sd) == ["fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
                        "bn1.running_var", "bn1.num_batches_tracked", "fc2.weight", "fc2.bias"]
    # as PyTorch: detached tensors sharing memory with the model
    assert all(isinstance(v, tg.Tensor) and not v.requires_grad for v in sd.values())
    saved = sd["fc1.weight"].clone()
    sd["fc1.weight"][:] = 0   # writing into the state dict writes into the model
    assert np.abs(a.fc1.weight.numpy()).sum() == 0
    a.fc1.weight.data = saved
    sd = a.state_dict()
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    x = tg.randn(4, 3)
    a.eval(), b.eval()
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert b.fc1.weight.numpy() is not sd["fc1.weight"]   # loading copies too


def test_load_state_dict_checks_everything_before_changing_anything():
    m = nn.MLP([2, 3, 2], batchnorm=True)
    before = {k: v.clone() for k, v in m.state_dict().items()}   # a snapshot: they share memory
    good = m.state_dict()

    def unchanged():
        for k, v in m.state_dict().items():
            np.testing.assert_array_equal(v, before[k])

    bad = dict(good, **{"fc1.weight": np.zeros((9, 9)), "fc1.bias": np.ones(3)})
    with pytest.raises(RuntimeError, match=r"'fc1.weight': shape \(9, 9\).*\(3, 2\)"):
        m.load_state_dict(bad)
    unchanged()
    missing = {k: v for k, v in good.items() if k != "fc2.bias"}
    missing["fc1.bias"] = np.ones(3)
    with pytest.raises(RuntimeError, match="missing key 'fc2.bias'"):
        m.load_state_dict(missing)
    unchanged()
    with pytest.raises(RuntimeError, match="unexpected key 'extra'"):
        m.load_state_dict(dict(good, extra=np.ones(1)))
    unchanged()
    with pytest.raises(RuntimeError, match="'bn1.num_batches_tracked': dtype float64"):
        m.load_state_dict(dict(good, **{"bn1.num_batches_tracked": np.array(1.5)}))
    unchanged()
    with pytest.raises(TypeError, match="expected a dict"):
        m.load_state_dict(None)
    # strict=False: tolerate missing/unexpected keys, load the rest
    partial = {"fc1.bias": np.full(3, 7.0), "other": np.ones(2)}
    result = m.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["other"] and "fc2.weight" in result.missing_keys
    assert m.fc1.bias.tolist() == [7.0, 7.0, 7.0]
    # Tensors and same-kind casts are accepted
    m.load_state_dict(dict(good, **{"fc2.bias": tg.tensor(np.ones(2, dtype=np.float32))}))
    assert m.fc2.bias.dtype == np.float64 and m.fc2.bias.tolist() == [1.0, 1.0]


class TwoWeights(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(np.ones(2, dtype=np.float32))
        self.b = nn.Parameter(np.ones(2, dtype=np.float32))


class TwoCounts(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("a", tg.Tensor(np.ones(2, dtype=np.int8)))
        self.register_buffer("b", tg.Tensor(np.ones(2, dtype=np.int8)))


@pytest.mark.parametrize("errstate", ["raise", "warn"])
def test_load_state_dict_casts_everything_before_changing_anything(errstate):
    # "a" casts fine, "b" overflows float32: under over="raise" the cast used to raise
    # after "a" was already replaced; otherwise "b" silently became inf
    m = TwoWeights()
    with np.errstate(over=errstate):
        with pytest.raises(RuntimeError, match=r"'b': values in the state dict \(float64\) "
                                               r"overflow the model's float32 \(nothing was"):
            m.load_state_dict({"a": np.zeros(2), "b": np.array([1.0, 1e300])})
    assert m.a.tolist() == [1, 1] and m.b.tolist() == [1, 1]
    m.load_state_dict({"a": np.zeros(2), "b": np.array([np.inf, 1e-300])})   # inf stays inf
    assert m.a.tolist() == [0, 0] and m.b.tolist() == [np.inf, 0]


def test_load_state_dict_refuses_integers_that_would_wrap_around():
    m = nn.BatchNorm1d(2)
    with pytest.raises(RuntimeError, match=r"'num_batches_tracked': values in the state dict "
                                           r"\(uint64\) overflow the model's int64"):
        m.load_state_dict(dict(m.state_dict(), num_batches_tracked=np.array(2 ** 63, np.uint64)))
    assert m.num_batches_tracked.item() == 0
    small = TwoCounts()
    with pytest.raises(RuntimeError, match="'a': values .* overflow the model's int8"):
        small.load_state_dict({"a": np.array([1, 300]), "b": np.array([2, 3])})
    assert small.a.tolist() == [1, 1] and small.b.tolist() == [1, 1]


def test_load_state_dict_bumps_versions_and_replaces_arrays():
    lin = nn.Linear(2, 2)
    versions = [p._version for p in lin.parameters()]
    old = lin.weight.numpy()
    lin.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert [p._version for p in lin.parameters()] == [v + 1 for v in versions]
    assert lin.weight.numpy() is not old and not np.array_equal(old, lin.weight.numpy())


# --- Linear and init --------------------------------------------------------------

def test_linear_forward_backward_matches_numpy():
    tg.manual_seed(2)
    lin = nn.Linear(3, 2)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (2,)
    x = tg.randn(5, 3, requires_grad=True)
    y = lin(x)
    W, b = lin.weight.numpy(), lin.bias.numpy()
    np.testing.assert_allclose(y.numpy(), x.numpy() @ W.T + b, rtol=1e-14)
    g = np.random.default_rng(0).standard_normal((5, 2))
    y.backward(tg.tensor(g))
    np.testing.assert_allclose(lin.weight.grad.numpy(), g.T @ x.numpy(), rtol=1e-13)
    np.testing.assert_allclose(lin.bias.grad.numpy(), g.sum(0), rtol=1e-13)
    np.testing.assert_allclose(x.grad.numpy(), g @ W, rtol=1e-13)
    assert lin(tg.randn(4, 7, 3)).shape == (4, 7, 2)
    with pytest.raises(ValueError, match=r"Linear: expected input with last axis 3, got shape \(5, 4\)"):
        lin(tg.randn(5, 4))


def test_linear_default_init_is_pytorchs_uniform():
    tg.manual_seed(3)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (lin.weight, lin.bias):
        assert np.abs(p.numpy()).max() <= bound
    w = lin.weight.numpy()
    assert abs(w.mean()) < 0.01 * bound * 10
    assert w.var() == pytest.approx(bound ** 2 / 3, rel=0.02)   # variance of U(-b, b)
    assert np.abs(lin.bias.numpy()).max() > 0.9 * bound


def test_linear_seeding_and_generators():
    tg.manual_seed(4)
    a = nn.Linear(3, 3)
    tg.manual_seed(4)
    b = nn.Linear(3, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    c = nn.Linear(3, 3, generator=np.random.default_rng(9))
    d = nn.Linear(3, 3, generator=np.random.default_rng(9))
    np.testing.assert_array_equal(c.weight.numpy(), d.weight.numpy())
    assert not np.array_equal(a.weight.numpy(), c.weight.numpy())
    assert nn.Linear(2, 2, dtype=np.float32)(tg.ones(1, 2, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("scheme, std", [
    ("xavier_uniform", math.sqrt(2 / (200 + 300))),
    ("xavier_normal", math.sqrt(2 / (200 + 300))),
    ("he_uniform", math.sqrt(2 / 200)),
    ("he_normal", math.sqrt(2 / 200)),
    ("normal", 0.01),
])
def test_linear_named_inits(scheme, std):
    lin = nn.Linear(200, 300, init=scheme, generator=np.random.default_rng(0))
    assert lin.weight.numpy().std() == pytest.approx(std, rel=0.03)
    assert abs(lin.weight.numpy().mean()) < 0.05 * std
    assert np.all(lin.bias.numpy() == 0)
    if scheme.endswith("uniform"):
        assert np.abs(lin.weight.numpy()).max() <= math.sqrt(3) * std


def test_linear_init_errors_and_callable():
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.Linear(2, 2, init="glorot")
    lin = nn.Linear(2, 3, init=nn.init.ones_)
    assert lin.weight.tolist() == [[1, 1], [1, 1], [1, 1]]


def test_init_functions():
    rng = np.random.default_rng(0)
    w = tg.zeros(500, 400)
    v = w._version
    assert nn.init.xavier_uniform_(w, gain=2.0, generator=rng) is w
    assert w._version > v   # refilling counts as an in-place change
    assert np.abs(w.numpy()).max() <= 2 * math.sqrt(6 / 900)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=rng)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=rng)
    assert np.abs(w.numpy()).max() <= 1 / math.sqrt(400)
    nn.init.normal_(w, 3.0, 0.5, generator=rng)
    assert w.numpy().mean() == pytest.approx(3.0, abs=0.01)
    nn.init.uniform_(w, -1, 2, generator=rng)
    assert w.numpy().min() >= -1 and w.numpy().max() < 2
    nn.init.constant_(w, 0.5)
    assert np.all(w.numpy() == 0.5)
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert np.all(w.numpy() == 1)
    w32 = tg.zeros(3, 3, dtype=np.float32)
    nn.init.xavier_normal_(w32)
    assert w32.dtype == np.float32
    assert nn.init.fan_in_and_fan_out(tg.zeros(4, 3, 5)) == (15, 20)
    with pytest.raises(ValueError, match="at least 2 axes"):
        nn.init.xavier_uniform_(tg.zeros(3))
    with pytest.raises(ValueError, match="mode must be"):
        nn.init.kaiming_normal_(w, mode="fan_avg")


def test_init_gain_and_fans_match_torch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param), rel=1e-15)
    t = torch.empty(4, 3, 5)
    assert nn.init.fan_in_and_fan_out(tg.zeros(4, 3, 5)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(t)
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


def test_linear_matches_torch_forward_backward():
    torch = pytest.importorskip("torch")
    tg.manual_seed(5)
    ours = nn.Linear(4, 3)
    theirs = torch.nn.Linear(4, 3).double()
    copy_into_torch(ours, theirs)
    x = np.random.default_rng(1).standard_normal((6, 4))
    xt = torch.tensor(x, requires_grad=True)
    xo = tg.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (theirs(xt) ** 2).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-12)


# --- BatchNorm1d ------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 3), (5, 3, 4)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_matches_torch_over_steps(shape, momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    ours = nn.BatchNorm1d(3, momentum=momentum)
    theirs = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    with torch.no_grad():
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        theirs.weight.copy_(torch.tensor(w)), theirs.bias.copy_(torch.tensor(b))
    ours.weight.data, ours.bias.data = w.copy(), b.copy()
    for step in range(6):
        x = rng.standard_normal(shape) * (step + 1) + step
        g = rng.standard_normal(shape)
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        ours.zero_grad()
        theirs.zero_grad()
        yo.backward(tg.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 6
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.numpy(), yt.detach().numpy(), rtol=1e-12)
    yo.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    # eval leaves the running stats alone
    np.testing.assert_allclose(ours.running_mean.numpy(), theirs.running_mean.numpy(), rtol=1e-12)


def test_batchnorm_conventions_without_torch():
    bn = nn.BatchNorm1d(2, momentum=0.5)
    x = tg.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    y = bn(x)
    xs = x.numpy()
    np.testing.assert_allclose(y.numpy(), (xs - xs.mean(0)) / np.sqrt(xs.var(0) + 1e-5))  # biased
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * xs.mean(0))
    np.testing.assert_allclose(bn.running_var.numpy(), 0.5 + 0.5 * xs.var(0, ddof=1))   # unbiased
    bn.eval()
    y = bn(tg.tensor([[1.0, 2.0]]))   # one sample is fine in eval mode
    expected = (np.array([1.0, 2.0]) - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(y.numpy()[0], expected)


def test_batchnorm_errors_and_options():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"BatchNorm1d: training mode needs more than one value"):
        bn(tg.randn(1, 3))
    assert int(bn.num_batches_tracked.item()) == 0   # nothing changed by the failed call
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3\).*got \(4, 5\)"):
        bn(tg.randn(4, 5))
    assert bn(tg.randn(1, 3, 4)).shape == (1, 3, 4)   # 4 values per feature: fine
    plain = nn.BatchNorm1d(3, affine=False)
    assert list(plain.parameters()) == [] and "running_mean" in plain.state_dict()
    untracked = nn.BatchNorm1d(3, track_running_stats=False)
    assert list(untracked.state_dict()) == ["weight", "bias"]
    x = tg.randn(6, 3)
    untracked.eval()   # no running stats: batch statistics in both modes
    np.testing.assert_allclose(untracked(x).numpy().mean(0), 0, atol=1e-12)


# --- Dropout and activations ------------------------------------------------------

def test_dropout_train_and_eval():
    d = nn.Dropout(0.25, generator=np.random.default_rng(0))
    x = tg.ones(200, 50)
    y = d(x).numpy()
    kept = y != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError, match="Dropout: p must be in"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    d = nn.Dropout(0.5, generator=np.random.default_rng(1))
    x = tg.ones(10, 10, requires_grad=True)
    y = d(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())   # d(y)/dx = mask / (1 - p)


def test_activation_modules():
    x = tg.tensor([[-2.0, -0.5, 0.0, 1.5], [3.0, -1.0, 2.0, 0.25]])
    a = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(a, 0))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-a)))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(a))
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), np.where(a > 0, a, 0.1 * a))
    e = np.exp(a - a.max(1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax(dim=1)(x).numpy(), e / e.sum(1, keepdims=True))
    np.testing.assert_allclose(nn.LogSoftmax()(x).numpy(), np.log(e / e.sum(1, keepdims=True)))
    np.testing.assert_allclose(nn.Softmax(dim=0)(x).numpy().sum(0), 1)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(tg.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Flatten(0, 1)(tg.zeros(2, 3, 4)).shape == (6, 4)


# --- containers and MLP ------------------------------------------------------------

def test_sequential():
    a, b = nn.Linear(2, 3), nn.ReLU()
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    assert isinstance(seq[:1], nn.Sequential) and list(seq[:1]) == [a]
    named = nn.Sequential(OrderedDict([("hidden", a), ("act", b)]))
    assert [n for n, _ in named.named_parameters()] == ["hidden.weight", "hidden.bias"]
    assert named.hidden is a
    seq.append(nn.Linear(3, 1))
    assert seq(tg.ones(4, 2)).shape == (4, 1)
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_mlp_structure_and_names():
    m = nn.MLP([2, 16, 8, 3], batchnorm=True, dropout=0.1)
    assert [n for n, _ in m.named_children()] == [
        "fc1", "bn1", "relu1", "dropout1", "fc2", "bn2", "relu2", "dropout2", "fc3"]
    plain = nn.MLP([4, 5, 2], activation="tanh")
    assert [n for n, _ in plain.named_children()] == ["fc1", "tanh1", "fc2"]
    assert nn.MLP([3, 2]).fc1.weight.shape == (2, 3)
    assert m(tg.randn(5, 2)).shape == (5, 3)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        nn.MLP([2, 2, 2], activation="gelu")
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.MLP([3])


def test_train_eval_switches_dropout_and_batchnorm_in_a_model():
    tg.manual_seed(8)
    m = nn.MLP([3, 32, 2], batchnorm=True, dropout=0.5)
    x = tg.randn(16, 3)
    a, b = m(x).numpy(), m(x).numpy()
    assert not np.allclose(a, b)          # train: a new dropout mask each call
    stats = m.bn1.running_mean.numpy().copy()
    m.eval()
    c, d = m(x).numpy(), m(x).numpy()
    np.testing.assert_array_equal(c, d)   # eval: deterministic
    np.testing.assert_array_equal(m.bn1.running_mean.numpy(), stats)   # and stats frozen
    one = m(x[:1]).numpy()                   # eval: running stats, so rows are independent
    np.testing.assert_allclose(one, c[:1], rtol=1e-12)
    m.train()
    assert not np.allclose(m(x).numpy(), c)


def test_mlp_matches_equivalent_torch_model():
    torch = pytest.importorskip("torch")
    tg.manual_seed(7)
    ours = nn.MLP([2, 6, 5, 3], batchnorm=True, activation="tanh")
    theirs = torch.nn.Sequential(OrderedDict([
        ("fc1", torch.nn.Linear(2, 6)), ("bn1", torch.nn.BatchNorm1d(6)), ("tanh1", torch.nn.Tanh()),
        ("fc2", torch.nn.Linear(6, 5)), ("bn2", torch.nn.BatchNorm1d(5)), ("tanh2", torch.nn.Tanh()),
        ("fc3", torch.nn.Linear(5, 3))])).double()
    copy_into_torch(ours, theirs)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((10, 2)), rng.integers(0, 3, 10)
    lo = F.cross_entropy(ours(tg.tensor(x)), y)
    lt = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    lo.backward()
    lt.backward()
    assert lo.item() == pytest.approx(lt.item(), rel=1e-12)
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9, atol=1e-13)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(tg.tensor(x)).numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12)


# --- nn.functional losses vs torch --------------------------------------------------

def test_nn_functional_reexports():
    import tinygrad_edu.functional as core
    for name in ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "cross_entropy",
                 "nll_loss", "mse_loss", "binary_cross_entropy",
                 "binary_cross_entropy_with_logits", "multi_margin_loss", "dropout", "linear",
                 "batch_norm"]:
        assert getattr(F, name) is getattr(core, name)


def _loss_pair(ours_fn, torch_fn, inputs, target, **kw):
    torch = pytest.importorskip("torch")
    xo = tg.tensor(inputs, requires_grad=True)
    xt = torch.tensor(inputs, requires_grad=True)
    to = target if np.asarray(target).dtype.kind in "iu" else tg.tensor(target)
    tt = torch.tensor(target)
    lo, lt = ours_fn(xo, to, **kw), torch_fn(xt, tt, **kw)
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(3).standard_normal(lo.shape)
    lo.backward(tg.tensor(g))
    lt.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_classification_losses_match_torch(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((7, 4)) * 3
    labels = rng.integers(0, 4, 7)
    probs = rng.random((7, 4))
    probs /= probs.sum(1, keepdims=True)
    _loss_pair(F.cross_entropy, tf.cross_entropy, logits, labels, reduction=reduction)
    _loss_pair(F.cross_entropy, tf.cross_entropy, logits, probs, reduction=reduction)
    _loss_pair(F.cross_entropy, tf.cross_entropy, logits, np.eye(4)[labels], reduction=reduction)
    for targets in (labels, probs):
        _loss_pair(F.cross_entropy, tf.cross_entropy, logits, targets, reduction=reduction,
                   label_smoothing=0.2)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    _loss_pair(F.nll_loss, tf.nll_loss, logp, labels, reduction=reduction)
    for p in (1, 2):
        _loss_pair(F.multi_margin_loss, tf.multi_margin_loss, logits, labels, p=p,
                   reduction=reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_and_binary_losses_match_torch(reduction):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    _loss_pair(F.mse_loss, tf.mse_loss, x, t, reduction=reduction)
    p = 1 / (1 + np.exp(-x))
    y01 = rng.integers(0, 2, (6, 3)).astype(np.float64)
    _loss_pair(F.binary_cross_entropy, tf.binary_cross_entropy, p, y01, reduction=reduction)
    _loss_pair(F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits,
               x * 10, y01, reduction=reduction)


def test_cross_entropy_extreme_logits_are_finite():
    logits = tg.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]], requires_grad=True)
    loss = F.cross_entropy(logits, [1, 2])
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(logits.grad.numpy()))
    assert loss.item() == pytest.approx((2000 + math.log1p(math.exp(-1)) + 1) / 2, rel=1e-12)
