"""Weight initialisers, with PyTorch's names and formulas (torch.nn.init).

Each fills a tensor in place with fresh values and returns it. Random ones
draw from `generator` (a np.random.Generator) or the generator that
`tinygrad_edu.manual_seed` seeds. Filling is not a differentiable operation,
so these replace `.data` directly (which also bumps the tensor's version).

For a weight of shape (out_features, in_features): fan_in = in_features,
fan_out = out_features. "He" initialisation is PyTorch's "kaiming".
"""
import math
import numbers
from statistics import NormalDist

import numpy as np

from ..tensor import default_generator


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance stable through `nonlinearity`.

    linear/sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu(slope): sqrt(2 / (1 + slope^2)),
    selu: 3/4 (the values torch.nn.init.calculate_gain uses).
    """
    if nonlinearity in ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is not None and (isinstance(param, bool) or not isinstance(param, numbers.Real)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *receptive_field)."""
    if tensor.ndim < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 axes, "
                         f"got shape {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:]))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def _fill(tensor, values):
    tensor.data = np.asarray(values, dtype=tensor.dtype).reshape(tensor.shape)
    return tensor


def _rng(generator):
    return generator if generator is not None else default_generator()


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with samples from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with samples from N(mean, std^2)."""
    return _fill(tensor, _rng(generator).normal(mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with samples from N(mean, std^2) truncated to [a, b] (a and b are values, not
    multiples of std), by inverting the normal CDF on U(cdf(a), cdf(b)), as PyTorch does."""
    if not a < b:
        raise ValueError(f"trunc_normal_: a ({a}) must be less than b ({b})")
    dist = NormalDist(mean, std)
    lo, hi = dist.cdf(a), dist.cdf(b)
    if not hi > lo:
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds no probability under "
                         f"N({mean}, {std}^2) in double precision")
    u = _rng(generator).uniform(lo, hi, tensor.shape)
    u = np.clip(u, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))   # inv_cdf needs (0, 1)
    values = np.frompyfunc(dist.inv_cdf, 1, 1)(u).astype(np.float64)
    return _fill(tensor, np.clip(values, a, b))


def constant_(tensor, val):
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal, also if not square)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with b = gain * sqrt(3 / fan) (He et al., 2015); gain from calculate_gain.

    With the defaults (a=0, leaky_relu) the gain is sqrt(2), as for ReLU.
    PyTorch's default Linear init is this with a=sqrt(5): b = 1 / sqrt(fan_in).
    """
    if 0 in tensor.shape:   # nothing to fill (and fan may be 0), as PyTorch
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan) (He et al., 2015)."""
    if 0 in tensor.shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)
