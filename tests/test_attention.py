"""Attention from primitives: F.scaled_dot_product_attention, nn.MultiheadAttention and
nn.TransformerEncoderLayer against PyTorch (float64 values and gradients), gradcheck and
gradgradcheck, masks (bool, float, causal, padding, fully masked rows), and bad input."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F


def leaves(rng, *shapes):
    return [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def to_torch(torch, xs):
    return [torch.tensor(x.numpy(), requires_grad=True) for x in xs]


def assert_close(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-10, atol=1e-12)


def same_values_and_grads(torch, rng, outs, leaves_pairs):
    """Each output pair agrees, and so does the gradient of every leaf pair after
    backpropagating the same random weighting of all the outputs (None outputs match)."""
    loss_ours, loss_theirs = 0, 0
    for o, t in outs:
        if t is None:
            assert o is None
            continue
        assert_close(o, t)
        v = rng.standard_normal(o.shape)
        loss_ours, loss_theirs = loss_ours + (o * v).sum(), loss_theirs + (t * torch.tensor(v)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for x, t in leaves_pairs:
        assert_close(x.grad, t.grad)


def check_sdpa(torch, rng, shapes, mask=None, **kwargs):
    """Values and the gradients of q, k, v (and of a float mask) against torch."""
    xs = leaves(rng, *shapes)
    ts = to_torch(torch, xs)
    m_ours = m_theirs = None
    if mask is not None and mask.dtype == bool:
        m_ours, m_theirs = mask, torch.tensor(mask)
    elif mask is not None:   # a float mask is differentiable too
        m_ours, m_theirs = tg.tensor(mask, requires_grad=True), torch.tensor(mask, requires_grad=True)
        xs.append(m_ours)
        ts.append(m_theirs)
    ours = F.scaled_dot_product_attention(*xs[:3], attn_mask=m_ours, **kwargs)
    theirs = torch.nn.functional.scaled_dot_product_attention(*ts[:3], attn_mask=m_theirs,
                                                              **kwargs)
    same_values_and_grads(torch, rng, [(ours, theirs)], zip(xs, ts))


SHAPES = [((3, 4), (5, 4), (5, 6)),                      # no batch dims
          ((2, 3, 4), (2, 5, 4), (2, 5, 6)),
          ((2, 3, 6, 4), (2, 3, 5, 4), (2, 3, 5, 2)),      # (N, H, L, E)
          ((2, 3, 6, 4), (1, 3, 5, 4), (3, 5, 2))]         # broadcasting batch dims


@pytest.mark.parametrize("shapes", SHAPES)
def test_sdpa_matches_torch(shapes, rng):
    torch = pytest.importorskip("torch")
    check_sdpa(torch, rng, shapes)
    check_sdpa(torch, rng, shapes, scale=0.3)


@pytest.mark.parametrize("L, S", [(4, 4), (3, 5), (6, 4)])
def test_sdpa_causal_matches_torch_top_left(L, S, rng):
    torch = pytest.importorskip("torch")
    check_sdpa(torch, rng, ((2, L, 3), (2, S, 3), (2, S, 2)), is_causal=True)


def test_sdpa_bool_and_float_masks_match_torch(rng):
    torch = pytest.importorskip("torch")
    shapes = ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3))
    bool_mask = rng.random((2, 1, 3, 5)) > 0.3
    bool_mask[..., 0] = True
    check_sdpa(torch, rng, shapes, bool_mask)
    float_mask = rng.standard_normal((3, 5))
    float_mask[1, 2] = -np.inf
    check_sdpa(torch, rng, shapes, float_mask)


def test_sdpa_fully_masked_rows_give_zero_as_torch(rng):
    torch = pytest.importorskip("torch")
    shapes = ((2, 3, 4), (2, 5, 4), (2, 5, 6))
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    check_sdpa(torch, rng, shapes, mask)
    float_mask = np.zeros((3, 5))
    float_mask[2] = -np.inf
    check_sdpa(torch, rng, shapes, float_mask)
    q, k, v = leaves(rng, *shapes)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out.sum().backward()
    assert (out.numpy()[:, 1] == 0).all() and (q.grad.numpy()[:, 1] == 0).all()
    assert np.isfinite(k.grad.numpy()).all()


def test_sdpa_grouped_query_attention_matches_torch(rng):
    torch = pytest.importorskip("torch")
    check_sdpa(torch, rng, ((2, 4, 3, 2), (2, 2, 5, 2), (2, 2, 5, 3)), enable_gqa=True)


def test_sdpa_gradcheck_and_gradgradcheck(rng):
    q, k, v = leaves(rng, (2, 3, 2), (2, 4, 2), (2, 4, 3))
    mask = rng.standard_normal((3, 4))
    causal = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True)
    masked = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    for fn in (causal, masked):
        assert tg.gradcheck(fn, (q, k, v))
        assert tg.gradgradcheck(fn, (q, k, v))
    dead = np.ones((3, 4), dtype=bool)
    dead[0] = False   # a fully masked row stays smooth (zero) to second order
    fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=dead)
    assert tg.gradcheck(fn, (q, k, v)) and tg.gradgradcheck(fn, (q, k, v))


def test_sdpa_dropout_drops_weights_and_rescales(rng):
    q, k, v = leaves(rng, (3, 4), (5, 4), (5, 5))
    eye = tg.tensor(np.eye(5))
    tg.manual_seed(0)
    weights = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5)   # A @ I = A
    plain = F.scaled_dot_product_attention(q, k, eye)
    kept = weights.numpy() != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(weights.numpy()[kept], plain.numpy()[kept] * 2)
    tg.manual_seed(0)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5)
                                  .numpy(), weights.numpy())
    assert (F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0).all()


def test_sdpa_bad_input_is_clear(rng):
    q, k, v = leaves(rng, (2, 3, 4), (2, 5, 4), (2, 5, 6))
    with pytest.raises(RuntimeError, match="attn_mask must not be set when is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), bool), is_causal=True)
    with pytest.raises(RuntimeError, match=r"query \(\.\.\., L, E\)"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(RuntimeError, match="attn_mask must be bool"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 5), np.int64))
    with pytest.raises(RuntimeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=np.ones((3, 4), bool))
    with pytest.raises(RuntimeError, match="at least 2-D"):
        F.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0])
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


# --- MultiheadAttention --------------------------------------------------------------------

def torch_copy(torch, ours, theirs):
    """Load our module's parameters into torch's (float64), by PyTorch's names."""
    state = {name: torch.tensor(p.numpy()) for name, p in ours.named_parameters()}
    theirs.double().load_state_dict(state)
    return theirs


