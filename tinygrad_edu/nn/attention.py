"""Attention as a composition: scaled_dot_product_attention, MultiheadAttention and
TransformerEncoderLayer, with PyTorch's names, shapes, masks and parameter layout.

Nothing here knows a gradient. Attention is two matmuls around a softmax,

    A = softmax(Q K^T * scale + M)      (..., L, S)
    out = A V                           (..., L, Ev)

and autograd differentiates it through the primitives (matmul, exp, sum, where, ...).
manual.attention_backward derives the same gradients by hand.
"""
import math

import numpy as np

from ..tensor import Tensor, cat, computed, private_copy, python_constant, wrap
from . import functional as F
from . import init as nn_init
from . import layers   # a module reference: layers is still importing when this file loads
from .module import Module, Parameter


# --- the function -----------------------------------------------------------------------

def check_attention_inputs(query, key, value):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a Tensor, got "
                            f"{type(t).__name__}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must be at "
                           f"least 2-D (..., L, E), got shapes {query.shape}, {key.shape}, "
                           f"{value.shape}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must have "
                           f"the same dtype, got {query.dtype}, {key.dtype}, {value.dtype}")
    if query.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: query must be floating point, got "
                        f"{query.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: expected query (..., L, E), key "
                           f"(..., S, E) and value (..., S, Ev), got shapes {query.shape}, "
                           f"{key.shape}, {value.shape}")


def add_attention_mask(scores, attn_mask):
    """scores with a bool mask applied (False -> -inf) or a float mask added, as PyTorch."""
    # private_copy / computed: a compiled step rebuilds the mask from its data on every call
    mask = attn_mask._data if isinstance(attn_mask, Tensor) else private_copy(attn_mask)
    if mask.dtype != bool and mask.dtype not in (np.float32, scores.dtype):
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask must be bool, float32 "
                           f"or the query's dtype {scores.dtype}, got {mask.dtype}")
    try:
        np.broadcast_shapes(mask.shape, scores.shape)
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {mask.shape} "
                           f"does not broadcast to the scores' shape {scores.shape} "
                           f"(..., L, S)") from None
    if mask.dtype == bool:
        # Added as 0 / -inf, as PyTorch's math path does: the same scores as where(mask,
        # scores, -inf), but backward passes the gradient straight through the Add instead
        # of masking it again (it is already 0 there: those softmax weights are exactly 0).
        return scores + wrap(computed("np.where({0}, 0.0, -np.inf).astype({1})", mask,
                                      scores.dtype))
    if isinstance(attn_mask, Tensor):
        return scores + attn_mask.to(scores.dtype)
    return scores + wrap(computed("{0}.astype({1})", mask, scores.dtype))   # astype copies


