"""PyTorch's function forms of Tensor methods: tg.exp(x) is x.exp(), tg.max(x, 1) is
x.max(1), tg.add(x, y, alpha=2) is x.add(y, alpha=2), with torch.*'s argument names.

Each is one call of the method (no math here), so its gradient is the method's. The
first argument may also be anything tg.tensor takes (a list, an array, a number).
Functions on several tensors (cat, stack, where, maximum, minimum, matmul) are in
tensor.py already.
"""

from .tensor import Tensor, as_tensor, lift

__all__ = ["abs", "absolute", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos",
           "sign", "isfinite", "neg", "negative", "pow", "clamp", "clip", "add", "sub",
           "subtract", "mul", "multiply", "div", "divide", "true_divide", "sum", "mean", "max",
           "min", "amax", "amin", "var", "std", "logsumexp", "softmax", "log_softmax", "argmax",
           "argmin", "all", "any", "reshape", "flatten", "squeeze", "unsqueeze", "transpose",
           "swapaxes", "permute", "t", "broadcast_to", "masked_fill", "clone", "detach",
           "numel", "is_tensor", "is_floating_point"]


def operands(input, other):
    """(input, other) as tensors; a number first takes the tensor's dtype (2 - x)."""
    if not isinstance(input, Tensor) and isinstance(other, Tensor):
        return lift(input, other), other
    return as_tensor(input), other


# --- elementwise ----------------------------------------------------------------------------

def abs(input):
    return as_tensor(input).abs()


absolute = abs


def exp(input):
    return as_tensor(input).exp()


def log(input):
    return as_tensor(input).log()


def sqrt(input):
    return as_tensor(input).sqrt()


def tanh(input):
    return as_tensor(input).tanh()


def sigmoid(input):
    return as_tensor(input).sigmoid()


def relu(input):
    return as_tensor(input).relu()


def sin(input):
    return as_tensor(input).sin()


def cos(input):
    return as_tensor(input).cos()


def sign(input):
    return as_tensor(input).sign()


def isfinite(input):
    return as_tensor(input).isfinite()


def neg(input):
    return -as_tensor(input)


negative = neg


def pow(input, exponent):
    """input ** exponent; input may be a number when exponent is a tensor (2 ** x)."""
    base, exponent = operands(input, exponent)
    return base ** exponent


def clamp(input, min=None, max=None):
    return as_tensor(input).clamp(min, max)


clip = clamp


def add(input, other, *, alpha=1):
    """input + alpha * other."""
    a, b = operands(input, other)
    return a.add(b, alpha=alpha)


def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    a, b = operands(input, other)
    return a.sub(b, alpha=alpha)


subtract = sub


def mul(input, other):
    a, b = operands(input, other)
    return a.mul(b)


multiply = mul


def div(input, other, *, rounding_mode=None):
    a, b = operands(input, other)
    return a.div(b, rounding_mode=rounding_mode)


divide = div
true_divide = div


def masked_fill(input, mask, value):
    return as_tensor(input).masked_fill(mask, value)


# --- reductions -----------------------------------------------------------------------------

def sum(input, dim=None, keepdim=False):
    return as_tensor(input).sum(dim, keepdim)


def mean(input, dim=None, keepdim=False):
    return as_tensor(input).mean(dim, keepdim)


def max(input, dim=None, keepdim=False):
    """max(x): the largest value; max(x, dim): (values, indices); max(x, other): maximum."""
    return as_tensor(input).max(dim, keepdim)


def min(input, dim=None, keepdim=False):
    """min(x), min(x, dim) -> (values, indices), min(x, other): as max."""
    return as_tensor(input).min(dim, keepdim)


def amax(input, dim=None, keepdim=False):
    return as_tensor(input).amax(dim, keepdim)


def amin(input, dim=None, keepdim=False):
    return as_tensor(input).amin(dim, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return as_tensor(input).var(dim, unbiased, keepdim, correction=correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return as_tensor(input).std(dim, unbiased, keepdim, correction=correction)


def logsumexp(input, dim, keepdim=False):
    return as_tensor(input).logsumexp(dim, keepdim)


def softmax(input, dim):
    return as_tensor(input).softmax(dim)


def log_softmax(input, dim):
    return as_tensor(input).log_softmax(dim)


def argmax(input, dim=None, keepdim=False):
    return as_tensor(input).argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return as_tensor(input).argmin(dim, keepdim)


def all(input, dim=None, keepdim=False):
    return as_tensor(input).all(dim, keepdim)


def any(input, dim=None, keepdim=False):
    return as_tensor(input).any(dim, keepdim)


# --- shape ----------------------------------------------------------------------------------

def reshape(input, shape):
    return as_tensor(input).reshape(shape)


def flatten(input, start_dim=0, end_dim=-1):
    return as_tensor(input).flatten(start_dim, end_dim)


def squeeze(input, dim=None):
    return as_tensor(input).squeeze(dim)


def unsqueeze(input, dim):
    return as_tensor(input).unsqueeze(dim)


def transpose(input, dim0, dim1):
    return as_tensor(input).transpose(dim0, dim1)


swapaxes = transpose


def permute(input, dims):
    return as_tensor(input).permute(dims)


def t(input):
    return as_tensor(input).t()


def broadcast_to(input, size):
    return as_tensor(input).broadcast_to(size)


def clone(input):
    return as_tensor(input).clone()


def detach(input):
    return as_tensor(input).detach()


def numel(input):
    return as_tensor(input).numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return as_tensor(input).is_floating_point()
