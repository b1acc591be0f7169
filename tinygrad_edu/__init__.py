"""tinygrad_edu: a small, readable reverse-mode autograd engine on NumPy.

    import tinygrad_edu as tg
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad          # Tensor([2., 4., 6.])
"""
import numpy as _np

from .tensor import (Tensor, tensor, as_tensor, cat, concatenate, stack, where, maximum,
                     minimum, matmul, zeros, ones, full, zeros_like, ones_like, arange, eye,
                     randn, rand, uniform, normal, manual_seed)
from .autograd import (grad, no_grad, enable_grad, set_grad_enabled, is_grad_enabled,
                       detect_anomaly)
from . import ops, functional, check
from .check import gradcheck, gradgradcheck

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__version__ = "0.1.0"
from . import nn, optim
from . import data, training
from .serialization import save, load
from . import viz, trace, manual
from .check import compare_gradients
from .pointwise import (remainder, fmod, floor, ceil, round, trunc, frac, sign, tan, sinh,
                        cosh, asinh, acosh, atanh, asin, acos, atan, atan2, hypot, exp2,
                        expm1, log1p, log2, log10, square, rsqrt, reciprocal, logaddexp,
                        logaddexp2, fmax, fmin, nan_to_num, deg2rad, rad2deg, lerp, clamp_min,
                        clamp_max, neg, negative, abs, absolute, isnan, isinf, isfinite,
                        logical_and, logical_or, logical_not, logical_xor, eq, ne, lt, le, gt, ge)
from .reductions import (prod, cumsum, cumprod, norm, sort, argsort, topk, median, all, any,
                         count_nonzero)
# torch.trace is x.trace() and linalg.trace: tg.trace is the backward-trace module.
from .linalg import (outer, inner, tensordot, kron, einsum, take_diagonal as diagonal, diag,
                     diag_embed, tril, triu, bmm, mm, mv, dot, vdot, matrix_power)
from . import pointwise, reductions, linalg