def safe_softmax(scores):
    """softmax over the last axis, with rows that are all -inf (every key masked) giving
    zero weights instead of 0/0 = nan: PyTorch's math path (_safe_softmax) does this.

    e = exp(scores - m) with m the row's max (0 where it is not finite), s = sum(e). A row
    with a finite max has s >= 1 (its max contributes e^0 = 1); a row of -inf has e = 0
    and s = 0 exactly. So weights = e / (s + [s == 0]) is softmax bit for bit where any
    key takes part (s + 0 = s), and 0 / 1 = 0 in a dead row, whose gradient is 0 too (it
    flows through e = 0, never through a 0/0). The [s == 0] is a (..., L, 1) constant:
    no pass over the scores' size, where masking them before and after the softmax
    (np.where twice forward, twice backward) costs four."""
    shifted = scores - F.max_shift(scores._data, scores.ndim - 1)
    e = shifted.exp()
    s = e.sum(-1, keepdims=True)
    dead = wrap(computed("({0} == 0).astype({1})", s._data, s.dtype))
    return e * (s + dead).reciprocal()


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + M) V, as torch.nn.functional.scaled_dot_product_attention.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the batch
    dims broadcast. scale defaults to 1/sqrt(E). attn_mask broadcasts to (..., L, S):
    bool (True = this key takes part, False = masked out) or float (added to the
    scores). is_causal=True masks key j > query i (lower triangular, aligned at the top
    left as PyTorch, also when L != S); giving attn_mask too is an error. A query whose
    keys are all masked gets zero weights (output 0, gradient 0), as PyTorch.
    dropout_p > 0 drops attention weights (always: this function has no training
    flag, as PyTorch) with the default generator, seeded by tinygrad_edu.manual_seed;
    the random stream is not PyTorch's. enable_gqa=True repeats each key/value head
    for query.size(-3) // key.size(-3) query heads (grouped-query attention).
    """
    check_attention_inputs(query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must lie in [0, 1], "
                         f"got {dropout_p}")
    if enable_gqa:
        key, value = repeat_kv_heads(query, key, value)
    try:
        np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise RuntimeError(f"scaled_dot_product_attention: the batch dims of query "
                           f"{query.shape}, key {key.shape} and value {value.shape} don't "
                           f"broadcast") from None
    L, S = query.shape[-2], key.shape[-2]
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    # The scale goes on the query (..., L, E) rather than on the scores (..., L, S): a
    # smaller array when E < S, in forward and in backward.
    scores = (query * scale) @ key.transpose(-2, -1)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: an explicit attn_mask must "
                               "not be set when is_causal=True")
        attn_mask = python_constant(np.tril(np.ones((L, S), dtype=bool)))   # from L, S alone
    if attn_mask is not None:
        scores = add_attention_mask(scores, attn_mask)
    weights = safe_softmax(scores)
    if dropout_p > 0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value


def repeat_kv_heads(query, key, value):
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa=True needs a head dim "
                           "(..., H, L, E)")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk != hv or hq % hk:
        raise RuntimeError(f"scaled_dot_product_attention: enable_gqa=True needs as many key "
                           f"as value heads, dividing the query heads; got {hq} query, {hk} "
                           f"key and {hv} value heads")
    return key.repeat_interleave(hq // hk, -3), value.repeat_interleave(hq // hk, -3)


# --- MultiheadAttention ------------------------------------------------------------------

def additive_mask(mask, name, dtype):
    """PyTorch's _canonical_mask: a bool mask becomes 0 / -inf (True = NOT allowed, the
    opposite of scaled_dot_product_attention's convention), a float mask stays as given."""
    if mask is None:
        return None
    # computed / private_copy: a compiled step rebuilds the mask from its data on every call
    data = mask._data if isinstance(mask, Tensor) else private_copy(mask)
    if data.dtype == bool:
        return wrap(computed("np.where({0}, -np.inf, 0.0).astype({1})", data, np.dtype(dtype)))
    if data.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {name} are "
                        f"supported, got {data.dtype}")
    return mask if isinstance(mask, Tensor) else wrap(computed("{0}.astype({1})", data,
                                                               np.dtype(dtype)))