def compare_module(torch, rng, ours, theirs, inputs, kwargs, torch_kwargs=None):
    """Outputs and the gradients of every input and parameter."""
    xs = [tg.tensor(x, requires_grad=True) for x in inputs]
    ts = [torch.tensor(x, requires_grad=True) for x in inputs]
    out_ours, out_theirs = ours(*xs, **kwargs), theirs(*ts, **(torch_kwargs or kwargs))
    if not isinstance(out_ours, tuple):
        out_ours, out_theirs = (out_ours,), (out_theirs,)
    same_values_and_grads(torch, rng, zip(out_ours, out_theirs), zip(xs, ts))
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_params[name].grad)


@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("batch_first", [True, False])
def test_mha_matches_torch(heads, batch_first, rng):
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(8, heads, batch_first=batch_first)
    theirs = torch_copy(torch, ours, torch.nn.MultiheadAttention(8, heads,
                                                                batch_first=batch_first))
    n, L, S = 2, 3, 5
    layout = (lambda b, t: (b, t, 8)) if batch_first else (lambda b, t: (t, b, 8))
    inputs = [rng.standard_normal(layout(n, L)), rng.standard_normal(layout(n, S)),
              rng.standard_normal(layout(n, S))]
    for avg in (True, False):
        compare_module(torch, rng, ours, theirs, inputs, {"average_attn_weights": avg})
    compare_module(torch, rng, ours, theirs, inputs, {"need_weights": False})
    x = rng.standard_normal(layout(n, L))
    compare_module(torch, rng, ours, theirs, [x, x, x], {})   # self-attention


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks_match_torch(need_weights, rng):
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(6, 3, batch_first=True)
    theirs = torch_copy(torch, ours, torch.nn.MultiheadAttention(6, 3, batch_first=True))
    n, L = 2, 4
    x = rng.standard_normal((n, L, 6))
    causal = np.triu(np.ones((L, L), dtype=bool), 1)   # True = not allowed, as PyTorch
    padding = np.array([[False] * L, [False, False, True, True]])
    float_mask = rng.standard_normal((n * 3, L, L))
    cases = [{"attn_mask": causal}, {"attn_mask": causal, "is_causal": True},
             {"key_padding_mask": padding}, {"attn_mask": causal, "key_padding_mask": padding},
             {"attn_mask": float_mask},
             {"key_padding_mask": np.where(padding, -np.inf, 0.0)},
             # is_causal is a hint: PyTorch trusts it (ignoring the mask) where it can
             {"attn_mask": rng.standard_normal((L, L)), "is_causal": True}]
    for case in cases:
        kwargs = dict(case, need_weights=need_weights)
        torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                        for k, v in kwargs.items()}
        compare_module(torch, rng, ours, theirs, [x, x, x], kwargs, torch_kwargs)


