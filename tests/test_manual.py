"""manual.py: the hand derivations against PyTorch, tinygrad's autograd and closed forms."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import derivations, manual, nn
from tinygrad_edu.functional import cross_entropy

rng = np.random.default_rng(42)


def torch_grads(fn, *arrays):
    """PyTorch's gradients of the scalar fn(*tensors) with respect to every array."""
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts)
    out.backward()
    return float(out.detach()), [t.grad.numpy() for t in ts]


def test_linear_matches_torch():
    torch = pytest.importorskip("torch")
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    G = rng.standard_normal((5, 3))
    _, (dx, dW, db) = torch_grads(
        lambda x, W, b: (torch.nn.functional.linear(x, W, b) * torch.tensor(G)).sum(), x, W, b)
    ours = manual.linear_backward(G, x, W)
    for a, b_ in zip(ours, (dx, dW, db)):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(manual.linear_forward(x, W, b), x @ W.T + b)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh"])
def test_activations_match_torch(name):
    torch = pytest.importorskip("torch")
    x, G = 3 * rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    f = getattr(torch, name)
    _, (dx,) = torch_grads(lambda x: (f(x) * torch.tensor(G)).sum(), x)
    np.testing.assert_allclose(getattr(manual, name + "_backward")(G, x), dx, rtol=1e-12,
                               atol=1e-14)


