"""The hand derivations of convolution and max pooling (im2col), and the check suite's rows
for them, LayerNorm and attention: against autograd, PyTorch (float64) and a planted bug."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import cli, derivations, manual

try:
    import torch
    import torch.nn.functional as TF
except ImportError:   # the oracle is optional: the autograd comparisons still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

# (x shape, weight shape, stride, padding, dilation)
CONVS = [((2, 3, 6, 5), (4, 3, 3, 3), 1, 0, 1),
         ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1, 1),
         ((2, 1, 8, 6), (2, 1, 2, 3), (2, 1), (0, 2), 1),
         ((1, 2, 9, 8), (2, 2, 3, 2), 1, (2, 1), (2, 3)),
         ((3, 2, 4, 4), (5, 2, 1, 1), 1, 0, 1),
         ((1, 1, 5, 5), (1, 1, 5, 5), 3, 0, 1)]
# (x shape, kernel_size, stride, padding)
POOLS = [((2, 3, 4, 6), 2, None, 0),
         ((1, 2, 5, 5), 3, 1, 1),
         ((2, 1, 7, 6), (3, 2), (2, 1), (1, 0)),
         ((1, 2, 6, 6), 3, 2, 0)]


def hand_conv(rng, x_shape, w_shape, stride, padding, dilation):
    """Random x, W, b, an upstream gradient, and manual's y and (dx, dW, db)."""
    x, W, b = (rng.standard_normal(s) for s in (x_shape, w_shape, w_shape[0]))
    y, cache = manual.conv2d_forward(x, W, b, stride, padding, dilation)
    dy = rng.standard_normal(y.shape)
    return (x, W, b), dy, y, manual.conv2d_backward(dy, cache)


def assert_same(y, grads, ref, ref_inputs):
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-12)
    for hand, t in zip(grads, ref_inputs):
        np.testing.assert_allclose(hand, t.grad.numpy(), rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONVS)
def test_conv2d_matches_autograd(rng, x_shape, w_shape, stride, padding, dilation):
    inputs, dy, y, grads = hand_conv(rng, x_shape, w_shape, stride, padding, dilation)
    xs = [tg.tensor(a, requires_grad=True) for a in inputs]
    ours = F.conv2d(*xs, stride=stride, padding=padding, dilation=dilation)
    ours.backward(tg.tensor(dy))
    assert_same(y, grads, ours.numpy(), xs)


@needs_torch
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONVS)
def test_conv2d_matches_torch(rng, x_shape, w_shape, stride, padding, dilation):
    inputs, dy, y, grads = hand_conv(rng, x_shape, w_shape, stride, padding, dilation)
    ts = [torch.tensor(a, requires_grad=True) for a in inputs]
    ref = TF.conv2d(*ts, stride=stride, padding=padding, dilation=dilation)
    ref.backward(torch.tensor(dy))
    assert_same(y, grads, ref.detach().numpy(), ts)


def test_conv2d_without_bias_and_one_by_one_is_a_linear_layer(rng):
    x, W = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((6, 3, 1, 1))
    y, cache = manual.conv2d_forward(x, W)
    np.testing.assert_allclose(y, np.einsum("nchw,fc->nfhw", x, W[:, :, 0, 0]), rtol=1e-12)
    dx, dW, db = manual.conv2d_backward(np.ones_like(y), cache)
    np.testing.assert_allclose(db, np.full(6, 2 * 4 * 5.0))
    np.testing.assert_allclose(dx, np.broadcast_to(W.sum(0)[None, :, :, :], x.shape))


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> = <x, col2im(c)>: the backward of a copy is adding the copies up
    for kernel, stride, dilation in [((3, 3), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2))]:
        x = rng.standard_normal((2, 3, 7, 8))
        cols = manual.im2col(x, kernel, stride, dilation)
        c = rng.standard_normal(cols.shape)
        back = manual.col2im(c, x.shape, stride, dilation)
        assert np.isclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


def hand_pool(rng, x_shape, kernel, stride, padding):
    x = rng.standard_normal(x_shape)
    y, cache = manual.maxpool2d_forward(x, kernel, stride, padding)
    dy = rng.standard_normal(y.shape)
    return x, dy, y, (manual.maxpool2d_backward(dy, cache),)


@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOLS)
def test_maxpool2d_matches_autograd(rng, x_shape, kernel, stride, padding):
    x, dy, y, grads = hand_pool(rng, x_shape, kernel, stride, padding)
    t = tg.tensor(x, requires_grad=True)
    ours = F.max_pool2d(t, kernel, stride, padding)
    ours.backward(tg.tensor(dy))
    assert_same(y, grads, ours.numpy(), [t])


@needs_torch
@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOLS)
def test_maxpool2d_matches_torch(rng, x_shape, kernel, stride, padding):
    x, dy, y, grads = hand_pool(rng, x_shape, kernel, stride, padding)
    t = torch.tensor(x, requires_grad=True)
    ref = TF.max_pool2d(t, kernel, stride, padding)
    ref.backward(torch.tensor(dy))
    assert_same(y, grads, ref.detach().numpy(), [t])


