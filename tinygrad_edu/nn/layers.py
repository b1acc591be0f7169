"""Layers: Linear, BatchNorm1d, Dropout, activations, containers, and MLP.

Each layer's forward is a call into tinygrad_edu.functional (compositions of
Tensor operations): no layer knows its own gradient.
"""
import math
import numbers
from collections import OrderedDict

import numpy as np

from . import functional as F
from ..tensor import Tensor
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
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:   # cumulative moving average of all batches so far
                momentum = 1.0 / int(self.num_batches_tracked.data)
        # Without tracked statistics the running tensors are None: batch statistics
        # are used in both modes and nothing is updated.
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


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
