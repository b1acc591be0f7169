"""Layers: Linear, BatchNorm1d, LayerNorm, Embedding, Dropout, activations, losses,
containers, and MLP.

Each layer's forward is a call into tinygrad_edu.functional (compositions of
Tensor operations): no layer knows its own gradient.
"""
import math
import numbers
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import functional as F
from ..autograd import no_grad
from ..tensor import Tensor, normalize_axis
from . import init as nn_init
from .module import Module, Parameter


# --- Linear -----------------------------------------------------------------------

def _init_weight(weight, scheme, generator):
    """Fill a Linear weight by a named scheme (or call `scheme(weight)` if it is callable)."""
    if callable(scheme):
        scheme(weight)
    elif scheme == "xavier_uniform":
        nn_init.xavier_uniform_(weight, generator=generator)
    elif scheme == "xavier_normal":
        nn_init.xavier_normal_(weight, generator=generator)
    elif scheme == "he_uniform":
        nn_init.kaiming_uniform_(weight, nonlinearity="relu", generator=generator)
    elif scheme == "he_normal":
        nn_init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
    elif scheme == "normal":
        nn_init.normal_(weight, 0.0, 0.01, generator=generator)
    else:
        raise ValueError(f"Linear: unknown init {scheme!r}; use 'xavier_uniform', "
                         f"'xavier_normal', 'he_uniform', 'he_normal', 'normal', or a function")


