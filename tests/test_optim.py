"""optim: every update rule against a NumPy reference written here, and against PyTorch."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn, optim

STEPS = 30


# --- NumPy references: the update formulas, written plainly ------------------------

def ref_sgd(p, grads, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    p, buf = p.copy(), None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, decoupled=False):
    p = p.copy()
    m, v, vmax = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    b1, b2 = betas
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False):
    p = p.copy()
    v, a, buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            d = np.sqrt(v - a * a) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / d
            p = p - lr * buf
        else:
            p = p - lr * g / d
    return p


def ref_adagrad(p, grads, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                eps=1e-10):
    p, s = p.copy(), np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        s = s + g * g
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
    return p


def ref_adamax(p, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
    p, m, u = p.copy(), np.zeros_like(p), np.zeros_like(p)
    b1, b2 = betas
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g) + eps)
        p = p - lr / (1 - b1 ** t) * m / u
    return p


CASES = [
    (optim.SGD, ref_sgd, dict(lr=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.05, weight_decay=0.1)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (optim.SGD, ref_sgd, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.Adam, ref_adam, dict(lr=0.01)),
    (optim.Adam, ref_adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (optim.Adam, ref_adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, lambda p, g, **kw: ref_adam(p, g, decoupled=True, **kw),
     dict(lr=0.01, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, momentum=0.9, weight_decay=0.1)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, centered=True, alpha=0.9)),
    (optim.RMSprop, ref_rmsprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, ref_adagrad, dict()),
    (optim.Adagrad, ref_adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                      initial_accumulator_value=0.5, eps=1e-6)),
    (optim.Adamax, ref_adamax, dict()),
    (optim.Adamax, ref_adamax, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
]
IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]


def gradient_sequence(shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) * (1 + 0.1 * t) for t in range(STEPS)]


@pytest.mark.parametrize("opt_cls, ref, kw", CASES, ids=IDS)
def test_update_rule_matches_numpy_reference(opt_cls, ref, kw):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((4, 3))
    grads = gradient_sequence(w0.shape)
    p = nn.Parameter(w0)
    opt = opt_cls([p], **kw)
    for g in grads:
        p.grad = tg.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.numpy(), ref(w0, grads, **kw), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("opt_cls, ref, kw", CASES, ids=IDS)
def test_update_rule_matches_torch_on_a_model(opt_cls, ref, kw):
    """Same initial weights, same data, each side computing its own gradients: 30 steps."""
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    ours = nn.MLP([3, 8, 4])
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(),
                                 torch.nn.Linear(8, 4)).double()
    with torch.no_grad():
        for p_t, p_o in zip(theirs.parameters(), ours.parameters()):
            p_t.copy_(torch.tensor(p_o.numpy()))
    opt_o = opt_cls(ours.parameters(), **kw)
    opt_t = getattr(torch.optim, opt_cls.__name__)(theirs.parameters(), **kw)
    rng = np.random.default_rng(2)
    for _ in range(STEPS):
        x, y = rng.standard_normal((16, 3)), rng.integers(0, 4, 16)
        opt_o.zero_grad()
        opt_t.zero_grad()
        F.cross_entropy(ours(tg.tensor(x)), y).backward()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt_o.step()
        opt_t.step()
    for p_o, p_t in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p_o.numpy(), p_t.detach().numpy(), rtol=0, atol=1e-12)


def test_step_is_in_place_and_preallocated():
    p = nn.Parameter(np.ones(5))
    opt = optim.Adam([p], lr=0.1)
    data = p.numpy()
    p.grad = tg.tensor(np.arange(5.0))
    opt.step()
    buffers = {k: v for k, v in opt.state[p].items() if isinstance(v, np.ndarray)}
    version = p._version
    opt.step()
    assert p.numpy() is data   # updated in place, no new array
    assert all(opt.state[p][k] is v for k, v in buffers.items())
    assert p._version == version + 1
    assert p.grad.tolist() == [0, 1, 2, 3, 4]   # the optimizer never writes into .grad


def test_step_bumps_version_so_stale_graphs_are_caught():
    p = nn.Parameter(np.array([1.0, 2.0]))
    y = (p * p).sum()   # Mul saves p for its backward
    p.grad = tg.tensor([1.0, 1.0])
    optim.SGD([p], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    for opt in (optim.SGD([a, b], lr=0.1, momentum=0.9), optim.Adam([a, b]),
                optim.RMSprop([a, b], centered=True)):
        a.grad, b.grad = tg.tensor([1.0, 1.0]), None
        opt.step()
        assert b.tolist() == [1.0, 1.0] and b not in opt.state
    assert a.numpy()[0] < 1



def test_frozen_parameters_are_accepted_and_left_alone():
    # the fine-tuning habit: freeze part of a model, pass model.parameters() as usual
    model = nn.MLP([2, 3, 2])
    model.fc1.requires_grad_(False)
    frozen = model.fc1.weight.numpy().copy()
    opt = optim.SGD(model.parameters(), lr=0.5)
    F.cross_entropy(model(tg.randn(4, 2)), [0, 1, 1, 0]).backward()
    opt.step()
    assert model.fc1.weight.grad is None
    np.testing.assert_array_equal(model.fc1.weight.numpy(), frozen)
    with pytest.raises(ValueError, match="computed from other tensors"):
        optim.SGD([tg.ones(2, requires_grad=True) * 2], lr=0.1)


def test_zero_grad_sets_none():
    p = nn.Parameter(np.ones(2))
    (p * 3).sum().backward()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


def test_float32_parameters_stay_float32():
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.Adamax):
        p = nn.Parameter(np.ones(3, dtype=np.float32))
        p.grad = tg.tensor(np.ones(3, dtype=np.float32))
        cls([p], lr=0.1, weight_decay=0.1).step()
        assert p.dtype == np.float32


def test_param_groups_with_their_own_lr():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = tg.tensor([1.0]), tg.tensor([1.0])
    opt.step()
    assert a.item() == pytest.approx(-0.1) and b.item() == pytest.approx(-1.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["momentum"] == 0


def test_bad_arguments_give_clear_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(ValueError, match=r"SGD: invalid lr -1 \(must be finite, >= 0"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="appears in more than one place"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=True"):
        optim.SGD([tg.ones(2)], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)


def test_closure_is_evaluated_and_returned():
    p = nn.Parameter(np.array([3.0]))
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert p.item() == pytest.approx(1.5)


@pytest.mark.parametrize("opt_cls, kw", [(optim.Adam, dict(lr=0.05, amsgrad=True)),
                                         (optim.SGD, dict(lr=0.05, momentum=0.9)),
                                         (optim.RMSprop, dict(momentum=0.5, centered=True))])
def test_state_dict_round_trip_continues_identically(opt_cls, kw):
    grads = gradient_sequence((3,), seed=4)
    a = nn.Parameter(np.ones(3))
    opt_a = opt_cls([a], **kw)
    for g in grads[:10]:
        a.grad = tg.tensor(g)
        opt_a.step()
    saved = opt_a.state_dict()
    assert saved["param_groups"][0]["params"] == [0]
    assert all(not k.startswith("_") for k in saved["state"][0])
    b = nn.Parameter(a.numpy().copy())
    opt_b = opt_cls([b], lr=123.0)
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[0]["lr"] == opt_a.param_groups[0]["lr"] != 123.0
    for g in grads[10:]:
        a.grad, b.grad = tg.tensor(g), tg.tensor(g)
        opt_a.step()
        opt_b.step()
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_load_state_dict_rejects_mismatches_without_changing():
    p = nn.Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.ones(3)
    opt.step()
    bad = opt.state_dict()
    bad["state"][0]["exp_avg"] = np.zeros(4)
    bad["param_groups"][0]["lr"] = 5.0
    other = optim.Adam([nn.Parameter(np.ones(3))], lr=0.2)
    with pytest.raises(ValueError, match=r"'exp_avg' of parameter 0 has shape \(4,\)"):
        other.load_state_dict(bad)
    assert other.param_groups[0]["lr"] == 0.2 and other.state == {}
    with pytest.raises(TypeError, match="'state' and 'param_groups'"):
        other.load_state_dict({"state": {}})
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    sgd.step()
    with pytest.raises(ValueError, match="saved param group 0 has no 'betas'; was it saved by "
                                         "another kind of optimizer"):
        other.load_state_dict(sgd.state_dict())
    foreign = opt.state_dict()
    foreign["state"][0]["momentum_buffer"] = np.zeros(3)
    with pytest.raises(ValueError, match="'momentum_buffer' of parameter 0 is not Adam state"):
        other.load_state_dict(foreign)
    assert other.param_groups[0]["lr"] == 0.2 and other.state == {}
    with pytest.raises(ValueError, match="1 parameter groups saved, 2"):
        optim.Adam([{"params": [nn.Parameter(np.ones(1))]},
                    {"params": [nn.Parameter(np.ones(1))]}]).load_state_dict(opt.state_dict())


# --- one validation for the constructors and load_state_dict --------------------------

BAD_HYPERPARAMETERS = [
    (optim.SGD, dict(lr="0.1"), TypeError, r"SGD: lr must be a number, got '0.1' \(str\)"),
    (optim.SGD, dict(lr=float("nan")), ValueError, "SGD: invalid lr nan"),
    (optim.SGD, dict(lr=float("inf")), ValueError, "SGD: invalid lr inf"),
    (optim.SGD, dict(lr=True), TypeError, r"lr must be a number, got True \(bool\)"),
    (optim.SGD, dict(lr=0.1, momentum=-0.5), ValueError, "invalid momentum -0.5"),
    (optim.SGD, dict(lr=0.1, dampening=float("nan")), ValueError, "invalid dampening nan"),
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
     "nesterov must be True or False, got 'yes'"),
    (optim.SGD, dict(lr=0.1, weight_decay="0"), TypeError, "weight_decay must be a number"),
    (optim.Adam, dict(lr=-1e-3), ValueError, "Adam: invalid lr -0.001"),
    (optim.Adam, dict(betas=(0.9,)), TypeError,
     r"betas must be a pair .beta1, beta2., got \(0.9,\)"),
    (optim.Adam, dict(betas=0.9), TypeError, "betas must be a pair"),
    (optim.Adam, dict(betas=(0.9, 1.0)), ValueError,
     r"invalid betas\[1\] 1.0 \(must be finite, >= 0.0, < 1"),
    (optim.Adam, dict(betas=(-0.1, 0.9)), ValueError, r"invalid betas\[0\] -0.1"),
    (optim.Adam, dict(betas=(0.9, "0.999")), TypeError, r"betas\[1\] must be a number"),
    (optim.Adam, dict(eps=float("nan")), ValueError, "invalid eps nan"),
    (optim.AdamW, dict(amsgrad="False"), TypeError, "AdamW: amsgrad must be True or False"),
    (optim.RMSprop, dict(alpha=-1), ValueError, "RMSprop: invalid alpha -1"),
    (optim.RMSprop, dict(centered=1), TypeError, "centered must be True or False, got 1"),
    (optim.Adagrad, dict(lr="0.1"), TypeError, r"Adagrad: lr must be a number, got '0.1'"),
    (optim.Adagrad, dict(lr_decay=-0.1), ValueError, "Adagrad: invalid lr_decay -0.1"),
    (optim.Adagrad, dict(lr_decay=float("nan")), ValueError, "Adagrad: invalid lr_decay nan"),
    (optim.Adagrad, dict(weight_decay=-1), ValueError, "Adagrad: invalid weight_decay -1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), ValueError,
     "Adagrad: invalid initial_accumulator_value -1"),
    (optim.Adagrad, dict(initial_accumulator_value="1"), TypeError,
     "Adagrad: initial_accumulator_value must be a number"),
    (optim.Adagrad, dict(eps=float("nan")), ValueError, "Adagrad: invalid eps nan"),
    (optim.Adamax, dict(lr=-2e-3), ValueError, "Adamax: invalid lr -0.002"),
    (optim.Adamax, dict(lr=float("nan")), ValueError, "Adamax: invalid lr nan"),
    (optim.Adamax, dict(betas=(0.9, 1.0)), ValueError, r"Adamax: invalid betas\[1\] 1.0"),
    (optim.Adamax, dict(betas="0.9"), TypeError, "Adamax: betas must be a pair"),
    (optim.Adamax, dict(eps=-1e-8), ValueError, "Adamax: invalid eps -1e-08"),
    (optim.Adamax, dict(weight_decay="0"), TypeError, "Adamax: weight_decay must be a number"),
]


@pytest.mark.parametrize("cls, kw, error, match", BAD_HYPERPARAMETERS,
                         ids=[f"{c.__name__}-{next(iter(k))}-{i}"
                              for i, (c, k, _, _) in enumerate(BAD_HYPERPARAMETERS)])
def test_constructors_refuse_bad_hyperparameters(cls, kw, error, match):
    with pytest.raises(error, match=match):
        cls([nn.Parameter(np.ones(2))], **kw)
    group = {"params": [nn.Parameter(np.ones(2))], **kw}   # a param group's override too
    with pytest.raises(error, match=match):
        cls([group], lr=0.1)


def test_constructors_accept_numpy_and_integer_numbers():
    p = nn.Parameter(np.ones(2))
    assert optim.SGD([p], lr=np.float32(0.5), momentum=1).param_groups[0]["lr"] == 0.5
    assert optim.Adam([p], betas=[0.8, np.float64(0.9)]).param_groups[0]["betas"] == (0.8, 0.9)
    assert optim.RMSprop([p], centered=np.bool_(True)).param_groups[0]["centered"]


def adam_after_one_step():
    p = nn.Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = tg.ones(3)
    opt.step()
    return opt


BAD_SAVED = {
    "lr_string": (lambda sd: sd["param_groups"][0].update(lr="0.1"), TypeError,
                  r"saved param group 0: lr must be a number, got '0.1'"),
    "lr_nan": (lambda sd: sd["param_groups"][0].update(lr=float("nan")), ValueError,
               "saved param group 0: invalid lr nan"),
    "lr_negative": (lambda sd: sd["param_groups"][0].update(lr=-0.1), ValueError,
                    "invalid lr -0.1"),
    "betas_above_1": (lambda sd: sd["param_groups"][0].update(betas=(0.9, 1.5)), ValueError,
                      r"invalid betas\[1\] 1.5"),
    "betas_too_short": (lambda sd: sd["param_groups"][0].update(betas=[0.9]), TypeError,
                        "betas must be a pair"),
    "amsgrad_string": (lambda sd: sd["param_groups"][0].update(amsgrad="no"), TypeError,
                       "amsgrad must be True or False"),
    "params_not_a_list": (lambda sd: sd["param_groups"][0].update(params=0), TypeError,
                          "'params' is a list of parameter numbers"),
    "step_negative": (lambda sd: sd["state"][0].update(step=-1), ValueError,
                      "'step' of parameter 0 must be a non-negative integer, got -1"),
    "step_float": (lambda sd: sd["state"][0].update(step=1.5), TypeError,
                   "'step' of parameter 0 must be a non-negative integer, got 1.5"),
    "step_bool": (lambda sd: sd["state"][0].update(step=True), TypeError,
                  "'step' of parameter 0 must be a non-negative integer"),
    # a scalar would broadcast in the update and then never change: Adam's moment frozen at 0
    "exp_avg_scalar": (lambda sd: sd["state"][0].update(exp_avg=0.0), TypeError,
                       r"'exp_avg' of parameter 0 must be an array of shape \(3,\), got float"),
    "exp_avg_0d": (lambda sd: sd["state"][0].update(exp_avg=np.zeros(())), ValueError,
                   r"'exp_avg' of parameter 0 has shape \(\), the parameter \(3,\)"),
    "exp_avg_broadcastable": (lambda sd: sd["state"][0].update(exp_avg=np.zeros(1)), ValueError,
                              r"has shape \(1,\), the parameter \(3,\)"),
    "exp_avg_nan": (lambda sd: sd["state"][0].update(exp_avg=np.full(3, np.nan)), ValueError,
                    "'exp_avg' of parameter 0 has values that are not finite in float64"),
    "exp_avg_text": (lambda sd: sd["state"][0].update(exp_avg=np.array(["a", "b", "c"])),
                     TypeError, "has dtype <U1, not a real number type"),
    "exp_avg_complex": (lambda sd: sd["state"][0].update(exp_avg=np.ones(3) * 1j), TypeError,
                        "has dtype complex128"),
    "missing_exp_avg_sq": (lambda sd: sd["state"][0].pop("exp_avg_sq"), ValueError,
                           "state of parameter 0 lacks 'exp_avg_sq'"),
    "scratch_buffer": (lambda sd: sd["state"][0].update(_work=np.zeros(3)), ValueError,
                       "'_work' of parameter 0 is not Adam state"),
    "state_not_a_dict": (lambda sd: sd["state"].update({0: [1, 2]}), TypeError,
                         "state of parameter 0 is a list, not a dict"),
    "state_key_string": (lambda sd: sd["state"].update({"0": sd["state"].pop(0)}), ValueError,
                         r"state for parameter '0', but the saved groups number their "
                         r"parameters \[0\]"),
    "state_key_out_of_range": (lambda sd: sd["state"].update({5: sd["state"].pop(0)}),
                               ValueError, "state for parameter 5"),
}


@pytest.mark.parametrize("name", list(BAD_SAVED))
def test_load_state_dict_refuses_what_the_constructor_would_and_changes_nothing(name):
    change, error, match = BAD_SAVED[name]
    saved = adam_after_one_step().state_dict()
    change(saved)
    q = nn.Parameter(np.ones(3))
    opt = optim.Adam([q], lr=0.2, amsgrad=True)
    q.grad = tg.ones(3)
    opt.step()
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in opt.state[q].items()}
    group_before = dict(opt.param_groups[0])
    with pytest.raises(error, match=match):
        opt.load_state_dict(saved)
    assert opt.param_groups[0] == group_before and list(opt.state) == [q]
    for k, v in opt.state[q].items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_a_float64_moment_that_overflows_a_float32_parameter_is_refused():
    saved = adam_after_one_step().state_dict()
    saved["state"][0]["exp_avg"] = np.full(3, 1e300)
    opt = optim.Adam([nn.Parameter(np.ones(3, dtype=np.float32))], amsgrad=True)
    with pytest.raises(ValueError, match="'exp_avg' of parameter 0 has values that are not "
                                         "finite in float32"):
        opt.load_state_dict(saved)
    assert opt.state == {}


def test_saved_parameter_numbers_decide_which_parameter_gets_which_state():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad, b.grad = tg.tensor([1.0, 1.0]), tg.tensor([5.0, 5.0])
    opt.step()
    saved = opt.state_dict()
    # the same state, numbered the other way round (as PyTorch allows)
    saved["param_groups"][0]["params"] = [1, 0]
    saved["state"] = {1: saved["state"][0], 0: saved["state"][1]}
    c, d = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    fresh = optim.SGD([c, d], lr=0.1, momentum=0.9)
    fresh.load_state_dict(saved)
    assert fresh.state[c]["momentum_buffer"].tolist() == [1.0, 1.0]
    assert fresh.state[d]["momentum_buffer"].tolist() == [5.0, 5.0]
    saved["param_groups"][0]["params"] = [0, 0]
    with pytest.raises(ValueError, match="parameter number 0 is saved twice"):
        fresh.load_state_dict(saved)


@pytest.mark.parametrize("opt_cls, kw", [(optim.SGD, dict(lr=0.1)),
                                         (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
                                         (optim.Adam, dict(amsgrad=True)),
                                         (optim.RMSprop, dict(momentum=0.5, centered=True))])
def test_state_dict_survives_a_file(tmp_path, opt_cls, kw):
    p = nn.Parameter(np.arange(3.0))
    opt = opt_cls([p], **kw)
    p.grad = tg.ones(3)
    opt.step()
    back = tg.load(tg.save(opt.state_dict(), tmp_path / "opt.npz"))
    q = nn.Parameter(np.arange(3.0))
    other = opt_cls([q], lr=0.5)
    other.load_state_dict(back)
    assert other.param_groups[0] == {**opt.param_groups[0], "params": [q]}
    for k, v in opt.state[p].items():
        if not k.startswith("_"):
            np.testing.assert_array_equal(other.state[q][k], v)


@pytest.mark.parametrize("opt_cls, change, error, match", [
    (optim.Adagrad, lambda sd: sd["param_groups"][0].update(lr_decay=-1), ValueError,
     "saved param group 0: invalid lr_decay -1"),
    (optim.Adagrad, lambda sd: sd["state"][0].update(sum=np.ones(2)), ValueError,
     r"'sum' of parameter 0 has shape \(2,\)"),
    (optim.Adagrad, lambda sd: sd["state"][0].update(exp_avg=np.ones(3)), ValueError,
     "'exp_avg' of parameter 0 is not Adagrad state"),
    (optim.Adamax, lambda sd: sd["param_groups"][0].update(betas=(1.0, 0.9)), ValueError,
     r"invalid betas\[0\] 1.0"),
    (optim.Adamax, lambda sd: sd["state"][0].pop("exp_inf"), ValueError, "lacks 'exp_inf'"),
    (optim.SGD, lambda sd: sd["param_groups"][0].update(initial_lr="0.1"), TypeError,
     "initial_lr must be a number"),
    (optim.Adam, lambda sd: sd["param_groups"][0].update(max_momentum=float("nan")), ValueError,
     "invalid max_momentum nan"),
])
def test_load_state_dict_of_the_new_optimizers_checks_like_the_constructor(opt_cls, change,
                                                                           error, match):
    p = nn.Parameter(np.ones(3))
    opt = opt_cls([p], lr=0.1)
    optim.StepLR(opt, 2)   # puts initial_lr into the group
    p.grad = tg.ones(3)
    opt.step()
    saved = opt.state_dict()
    change(saved)
    q = nn.Parameter(np.ones(3))
    other = opt_cls([q], lr=0.3)
    before = {k: dict(v) for k, v in other.state.items()}   # Adagrad's, made by its constructor
    with pytest.raises(error, match=match):
        other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == 0.3 and list(other.state) == list(before)
    for k, entry in other.state.items():
        assert all(v is before[k][name] for name, v in entry.items())


def test_schedulers():
    p = nn.Parameter(np.ones(1))
    opt = optim.SGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = []
    for _ in range(8):
        lrs.append(sched.get_last_lr()[0])
        sched.step()
    assert lrs == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    opt = optim.Adam([p], lr=0.1)
    sched = optim.ExponentialLR(opt, gamma=0.9)
    for _ in range(5):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.9 ** 5, rel=1e-14)
    assert sched.get_last_lr() == [opt.param_groups[0]["lr"]]
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(opt, 0)


def test_schedulers_match_torch():
    torch = pytest.importorskip("torch")
    for ours_cls, kw in [(optim.StepLR, dict(step_size=4, gamma=0.3)),
                         (optim.ExponentialLR, dict(gamma=0.95))]:
        o = optim.SGD([nn.Parameter(np.ones(1))], lr=0.5)
        t = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
        so = ours_cls(o, **kw)
        st = getattr(torch.optim.lr_scheduler, ours_cls.__name__)(t, **kw)
        for _ in range(12):
            o.step(), t.step()
            so.step(), st.step()
            assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-15)


def test_training_a_model_reduces_loss():
    tg.manual_seed(0)
    model = nn.MLP([2, 16, 2])
    opt = optim.Adam(model.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(model(tg.tensor(X)), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    assert math.isfinite(losses[-1])


# --- several parameter groups, every flag, step by step against PyTorch ------------------

GROUP_CASES = [
    (optim.SGD, dict(lr=0.05), [dict(momentum=0.9, dampening=0.3, weight_decay=0.01),
                                dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.1),
                                dict(weight_decay=0.2)]),
    (optim.Adam, dict(lr=0.01), [dict(amsgrad=True, weight_decay=0.1),
                                 dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6), dict()]),
    (optim.AdamW, dict(lr=0.01), [dict(amsgrad=True, weight_decay=0.1),
                                  dict(lr=0.03, betas=(0.7, 0.9), weight_decay=0), dict()]),
    (optim.Adamax, dict(lr=0.01), [dict(weight_decay=0.1), dict(betas=(0.3, 0.9), eps=1e-4),
                                   dict(lr=0.05)]),
    (optim.Adagrad, dict(lr=0.1, initial_accumulator_value=0.3),
     [dict(lr_decay=0.1, weight_decay=0.1), dict(eps=1e-4), dict(lr=0.5, lr_decay=0.01)]),
    (optim.RMSprop, dict(lr=0.01), [dict(centered=True, momentum=0.5, weight_decay=0.1),
                                    dict(alpha=0.9, momentum=0.9), dict(centered=True)]),
]


@pytest.mark.parametrize("opt_cls, defaults, overrides", GROUP_CASES,
                         ids=[c[0].__name__ for c in GROUP_CASES])
def test_param_groups_with_every_flag_match_torch_step_by_step(opt_cls, defaults, overrides):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    shapes = [[(3, 2), (2,)], [(4,)], [(2, 2), (1,), (3,)]]
    start = [[rng.standard_normal(s) for s in group] for group in shapes]
    ours = [[nn.Parameter(w.copy()) for w in group] for group in start]
    theirs = [[torch.tensor(w, requires_grad=True) for w in group] for group in start]
    opt_o = opt_cls([{"params": ps, **kw} for ps, kw in zip(ours, overrides)], **defaults)
    opt_t = getattr(torch.optim, opt_cls.__name__)(
        [{"params": ps, **kw} for ps, kw in zip(theirs, overrides)], **defaults)
    for step in range(20):
        for p_o, p_t in zip(sum(ours, []), sum(theirs, [])):
            g = rng.standard_normal(p_o.shape) * (1 + step % 3)
            p_o.grad, p_t.grad = tg.tensor(g), torch.tensor(g)
        opt_o.step()
        opt_t.step()
        for i, (p_o, p_t) in enumerate(zip(sum(ours, []), sum(theirs, []))):
            np.testing.assert_allclose(p_o.numpy(), p_t.detach().numpy(), rtol=0, atol=1e-13,
                                       err_msg=f"parameter {i}, step {step}")
    for g_o, g_t in zip(opt_o.param_groups, opt_t.param_groups):
        for k, v in g_o.items():
            if k != "params":
                assert g_t[k] == v, k


def test_adagrad_state_is_made_by_the_constructor_and_its_initial_value_is_global():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.Adagrad([a, b], initial_accumulator_value=0.5)
    assert opt.state_dict()["state"][1]["sum"].tolist() == [0.5] * 3   # as torch, before a step
    # PyTorch ignores a group's own value: refused rather than silently ignored
    with pytest.raises(ValueError, match=r"Adagrad: initial_accumulator_value is one value for "
                                         r"the whole optimizer \(0.5\); a parameter group "
                                         r"can't have its own \(1.0\)"):
        opt.add_param_group({"params": [nn.Parameter(np.ones(1))],
                             "initial_accumulator_value": 1.0})
    c = nn.Parameter(np.ones(1))
    opt.add_param_group({"params": [c]})
    c.grad = tg.tensor([2.0])
    opt.step()
    assert opt.state[c]["sum"].tolist() == [4.5]
    with pytest.raises(ValueError, match="initial_accumulator_value is one value"):
        optim.Adagrad([nn.Parameter(np.ones(2))]).load_state_dict(
            optim.Adagrad([nn.Parameter(np.ones(2))], initial_accumulator_value=0.1).state_dict())


def test_state_dict_with_several_groups_round_trips():
    rng = np.random.default_rng(0)
    grads = [[rng.standard_normal(3), rng.standard_normal(2)] for _ in range(12)]

    def make():
        a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.ones(2))
        return a, b, optim.Adagrad([{"params": [a], "lr_decay": 0.1}, {"params": [b], "lr": 0.5}],
                                   initial_accumulator_value=1.0)

    a, b, opt = make()
    for ga, gb in grads[:6]:
        a.grad, b.grad = tg.tensor(ga), tg.tensor(gb)
        opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0], [1]]
    assert saved["param_groups"][1]["lr"] == 0.5 and saved["state"][0]["step"] == 6
    c, d, other = make()
    c.data[...], d.data[...] = a.data, b.data
    other.param_groups[1]["lr"] = 9.0
    other.load_state_dict(saved)
    assert other.param_groups[1]["lr"] == 0.5
    for ga, gb in grads[6:]:
        for opt_, p, q in ((opt, a, b), (other, c, d)):
            p.grad, q.grad = tg.tensor(ga), tg.tensor(gb)
            opt_.step()
    np.testing.assert_array_equal(a.numpy(), c.numpy())
    np.testing.assert_array_equal(b.numpy(), d.numpy())


def test_add_param_group():
    a, b, c = (nn.Parameter(np.zeros(1)) for _ in range(3))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 1.0})   # a single tensor is a group of one
    assert opt.param_groups[1]["params"] == [b]
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 1.0
    a.grad, b.grad = tg.tensor([1.0]), tg.tensor([1.0])
    opt.step()
    assert a.item() == pytest.approx(-0.1) and b.item() == pytest.approx(-1.0)
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(1,\)\) is already in "
                                         "parameter group 0"):
        opt.add_param_group({"params": [c, a]})
    with pytest.raises(ValueError, match="more than one place in its group"):
        opt.add_param_group({"params": [c, c]})
    with pytest.raises(TypeError, match="not a set"):
        opt.add_param_group({"params": {c}})
    with pytest.raises(ValueError, match="SGD: invalid lr -1"):
        opt.add_param_group({"params": [c], "lr": -1})
    with pytest.raises(TypeError, match="a dict with 'params'"):
        opt.add_param_group([c])
    assert len(opt.param_groups) == 2   # nothing refused was added
    with pytest.raises(ValueError, match="already in parameter group 0"):
        optim.Adam([{"params": [a, b]}, {"params": [b]}])
