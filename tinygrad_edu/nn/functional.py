"""`import tinygrad_edu.nn.functional as F`, as in PyTorch: the composites, in one place.

Softmax, the losses, linear, dropout and batch norm written as compositions of
Tensor ops. Nothing here defines a gradient: each function is the formula, and
autograd differentiates it through the primitives in ops.py (the tests compare
the results against finite differences, PyTorch, and manual.py). Tensor methods
such as x.softmax(dim) are one-line calls of these.
"""
import math

import numpy as np

from .. import ops
from ..tensor import (Tensor, apply, as_tensor, default_generator, normalize_axis,
                      reduction_args, where, wrap, computed, private_copy, python_constant,
                      python_value)
from ..autograd import no_grad
from ..shapes import pad  # noqa: F401  (F.pad, as PyTorch; its home is shapes.py)


def relu(x):
    return x.relu()


def leaky_relu(x, negative_slope=0.01):
    return x.leaky_relu(negative_slope)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def no_inplace(inplace, who):
    if inplace:
        raise NotImplementedError(f"{who}: inplace=True is not supported (the result is the "
                                  f"same out of place: drop the argument)")


def positive_branch(x):
    """(x > 0, x where x > 0 else 0, x where x <= 0 else 0): each branch of a piecewise
    function gets a harmless input where it is not used, so exp(x) of a large x in the
    unused branch cannot make inf * 0 = nan in the gradient."""
    up = computed("{0} > 0", x._data)
    return up, where(up, x, 0), where(up, 0, x)


def erf(x):
    """The error function 2/sqrt(pi) int_0^x e^(-t^2) dt (a primitive: ops.erf)."""
    return apply(ops.erf, (x,))


