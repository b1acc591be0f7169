"""Which engines are available, and the tiny bits of glue each one needs."""
import numpy as np

try:
    import torch
except ImportError:   # the benchmarks still run, without the PyTorch column
    torch = None


def available(names):
    """`names` without "torch" when PyTorch is not installed."""
    return [n for n in names if n != "torch" or torch is not None]


def to_float(loss):
    """A loss from any engine (float, tinygrad_edu Tensor, torch tensor) as a Python float."""
    if isinstance(loss, float):
        return loss
    return float(loss.item())


def torch_dtype(dtype):
    return {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[np.dtype(dtype)]


def copy_mlp_weights(modules, weights, bn=None):
    """Load (W, b) pairs and BatchNorm (gamma, beta) pairs into a model's layers in order.

    `modules` is the model's modules() in definition order (the same walk for
    tinygrad_edu and torch); Linear layers take `weights`, BatchNorm1d layers `bn`.
    """
    weights, bn = list(weights), list(bn or [])
    for m in modules:
        kind = type(m).__name__
        if kind == "Linear":
            W, b = weights.pop(0)
            assign(m.weight, W)
            assign(m.bias, b)
        elif kind == "BatchNorm1d":
            g, b = bn.pop(0)
            assign(m.weight, g)
            assign(m.bias, b)
    if weights or bn:
        raise ValueError(f"copy_mlp_weights: {len(weights)} Linear and {len(bn)} BatchNorm1d "
                         f"weight sets were not used: the model has fewer layers")


def assign(param, array):
    if torch is not None and isinstance(param, torch.Tensor):
        with torch.no_grad():
            param.copy_(torch.from_numpy(array))
    else:
        if param.shape != array.shape:
            raise ValueError(f"assign: shape {array.shape} for a parameter of shape {param.shape}")
        param.data = array.copy()


def compiled_of(step):
    """The tg.compile object behind a compiled engine's step (the step itself, or the
    `.compiled` a wrapper carries)."""
    return getattr(step, "compiled", step)


def assert_replays(workload, steps):
    """Raise unless every "compiled" engine in {engine: step} replays a program: a
    tg.compile that fell back to eager would time the eager engine under another name.
    Call it after the engines' first calls (the two traced ones)."""
    for name, step in steps.items():
        if "compiled" not in name:
            continue
        kinds = [e if isinstance(e, str) else type(e).__name__
                 for e in compiled_of(step).cache.values()]
        if "Program" not in kinds:
            raise AssertionError(f"{workload}: {name} does not replay a program (cache: "
                                 f"{kinds}); tg.compile fell back to eager, see its "
                                 f"RuntimeWarning")
