"""The faster compositions behind W7 (branch gpt) give PyTorch's values and gradients.

Attention's softmax divides by sum + [sum == 0] instead of masking the scores before and
after (a dead row, every key masked, still gives zero weights and zero gradients), and
layer_norm works on a (samples, features) matrix and subtracts the mean as x + -mean.
Checked against torch in float64, with gradcheck and gradgradcheck, and compiled ==
eager bit for bit.
"""
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F


def torch_or_skip():
    return pytest.importorskip("torch")


def run_both(torch, ours, theirs, arrays, g):
    """(our output, our input grads), (torch's), for output gradient g (float64)."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, yt = ours(*xs), theirs(*ts)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    return (y.numpy(), [x.grad.numpy() for x in xs]), (yt.detach().numpy(),
                                                        [t.grad.numpy() for t in ts])


def assert_close(got, want):
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(got[1], want[1]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def qkv(rng, shape_q=(2, 3, 5, 4), shape_k=(2, 3, 6, 4)):
    return (rng.standard_normal(shape_q), rng.standard_normal(shape_k),
            rng.standard_normal(shape_k[:-1] + (3,)))


# --- attention's softmax -------------------------------------------------------------

MASKS = ["causal", "none", "bool", "float", "dead"]


def mask_of(kind, rng, L=5, S=6):
    if kind == "bool":
        m = rng.random((L, S)) > 0.3
        m[:, 0] = True   # every query keeps a key
        return m
    if kind == "float":
        return rng.standard_normal((L, S))
    if kind == "dead":
        m = rng.random((2, 1, L, S)) > 0.3
        m[0, 0, 1] = False   # query 1 of batch 0 sees no key at all
        m[1, 0, 4] = False
        return m
    return None


@pytest.mark.parametrize("kind", MASKS)
def test_attention_values_and_gradients_match_torch(kind):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    q, k, v = qkv(rng)
    mask = mask_of(kind, rng)
    causal = kind == "causal"
    g = rng.standard_normal((2, 3, 5, 3))

    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)

    def theirs(q, k, v):
        m = None if mask is None else torch.tensor(mask)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m,
                                                                is_causal=causal)
    got, want = run_both(torch, ours, theirs, (q, k, v), g)
    assert_close(got, want)


def test_dead_rows_give_zero_weights_and_gradients_without_warnings():
    rng = np.random.default_rng(1)
    q, k, v = (tg.tensor(a, requires_grad=True) for a in qkv(rng))
    mask = mask_of("dead", rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y.backward(tg.tensor(rng.standard_normal(y.shape)))
    np.testing.assert_array_equal(y.numpy()[0, :, 1], 0.0)
    np.testing.assert_array_equal(y.numpy()[1, :, 4], 0.0)
    np.testing.assert_array_equal(q.grad.numpy()[0, :, 1], 0.0)
    assert all(np.isfinite(t.grad.numpy()).all() for t in (q, k, v))
    assert np.abs(y.numpy()[0, :, 0]).sum() > 0   # the live rows are not zeroed


def test_attention_softmax_is_plain_softmax_bit_for_bit_when_no_row_is_dead():
    rng = np.random.default_rng(2)
    q, k, v = (tg.tensor(a) for a in qkv(rng))
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    scores = (q * (1 / 2.0)) @ k.transpose(-2, -1)
    scores = scores + tg.tensor(np.where(np.tril(np.ones((5, 6), bool)), 0.0, -np.inf))
    np.testing.assert_array_equal(y.numpy(), (F.softmax(scores, -1) @ v).numpy())


@pytest.mark.parametrize("kind", ["causal", "dead"])
def test_attention_gradcheck_and_gradgradcheck(kind):
    rng = np.random.default_rng(3)
    q, k, v = qkv(rng, (1, 2, 3, 2), (1, 2, 4, 2))
    mask = None
    if kind == "dead":
        mask = rng.random((3, 4)) > 0.4
        mask[0] = False
        mask[1:, 0] = True
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                       is_causal=kind == "causal")
    xs = [tg.tensor(a, requires_grad=True) for a in (q, k, v)]
    assert tg.gradcheck(fn, xs)
    assert tg.gradgradcheck(fn, xs)


def test_attention_compiled_equals_eager_with_a_dead_row():
    rng = np.random.default_rng(4)
    arrays = qkv(rng)
    mask = mask_of("dead", rng)

    def step(q, k, v):
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        (y * y).sum().backward()
        return y

    results = []
    for fn in (step, tg.compile(step)):
        for _ in range(3):
            xs = [tg.tensor(a, requires_grad=True) for a in arrays]
            y = fn(*xs)
        results.append((y.numpy(), [x.grad.numpy() for x in xs]))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_attention_still_rejects_a_bad_mask():
    rng = np.random.default_rng(5)
    q, k, v = (tg.tensor(a) for a in qkv(rng))
    with pytest.raises(RuntimeError, match=r"scaled_dot_product_attention: attn_mask of "
                                           r"shape \(4, 4\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((4, 4), bool))


# --- layer_norm ------------------------------------------------------------------------

LAYER_NORMS = [((2, 5, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), (6,)), ((3, 2, 2, 3), (2, 2, 3)),
               ((0, 4), (4,))]


@pytest.mark.parametrize("shape,normalized", LAYER_NORMS, ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_values_and_gradients_match_torch(shape, normalized, affine):
    torch = torch_or_skip()
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal(shape) * 3 + 1]
    if affine:
        arrays += [rng.standard_normal(normalized), rng.standard_normal(normalized)]
    g = rng.standard_normal(shape)
    got, want = run_both(torch, lambda x, *wb: F.layer_norm(x, normalized, *wb, eps=1e-3),
                         lambda x, *wb: torch.nn.functional.layer_norm(x, normalized, *wb,
                                                                       eps=1e-3),
                         arrays, g)
    assert got[0].shape == shape
    assert_close(got, want)


def test_layer_norm_module_float32_matches_torch():
    torch = torch_or_skip()
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 8, 16)).astype(np.float32)
    ln = tg.nn.LayerNorm(16, dtype=tg.float32)
    ln.weight.data = tg.tensor(rng.standard_normal(16).astype(np.float32))
    tln = torch.nn.LayerNorm(16)
    with torch.no_grad():
        tln.weight.copy_(torch.tensor(ln.weight.numpy()))
    xt = tg.tensor(x, requires_grad=True)
    y = ln(xt)
    assert y.dtype == np.float32 and y.shape == (4, 8, 16)
    y.sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    tln(tx).sum().backward()
    np.testing.assert_allclose(y.numpy(), tln(tx).detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ln.weight.grad.numpy(), tln.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)
    assert ln.weight.grad.shape == (16,) and ln.bias.grad.shape == (16,)


@pytest.mark.parametrize("shape,normalized", [((2, 3, 4), (4,)), ((2, 2, 3), (2, 3))], ids=str)
def test_layer_norm_gradcheck_and_gradgradcheck(shape, normalized):
    rng = np.random.default_rng(8)
    xs = [tg.tensor(a, requires_grad=True) for a in
          (rng.standard_normal(shape), rng.standard_normal(normalized),
           rng.standard_normal(normalized))]
    fn = lambda x, w, b: F.layer_norm(x, normalized, w, b)
    assert tg.gradcheck(fn, xs)
    assert tg.gradgradcheck(fn, xs)


def test_layer_norm_errors_name_the_function_and_shapes():
    x = tg.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape \(3,\) must be the "
                                         r"trailing axes of the input, got input of shape "
                                         r"\(2, 3, 4\)"):
        F.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"layer_norm: bias of shape \(4, 1\) must have "
                                         r"normalized_shape \(4,\)"):
        F.layer_norm(x, 4, bias=tg.tensor(np.zeros((4, 1))))
