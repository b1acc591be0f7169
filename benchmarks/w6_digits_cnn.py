"""W6, the digits CNN of examples/digits_cnn.py: one training step, batch 64, float32.

(N, 1, 8, 8) -> Conv2d(1, 16, 3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
-> Conv2d(16, 32, 3, padding=1) -> BatchNorm2d -> ReLU -> MaxPool2d(2) -> Flatten
-> Linear(128, 10), cross-entropy, Adam(lr=1e-3), random images. The convolutions
and pools go through the Unfold/Fold primitives (im2col and its adjoint), so this is
what measures them. There is no hand-written NumPy floor here: a hand-derived conv
backward is a project of its own, and torch eager is the reference.
"""
import numpy as np

from benchmarks.engines import torch

CHANNELS = (16, 32)


def layers(nn, channels=CHANNELS, **dtype):
    """The architecture, written once for both engines (their nn has the same names)."""
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False, **dtype), nn.BatchNorm2d(c1, **dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False, **dtype), nn.BatchNorm2d(c2, **dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 2 * 2, 10, **dtype))


def make_data(batch=64, seed=0):
    """Random images in [0, 1) and labels 0..9, float32 (the digits' pixels are in [0, 1])."""
    rng = np.random.default_rng(seed)
    X = rng.random((batch, 1, 8, 8), dtype=np.float32)
    y = rng.integers(0, 10, size=batch)
    return X, y


def make_weights(channels=CHANNELS, seed=1):
    """One set of initial weights for every engine: tinygrad_edu's PyTorch-style init."""
    import tinygrad_edu as tg
    from tinygrad_edu import nn
    tg.manual_seed(seed)
    return {k: np.array(v) for k, v in
            layers(nn, channels, dtype=np.float32).state_dict().items()}


def training_step(model, opt, cross_entropy, X, y):
    """step() -> loss: zero_grad, forward, loss, backward, Adam step (either engine)."""
    def step():
        opt.zero_grad()
        loss = cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss
    return step


def tinygrad_step(X, y, weights, channels=CHANNELS, lr=1e-3):
    import tinygrad_edu as tg
    from tinygrad_edu import nn, optim
    model = layers(nn, channels, dtype=np.float32)
    model.load_state_dict(weights)
    model.train()
    return training_step(model, optim.Adam(model.parameters(), lr=lr),
                         tg.functional.cross_entropy, tg.tensor(X), y)


def torch_step(X, y, weights, channels=CHANNELS, lr=1e-3):
    model = layers(torch.nn, channels, dtype=torch.float32)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    model.train()
    return training_step(model, torch.optim.Adam(model.parameters(), lr=lr),
                         torch.nn.functional.cross_entropy, torch.from_numpy(X),
                         torch.from_numpy(y))


def compiled_step(X, y, weights, channels=CHANNELS, lr=1e-3):
    """tinygrad_step through tg.compile: calls 1 and 2 run eagerly and trace, then the program."""
    import tinygrad_edu as tg
    return tg.compile(tinygrad_step(X, y, weights, channels, lr))


BUILDERS = {"tinygrad_edu": tinygrad_step, "tinygrad_edu compiled": compiled_step,
            "torch": torch_step}


def make_steps(engines, batch=64, channels=CHANNELS, seed=0):
    """{engine: step()} for the same batch and the same initial weights."""
    X, y = make_data(batch, seed)
    weights = make_weights(channels, seed + 1)
    return {name: BUILDERS[name](X, y, weights, channels) for name in engines}
