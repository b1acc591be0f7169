"""W2, an MNIST-sized MLP: 784-256-256-10 with ReLU, batch 128, float32, random data.

Cross-entropy and Adam(lr=1e-3) as in W1, but no BatchNorm and much larger
matrices: here the matrix products dominate, so the engines should all come
close to the NumPy floor, and what is left to measure is the extra copying
and temporaries (hence the peak-memory comparison).
"""
import numpy as np

from benchmarks.w1_deep_batchnorm_mlp import BUILDERS

DIMS = (784, 256, 256, 10)


def make_data(batch=128, features=784, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((batch, features)).astype(np.float32)
    y = rng.integers(0, classes, size=batch)
    return X, y


def make_weights(dims, seed=1):
    """PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), in float32."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = 1 / np.sqrt(fan_in)
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                        rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return weights


def make_steps(engines, batch=128, dims=DIMS, seed=0):
    """{engine: step()} for the same batch and the same initial weights."""
    X, y = make_data(batch, dims[0], dims[-1], seed)
    weights = make_weights(dims, seed + 1)
    return {name: BUILDERS[name](X, y, weights, None, dims=dims) for name in engines}
