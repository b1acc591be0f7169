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
                     empty, empty_like, full_like, linspace, logspace, from_numpy, Size,
                     isclose, allclose, equal)
from .autograd import (grad, no_grad, enable_grad, inference_mode, set_grad_enabled,
                       is_grad_enabled, detect_anomaly)
from . import ops, functional, check
from .check import gradcheck, gradcheck_report, gradgradcheck

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__version__ = "0.1.0"
from . import nn, optim
from . import data, training, cuda
from .nn.functional import erf  # torch.erf (its home is nn.functional, next to gelu)
from .serialization import save, load
from . import viz, trace, manual
from .check import compare_gradients

# PyTorch's random sampling, dtype names, devices and function forms of Tensor methods
from .random import (Generator, manual_seed, seed, initial_seed, get_rng_state, set_rng_state,
                     randn, rand, randint, randperm, normal, uniform, bernoulli, multinomial,
                     rand_like, randn_like, randint_like)
from .tensor import Device as device
from numpy import (float16, int8, int16, int32, uint8, float32 as float, float64 as double,
                   float16 as half, int64 as long, int32 as int, int16 as short, bool_ as bool)
from .functions import *  # noqa: F401,F403  (tg.exp, tg.sum, tg.max, ...: see functions.__all__)
from .shapes import (repeat_interleave, tile, roll, flip, fliplr, flipud, rot90, movedim,
                     moveaxis, swapaxes, swapdims, ravel, narrow, unflatten, atleast_1d,
                     atleast_2d, atleast_3d, diff, split, tensor_split, chunk, unbind, hstack,
                     vstack, row_stack, dstack, column_stack, gather, scatter, scatter_add,
                     index_select, index_add, masked_select, masked_fill, take, take_along_dim)
# torch.autograd's layout: tg.autograd.grad is tg.grad, and tg.autograd.functional
# (jacobian, hessian, vjp, jvp, hvp, vhp) is loaded here, after Tensor exists
from . import autograd
from .autograd import functional as _autograd_functional
from .pointwise import (remainder, fmod, floor, ceil, round, trunc, frac, sign, tan, sinh,
                        cosh, asinh, acosh, atanh, asin, acos, atan, atan2, hypot, exp2,
                        expm1, log1p, log2, log10, square, rsqrt, reciprocal, logaddexp,
                        logaddexp2, fmax, fmin, nan_to_num, deg2rad, rad2deg, lerp, clamp_min,
                        clamp_max, neg, negative, abs, absolute, isnan, isinf, isfinite,
                        logical_and, logical_or, logical_not, logical_xor, eq, ne, lt, le, gt, ge,
                        logit, sinc, xlogy, copysign, erfc, erfinv, lgamma, digamma, polygamma,
                        i0)
from .reductions import (prod, cumsum, cumprod, norm, sort, argsort, topk, median, all, any,
                         count_nonzero, nansum, histogram, histc)
# torch.trace is x.trace() and linalg.trace: tg.trace is the backward-trace module.
from .linalg import (outer, inner, tensordot, kron, einsum, take_diagonal as diagonal, diag,
                     diag_embed, tril, triu, bmm, mm, mv, dot, vdot, matrix_power)
from . import pointwise, reductions, linalg
from .compile import compile  # noqa: E402  (tg.compile, as torch.compile: compile.py)
from . import special   # noqa: E402  (torch.special)
