"""W1, a deep BatchNorm MLP: 2-16-16-8-8-3, full batch of 960, float64.

The model of examples/deep_batchnorm_mlp.py. Each hidden layer is Linear ->
BatchNorm1d (train mode) -> ReLU; the loss is softmax cross-entropy; the
optimizer Adam(lr=1e-3). One step = zero_grad, forward, loss, backward, step.
The model is tiny, so this measures how much each engine spends *around* the
arithmetic: per-op overhead dominates.
"""
import numpy as np

from benchmarks import numpy_reference
from benchmarks.engines import torch, copy_mlp_weights, torch_dtype

DIMS = (2, 16, 16, 8, 8, 3)


def make_data(n=960, seed=0, dtype=np.float64):
    """Three Gaussian blobs in 2-D with integer labels 0..2."""
    rng = np.random.default_rng(seed)
    centers = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, size=n)
    X = centers[y] + rng.standard_normal((n, 2))
    return X.astype(dtype), y


def make_weights(dims, seed=1, dtype=np.float64, batchnorm=True):
    """He-initialized (W, b) per layer, and (gamma, beta) per hidden layer if batchnorm."""
    rng = np.random.default_rng(seed)
    weights = [((rng.standard_normal((o, i)) * np.sqrt(2 / i)).astype(dtype),
                (rng.standard_normal(o) * 0.1).astype(dtype)) for i, o in zip(dims[:-1], dims[1:])]
    bn = None
    if batchnorm:
        bn = [((1 + 0.1 * rng.standard_normal(o)).astype(dtype),
               (0.1 * rng.standard_normal(o)).astype(dtype)) for o in dims[1:-1]]
    return weights, bn


def numpy_step(X, y, weights, bn, lr=1e-3, dims=DIMS):
    model = numpy_reference.MLP(weights, bn, lr=lr)
    return lambda: model.step(X, y)


def tinygrad_step(X, y, weights, bn, lr=1e-3, dims=DIMS):
    import tinygrad_edu as tg
    from tinygrad_edu import nn, optim
    F = tg.functional
    model = nn.MLP(list(dims), activation="relu", batchnorm=bn is not None)
    copy_mlp_weights(model.modules(), weights, bn)
    model.train()
    opt = optim.Adam(model.parameters(), lr=lr)
    Xt, yt = tg.tensor(X), y   # integer class labels as a NumPy array

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def torch_step(X, y, weights, bn, lr=1e-3, dims=DIMS):
    tnn = torch.nn
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(tnn.Linear(fan_in, fan_out))
        if i < len(dims) - 2:
            if bn is not None:
                layers.append(tnn.BatchNorm1d(fan_out))
            layers.append(tnn.ReLU())
    model = tnn.Sequential(*layers).to(torch_dtype(X.dtype))
    copy_mlp_weights(model.modules(), weights, bn)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(Xt), yt)
        loss.backward()
        opt.step()
        return loss
    return step


def compiled_step(X, y, weights, bn, lr=1e-3, dims=DIMS):
    """tinygrad_step through tg.compile: calls 1 and 2 run eagerly and trace, then the program."""
    import tinygrad_edu as tg
    return tg.compile(tinygrad_step(X, y, weights, bn, lr, dims))


BUILDERS = {"tinygrad_edu": tinygrad_step, "tinygrad_edu compiled": compiled_step,
            "numpy": numpy_step, "torch": torch_step}


def make_steps(engines, n=960, dims=DIMS, seed=0):
    """{engine: step()} for the same data and the same initial weights."""
    X, y = make_data(n, seed)
    weights, bn = make_weights(dims, seed + 1)
    return {name: BUILDERS[name](X, y, weights, bn, dims=dims) for name in engines}
