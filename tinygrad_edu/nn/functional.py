"""`import tinygrad_edu.nn.functional as F`, as in PyTorch: the composites, in one place.

Softmax, the losses, linear, dropout and batch norm written as compositions of
Tensor ops. Nothing here defines a gradient: each function is the formula, and
autograd differentiates it through the primitives in ops.py (the tests compare
the results against finite differences, PyTorch, and manual.py). Tensor methods
such as x.softmax(dim) are one-line calls of these.
"""
import numpy as np

from ..tensor import Tensor, as_tensor, default_generator, normalize_axis, reduction_args, where


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
    labels = np.array(target.data if isinstance(target, Tensor) else target)
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


def unbatched(logits, target, who):
    """A (C,) logit vector with a 0-d label is one sample, as PyTorch: a batch of 1."""
    logits = input_tensor(logits, who)
    if logits.ndim == 0:
        raise ValueError(f"{who}: input must have a class dim, got a 0-d tensor")
    if logits.ndim == 1:
        return logits.unsqueeze(0), np.asarray(data_of_target(target))[None], True
    return logits, target, False


def data_of_target(target):
    return target.data if isinstance(target, Tensor) else target


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
    p, y = input.data, target.data
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise ValueError(f"binary_cross_entropy: input values must lie in [0, 1] (they are "
                         f"probabilities), got values from {p.min()} to {p.max()}; for logits "
                         f"use binary_cross_entropy_with_logits")
    inside = p * (1 - p) >= BCE_EPS
    safe = where(inside, input, 0.5)
    exact = -(target * safe.log() + (1 - target) * (1 - safe).log())
    if not inside.all():
        with np.errstate(divide="ignore", invalid="ignore"):
            clamped = -(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100))
            slope = (p - y) / BCE_EPS
        edge = (input - input.detach()) * np.where(inside, 0, slope) + np.where(inside, 0, clamped)
        exact = where(inside, exact, edge)
    return reduce(exact, reduction, "binary_cross_entropy")


def log1p_exp(z):
    """log(1 + e^z) for any z, smooth (every derivative right, also at 0): each branch
    gets a harmless input where it is not used, so neither overflows nor makes nan."""
    up = z.data > 0
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


def multi_margin_loss(input, target, margin=1.0, p=1, reduction="mean"):
    """Multiclass SVM hinge loss (PyTorch's convention).

    loss_n = sum_{j != y_n} max(0, margin - s_{y_n} + s_j)^p / C
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p}")
    input = input_tensor(input, "multi_margin_loss")
    if input.ndim != 2:
        raise ValueError(f"multi_margin_loss: input must be (N, C) scores, got shape "
                         f"{input.shape}")
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
        n = x.numel() // x.shape[1]
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
