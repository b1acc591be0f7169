"""`import tinygrad_edu.nn.functional as F`, as in PyTorch: the composites, in one place.

Softmax, the losses, linear, dropout and batch norm written as compositions of
Tensor ops. Nothing here defines a gradient: each function is the formula, and
autograd differentiates it through the primitives in ops.py (the tests compare
the results against finite differences, PyTorch, and manual.py). Tensor methods
such as x.softmax(dim) are one-line calls of these.
"""
import numpy as np

from ..tensor import Tensor, as_tensor, default_generator, normalize_axis, reduction_args


def relu(x):
    return x.relu()


def leaky_relu(x, negative_slope=0.01):
    return x.leaky_relu(negative_slope)


def sigmoid(x):
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def max_shift(array, axis):
    """The max along axis (kept), as a constant to subtract before exp so it cannot overflow.

    A constant: the results don't depend on it mathematically, so no gradient
    flows through it. Rows that are all -inf, or empty, shift by 0 instead
    (inf - inf is nan).
    """
    m = np.max(array, axis=axis, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0)


def softmax(x, dim=-1):
    """exp(x) / sum(exp(x)) along dim, shifted by the max so it cannot overflow."""
    dim = normalize_axis(dim, x.ndim, "softmax")
    shifted = x - max_shift(x.data, dim)
    e = shifted.exp()
    return e / e.sum(dim, keepdims=True)


def log_softmax(x, dim=-1):
    """x - logsumexp(x) along dim, as (x - m) - log(sum(exp(x - m))) with m = max(x)."""
    dim = normalize_axis(dim, x.ndim, "log_softmax")
    shifted = x - max_shift(x.data, dim)
    with np.errstate(divide="ignore"):   # an empty dim: log(0) = -inf, as PyTorch
        return shifted - shifted.exp().sum(dim, keepdims=True).log()


def logsumexp(x, dim=None, keepdim=False):
    """log(sum(exp(x))) over dim, computed as m + log(sum(exp(x - m))) with m = max(x)."""
    axis, keepdim = reduction_args(x, "logsumexp", dim, keepdim, None, None)
    m = max_shift(x.data, axis)
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


def class_targets(target, logits, who):
    """Integer class labels as an int array, checked against the logits' shape."""
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{who}: class targets must be integers, got dtype {labels.dtype} "
                        f"(for probabilities pass an array shaped like the logits)")
    if labels.shape != logits.shape[:1] + logits.shape[2:]:
        raise ValueError(f"{who}: class targets of shape {labels.shape} don't fit logits of "
                         f"shape {logits.shape} (expected {logits.shape[:1] + logits.shape[2:]})")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise IndexError(f"{who}: class targets must lie in [0, {logits.shape[1]}), got "
                         f"values from {labels.min()} to {labels.max()}")
    return labels.astype(np.intp, copy=False)


def pick_class(scores, labels):
    """scores[n, labels[n], ...]: the score of the true class, of shape labels.shape
    ((N,) for logits (N, C); (N, d1, ...) for (N, C, d1, ...))."""
    idx = np.indices(labels.shape, sparse=True)
    return scores[(idx[0], labels) + tuple(idx[1:])]


def nll_loss(log_probs, target, reduction="mean"):
    """Negative log-likelihood of integer targets, given log-probabilities (N, C)."""
    labels = class_targets(target, log_probs, "nll_loss")
    return reduce(-pick_class(log_probs, labels), reduction, "nll_loss")


def cross_entropy(logits, target, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C).

    `target` is either integer class labels (N,) or class probabilities (N, C)
    such as one-hot rows. Computed as -log_softmax, i.e. through logsumexp, so
    logits of +-1000 give finite losses and gradients. The gradient with
    respect to the logits is (softmax(logits) - onehot) / N for reduction="mean".
    """
    logp = logits.log_softmax(1)
    probs = target if isinstance(target, Tensor) else np.asarray(target)
    if probs.ndim == logits.ndim and np.issubdtype(probs.dtype, np.floating):
        if probs.shape != logits.shape:
            raise ValueError(f"cross_entropy: probability targets of shape {probs.shape} "
                             f"don't match logits of shape {logits.shape}")
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / logits.shape[1]
        return reduce(-(logp * probs).sum(1), reduction, "cross_entropy")
    labels = class_targets(target, logits, "cross_entropy")
    loss = -pick_class(logp, labels)
    if label_smoothing:
        loss = loss * (1 - label_smoothing) - logp.mean(1) * label_smoothing
    return reduce(loss, reduction, "cross_entropy")


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: mean((input - target)^2)."""
    if as_tensor(target).shape != input.shape:
        raise ValueError(f"mse_loss: input of shape {input.shape} and target of shape "
                         f"{as_tensor(target).shape} must match")
    diff = input - target
    return reduce(diff * diff, reduction, "mse_loss")


def binary_cross_entropy(input, target, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) for probabilities p; logs clamped at -100 as PyTorch."""
    floor = np.exp(-100.0)   # log clamped at -100 as PyTorch, finite gradient at 0 and 1
    log_p = input.clip(min=floor).log()
    log_1mp = (1 - input).clip(min=floor).log()
    return reduce(-(target * log_p + (1 - target) * log_1mp), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """BCE on logits z: max(z, 0) - z y + log(1 + e^-|z|), stable for any z."""
    z = input
    loss = z.relu() - z * target + ((-z.abs()).exp() + 1).log()
    return reduce(loss, reduction, "binary_cross_entropy_with_logits")


def multi_margin_loss(input, target, margin=1.0, p=1, reduction="mean"):
    """Multiclass SVM hinge loss (PyTorch's convention).

    loss_n = sum_{j != y_n} max(0, margin - s_{y_n} + s_j)^p / C
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    labels = class_targets(target, input, "multi_margin_loss")
    correct = pick_class(input, labels).unsqueeze(1)
    hinge = (input - correct + margin).relu()
    if p == 2:
        hinge = hinge * hinge
    not_true = np.ones(input.shape, dtype=bool)
    not_true[np.arange(input.shape[0]), labels] = False   # the j = y_n terms are left out
    loss = (hinge * not_true).sum(1) / input.shape[1]
    return reduce(loss, reduction, "multi_margin_loss")


def linear(x, weight, bias=None):
    """y = x W^T + b, with W of shape (out_features, in_features)."""
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
    keep = rng.random(x.shape) >= p
    return x * (keep / (1 - p)).astype(x.dtype)


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
        n = x.size // x.shape[1]
        if n < 2:
            raise ValueError(f"batch_norm: expected more than 1 value per feature in "
                             f"training mode, got input of shape {x.shape}")
        mean = x.mean(axes, keepdims=True)
        centered = x - mean
        var = (centered * centered).mean(axes, keepdims=True)   # biased, as PyTorch
        if running_mean is not None:
            batch_mean = mean.data.reshape(-1)
            batch_var = var.data.reshape(-1) * (n / (n - 1))
            running_mean.data = (1 - momentum) * running_mean.data + momentum * batch_mean
            running_var.data = (1 - momentum) * running_var.data + momentum * batch_var
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
