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
# torch.autograd's layout: tg.autograd.grad is tg.grad, and tg.autograd.functional
# (jacobian, hessian, vjp, jvp, hvp, vhp) is loaded here, after Tensor exists
from . import autograd
from .autograd import functional as _autograd_functional