def test_mha_fully_masked_query_as_torch(rng):
    """A query with every key padded: nan weights with need_weights=True (PyTorch's
    plain softmax), zeros with need_weights=False (its SDPA path)."""
    ours = nn.MultiheadAttention(4, 2, batch_first=True)
    x = tg.tensor(rng.standard_normal((2, 3, 4)))
    padding = np.array([[False] * 3, [True] * 3])
    out, weights = ours(x, x, x, key_padding_mask=padding)
    assert np.isnan(weights.numpy()[1]).all() and np.isfinite(weights.numpy()[0]).all()
    out, weights = ours(x, x, x, key_padding_mask=padding, need_weights=False)
    assert weights is None
    np.testing.assert_allclose(out.numpy()[1], np.broadcast_to(ours.out_proj.bias.numpy(),
                                                               (3, 4)))


def test_mha_unbatched_and_kdim_vdim_match_torch(rng):
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(4, 2)
    theirs = torch_copy(torch, ours, torch.nn.MultiheadAttention(4, 2))
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((5, 4)),
              rng.standard_normal((5, 4))]
    compare_module(torch, rng, ours, theirs, inputs, {"average_attn_weights": False})
    padding = [False, True, False, False, True]
    compare_module(torch, rng, ours, theirs, inputs, {"key_padding_mask": padding},
                   {"key_padding_mask": torch.tensor(padding)})
    ours = nn.MultiheadAttention(4, 2, kdim=3, vdim=5, batch_first=True, bias=False)
    assert ours.in_proj_weight is None and ours.k_proj_weight.shape == (4, 3)
    theirs = torch_copy(torch, ours, torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=5,
                                                                batch_first=True, bias=False))
    inputs = [rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 3)),
              rng.standard_normal((2, 5, 5))]
    compare_module(torch, rng, ours, theirs, inputs, {})


