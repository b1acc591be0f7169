"""The PyTorch-breadth part of nn: activations, losses, LayerNorm, Embedding, containers,
Module.apply and buffers, gradient clipping and init. Values and gradients against PyTorch
in float64 (skipped without torch), gradcheck/gradgradcheck, errors, and statistics."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn
from tinygrad_edu.nn import init


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def close(ours, theirs, atol=1e-12, rtol=1e-10):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def against_torch(torch, ours_fn, theirs_fn, *arrays):
    """Forward values and input gradients (for a fixed non-uniform output gradient)."""
    xs = [leaf(a) for a in arrays]
    ts = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    y, yt = ours_fn(*xs), theirs_fn(*ts)
    close(y, yt)
    g = np.linspace(-1.0, 2.0, y.numel()).reshape(y.shape)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        close(x.grad, t.grad)


# Kinks and thresholds (0, +-3, 6, +-1, 20) are on the grid, so the conventions there are checked.
GRID = np.concatenate([np.linspace(-8, 8, 65), [0.0, -3.0, 3.0, 6.0, -1.0, 1.0, 20.0, 25.0,
                                                 -30.0, 1e-9, -1e-9]])

ACTIVATIONS = [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("elu", {}),
    ("elu", {"alpha": 0.5}), ("selu", {}), ("softplus", {}), ("softplus", {"beta": 2.0,
    "threshold": 3.0}), ("softplus", {"beta": 0.5}), ("relu6", {}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("hardswish", {}), ("mish", {}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATIONS, ids=lambda v: str(v))
def test_activations_match_torch(torch, name, kwargs):
    against_torch(torch, lambda x: getattr(F, name)(x, **kwargs),
                  lambda x: getattr(torch.nn.functional, name)(x, **kwargs), GRID)


SMOOTH = [("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("softplus", {}),
          ("mish", {}), ("elu", {"alpha": 0.7}), ("selu", {})]


@pytest.mark.parametrize("name,kwargs", SMOOTH, ids=lambda v: str(v))
def test_smooth_activations_pass_gradcheck_and_gradgradcheck(name, kwargs):
    # away from the kinks (elu and selu are smooth except at 0)
    x = leaf([-2.3, -0.7, -0.2, 0.3, 1.1, 2.9])
    fn = lambda x: getattr(F, name)(x, **kwargs)
    assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(fn, [x])


@pytest.mark.parametrize("name", ["relu6", "hardtanh", "hardswish"])
def test_piecewise_activations_pass_gradcheck_off_their_kinks(name):
    x = leaf([-4.2, -2.1, -0.6, 0.4, 1.7, 2.6, 4.5, 7.0])
    assert tg.gradcheck(getattr(F, name), [x])


def test_erf_primitive(torch):
    x = np.array([-6.0, -2.5, -1.0, -1e-8, 0.0, 0.3, 1.0, 2.0, 5.9, np.inf, -np.inf])
    against_torch(torch, F.erf, torch.erf, x)
    assert tg.gradgradcheck(F.erf, [leaf([-1.3, 0.2, 0.9])])
    assert F.erf(tg.tensor(np.float32([0.5]))).dtype == np.float32
    assert F.erf(tg.tensor([1, 2])).dtype == np.float64
    assert F.erf(tg.zeros(0, 3)).shape == (0, 3)


def test_activations_are_finite_at_extremes():
    x = leaf([-1000.0, -50.0, 50.0, 1000.0])
    for fn in (F.gelu, F.silu, F.elu, F.selu, F.softplus, F.mish, F.hardswish):
        with np.errstate(over="raise", invalid="raise", divide="raise"):   # no inf, no nan
            y = fn(x)
            y.sum().backward()
        assert np.isfinite(y.numpy()).all() and np.isfinite(x.grad.numpy()).all(), fn.__name__
        x.grad = None


def test_activation_errors():
    x = leaf([1.0])
    with pytest.raises(ValueError, match="gelu: approximate"):
        F.gelu(x, approximate="fast")
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("sigmoid")
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(NotImplementedError, match="elu: inplace"):
        F.elu(x, inplace=True)
    with pytest.raises(NotImplementedError, match="SiLU: inplace"):
        nn.SiLU(inplace=True)


MODULES = [
    (lambda m: m.GELU(), None), (lambda m: m.GELU(approximate="tanh"), None),
    (lambda m: m.SiLU(), None), (lambda m: m.ELU(alpha=0.3), None), (lambda m: m.SELU(), None),
    (lambda m: m.Softplus(beta=2.0, threshold=5.0), None), (lambda m: m.Hardtanh(-0.5, 2.0), None),
    (lambda m: m.ReLU6(), None), (lambda m: m.Hardswish(), None), (lambda m: m.Mish(), None),
]


@pytest.mark.parametrize("make,_", MODULES)
def test_activation_modules_match_torch(torch, make, _):
    ours, theirs = make(nn), make(torch.nn)
    against_torch(torch, ours, theirs, GRID)


# --- losses --------------------------------------------------------------------------

rng = np.random.default_rng(0)
PRED = rng.standard_normal((4, 3)) * 2
TARGET = rng.standard_normal((4, 3)) * 2
TARGET[0, 0] = PRED[0, 0]            # d = 0
TARGET[1, 1] = PRED[1, 1] - 1.0      # |d| = beta = delta exactly
TARGET[2, 2] = PRED[2, 2] + 0.5


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,kwargs", [("l1_loss", {}), ("smooth_l1_loss", {}),
                                         ("smooth_l1_loss", {"beta": 0.5}),
                                         ("smooth_l1_loss", {"beta": 0.0}),
                                         ("huber_loss", {}), ("huber_loss", {"delta": 0.5}),
                                         ("huber_loss", {"delta": 2.0})], ids=str)
def test_regression_losses_match_torch(torch, name, kwargs, reduction):
    target = TARGET
    against_torch(torch,
                  lambda x: getattr(F, name)(x, target, reduction=reduction, **kwargs),
                  lambda x: getattr(torch.nn.functional, name)(x, torch.tensor(target),
                                                               reduction=reduction, **kwargs),
                  PRED)


def test_regression_losses_gradcheck():
    x = leaf(PRED + 0.01)   # off the kinks
    for fn in (lambda x: F.smooth_l1_loss(x, TARGET, beta=0.7),
               lambda x: F.huber_loss(x, TARGET, delta=1.3), lambda x: F.l1_loss(x, TARGET)):
        assert tg.gradcheck(fn, [x])
    assert tg.gradgradcheck(lambda x: F.huber_loss(x, TARGET, delta=1.3), [x])


def test_regression_loss_errors():
    x = leaf(PRED)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta"):
        F.smooth_l1_loss(x, TARGET, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss: delta"):
        F.huber_loss(x, TARGET, delta=0.0)
    with pytest.raises(ValueError, match=r"l1_loss: target of shape \(4,\)"):
        F.l1_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match="huber_loss: reduction"):
        F.huber_loss(x, TARGET, reduction="avg")


LABELS = np.array([0, 2, 1, 2])


def loss_modules(m, torch_side):
    """(module, input array, target): each loss module with non-default options."""
    as_target = (lambda a: torch_side.tensor(a)) if torch_side else (lambda a: a)
    probs = 1 / (1 + np.exp(-PRED))
    return [
        (m.CrossEntropyLoss(reduction="sum", label_smoothing=0.1), PRED, as_target(LABELS)),
        (m.CrossEntropyLoss(), PRED, as_target(np.abs(TARGET) / np.abs(TARGET).sum(1, keepdims=True))),
        (m.NLLLoss(reduction="none"), PRED, as_target(LABELS)),
        (m.MSELoss(reduction="sum"), PRED, as_target(TARGET)),
        (m.L1Loss(), PRED, as_target(TARGET)),
        (m.SmoothL1Loss(beta=0.5), PRED, as_target(TARGET)),
        (m.HuberLoss(reduction="sum", delta=0.5), PRED, as_target(TARGET)),
        (m.BCELoss(), probs, as_target((TARGET > 0).astype(float))),
        (m.BCEWithLogitsLoss(reduction="none"), PRED, as_target((TARGET > 0).astype(float))),
        (m.MultiMarginLoss(), PRED, as_target(LABELS)),
        (m.MultiMarginLoss(p=2, margin=0.5, reduction="sum"), PRED, as_target(LABELS)),
    ]


def test_loss_modules_match_torch(torch):
    for (ours, x, y), (theirs, _, yt) in zip(loss_modules(nn, None), loss_modules(torch.nn, torch)):
        against_torch(torch, lambda a: ours(a, y), lambda a: theirs(a, yt), x)


def test_multi_margin_loss_takes_p_then_margin_as_torch(torch):
    against_torch(torch, lambda x: F.multi_margin_loss(x, LABELS, 2, 0.5),
                  lambda x: torch.nn.functional.multi_margin_loss(x, torch.tensor(LABELS), 2, 0.5),
                  PRED)


def test_loss_modules_refuse_what_they_cannot_do():
    with pytest.raises(NotImplementedError, match="CrossEntropyLoss: weight"):
        nn.CrossEntropyLoss(weight=tg.ones(3))
    with pytest.raises(NotImplementedError, match="NLLLoss: ignore_index"):
        nn.NLLLoss(ignore_index=0)
    with pytest.raises(NotImplementedError, match="MSELoss: size_average"):
        nn.MSELoss(size_average=True)
    with pytest.raises(NotImplementedError, match="BCEWithLogitsLoss: pos_weight"):
        nn.BCEWithLogitsLoss(pos_weight=tg.ones(3))
    with pytest.raises(ValueError, match="MultiMarginLoss: p"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(NotImplementedError, match="multi_margin_loss: weight"):
        F.multi_margin_loss(leaf(PRED), LABELS, weight=np.ones(3))


# --- LayerNorm -------------------------------------------------------------------------

@pytest.mark.parametrize("shape,normalized", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), [4])])
def test_layer_norm_matches_torch(torch, shape, normalized):
    x = rng.standard_normal(shape) * 3 + 1
    k = 1 if isinstance(normalized, int) else len(normalized)
    w = rng.standard_normal(shape[-k:])
    b = rng.standard_normal(shape[-k:])
    against_torch(torch, lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-3),
                  lambda x, w, b: torch.nn.functional.layer_norm(
                      x, [normalized] if isinstance(normalized, int) else normalized, w, b, eps=1e-3),
                  x, w, b)
    against_torch(torch, lambda x: F.layer_norm(x, normalized),
                  lambda x: torch.nn.functional.layer_norm(
                      x, [normalized] if isinstance(normalized, int) else normalized), x)


def test_layer_norm_module_matches_torch_with_copied_weights(torch):
    ours, theirs = nn.LayerNorm((3, 4), eps=1e-4), torch.nn.LayerNorm((3, 4), eps=1e-4,
                                                                       dtype=torch.float64)
    ours.weight.data = rng.standard_normal((3, 4))
    ours.bias.data = rng.standard_normal((3, 4))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 3, 4))
    xt = torch.tensor(x, requires_grad=True)
    xo = leaf(x)
    y, yt = ours(xo), theirs(xt)
    close(y, yt)
    g = rng.standard_normal(y.shape)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    close(xo.grad, xt.grad)
    close(ours.weight.grad, theirs.weight.grad)
    close(ours.bias.grad, theirs.bias.grad)
    assert repr(ours) == "LayerNorm((3, 4), eps=0.0001, elementwise_affine=True)"


def test_layer_norm_module_options():
    m = nn.LayerNorm(4, bias=False)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    y = nn.LayerNorm(4)(leaf(rng.standard_normal((3, 4))))
    np.testing.assert_allclose(y.numpy().mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.numpy().var(-1), 1, rtol=1e-3)


def test_layer_norm_gradcheck_and_gradgradcheck():
    x, w, b = leaf(rng.standard_normal((2, 4))), leaf(rng.standard_normal(4)), leaf(rng.standard_normal(4))
    fn = lambda x, w, b: F.layer_norm(x, (4,), w, b)
    assert tg.gradcheck(fn, [x, w, b])
    assert tg.gradgradcheck(fn, [x, w, b])


def test_layer_norm_errors():
    x = leaf(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must be the trailing"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match="layer_norm: normalized_shape"):
        F.layer_norm(leaf(np.zeros(4)), (2, 4))
    with pytest.raises(ValueError, match=r"layer_norm: weight of shape \(3,\)"):
        F.layer_norm(x, 4, weight=leaf(np.ones(3)))
    with pytest.raises(ValueError, match=r"LayerNorm: expected .*|layer_norm"):
        nn.LayerNorm(5)(x)


# --- Embedding -------------------------------------------------------------------------

def test_embedding_matches_torch_and_adds_repeated_gradients(torch):
    weight = rng.standard_normal((5, 3))
    idx = np.array([[0, 4, 4], [2, 0, 4]])
    against_torch(torch, lambda w: F.embedding(idx, w),
                  lambda w: torch.nn.functional.embedding(torch.tensor(idx), w), weight)
    against_torch(torch, lambda w: F.embedding(idx, w, padding_idx=4),
                  lambda w: torch.nn.functional.embedding(torch.tensor(idx), w, padding_idx=4),
                  weight)
    against_torch(torch, lambda w: F.embedding(np.array(3), w),
                  lambda w: torch.nn.functional.embedding(torch.tensor(3), w), weight)


def test_embedding_module(torch):
    m = nn.Embedding(10, 4, padding_idx=-1, generator=np.random.default_rng(0))
    assert m.padding_idx == 9 and m.weight.shape == (10, 4)
    np.testing.assert_array_equal(m.weight.numpy()[9], 0)
    t = torch.nn.Embedding(10, 4, padding_idx=-1, dtype=torch.float64)
    t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in m.state_dict().items()})
    idx = np.array([1, 9, 1, 3])
    y, yt = m(tg.tensor(idx)), t(torch.tensor(idx))
    close(y, yt)
    y.backward(tg.tensor(np.arange(16.0).reshape(4, 4)))
    yt.backward(torch.tensor(np.arange(16.0).reshape(4, 4)))
    close(m.weight.grad, t.weight.grad)
    assert repr(m) == "Embedding(10, 4, padding_idx=9)"
    assert tg.gradcheck(lambda w: F.embedding(idx, w), [leaf(rng.standard_normal((10, 2)))])


def test_embedding_init_is_standard_normal():
    w = nn.Embedding(400, 50, generator=np.random.default_rng(1)).weight.numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02


def test_embedding_keeps_its_own_copy_of_the_indices():
    w = leaf(np.eye(3))
    idx = np.array([0, 0, 1])
    y = F.embedding(idx, w)
    idx[:] = 2
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [2, 1, 0])


def test_embedding_errors():
    w = leaf(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="embedding: indices must be integers"):
        F.embedding(np.array([0.0, 1.0]), w)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 4\)"):
        F.embedding(np.array([4]), w)
    with pytest.raises(IndexError, match="embedding"):
        F.embedding(np.array([-1]), w)
    with pytest.raises(ValueError, match="Embedding: padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(NotImplementedError, match="Embedding: max_norm"):
        nn.Embedding(4, 2, max_norm=1.0)


# --- one_hot ---------------------------------------------------------------------------

def test_one_hot_matches_torch(torch):
    labels = np.array([[0, 2], [1, 1]])
    close(F.one_hot(tg.tensor(labels)), torch.nn.functional.one_hot(torch.tensor(labels)))
    close(F.one_hot(tg.tensor(labels), 5), torch.nn.functional.one_hot(torch.tensor(labels), 5))
    assert F.one_hot(tg.tensor(labels)).dtype == np.int64
    assert not F.one_hot(tg.tensor(labels)).requires_grad


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"one_hot: labels must lie in \[0, 2\)"):
        F.one_hot(tg.tensor([0, 2]), 2)
    with pytest.raises(TypeError, match="one_hot: labels must be integers"):
        F.one_hot(tg.tensor([0.0]))
    with pytest.raises(ValueError, match="one_hot: cannot infer"):
        F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64)))


# --- Flatten, Unflatten ----------------------------------------------------------------

def test_flatten_and_unflatten_shapes_match_torch(torch):
    x = np.zeros((2, 3, 4, 5))
    for ours, theirs in [(nn.Flatten(), torch.nn.Flatten()), (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
                         (nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))),
                         (nn.Unflatten(-1, (-1, 5)), torch.nn.Unflatten(-1, (-1, 5))),
                         (nn.Unflatten(2, [2, 2]), torch.nn.Unflatten(2, [2, 2]))]:
        assert ours(tg.tensor(x)).shape == tuple(theirs(torch.tensor(x)).shape)


def test_unflatten_errors_and_gradient():
    with pytest.raises(ValueError, match=r"Unflatten: sizes \(2, 2\) don't multiply"):
        nn.Unflatten(1, (2, 2))(tg.zeros(2, 5))
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (-1, -1))(tg.zeros(2, 4))
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (-1, 3))(tg.zeros(2, 4))
    x = leaf(np.arange(6.0).reshape(1, 6))
    assert tg.gradcheck(nn.Unflatten(1, (2, 3)), [x])


# --- containers --------------------------------------------------------------------------

def test_module_dict_registers_its_modules():
    d = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Linear(3, 2)})
    d["act"] = nn.ReLU()
    assert list(d) == ["enc", "dec", "act"] and len(d) == 3 and "enc" in d
    assert [n for n, _ in d.named_parameters()] == ["enc.weight", "enc.bias", "dec.weight",
                                                    "dec.bias"]
    assert list(d.keys()) == ["enc", "dec", "act"] and d["dec"] is list(d.values())[1]
    d.pop("act")
    del d["dec"]
    assert list(d) == ["enc"]
    with pytest.raises(TypeError, match="ModuleDict: 'x' is a int, not a Module"):
        d["x"] = 3
    with pytest.raises(NotImplementedError, match="ModuleDict has no forward"):
        d(1)


def test_parameter_list_registers_and_converts():
    p = nn.ParameterList([nn.Parameter(np.ones(2)), tg.tensor([1.0, 2.0]), np.zeros(3)])
    assert len(p) == 3 and all(isinstance(q, nn.Parameter) for q in p)
    assert [n for n, _ in p.named_parameters()] == ["0", "1", "2"]
    p.append(np.ones(1))
    p[0] = nn.Parameter(np.zeros(5))
    assert p[0].shape == (5,) and p[-1].shape == (1,)
    assert len(list(p.parameters())) == 4


# --- Module API ----------------------------------------------------------------------------

def test_apply_visits_children_before_parents_and_returns_self(torch):
    ours = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2),
                                 torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)))
    seen, seen_t = [], []
    assert ours.apply(lambda m: seen.append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen == seen_t == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]


def test_apply_initialises_weights():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))

    def init_weights(m):
        if isinstance(m, nn.Linear):
            init.ones_(m.weight)
            init.zeros_(m.bias)
    model.apply(init_weights)
    assert all((p.numpy() == 1).all() for n, p in model.named_parameters() if n.endswith("weight"))


def test_non_persistent_buffers_stay_out_of_the_state_dict():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("kept", tg.zeros(2))
            self.register_buffer("cache", tg.ones(3), persistent=False)
            self.fc = nn.Linear(1, 1)
    m = M()
    assert [n for n, _ in m.named_buffers()] == ["kept", "cache"]
    assert len(list(m.buffers())) == 2
    assert list(m.state_dict()) == ["kept", "fc.weight", "fc.bias"]
    m.load_state_dict(m.state_dict())
    m.register_buffer("cache", tg.ones(3))   # registered again: persistent now
    assert "cache" in m.state_dict()
    with pytest.raises(KeyError, match="register_buffer"):
        m.register_buffer("a.b", tg.ones(1))


def test_requires_grad_freezes_parameters():
    m = nn.Linear(2, 2)
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())


# --- gradient clipping -----------------------------------------------------------------------

def params_with_grads(framework, grads):
    ps = []
    for g in grads:
        p = framework.tensor(np.zeros_like(g), requires_grad=True)
        p.grad = framework.tensor(g)
        ps.append(p)
    return ps


GRADS = [rng.standard_normal((3, 2)) * 3, rng.standard_normal(4), np.array([[-7.0]])]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = params_with_grads(tg, GRADS), params_with_grads(torch, GRADS)
    norm_type = float(norm_type)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    close(total, total_t)
    for p, t in zip(ours, theirs):
        close(p.grad, t.grad)


def test_clip_grad_norm_edge_cases():
    p = tg.tensor([1.0], requires_grad=True)
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0   # no gradients at all
    p.grad = tg.tensor([3.0])
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == 3.0     # a single tensor
    np.testing.assert_allclose(p.grad.numpy(), [1.0 / (1 + 1e-6 / 3)])
    p.grad = tg.tensor([np.inf])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(NotImplementedError, match="clip_grad_norm_: norm_type"):
        nn.utils.clip_grad_norm_([p], 1.0, norm_type=0)


def test_clip_grad_value_matches_torch(torch):
    ours, theirs = params_with_grads(tg, GRADS), params_with_grads(torch, GRADS)
    assert nn.utils.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, t in zip(ours, theirs):
        close(p.grad, t.grad)


def test_clipping_changes_grad_in_place_for_the_optimizer():
    model = nn.Linear(3, 1)
    model(tg.tensor(np.full((2, 3), 100.0))).sum().backward()
    g = model.weight.grad
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert model.weight.grad is g
    total = math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert total == pytest.approx(1.0, rel=1e-5)


# --- init -----------------------------------------------------------------------------------

def test_calculate_gain_matches_torch(torch):
    for args in [("linear",), ("conv2d",), ("conv_transpose3d",), ("sigmoid",), ("tanh",),
                 ("relu",), ("leaky_relu",), ("leaky_relu", 0.2), ("leaky_relu", 0),
                 ("selu",)]:
        assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    with pytest.raises(ValueError, match="calculate_gain"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="calculate_gain"):
        init.calculate_gain("swish")


def test_fan_of_conv_shaped_weights_matches_torch(torch):
    from torch.nn.init import _calculate_fan_in_and_fan_out
    for shape in [(8, 3), (16, 3, 5, 5), (4, 2, 3), (2, 6, 1, 2, 3)]:
        assert init.fan_in_and_fan_out(tg.zeros(*shape)) == \
            _calculate_fan_in_and_fan_out(torch.zeros(shape))


def check_uniform(values, bound):
    assert values.min() >= -bound and values.max() <= bound
    assert values.max() > 0.95 * bound and values.min() < -0.95 * bound
    assert values.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_kaiming_and_xavier_distributions_on_conv_weights():
    gen = np.random.default_rng(3)
    w = tg.zeros(64, 16, 3, 3)   # fan_in 144, fan_out 576
    check_uniform(init.kaiming_uniform_(w, generator=gen).numpy(), math.sqrt(6 / 144))
    check_uniform(init.kaiming_uniform_(w, a=math.sqrt(5), generator=gen).numpy(), 1 / 12)
    check_uniform(init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu",
                                        generator=gen).numpy(), math.sqrt(6 / 576))
    check_uniform(init.xavier_uniform_(w, gain=2.0, generator=gen).numpy(),
                  2 * math.sqrt(6 / (144 + 576)))
    std = init.kaiming_normal_(w, generator=gen).numpy().std()
    assert std == pytest.approx(math.sqrt(2 / 144), rel=0.05)
    std = init.xavier_normal_(w, gain=0.5, generator=gen).numpy().std()
    assert std == pytest.approx(0.5 * math.sqrt(2 / 720), rel=0.05)
    assert init.kaiming_uniform_(tg.zeros(0, 3)).shape == (0, 3)   # nothing to fill
    with pytest.raises(ValueError, match="init: mode"):
        init.kaiming_normal_(w, mode="fan_avg")


def test_trunc_normal_bounds_are_exact_and_moments_right(torch):
    w = tg.zeros(200, 100)
    values = init.trunc_normal_(w, mean=1.0, std=2.0, a=0.0, b=3.0,
                                generator=np.random.default_rng(0)).numpy()
    assert values.min() >= 0.0 and values.max() <= 3.0
    # the moments of N(1, 4) truncated to [0, 3] (torch's distributions agree)
    d = torch.distributions.Normal(1.0, 2.0)
    alpha, beta = torch.tensor((0.0 - 1) / 2), torch.tensor((3.0 - 1) / 2)
    std_normal = torch.distributions.Normal(0.0, 1.0)
    phi = lambda z: std_normal.log_prob(z).exp()
    Z = std_normal.cdf(beta) - std_normal.cdf(alpha)
    mean = 1 + 2 * (phi(alpha) - phi(beta)) / Z
    var = 4 * (1 + (alpha * phi(alpha) - beta * phi(beta)) / Z - ((phi(alpha) - phi(beta)) / Z) ** 2)
    assert d.mean.item() == 1.0
    assert values.mean() == pytest.approx(mean.item(), abs=0.02)
    assert values.std() == pytest.approx(math.sqrt(var.item()), rel=0.02)


def test_trunc_normal_defaults_and_errors():
    values = init.trunc_normal_(tg.zeros(10000), generator=np.random.default_rng(1)).numpy()
    assert values.min() >= -2 and values.max() <= 2 and abs(values.mean()) < 0.03
    assert values.std() == pytest.approx(0.8796, rel=0.03)   # std of N(0, 1) cut at +-2
    with pytest.raises(ValueError, match="trunc_normal_: a"):
        init.trunc_normal_(tg.zeros(3), a=1.0, b=1.0)
    with pytest.raises(ValueError, match="trunc_normal_"):
        init.trunc_normal_(tg.zeros(3), a=50.0, b=60.0)


def test_simple_fills():
    w = tg.zeros(2, 3, dtype=np.float32)
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(2, 3))
    assert w.dtype == np.float32
    np.testing.assert_array_equal(init.constant_(w, 0.5).numpy(), 0.5)
    np.testing.assert_array_equal(init.ones_(w).numpy(), 1)
    np.testing.assert_array_equal(init.zeros_(w).numpy(), 0)
    u = init.uniform_(tg.zeros(1000), -0.5, 2.0, generator=np.random.default_rng(0)).numpy()
    assert u.min() >= -0.5 and u.max() < 2.0
    n = init.normal_(tg.zeros(20000), 3.0, 0.5, generator=np.random.default_rng(0)).numpy()
    assert n.mean() == pytest.approx(3.0, abs=0.02) and n.std() == pytest.approx(0.5, rel=0.02)
    with pytest.raises(ValueError, match="eye_"):
        init.eye_(tg.zeros(2, 2, 2))