def test_maxpool2d_ties_send_the_gradient_to_the_first_maximum():
    x = np.zeros((1, 1, 4, 4))
    y, cache = manual.maxpool2d_forward(x, 2)
    dx = manual.maxpool2d_backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2), cache)
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 2] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_maxpool2d_overlapping_windows_add_up_at_a_shared_winner():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0   # the maximum of all four 2x2 windows at stride 1
    y, cache = manual.maxpool2d_forward(x, 2, 1)
    dx = manual.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache)
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4


@needs_torch
def test_maxpool2d_tie_rule_is_torchs(rng):
    # small integers: many ties, within and across overlapping windows
    x = rng.integers(0, 3, (2, 2, 6, 7)).astype(np.float64)
    for kernel, stride, padding in [(2, None, 0), (3, 1, 1), (3, 2, 1)]:
        y, cache = manual.maxpool2d_forward(x, kernel, stride, padding)
        dy = rng.standard_normal(y.shape)
        t = torch.tensor(x, requires_grad=True)
        TF.max_pool2d(t, kernel, stride, padding).backward(torch.tensor(dy))
        np.testing.assert_allclose(manual.maxpool2d_backward(dy, cache), t.grad.numpy(),
                                   rtol=1e-12)


@needs_torch
def test_attention_with_a_mask_matches_torch(rng):
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    mask = np.where(rng.random((3, 5)) < 0.3, -np.inf, 0.0)
    mask[:, 0] = 0.0   # every query keeps a key
    out, cache = manual.attention_forward(q, k, v, mask)
    dout = rng.standard_normal(out.shape)
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ref = TF.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12)
    ref.backward(torch.tensor(dout))
    for hand, t in zip(manual.attention_backward(dout, q, k, v, cache), ts):
        np.testing.assert_allclose(hand, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# --- the rows of `tinygrad-edu check` ------------------------------------------------------------

NEW_ROWS = ["layernorm", "attention", "attention (causal mask)", "conv2d",
            "conv2d (stride 2, pad 1)", "conv2d (dilation 2)", "max_pool2d (2x2)",
            "max_pool2d (3x3, stride 1, pad 1)"]


def test_check_has_the_new_rows_and_they_pass():
    report = derivations.check_derivations(verbose=False)
    assert report.passed
    cases = {row[0] for row in report.rows}
    assert set(NEW_ROWS) <= cases
    grads = {(row[0], row[1]) for row in report.rows}
    assert {("conv2d", "x"), ("conv2d", "W"), ("conv2d", "b"), ("attention", "k"),
            ("layernorm", "gamma"), ("max_pool2d (2x2)", "x")} <= grads


def wrong_db(original):
    def backward(dy, cache):   # forgot that b is added at every output position
        dx, dW, db = original(dy, cache)
        return dx, dW, db / (dy.shape[2] * dy.shape[3])
    return backward


def gradient_to_every_window_element(original):
    def backward(dy, cache):   # as if pooling were a sum, not a max
        where, cols_shape, padded_shape, stride, padding = cache
        n, c, kh, kw, oh, ow = cols_shape
        dcols = np.broadcast_to(dy[:, :, None, None], cols_shape).copy()
        return manual.unpad(manual.col2im(dcols, padded_shape, stride, (1, 1)), padding)
    return backward


def unscaled_dq(original):
    def backward(dout, q, k, v, cache):   # dropped the 1/sqrt(E) in dq
        dq, dk, dv = original(dout, q, k, v, cache)
        return dq / cache[1], dk, dv
    return backward


def dgamma_without_xhat(original):
    def backward(dy, cache):
        dx, dgamma, dbeta = original(dy, cache)
        return dx, dbeta, dbeta
    return backward


@pytest.mark.parametrize("name, planted, case, grad_name", [
    ("conv2d_backward", wrong_db, "conv2d", "b"),
    ("maxpool2d_backward", gradient_to_every_window_element, "max_pool2d (2x2)", "x"),
    ("attention_backward", unscaled_dq, "attention", "q"),
    ("layernorm_backward", dgamma_without_xhat, "layernorm", "gamma"),
], ids=["conv2d", "max_pool2d", "attention", "layernorm"])
def test_a_broken_derivation_is_reported(monkeypatch, capsys, name, planted, case, grad_name):
    monkeypatch.setattr(manual, name, planted(getattr(manual, name)))
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {case}: {grad_name}" in out and "WRONG" in out
    table_rows = [line.split() for line in out.splitlines()]
    failed = [r for r in table_rows if r and r[-1] == "FAIL"]
    # every row of that derivation fails (all its variants), and no other row
    assert failed and all(r[0] == case.split()[0] for r in failed)


def test_the_report_keeps_within_100_columns(monkeypatch, capsys):
    assert cli.main(["check"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 100
    # a failure's explanation is the longest line there is: it wraps
    monkeypatch.setattr(manual, "maxpool2d_backward",
                        gradient_to_every_window_element(manual.maxpool2d_backward))
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL max_pool2d (3x3, stride 1, pad 1): x" in out
    assert max(map(len, out.splitlines())) <= 100