def test_relu_kink_and_stable_sigmoid():
    assert manual.relu_backward(np.ones(3), np.array([-1.0, 0.0, 1.0])).tolist() == [0, 0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = manual.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
        d = manual.sigmoid_backward(np.ones(3), np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(s, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(d, [0.0, 0.25, 0.0])


def test_softmax_jacobian_properties_and_torch():
    torch = pytest.importorskip("torch")
    z = rng.standard_normal((3, 4))
    J = manual.softmax_jacobian(z)
    assert J.shape == (3, 4, 4)
    np.testing.assert_allclose(J, np.swapaxes(J, 1, 2))          # symmetric
    np.testing.assert_allclose(J.sum(axis=2), 0, atol=1e-15)     # softmax sums to 1
    for n in range(3):
        ref = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), torch.tensor(z[n]))
        np.testing.assert_allclose(J[n], ref.numpy(), atol=1e-15)
    assert manual.softmax_jacobian(z[0]).shape == (4, 4)
    # the VJP is J^T dp, without building J
    dp = rng.standard_normal((3, 4))
    np.testing.assert_allclose(manual.softmax_backward(dp, z), np.einsum("nij,ni->nj", J, dp),
                               atol=1e-15)


def test_softmax_cross_entropy_shortcut():
    torch = pytest.importorskip("torch")
    z, y = 5 * rng.standard_normal((6, 4)), np.array([0, 1, 2, 3, 0, 1])
    loss, dz = manual.softmax_cross_entropy(z, y)
    ref_loss, (ref_dz,) = torch_grads(
        lambda z: torch.nn.functional.cross_entropy(z, torch.tensor(y)), z)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(dz, ref_dz, atol=1e-15)
    np.testing.assert_allclose(dz, (manual.softmax(z) - manual.one_hot(y, 4)) / 6)
    big, bdz = manual.softmax_cross_entropy(np.array([[1000.0, -1000.0]]), np.array([1]))
    assert np.isfinite(big) and np.isfinite(bdz).all()


def test_mse_matches_torch():
    torch = pytest.importorskip("torch")
    p, t = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss, dp = manual.mse(p, t)
    ref_loss, (ref_dp,) = torch_grads(
        lambda p: torch.nn.functional.mse_loss(p, torch.tensor(t)), p)
    assert loss == pytest.approx(ref_loss)
    np.testing.assert_allclose(dp, ref_dp, atol=1e-15)


def test_multi_margin_matches_torch():
    torch = pytest.importorskip("torch")
    s, y = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    loss, ds = manual.multi_margin(s, y)
    ref_loss, (ref_ds,) = torch_grads(
        lambda s: torch.nn.functional.multi_margin_loss(s, torch.tensor(y)), s)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(ds, ref_ds, atol=1e-15)
    assert manual.multi_margin(s, y, margin=2.0)[0] > loss


def test_batchnorm_backward_matches_torch():
    torch = pytest.importorskip("torch")
    x = 2 * rng.standard_normal((8, 3)) + 1
    gamma, beta, G = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal((8, 3))
    _, ref = torch_grads(lambda x, g, b: (torch.nn.functional.batch_norm(
        x, None, None, g, b, training=True) * torch.tensor(G)).sum(), x, gamma, beta)
    out, cache = manual.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    for ours, theirs in zip(manual.batchnorm_backward(G, cache), ref):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_layernorm_backward_matches_torch_and_autograd():
    x = 2 * rng.standard_normal((5, 4)) + 1
    gamma, beta, G = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((5, 4))
    out, cache = manual.layernorm_forward(x, gamma, beta)
    ours = manual.layernorm_backward(G, cache)
    xs = [tg.tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    y = tg.nn.functional.layer_norm(xs[0], 4, xs[1], xs[2])
    np.testing.assert_allclose(out, y.numpy(), rtol=1e-12)
    (y * G).sum().backward()
    for mine, t in zip(ours, xs):
        np.testing.assert_allclose(mine, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    torch = pytest.importorskip("torch")
    _, ref = torch_grads(lambda x, g, b: (torch.nn.functional.layer_norm(x, [4], g, b)
                                          * torch.tensor(G)).sum(), x, gamma, beta)
    for mine, theirs in zip(ours, ref):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_gelu_backward_matches_autograd():
    x = np.linspace(-4, 4, 17)
    t = tg.tensor(x, requires_grad=True)
    tg.nn.functional.gelu(t).backward(tg.tensor(np.arange(17.0)))
    np.testing.assert_allclose(manual.gelu_backward(np.arange(17.0), x), t.grad.numpy(),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_mlp_backprop_matches_nn_mlp_autograd(batchnorm):
    model = nn.MLP([3, 6, 5, 4], batchnorm=batchnorm, generator=np.random.default_rng(1))
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 4, 10)
    loss = cross_entropy(model(tg.Tensor(X)), y)
    loss.backward()
    layers, rename = derivations.mlp_layers(model)
    manual_loss, grads = manual.mlp_backprop(X, y, layers)
    assert manual_loss == pytest.approx(loss.item(), rel=1e-12)
    assert set(grads) == set(rename)
    result = tg.compare_gradients(model, grads, rename=rename, atol=1e-10, rtol=1e-8,
                                  verbose=False)
    assert result.passed, result.table()
    assert len(result.rows) == len(list(model.parameters()))


def test_adam_step_matches_torch_and_does_not_modify_inputs():
    torch = pytest.importorskip("torch")
    p0 = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(4)]
    settings = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.01)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    opt = torch.optim.Adam([tp], **settings)
    p, m, v = p0.copy(), np.zeros((3, 2)), np.zeros((3, 2))
    for t, g in enumerate(grads, start=1):
        tp.grad = torch.tensor(g)
        opt.step()
        g_copy = g.copy()
        p, m, v = manual.adam_step(p, g, m, v, t, **settings)
        np.testing.assert_array_equal(g, g_copy)
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


def test_every_derivation_passes_the_check():
    report = derivations.check_derivations(verbose=False)
    assert report.passed, report.table()
    cases = {row[0] for row in report.rows}
    assert {"linear", "relu", "sigmoid", "tanh", "softmax_jacobian", "softmax_backward",
            "softmax_cross_entropy", "mse", "multi_margin", "batchnorm", "mlp_backprop",
            "mlp_backprop (batchnorm)", "adam_step (vs optim.Adam)"} <= cases


def test_check_derivations_catches_a_planted_bug(monkeypatch):
    monkeypatch.setattr(manual, "tanh_backward", lambda dy, x: dy * (1 - x * x))
    report = derivations.check_derivations(verbose=False)
    assert not report.passed
    failed = {(row[0], row[1]) for row in report.rows if not row[3].passed}
    assert failed == {("tanh", "x")}
    text = report.table()
    assert "FAIL tanh: x: worst element" in text and "1 of" in text and "WRONG" in text
    assert ", hand " in text                 # the sides are named autograd / finite diff / hand


def test_numerical_gradients():
    f = lambda a, b: float((a ** 2).sum() + (a[0] * b).sum())   # noqa: E731
    a, b = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    g = derivations.numerical_gradients(f, {"a": a, "b": b})
    np.testing.assert_allclose(g["a"], [2 * 1 + 3.5, -4], atol=1e-8)
    np.testing.assert_allclose(g["b"], [1.0, 1.0], atol=1e-8)
    assert a.tolist() == [1.0, -2.0]      # the inputs are left as they were


def test_numerical_gradients_of_a_fortran_ordered_array():
    # a copy that kept F order would be perturbed through a flat copy, not a view: all zeros
    W = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    g = derivations.numerical_gradients(lambda W: float((W ** 2).sum()), {"W": W})
    np.testing.assert_allclose(g["W"], 2 * W, atol=1e-6)


@pytest.mark.parametrize("model, problem", [
    (nn.MLP([2, 3, 2], activation="tanh"), "tanh1 is Tanh"),
    (nn.MLP([2, 3, 2], dropout=0.5), "dropout1 is Dropout"),
    (nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, affine=False)), "BatchNorm1d"),
], ids=["tanh", "dropout", "batchnorm without affine"])
def test_mlp_layers_refuses_what_mlp_backprop_does_not_compute(model, problem):
    with pytest.raises(ValueError, match=problem):
        derivations.mlp_layers(model)


