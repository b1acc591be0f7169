"""torch.nn.utils: gradient clipping, applied to .grad in place between backward() and step().

Clipping is not part of the model, so it runs under no_grad: nothing here is recorded.
"""
import math

from ..autograd import no_grad
from ..tensor import Tensor, stack, tensor


def grads_of(parameters):
    """The .grad tensors of `parameters` (one Tensor or an iterable), skipping None."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm.

    total = ||(||g_1||_p, ..., ||g_k||_p)||_p (the norm of all gradients as one vector;
    p = inf: the largest |g|); every g is multiplied by min(1, max_norm / (total + 1e-6)),
    as PyTorch. Returns total as a 0-d tensor (computed before clipping).
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise NotImplementedError(f"clip_grad_norm_: norm_type must be positive or inf, got "
                                  f"{norm_type}")
    grads = grads_of(parameters)
    if not grads:
        return tensor(0.0)
    with no_grad():
        if norm_type == math.inf:
            norms = stack([g.abs().amax() if g.numel() else tensor(0.0, dtype=g.dtype)
                           for g in grads])
            total = norms.amax()
        else:
            norms = stack([(g.abs() ** norm_type).sum() ** (1 / norm_type) for g in grads])
            total = (norms ** norm_type).sum() ** (1 / norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                               f"gradients is {total.item()}, so they cannot be clipped; "
                               f"set error_if_nonfinite=False to scale them anyway")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in grads_of(parameters):
            g.clamp_(-clip_value, clip_value)