class MultiheadAttention(Module):
    """Multi-head attention, as torch.nn.MultiheadAttention:

        head_i = attention(Q W_q_i^T + b_q_i, K W_k_i^T + b_k_i, V W_v_i^T + b_v_i)
        out = concat(head_1, ..., head_h) W_o^T + b_o

    Parameters as PyTorch: in_proj_weight (3E, E) = [W_q; W_k; W_v] (or q_proj_weight
    (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim) when kdim or vdim differ
    from E), in_proj_bias (3E,), out_proj a Linear(E, E). Init: xavier_uniform_ on the
    projection weights, biases zero, out_proj.weight Linear's default.
    Inputs (L, N, E) or, with batch_first=True, (N, L, E); unbatched (L, E) too.
    """

    draw_collapsed = True   # viz.draw_graph draws it as one node by default

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None, generator=None):
        super().__init__()
        if device not in (None, "cpu"):
            raise NotImplementedError(f"MultiheadAttention: device={device!r}: only the CPU "
                                      f"exists here")
        self.embed_dim = layers.size_arg(embed_dim, "embed_dim", "MultiheadAttention", 1)
        self.num_heads = layers.size_arg(num_heads, "num_heads", "MultiheadAttention", 1)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible "
                             f"by num_heads ({num_heads})")
        if not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must lie in [0, 1], got {dropout}")
        self.head_dim = self.embed_dim // self.num_heads
        self.kdim = self.embed_dim if kdim is None else kdim
        self.vdim = self.embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == self.embed_dim and self.vdim == self.embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.zeros((3 * E, E), dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.zeros((E, E), dtype=dtype))
            self.k_proj_weight = Parameter(np.zeros((E, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(np.zeros((E, self.vdim), dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = layers.Linear(E, E, bias=bias, dtype=dtype, generator=generator)
        if add_bias_kv:   # one learned key and value appended to every sequence
            self.bias_k = Parameter(np.zeros((1, 1, E), dtype=dtype))
            self.bias_v = Parameter(np.zeros((1, 1, E), dtype=dtype))
            nn_init.xavier_normal_(self.bias_k, generator=generator)
            nn_init.xavier_normal_(self.bias_v, generator=generator)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        if self._qkv_same_embed_dim:
            nn_init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            nn_init.xavier_uniform_(self.q_proj_weight, generator=generator)
            nn_init.xavier_uniform_(self.k_proj_weight, generator=generator)
            nn_init.xavier_uniform_(self.v_proj_weight, generator=generator)
        if bias:
            nn_init.zeros_(self.out_proj.bias)   # in_proj_bias is already zero

    def projections(self, query, key, value):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = (self.in_proj_weight[i * E:(i + 1) * E] for i in range(3))
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

    def heads(self, x):
        """(N, L, E) -> (N, H, L, E / H)."""
        n, length, _ = x.shape
        return x.reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def extra_keys(self, k, v):
        """k, v (N, H, S, E / H) with add_bias_kv's learned key and value and add_zero_attn's
        zero key and value appended along S (PyTorch's order)."""
        n = k.shape[0]
        shape = (n, self.num_heads, 1, self.head_dim)
        if self.bias_k is not None:
            k = cat([k, self.heads(self.bias_k.expand(n, 1, self.embed_dim))], 2)
            v = cat([v, self.heads(self.bias_v.expand(n, 1, self.embed_dim))], 2)
        if self.add_zero_attn:
            k = cat([k, wrap(np.zeros(shape, dtype=k.dtype))], 2)
            v = cat([v, wrap(np.zeros(shape, dtype=v.dtype))], 2)
        return k, v

    def merged_mask(self, attn_mask, key_padding_mask, dtype, n, L, S):
        """attn_mask (L, S) or (N*H, L, S) plus key_padding_mask (N, S), as one additive
        mask that broadcasts to the scores (N, H, L, S + extra keys): the keys that
        add_bias_kv and add_zero_attn append are never masked."""
        H = self.num_heads
        extra = (self.bias_k is not None) + self.add_zero_attn
        mask = additive_mask(attn_mask, "attn_mask", dtype)
        if mask is not None:
            if mask.shape == (L, S):
                mask = mask.reshape(1, 1, L, S)
            elif mask.shape == (n * H, L, S):
                mask = mask.reshape(n, H, L, S)
            else:
                raise RuntimeError(f"MultiheadAttention: attn_mask must have shape ({L}, {S}) "
                                   f"or ({n * H}, {L}, {S}), got {mask.shape}")
            mask = F.pad(mask, (0, extra), value=0.0)
        pad = additive_mask(key_padding_mask, "key_padding_mask", dtype)
        if pad is not None:
            if pad.shape != (n, S):
                raise RuntimeError(f"MultiheadAttention: key_padding_mask must have shape "
                                   f"({n}, {S}), got {pad.shape}")
            pad = F.pad(pad, (0, extra), value=0.0).reshape(n, 1, 1, S + extra)
            mask = pad if mask is None else mask + pad
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Returns (attn_output, attn_weights): attn_output like query with E features;
        attn_weights (N, L, S) averaged over heads, (N, H, L, S) with
        average_attn_weights=False, or None with need_weights=False.

        key_padding_mask (N, S) and attn_mask (L, S) or (N*H, L, S): bool with True =
        NOT allowed (the opposite of scaled_dot_product_attention), or float, added.
        is_causal is only a hint that attn_mask is causal (attn_mask is required), used
        as PyTorch does. With need_weights=True a query whose keys are all masked gets
        nan (PyTorch's plain softmax there); with need_weights=False it gets 0.
        """
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be 3-D "
                             f"(batched) or 2-D (unbatched), got shapes {query.shape}, "
                             f"{key.shape}, {value.shape}")
        batched = query.ndim == 3
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:   # (S,) -> (1, S)
                key_padding_mask = (key_padding_mask if isinstance(key_padding_mask, Tensor)
                                    else np.asarray(key_padding_mask)).reshape(1, -1)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        n, L, e = query.shape
        S = key.shape[1]
        if (e != self.embed_dim or key.shape[:2] != value.shape[:2] or key.shape[0] != n
                or key.shape[2] != self.kdim or value.shape[2] != self.vdim):
            raise ValueError(f"MultiheadAttention: expected query (N, L, {self.embed_dim}), "
                             f"key (N, S, {self.kdim}) and value (N, S, {self.vdim}) (batch "
                             f"first), got shapes {query.shape}, {key.shape}, {value.shape}")
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: is_causal=True is a hint that attn_mask "
                               "is causal; it needs attn_mask (see "
                               "Transformer.generate_square_subsequent_mask)")
        q, k, v = (self.heads(t) for t in self.projections(query, key, value))
        k, v = self.extra_keys(k, v)
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            mask = self.merged_mask(attn_mask, key_padding_mask, q.dtype, n, L, S)
            scores = (q * math.sqrt(1.0 / self.head_dim)) @ k.transpose(-2, -1)
            with np.errstate(invalid="ignore"):   # all keys masked: nan, as PyTorch
                weights = F.softmax(scores if mask is None else scores + mask, -1)
            if dropout_p > 0:
                weights = F.dropout(weights, dropout_p, training=True)
            out = weights @ v
            if average_attn_weights:
                weights = weights.mean(1)
        else:
            # As PyTorch: a causal hint without a padding mask becomes SDPA's is_causal.
            causal = is_causal and key_padding_mask is None
            mask = None if causal else self.merged_mask(attn_mask, key_padding_mask,
                                                        q.dtype, n, L, S)
            out = scaled_dot_product_attention(q, k, v, mask, dropout_p, causal)
            weights = None
        out = self.out_proj(out.transpose(1, 2).reshape(n, L, self.embed_dim))
        if not batched:
            return out[0], None if weights is None else weights[0]
        return (out if self.batch_first else out.transpose(0, 1)), weights

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}, "
                f"add_bias_kv={self.bias_k is not None}, add_zero_attn={self.add_zero_attn}")


# --- TransformerEncoderLayer ----------------------------------------------------------

class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual and a LayerNorm, as
    torch.nn.TransformerEncoderLayer:

        norm_first=False:  x = norm1(x + SA(x));        x = norm2(x + FF(x))
        norm_first=True:   x = x + SA(norm1(x));        x = x + FF(norm2(x))
        SA(x) = dropout1(self_attn(x, x, x)),  FF(x) = dropout2(linear2(dropout(act(linear1(x)))))

    activation: "relu", "gelu" or a callable. Submodule names as PyTorch (self_attn,
    linear1, dropout, linear2, norm1, norm2, dropout1, dropout2), so state dicts match.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None, generator=None):
        super().__init__()
        dtype = np.dtype(np.float64 if dtype is None else dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device,
                                            dtype=dtype, generator=generator)
        self.linear1 = layers.Linear(d_model, dim_feedforward, bias=bias, dtype=dtype,
                                     generator=generator)
        self.dropout = layers.Dropout(dropout, generator=generator)
        self.linear2 = layers.Linear(dim_feedforward, d_model, bias=bias, dtype=dtype,
                                     generator=generator)
        self.norm_first = norm_first
        self.norm1 = layers.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = layers.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = layers.Dropout(dropout, generator=generator)
        self.dropout2 = layers.Dropout(dropout, generator=generator)
        if activation == "relu":
            self.activation = F.relu
        elif activation == "gelu":
            self.activation = F.gelu
        elif callable(activation) and not isinstance(activation, str):
            self.activation = activation
        else:
            raise RuntimeError(f"TransformerEncoderLayer: activation should be relu/gelu, "
                               f"not {activation!r}")

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self.sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self.ff_block(self.norm2(x))
        x = self.norm1(x + self.sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self.ff_block(x))

    def sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))