def size_arg(value, name, who, minimum=0):
    """A layer size: an int (NumPy ints too; not bool, not 2.5) of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value}")
    return int(value)


class Linear(Module):
    """y = x W^T + b, for x of shape (..., in_features) -> y of shape (..., out_features).

    weight: (out_features, in_features), bias: (out_features,).
    Default init as PyTorch: W and b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform
    with a=sqrt(5)). `init=` picks another scheme for W ("xavier_uniform",
    "xavier_normal", "he_uniform", "he_normal", "normal" = N(0, 0.01^2), or a
    function filling the weight in place); the bias then starts at zero.
    """

    def __init__(self, in_features, out_features, bias=True, init=None,
                 dtype=np.float64, generator=None):
        super().__init__()
        self.in_features = size_arg(in_features, "in_features", "Linear")
        self.out_features = size_arg(out_features, "out_features", "Linear")
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None
        if init is None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            nn_init.uniform_(self.weight, -bound, bound, generator)
            if self.bias is not None:
                nn_init.uniform_(self.bias, -bound, bound, generator)
        else:
            _init_weight(self.weight, init, generator)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)   # a list or an array, as values
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(f"Linear: expected input with last axis {self.in_features}, "
                             f"got shape {x.shape}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


# --- BatchNorm1d ------------------------------------------------------------------

class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) inputs, as torch.nn.BatchNorm1d.

    Training: y = (x - mean_B) / sqrt(var_B + eps) * weight + bias with the batch's
    mean and *biased* variance per feature; the running statistics move toward
    the batch's mean and *unbiased* variance by `momentum` (momentum=None: a
    cumulative average). Evaluation: the running statistics replace the batch's.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float64):
        super().__init__()
        self.num_features = size_arg(num_features, "num_features", type(self).__name__, 1)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(self.num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(self.num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d: expected input of shape (N, {self.num_features}) "
                             f"or (N, {self.num_features}, L), got {x.shape}")
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and x.numel() // x.shape[1] < 2:
            raise ValueError(f"BatchNorm1d: training mode needs more than one value per "
                             f"feature to compute batch statistics, got input of shape "
                             f"{x.shape}; use a larger batch or call .eval()")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            # a Tensor op, not NumPy on ._data: the same sum, and tg.compile sees it (an
            # int64 buffer never requires grad, so the sum is off the graph: no detach())
            self.num_batches_tracked.data = self.num_batches_tracked + 1
            if momentum is None:   # cumulative moving average of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked._data)
        # Without tracked statistics the running tensors are None: batch statistics
        # are used in both modes and nothing is updated.
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


# --- LayerNorm and Embedding ------------------------------------------------------

class LayerNorm(Module):
    """Normalize over the trailing normalized_shape axes of each sample, as torch.nn.LayerNorm:
    y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance; weight starts at 1,
    bias at 0, both of shape normalized_shape)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=np.float64):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
            else tuple(normalized_shape)
        self.normalized_shape = tuple(size_arg(n, "normalized_shape", "LayerNorm") for n in shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if bias else None
        else:
            self.weight = self.bias = None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of weight (num_embeddings,
    embedding_dim), as torch.nn.Embedding; weight starts N(0, 1), its padding_idx row 0."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, dtype=np.float64,
                 generator=None):
        super().__init__()
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse "
                                      "are not supported")
        self.num_embeddings = size_arg(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = size_arg(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must lie in "
                                 f"[-{self.num_embeddings}, {self.num_embeddings}), got "
                                 f"{padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), dtype=dtype))
        nn_init.normal_(self.weight, generator=generator)
        if padding_idx is not None:
            with no_grad():
                self.weight[padding_idx] = 0.0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


# --- Dropout and activations ------------------------------------------------------

class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p, scale the rest by 1/(1-p)."""

    def __init__(self, p=0.5, generator=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self):
        return f"p={self.p}"


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return F.relu(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(Module):
    """x Phi(x), exactly (approximate='none') or by tanh (approximate='tanh')."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x sigmoid(x)."""

    def __init__(self, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "SiLU")

    def forward(self, x):
        return F.silu(x)


class Mish(Module):
    """x tanh(softplus(x))."""

    def __init__(self, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "Mish")

    def forward(self, x):
        return F.mish(x)


class ELU(Module):
    """x for x > 0, alpha (e^x - 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "ELU")
        self.alpha = alpha

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class SELU(Module):
    """scale * elu(x, alpha) with the self-normalising constants."""

    def __init__(self, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "SELU")

    def forward(self, x):
        return F.selu(x)


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, x itself where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "Hardtanh")
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val "
                             f"({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)


class Hardswish(Module):
    """x relu6(x + 3) / 6."""

    def __init__(self, inplace=False):
        super().__init__()
        F.no_inplace(inplace, "Hardswish")

    def forward(self, x):
        return F.hardswish(x)


class Softmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Identity(Module):
    def forward(self, x):
        return x


class Flatten(Module):
    """Merge axes start_dim..end_dim into one: (N, 8, 8) -> (N, 64) with the defaults."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis dim into unflattened_size: Unflatten(1, (2, 5)) maps (N, 10) to (N, 2, 5)
    (one size may be -1, inferred)."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        d = normalize_axis(self.dim, x.ndim, "Unflatten")
        sizes = self.unflattened_size
        known = math.prod(n for n in sizes if n != -1)
        if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[d]) or \
                (-1 in sizes and (known == 0 or x.shape[d] % known)):
            raise ValueError(f"Unflatten: sizes {sizes} don't multiply to axis {self.dim} "
                             f"of size {x.shape[d]} (input of shape {x.shape})")
        return x.reshape(x.shape[:d] + sizes + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# --- losses -----------------------------------------------------------------------
# PyTorch's signatures, so that keyword and positional calls mean the same; the
# arguments it has deprecated (size_average, reduce) or that we lack (weight, ...) raise.

def unsupported(who, **args):
    """Raise for arguments set away from the values we implement (None / False)."""
    for name, value in args.items():
        if value is not None and value is not False:
            raise NotImplementedError(f"{who}: {name} is not supported (got {value!r})")


class _Loss(Module):
    """Base of the loss modules, as PyTorch's torch.nn.modules.loss._Loss."""

    draw_collapsed = True   # a loss is one idea to a learner: draw_graph shows it as one node


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) and class labels (N,) or probabilities (N, C)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__()
        unsupported("CrossEntropyLoss", weight=weight, size_average=size_average, reduce=reduce,
                    ignore_index=None if ignore_index == -100 else ignore_index)
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of class labels, given log-probabilities (N, C)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__()
        unsupported("NLLLoss", weight=weight, size_average=size_average, reduce=reduce,
                    ignore_index=None if ignore_index == -100 else ignore_index)
        self.reduction = reduction

    def forward(self, input, target):
        return F.nll_loss(input, target, self.reduction)


class MSELoss(_Loss):
    """mean((input - target)^2)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        unsupported("MSELoss", size_average=size_average, reduce=reduce)
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """mean(|input - target|)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        unsupported("L1Loss", size_average=size_average, reduce=reduce)
        self.reduction = reduction

    def forward(self, input, target):
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear above."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__()
        unsupported("SmoothL1Loss", size_average=size_average, reduce=reduce)
        self.reduction, self.beta = reduction, beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class HuberLoss(_Loss):
    """Quadratic below delta, linear (slope delta) above."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__()
        self.reduction, self.delta = reduction, delta

    def forward(self, input, target):
        return F.huber_loss(input, target, self.reduction, self.delta)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1]."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        unsupported("BCELoss", weight=weight, size_average=size_average, reduce=reduce)
        self.reduction = reduction

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits (sigmoid folded in, stable for any logit)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__()
        unsupported("BCEWithLogitsLoss", weight=weight, size_average=size_average,
                    reduce=reduce, pos_weight=pos_weight)
        self.reduction = reduction

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.reduction)


class MultiMarginLoss(_Loss):
    """The multiclass SVM hinge loss."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__()
        unsupported("MultiMarginLoss", weight=weight, size_average=size_average, reduce=reduce)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        self.p, self.margin, self.reduction = p, margin, reduction

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, reduction=self.reduction)


