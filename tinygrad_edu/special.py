"""torch.special's names for the special functions (tg.special.gammaln, ...).

The functions live where their kind lives (pointwise.py, nn/functional.py, functions.py);
this module only gives them torch.special's names, plus the few formulas it adds:

    ndtr x = Phi(x) = erfc(-x/sqrt 2) / 2   (the standard normal CDF; erfc keeps the
             left tail, where 1 + erf(x/sqrt 2) would round to 0 below x = -8.3)
"""
import math

from .pointwise import (erfc, erfinv, lgamma as gammaln, digamma, digamma as psi, polygamma,
                        i0, i1, logit, xlogy, expm1, exp2, log1p, sinc, round)
from .nn.functional import erf
from .functions import sigmoid as expit, logsumexp, softmax, log_softmax

__all__ = ["erf", "erfc", "erfinv", "gammaln", "digamma", "psi", "polygamma", "i0", "i1",
           "logit", "expit", "xlogy", "expm1", "exp2", "log1p", "sinc", "round", "logsumexp",
           "softmax", "log_softmax", "ndtr"]


def ndtr(input):
    """The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2."""
    return erfc(input * (-1 / math.sqrt(2))) / 2
