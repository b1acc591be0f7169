"""register_post_accumulate_grad_hook, F.normalize, 1-d pooling, conv_transpose1d, the
optimizers' maximize=, ConstantLR and PolynomialLR: against PyTorch in float64, gradcheck."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
rng = np.random.default_rng(0)


def T(a, requires_grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# --- post-accumulate-grad hooks ------------------------------------------------------------

def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (x * 4).sum().backward()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(seen, [[4.0, 4.0], [5.0, 5.0]])
    handle.remove()
    (x * 1).sum().backward()
    assert len(seen) == 2


def test_post_accumulate_grad_hook_runs_after_tensor_hooks_and_not_for_grad():
    x = tg.tensor([1.0], requires_grad=True)
    order = []
    x.register_post_accumulate_grad_hook(lambda t: order.append(("post", t.grad.item())))
    x.register_hook(lambda g: order.append(("hook", g.item())) or g * 2)
    (x * 3).sum().backward()
    assert order == [("hook", 3.0), ("post", 6.0)]
    tg.grad((x * 3).sum(), x)   # autograd.grad accumulates nothing: no post hook
    assert len(order) == 3 and order[2][0] == "hook"


def test_post_accumulate_grad_hook_refusals():
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="require"):
        tg.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    x.register_post_accumulate_grad_hook(lambda t: t.grad)
    with pytest.raises(RuntimeError, match="must return None"):
        x.sum().backward()


# --- F.normalize, pooling, transposed convolution -------------------------------------------

@needs_torch
@pytest.mark.parametrize("p,dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim):
    a = rng.standard_normal((3, 4))
    a[1] = 0.0   # an all-zero row: eps keeps it zero, as PyTorch
    x, t = tg.tensor(a, requires_grad=True), T(a)
    y, u = F.normalize(x, p, dim), torch.nn.functional.normalize(t, p, dim)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-12, atol=1e-15)
    seed = rng.standard_normal(a.shape)
    y.backward(tg.tensor(seed))
    u.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_normalize_gradcheck():
    x = tg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda x: F.normalize(x, dim=1), (x,))
    assert tg.gradgradcheck(lambda x: F.normalize(x, dim=1), (x,))


POOLS = [
    ("max", dict(kernel_size=2)),
    ("max", dict(kernel_size=3, stride=2, padding=1)),
    ("max", dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True)),
    ("avg", dict(kernel_size=3, stride=2, padding=1)),
    ("avg", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
]


@needs_torch
@pytest.mark.parametrize("kind,kw", POOLS)
@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 8)])
def test_pool1d_matches_torch(kind, kw, shape):
    a = rng.standard_normal(shape)
    x, t = tg.tensor(a, requires_grad=True), T(a)
    ours = F.max_pool1d if kind == "max" else F.avg_pool1d
    theirs = torch.nn.functional.max_pool1d if kind == "max" else torch.nn.functional.avg_pool1d
    y, u = ours(x, **kw), theirs(t, **kw)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-12)
    seed = rng.standard_normal(y.shape)
    y.backward(tg.tensor(seed))
    u.backward(torch.tensor(seed))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@needs_torch
def test_max_pool1d_indices_and_the_layers_match_torch():
    a = rng.standard_normal((2, 3, 10))
    y, i = F.max_pool1d(tg.tensor(a), 3, 2, 1, return_indices=True)
    u, j = torch.nn.functional.max_pool1d(T(a, False), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(i.numpy(), j.numpy())
    assert i.dtype == np.int64
    np.testing.assert_allclose(tg.nn.MaxPool1d(3, 2)(tg.tensor(a)).numpy(),
                               torch.nn.MaxPool1d(3, 2)(T(a, False)).numpy())
    np.testing.assert_allclose(tg.nn.AvgPool1d(4, 3, 1)(tg.tensor(a)).numpy(),
                               torch.nn.AvgPool1d(4, 3, 1)(T(a, False)).numpy(), rtol=1e-12)


def test_pool1d_gradcheck_and_bad_shapes():
    x = tg.tensor(rng.standard_normal((1, 2, 7)), requires_grad=True)
    assert tg.gradcheck(lambda x: F.avg_pool1d(x, 3, 2, 1), (x,))
    assert tg.gradcheck(lambda x: F.max_pool1d(x, 3, 2), (x,))
    with pytest.raises(ValueError, match="max_pool1d.*shape \\(2, 3, 4, 5\\)"):
        F.max_pool1d(tg.zeros(2, 3, 4, 5), 2)
    with pytest.raises(ValueError, match="avg_pool1d: kernel_size"):
        F.avg_pool1d(tg.zeros(2, 3, 4), (2, 2))


@needs_torch
@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=2, dilation=2, groups=2)])
def test_conv_transpose1d_matches_torch(kw):
    a, w, b = rng.standard_normal((2, 4, 5)), rng.standard_normal((4, 3, 3)), rng.standard_normal(6 if kw.get("groups") else 3)
    x, wt, bt = (tg.tensor(v, requires_grad=True) for v in (a, w, b))
    tx, tw, tb = T(a), T(w), T(b)
    y = F.conv_transpose1d(x, wt, bt, **kw)
    u = torch.nn.functional.conv_transpose1d(tx, tw, tb, **kw)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=1e-12, atol=1e-12)
    seed = rng.standard_normal(y.shape)
    y.backward(tg.tensor(seed))
    u.backward(torch.tensor(seed))
    for ours, theirs in ((x, tx), (wt, tw), (bt, tb)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-11, atol=1e-12)


def test_conv_transpose1d_gradcheck_and_bad_weight():
    x = tg.tensor(rng.standard_normal((1, 2, 4)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((2, 1, 2)), requires_grad=True)
    assert tg.gradcheck(lambda x, w: F.conv_transpose1d(x, w, stride=2), (x, w))
    with pytest.raises(ValueError, match="conv_transpose1d: weight"):
        F.conv_transpose1d(x, tg.zeros(2, 1, 2, 2))


# --- optimizers: maximize=, schedulers --------------------------------------------------------

OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
              ("Adam", dict(lr=0.01, weight_decay=0.01)), ("AdamW", dict(lr=0.01)),
              ("RMSprop", dict(lr=0.01, momentum=0.5)), ("Adagrad", dict(lr=0.1)),
              ("Adamax", dict(lr=0.01))]


def optimize(lib, name, kw, start):
    p = lib.tensor(start.copy(), requires_grad=True)
    opt = getattr(lib.optim, name)([p], maximize=True, **kw)
    for _ in range(5):
        opt.zero_grad()
        (-(p - 1.0) ** 2).sum().backward()   # maximum at p = 1
        opt.step()
    return p.detach().numpy()


@needs_torch
@pytest.mark.parametrize("name,kw", OPTIMIZERS)
def test_maximize_matches_torch(name, kw):
    start = rng.standard_normal(4)
    ours, theirs = optimize(tg, name, kw, start), optimize(torch, name, kw, start)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_maximize_climbs_and_is_checked():
    start = np.array([3.0, -2.0])
    p = optimize(tg, "SGD", dict(lr=0.1), start)
    assert (np.abs(p - 1) < np.abs(start - 1)).all()
    with pytest.raises(TypeError, match="maximize"):
        tg.optim.Adam([tg.tensor([1.0], requires_grad=True)], maximize="yes")


def test_sgd_takes_weight_decay_before_nesterov_as_torch():
    p = tg.tensor([1.0], requires_grad=True)
    opt = tg.optim.SGD([p], 0.1, 0.9, 0.0, 1e-4)
    assert opt.param_groups[0]["weight_decay"] == 1e-4 and opt.param_groups[0]["nesterov"] is False


def lr_curve(lib, name, kw, steps=9):
    p = lib.tensor([1.0], requires_grad=True)
    opt = lib.optim.SGD([p], lr=0.5)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **kw)
    lrs = []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


@needs_torch
@pytest.mark.parametrize("name,kw", [("ConstantLR", dict()), ("ConstantLR", dict(factor=0.5, total_iters=3)),
                                     ("PolynomialLR", dict()), ("PolynomialLR", dict(total_iters=4, power=2.0))])
def test_schedulers_match_torch(name, kw):
    np.testing.assert_allclose(lr_curve(tg, name, kw), lr_curve(torch, name, kw), rtol=1e-14)


def test_scheduler_settings_are_checked():
    opt = tg.optim.SGD([tg.tensor([1.0], requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="factor"):
        tg.optim.lr_scheduler.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="total_iters"):
        tg.optim.PolynomialLR(opt, total_iters=0)