def test_mlp_layers_refuses_parameters_not_named_like_an_mlp():
    with pytest.raises(ValueError, match="got no parameters"):
        derivations.mlp_layers({})
    with pytest.raises(ValueError, match="hidden.weight do not fit"):
        derivations.mlp_layers({"hidden.weight": np.zeros((3, 2))})
    with pytest.raises(ValueError, match="extra.weight do not fit"):
        derivations.mlp_layers({"fc1.weight": np.zeros((3, 2)), "fc1.bias": np.zeros(3),
                                "extra.weight": np.zeros(3)})


def test_check_model_gradients_names_the_rows_like_the_model():
    model = nn.MLP([3, 4, 2], batchnorm=True, generator=np.random.default_rng(3))
    X, y = rng.standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    _, result = derivations.check_model_gradients(model, X, y, verbose=False)
    assert result.passed and [r.name for r in result.rows] == [
        "fc1.weight", "fc1.bias", "bn1.weight", "bn1.bias", "fc2.weight", "fc2.bias"]


def test_a_slip_in_mlp_backprop_fails_the_demo_check_and_the_suite(monkeypatch):
    """Both go through the one adapter (mlp_layers) to the same manual.mlp_backprop."""
    original = manual.mlp_backprop

    def b1_doubled(*args, **kwargs):
        loss, grads = original(*args, **kwargs)
        return loss, {**grads, "b1": 2 * grads["b1"]}
    monkeypatch.setattr(manual, "mlp_backprop", b1_doubled)
    model = nn.MLP([3, 4, 2], generator=np.random.default_rng(3))
    X, y = rng.standard_normal((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    _, result = derivations.check_model_gradients(model, X, y, verbose=False)
    assert [r.name for r in result.failures] == ["fc1.bias"]
    report = derivations.check_derivations(verbose=False)
    # with BatchNorm right after it, fc1.bias has a zero gradient: doubling it is no error
    assert {(case, name) for case, name, _, a, f in report.rows
            if not (a.passed and (f is None or f.passed))} == {("mlp_backprop", "fc1.bias")}