@pytest.mark.parametrize("bias_kv, zero_attn", [(True, False), (False, True), (True, True)])
def test_mha_extra_keys_match_torch(bias_kv, zero_attn, rng):
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(4, 2, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    theirs = torch_copy(torch, ours, torch.nn.MultiheadAttention(
        4, 2, add_bias_kv=bias_kv, add_zero_attn=zero_attn))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((3, 2, 4))
    causal = np.triu(np.ones((3, 3), dtype=bool), 1)
    padding = np.array([[False] * 3, [False, True, True]])
    for need_weights in (True, False):
        kwargs = {"attn_mask": causal, "key_padding_mask": padding, "need_weights": need_weights}
        compare_module(torch, rng, ours, theirs, [x, x, x], kwargs,
                       dict(kwargs, attn_mask=torch.tensor(causal),
                            key_padding_mask=torch.tensor(padding)))
        compare_module(torch, rng, ours, theirs, [x, x, x], {"need_weights": need_weights})


def test_mha_parameters_and_init_as_torch():
    torch = pytest.importorskip("torch")
    ours = nn.MultiheadAttention(6, 2)
    theirs = torch.nn.MultiheadAttention(6, 2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in theirs.state_dict().items():
        assert ours.state_dict()[name].shape == tuple(p.shape)
    assert (ours.in_proj_bias.numpy() == 0).all() and (ours.out_proj.bias.numpy() == 0).all()
    bound = np.sqrt(6 / (6 + 18))   # xavier_uniform_ on (3E, E)
    w = ours.in_proj_weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_mha_gradcheck(rng):
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    q, k = leaves(rng, (1, 2, 4), (1, 3, 4))
    mask = np.array([[False, False, True], [False, False, False]])
    fn = lambda q, k: mha(q, k, k, attn_mask=mask)[0]
    assert tg.gradcheck(fn, (q, k)) and tg.gradgradcheck(fn, (q, k))


def test_mha_bad_input_is_clear(rng):
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    mha = nn.MultiheadAttention(4, 2, batch_first=True)
    x = tg.tensor(rng.standard_normal((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected query \(N, L, 4\)"):
        mha(x, x[..., :3], x[..., :3])
    with pytest.raises(RuntimeError, match="needs attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"attn_mask must have shape \(3, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match=r"key_padding_mask must have shape \(2, 3\)"):
        mha(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(TypeError, match="only bool and floating types of attn_mask"):
        mha(x, x, x, attn_mask=np.zeros((3, 3), np.int64))


# --- TransformerEncoderLayer ----------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(norm_first, activation, rng):
    torch = pytest.importorskip("torch")
    ours = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                      activation=activation, batch_first=True,
                                      norm_first=norm_first).eval()
    theirs = torch_copy(torch, ours, torch.nn.TransformerEncoderLayer(
        8, 2, dim_feedforward=16, dropout=0.0, activation=activation, batch_first=True,
        norm_first=norm_first)).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((2, 4, 8))
    compare_module(torch, rng, ours, theirs, [x], {})
    causal = np.triu(np.ones((4, 4), dtype=bool), 1)
    padding = np.array([[False] * 4, [False, False, False, True]])
    kwargs = {"src_mask": causal, "src_key_padding_mask": padding}
    compare_module(torch, rng, ours, theirs, [x], kwargs,
                   {k: torch.tensor(v) for k, v in kwargs.items()})
    compare_module(torch, rng, ours, theirs, [x], {"src_mask": causal, "is_causal": True},
                   {"src_mask": torch.tensor(causal), "is_causal": True})


def test_encoder_layer_sequence_first_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ours = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0).eval()
    theirs = torch_copy(torch, ours, torch.nn.TransformerEncoderLayer(
        4, 2, dim_feedforward=8, dropout=0.0)).eval()
    compare_module(torch, rng, ours, theirs, [rng.standard_normal((5, 2, 4))], {})


def test_encoder_layer_dropout_in_training_only(rng):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5, batch_first=True)
    x = tg.tensor(rng.standard_normal((2, 3, 4)))
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), layer(x).numpy())
    layer.train()
    assert not np.allclose(layer(x).numpy(), layer(x).numpy())
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")


# --- the hand derivation ------------------------------------------------------------------

def test_manual_attention_backward_matches_autograd(rng):
    from tinygrad_edu import manual
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    causal = np.triu(np.full((3, 5), -np.inf), 1)
    dout = rng.standard_normal((2, 3, 6))
    out, cache = manual.attention_forward(q, k, v, causal)
    grads = manual.attention_backward(dout, q, k, v, cache)
    xs = [tg.tensor(a, requires_grad=True) for a in (q, k, v)]
    ours = F.scaled_dot_product_attention(*xs, is_causal=True)
    np.testing.assert_allclose(out, ours.numpy(), rtol=1e-12)
    ours.backward(tg.tensor(dout))
    for g, x in zip(grads, xs):
        np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-10, atol=1e-12)