# --- containers -------------------------------------------------------------------

class Sequential(Module):
    """Modules applied one after another. Sequential(a, b, c) names them "0", "1", "2";
    Sequential(OrderedDict([("fc1", a), ...])) keeps the given names."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def add_module(self, name, module):
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: {name!r} is a {type(module).__name__}, "
                            f"not a Module")
        super().add_module(name, module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]


class ModuleList(Module):
    """A list of Modules that registers them (a plain Python list would hide their parameters)."""

    def __init__(self, modules=()):
        super().__init__()
        self.extend(modules)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        values = list(self._modules.values())
        return ModuleList(values[index]) if isinstance(index, slice) else values[index]

    def forward(self, *args):
        raise NotImplementedError("ModuleList has no forward: iterate over it in your "
                                  "own forward()")


class ModuleDict(Module):
    """An ordered dict of Modules that registers them under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key, module):
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {key!r} is a {type(module).__name__}, not a Module")
        self.add_module(key, module)

    def __getitem__(self, key):
        return self._modules[key]

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in pairs:
            self[key] = module

    def forward(self, *args):
        raise NotImplementedError("ModuleDict has no forward: pick its modules in your own "
                                  "forward()")


class ParameterList(Module):
    """A list of Parameters that registers them as "0", "1", ... (a plain list would hide
    them from parameters(), so the optimizer would never update them)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    @staticmethod
    def as_parameter(value):
        # As PyTorch, a plain tensor or array becomes a Parameter (here: of a copy of it).
        return value if isinstance(value, Parameter) else Parameter(
            value._data if isinstance(value, Tensor) else value)

    def append(self, value):
        self.register_parameter(str(len(self._parameters)), self.as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        return list(self._parameters.values())[index]

    def __setitem__(self, index, param):
        self._parameters[str(range(len(self))[index])] = self.as_parameter(param)

    def forward(self, *args):
        raise NotImplementedError("ParameterList has no forward: use its parameters in your "
                                  "own forward()")


# --- MLP --------------------------------------------------------------------------

ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU,
               "identity": Identity}


class MLP(Sequential):
    """A multilayer perceptron: dims = [in, hidden_1, ..., hidden_k, out].

    Each hidden layer i is fc{i} (Linear) -> [bn{i} (BatchNorm1d)] -> {activation}{i}
    -> [dropout{i}], and the last layer fc{k+1} is a plain Linear producing
    scores (logits). MLP([2, 16, 3]) is fc1, relu1, fc2; its weights are
    "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias".
    """

    def __init__(self, dims, activation="relu", batchnorm=False, dropout=0.0, init=None,
                 dtype=np.float64, generator=None):
        dims = [int(d) for d in dims]
        if len(dims) < 2:
            raise ValueError(f"MLP: dims needs at least an input and an output size, got {dims}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; "
                             f"choose from {sorted(ACTIVATIONS)}")
        layers = OrderedDict()
        n_layers = len(dims) - 1
        for i in range(1, n_layers + 1):
            layers[f"fc{i}"] = Linear(dims[i - 1], dims[i], init=init, dtype=dtype,
                                      generator=generator)
            if i == n_layers:
                break
            if batchnorm:
                layers[f"bn{i}"] = BatchNorm1d(dims[i], dtype=dtype)
            layers[f"{activation}{i}"] = ACTIVATIONS[activation]()
            if dropout:
                layers[f"dropout{i}"] = Dropout(dropout, generator=generator)
        super().__init__(layers)
        self.dims = dims