def gelu(input, approximate="none"):
    """x Phi(x) = x/2 (1 + erf(x / sqrt 2)); approximate="tanh":
    x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return input * 0.5 * (erf(input * (1 / math.sqrt(2))) + 1)
    if approximate == "tanh":
        # Factored as x (0.5 + 0.5 tanh(x (c + c 0.044715 x^2))): 8 ops over the input's
        # size instead of 9, and 14 instead of 16 in backward (x is used 3 times, not 5).
        c = math.sqrt(2 / math.pi)
        inner = input * (input * input * (c * 0.044715) + c)
        return input * (inner.tanh() * 0.5 + 0.5)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """x sigmoid(x) (also called swish)."""
    no_inplace(inplace, "silu")
    return input * input.sigmoid()


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha (e^x - 1) for x <= 0 (so elu'(0) = alpha, as PyTorch)."""
    no_inplace(inplace, "elu")
    up, pos, neg = positive_branch(input)
    return where(up, pos, (neg.exp() - 1) * alpha)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)."""
    no_inplace(inplace, "selu")
    return elu(input, SELU_ALPHA) * SELU_SCALE


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule)."""
    z = input * beta
    return where(z > threshold, input, log1p_exp(z) / beta)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere
    (at the corners too, as PyTorch: relu6'(0) = 0 like relu'(0))."""
    no_inplace(inplace, "hardtanh")
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    inside = (input > min_val) & (input < max_val)
    return where(inside, input, wrap(computed("np.clip({0}, {1}, {2})", input._data, min_val,
                                              max_val)))


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    no_inplace(inplace, "relu6")
    return hardtanh(input, 0.0, 6.0)


def hardswish(input, inplace=False):
    """x relu6(x + 3) / 6: 0 up to -3, x from 3 on, x (x + 3) / 6 strictly between (so the
    gradient at -3 and 3 is PyTorch's: 0 and 1)."""
    no_inplace(inplace, "hardswish")
    return where(input <= -3, 0.0, where(input < 3, input * (input + 3) / 6, input))


def mish(input, inplace=False):
    """x tanh(log(1 + e^x))."""
    no_inplace(inplace, "mish")
    return input * log1p_exp(input).tanh()


def max_shift(array, axis):
    """The max along axis (kept), as a constant to subtract before exp so it cannot overflow.

    A constant: the results don't depend on it mathematically, so no gradient
    flows through it. Rows that are all -inf, or empty, shift by 0 instead
    (inf - inf is nan).
    """
    # through computed(): tg.compile recomputes the shift on every call
    return computed("K.max_shift({0}, {1})", array, axis)


def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along dim, shifted by the max so it cannot overflow."""
    dim = normalize_axis(dim, x.ndim, "softmax")
    shifted = x - max_shift(x._data, dim)
    e = shifted.exp()
    # e * (1/s) rather than e / s: the same values to rounding, and backward then needs
    # two passes over e's size for the sum's side (g * e, summed) where Div's
    # -g * y / s takes four; 1/s is the small (..., 1) array.
    with np.errstate(divide="ignore"):   # a row of -inf sums to 0: 0 * inf = nan, as 0/0
        return e * e.sum(dim, keepdims=True).reciprocal()


def log_softmax(x, dim=-1):
    """x - logsumexp(x) along dim, as (x - m) - log(sum(exp(x - m))) with m = max(x)."""
    dim = normalize_axis(dim, x.ndim, "log_softmax")
    shifted = x - max_shift(x._data, dim)
    with np.errstate(divide="ignore"):   # an empty dim: log(0) = -inf, as PyTorch
        return shifted - shifted.exp().sum(dim, keepdims=True).log()


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) over dim, computed as m + log(sum(exp(x - m))) with m = max(x)."""
    axis, keepdim = reduction_args(x, "logsumexp", dim, keepdim, None, None)
    m = max_shift(x._data, axis)
    with np.errstate(divide="ignore"):   # over an empty dim the sum is 0: -inf, as PyTorch
        out = (x - m).exp().sum(axis, keepdims=True).log() + m
    return out if keepdim else out.reshape(np.squeeze(m, axis).shape)


def reduce(loss, reduction, who):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{who}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def input_tensor(x, who):
    """The loss's input as a tensor (an ndarray or list is taken as constant values)."""
    if isinstance(x, Tensor):
        return x
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: input must be floating point, got dtype {x.dtype}")
    return x


def same_shape(input, target, who):
    """PyTorch's losses refuse to broadcast input against target (an (N, 1) input and an
    (N,) target would silently average N x N pairs)."""
    target = target if isinstance(target, Tensor) else as_tensor(np.array(target, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(f"{who}: target of shape {target.shape} and input of shape "
                         f"{input.shape} must have the same shape")
    return target


def class_targets(target, logits, who):
    """Integer class labels as an int array, checked against the logits' shape."""
    labels = private_copy(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: class targets must be integers, got dtype {labels.dtype} "
                        f"(for probabilities pass an array shaped like the logits)")
    if labels.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"{who}: class targets of shape {labels.shape} don't fit logits of "
                         f"shape {logits.shape} (expected {logits.shape[:1] + logits.shape[2:]})")
    # a recorded check: a compiled step checks every replay's labels too
    return computed("check_range({0}, 0, {1}, {2}, 'class targets').astype(np.intp, copy=False)",
                    labels, logits.shape[1], who)


def pick_class(scores, labels):
    """scores[n, labels[n], ...]: the score of the true class, of shape labels.shape
    ((N,) for logits (N, C); (N, d1, ...) for (N, C, d1, ...))."""
    idx = [python_constant(i) for i in np.indices(labels.shape, sparse=True)]
    return scores[(idx[0], labels) + tuple(idx[1:])]


def unbatched(logits, target, who):
    """A (C,) logit vector with a 0-d label is one sample, as PyTorch: a batch of 1."""
    logits = input_tensor(logits, who)
    if logits.ndim == 0:
        raise ValueError(f"{who}: input must have a class dim, got a 0-d tensor")
    if logits.ndim == 1:
        return logits.unsqueeze(0), computed("np.asarray({0})[None]", data_of_target(target)), True
    return logits, target, False


def data_of_target(target):
    return target._data if isinstance(target, Tensor) else target


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of integer targets, given log-probabilities (N, C)."""
    log_probs, target, single = unbatched(log_probs, target, "nll_loss")
    labels = class_targets(target, log_probs, "nll_loss")
    loss = -pick_class(log_probs, labels)
    return reduce(loss[0] if single else loss, reduction, "nll_loss")


def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C).

    `target` is either integer class labels (N,) or class probabilities (N, C)
    such as one-hot rows. Computed as -log_softmax, i.e. through logsumexp, so
    logits of +-1000 give finite losses and gradients. The gradient with
    respect to the logits is (softmax(logits) - onehot) / N for reduction="mean".
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must lie in [0, 1], got "
                         f"{label_smoothing}")
    logits_in = input_tensor(logits, "cross_entropy")
    probs = target if isinstance(target, Tensor) else np.array(target)
    if probs.ndim == logits_in.ndim and np.issubdtype(probs.dtype, np.floating):
        logits, single = (logits_in.unsqueeze(0), True) if logits_in.ndim == 1 else (logits_in, False)
        if probs.shape != logits_in.shape:
            raise ValueError(f"cross_entropy: probability targets of shape {probs.shape} "
                             f"don't match logits of shape {logits_in.shape}")
        probs = probs.reshape(logits.shape) if single else probs
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / logits.shape[1]
        loss = -(logits.log_softmax(1) * probs).sum(1)
    else:
        logits, target, single = unbatched(logits_in, target, "cross_entropy")
        labels = class_targets(target, logits, "cross_entropy")
        logp = logits.log_softmax(1)
        loss = -pick_class(logp, labels)
        if label_smoothing:
            loss = loss * (1 - label_smoothing) - logp.mean(1) * label_smoothing
    return reduce(loss[0] if single else loss, reduction, "cross_entropy")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean((input - target)^2)."""
    input = input_tensor(input, "mse_loss")
    diff = input - same_shape(input, target, "mse_loss")
    return reduce(diff * diff, reduction, "mse_loss")


BCE_EPS = float(np.float32(1e-12))   # PyTorch's floor for p (1 - p) in the gradient (a float32)


def binary_cross_entropy(input, target, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities p in [0, 1], as PyTorch.

    Each log is clamped at -100, so p = 0 or 1 gives a finite loss; the gradient
    is (p - y) / max(p (1 - p), 1e-12), PyTorch's convention. Where p (1 - p) >= 1e-12
    that is the exact derivative of the formula, and the formula is what is
    recorded; nearer 0 and 1 the loss is the clamped constant plus a linear term
    with that slope (so second derivatives are 0 there).
    """
    input = input_tensor(input, "binary_cross_entropy")
    target = same_shape(input, target, "binary_cross_entropy")
    # computed: a compiled step checks and splits every replay's probabilities
    p = computed("K.check_probabilities({0}, 'binary_cross_entropy')", input._data)
    inside = wrap(computed("{0} * (1 - {0}) >= {1}", p, BCE_EPS))
    safe = where(inside, input, 0.5)
    exact = -(target * safe.log() + (1 - target) * (1 - safe).log())
    # outside: the clamped loss, plus a linear term with PyTorch's slope (p - y) / 1e-12
    clamped = wrap(computed("K.bce_clamped({0}, {1})", p, target._data))
    slope = wrap(computed("({0} - {1}) / {2}", p, target._data, BCE_EPS))
    edge = (input - input.detach()) * where(inside, 0, slope) + where(inside, 0, clamped)
    exact = where(inside, exact, edge)
    return reduce(exact, reduction, "binary_cross_entropy")


def log1p_exp(z):
    """log(1 + e^z) for any z, smooth (every derivative right, also at 0): each branch
    gets a harmless input where it is not used, so neither overflows nor makes nan."""
    up = z > 0
    z_up, z_down = where(up, z, 0), where(up, 0, z)
    return where(up, z_up + ((-z_up).exp() + 1).log(), (z_down.exp() + 1).log())


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """BCE on logits z: (1 - y) z + log(1 + e^-z), PyTorch's formula, stable for any z.

    Its gradient is sigmoid(z) - y everywhere (0.5 - y at z = 0).
    """
    z = input_tensor(input, "binary_cross_entropy_with_logits")
    target = same_shape(z, target, "binary_cross_entropy_with_logits")
    loss = (1 - target) * z + log1p_exp(-z)
    return reduce(loss, reduction, "binary_cross_entropy_with_logits")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """Multiclass SVM hinge loss (PyTorch's convention).

    loss_n = sum_{j != y_n} max(0, margin - s_{y_n} + s_j)^p / C
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    if weight is not None:
        raise NotImplementedError("multi_margin_loss: weight is not supported")
    input = input_tensor(input, "multi_margin_loss")
    if input.ndim != 2:
        raise ValueError(f"multi_margin_loss: input must be (N, C) scores, got shape "
                         f"{input.shape}")
    labels = class_targets(target, input, "multi_margin_loss")
    correct = pick_class(input, labels).unsqueeze(1)
    hinge = (input - correct + margin).relu()
    if p == 2:
        hinge = hinge * hinge
    # the j = y_n terms are left out
    not_true = computed("{0} != {1}[:, None]", python_constant(np.arange(input.shape[1])), labels)
    loss = (hinge * not_true).sum(1) / input.shape[1]
    return reduce(loss, reduction, "multi_margin_loss")


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: mean(|input - target|) (gradient sign(d), 0 at d = 0)."""
    input = input_tensor(input, "l1_loss")
    return reduce((input - same_shape(input, target, "l1_loss")).abs(), reduction, "l1_loss")


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = input - target);
    beta = 0 is l1_loss."""
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must not be negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction)
    input = input_tensor(input, "smooth_l1_loss")
    d = input - same_shape(input, target, "smooth_l1_loss")
    a = d.abs()
    loss = where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta)
    return reduce(loss, reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere: smooth_l1 times delta."""
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input = input_tensor(input, "huber_loss")
    d = input - same_shape(input, target, "huber_loss")
    a = d.abs()
    loss = where(a < delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    return reduce(loss, reduction, "huber_loss")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last len(normalized_shape) axes of each sample:
    (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance, as PyTorch.
    weight and bias have shape normalized_shape."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k:] != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the trailing "
                         f"axes of the input, got input of shape {input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} of shape {t.shape} must have "
                             f"normalized_shape {shape}")
    # As a matrix (samples, features): the same statistics, but the weight's and bias's
    # gradients are then sums over the rows of a matrix (one BLAS product with ones)
    # instead of a reduction over several leading axes (NumPy's, ~8x slower for
    # (16, 32, 64)).
    n = math.prod(shape)
    x = input.reshape(math.prod(input.shape[:input.ndim - k]), n)
    mean = x.mean(1, keepdims=True)
    # x + (-mean) rather than x - mean: the same values (IEEE), and backward negates the
    # (samples, 1) gradient of the mean instead of the (samples, features) one
    centered = x + -mean
    var = (centered * centered).mean(1, keepdims=True)
    out = centered * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight.reshape(n)
    if bias is not None:
        out = out + bias.reshape(n)
    return out.reshape(input.shape)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """weight[input]: the rows of weight (num_embeddings, dim) at integer indices of any
    shape, giving input.shape + (dim,). Repeated indices add their gradients; rows at
    padding_idx get none."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are "
                                  "not supported")
    idx = private_copy(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    n = weight.shape[0]
    # a recorded check: a compiled step checks every replay's indices too
    rows = weight[computed("check_range({0}, 0, {1}, 'embedding', 'indices').astype(np.intp, "
                           "copy=False)", idx, n)]
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx must lie in [-{n}, {n}), got {padding_idx}")
    padded = computed("({0} == {1})[..., None]", idx, padding_idx % n)
    return where(padded, rows.detach(), rows)


def one_hot(tensor, num_classes=-1):
    """Integer labels of any shape -> int64 tensor of shape tensor.shape + (num_classes,)
    with a single 1 per row; num_classes=-1 means max label + 1. Off the graph."""
    labels = private_copy(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes == -1:
        if not labels.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = python_value(int(labels.max()), "one_hot(num_classes=-1)") + 1
    labels = computed("check_range({0}, 0, {1}, 'one_hot', 'labels', 'ValueError')", labels,
                      num_classes)
    return wrap(computed("np.eye({0}, dtype=np.int64)[{1}]", num_classes, labels))


def linear(x, weight, bias=None):
    """y = x W^T + b, with W of shape (out_features, in_features): x (..., in_features) ->
    y (..., out_features)."""
    if weight.ndim == 2 and x.ndim >= 1 and x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} has {x.shape[-1]} features, "
                         f"weight of shape {weight.shape} expects {weight.shape[1]}")
    if x.ndim > 2 and weight.ndim == 2:
        # The batch axes are folded into the rows: (N*L, in) @ (in, out) is one BLAS call,
        # and so is W's gradient, where (N, L, in) @ (in, out) loops over N small products
        # and its backward builds an (N, in, out) stack of gradients to sum down to W's.
        lead = x.shape[:-1]
        y = linear(x.reshape(math.prod(lead), x.shape[-1]), weight, bias)
        return y.reshape(*lead, weight.shape[0])
    y = x @ weight.T
    return y if bias is None else y + bias


def dropout(x, p=0.5, training=True, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (inverted dropout)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0
    rng = generator or default_generator()
    # through computed(): a compiled step draws a fresh mask from rng on every call
    keep = computed("{0}.random({1}) >= {2}", rng, x.shape, p)
    return x * wrap(computed("({0} / {1}).astype({2})", keep, 1 - p, x.dtype))


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training=False, momentum=0.1, eps=1e-5):
    """Normalize each feature (axis 1) of x to zero mean and unit variance.

    training=True: use this batch's mean and biased variance, and update the
    running statistics in place (running = (1 - momentum) running + momentum
    batch, with the *unbiased* variance, as PyTorch). training=False: use the
    running statistics.
    """
    axes = (0,) + tuple(range(2, x.ndim))   # every axis but the features
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    if training:
        n = x.numel() // x.shape[1]
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per feature in "
                             f"training mode, got input of shape {x.shape}")
        mean = x.mean(axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axes, keepdims=True)   # biased, as PyTorch
        if running_mean is not None:
            # Tensor ops (off the graph) rather than NumPy on ._data: the same arithmetic,
            # and tg.compile sees it. Under no_grad nothing is recorded, so no detach()
            # is needed (each one is a tensor more per statistic, in every training step).
            with no_grad():
                batch_mean = mean.reshape(-1)
                batch_var = var.reshape(-1) * (n / (n - 1))
                running_mean.data = (1 - momentum) * running_mean + momentum * batch_mean
                running_var.data = (1 - momentum) * running_var + momentum * batch_var
    else:
        if running_mean is None:
            raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
        mean = as_tensor(running_mean).detach().reshape(shape)
        var = as_tensor(running_var).detach().reshape(shape)
        centered = x - mean
    out = centered * (var + eps) ** -0.5
    if x.ndim > 2:   # (N, C, L): per-feature parameters broadcast along axis 1
        weight = None if weight is None else weight.reshape(shape)
        bias = None if bias is None else bias.reshape(shape)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out
from .conv import (unfold, fold, conv1d, conv2d, conv_transpose2d, max_pool2d,  # noqa: E402,F401
                   avg_pool2d, adaptive_avg_pool2d, dropout2d)
from .attention import scaled_dot_product_attention  # noqa: E402,F401  (its home is attention.py)


# --- 1-d pooling and transposed convolution: the 2-d versions over a unit height ---------

def one_int(value, name, who):
    """An int, or PyTorch's 1-tuple form of it."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{who}: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return value


def as_sequence_batch(input, who):
    """(N, C, L) or (C, L) -> (N, C, 1, L) or (C, 1, L): a 2-d input of height one."""
    x = as_tensor(input)
    if x.ndim not in (2, 3):
        raise ValueError(f"{who}: expected a 2-d (C, L) or 3-d (N, C, L) input, got shape "
                         f"{tuple(x.shape)}")
    return x.unsqueeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The largest value of each window along L: (N, C, L) -> (N, C, L_out), max_pool2d on
    a height of one; return_indices gives each maximum's position along L (int64)."""
    who = "max_pool1d"
    x = as_sequence_batch(input, who)
    stride = None if stride is None or stride == () else (1, one_int(stride, "stride", who))
    out = max_pool2d(x, (1, one_int(kernel_size, "kernel_size", who)), stride,
                     (0, one_int(padding, "padding", who)), (1, one_int(dilation, "dilation", who)),
                     ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean of each window along L: (N, C, L) -> (N, C, L_out), avg_pool2d on a
    height of one."""
    who = "avg_pool1d"
    x = as_sequence_batch(input, who)
    stride = None if stride is None or stride == () else (1, one_int(stride, "stride", who))
    return avg_pool2d(x, (1, one_int(kernel_size, "kernel_size", who)), stride,
                      (0, one_int(padding, "padding", who)), ceil_mode,
                      count_include_pad).squeeze(-2)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The adjoint of conv1d: (N, C_in, L) -> (N, C_out, L') with
    L' = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1;
    weight (C_in, C_out / groups, k). conv_transpose2d on a height of one."""
    who = "conv_transpose1d"
    x = as_sequence_batch(input, who)
    w = as_tensor(weight)
    if w.ndim != 3:
        raise ValueError(f"{who}: weight must be 3-d (C_in, C_out / groups, k), got shape "
                         f"{tuple(w.shape)}")
    y = conv_transpose2d(x, w.unsqueeze(-2), bias, (1, one_int(stride, "stride", who)),
                         (0, one_int(padding, "padding", who)),
                         (0, one_int(output_padding, "output_padding", who)), groups,
                         (1, one_int(dilation, "dilation", who)))
    return y.squeeze(-2)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along dim (each slice scaled to unit p-norm)."""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the returned tensor")
    x = as_tensor(input)
    return x / x.norm(p, dim, keepdim=True).clamp_min(eps)
