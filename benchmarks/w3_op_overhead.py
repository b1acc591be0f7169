"""W3, per-op overhead: a 500-op elementwise chain on a (16, 16) float64 tensor.

The chain repeats `x = x * 1.001; x = x + 0.001; x = tanh(x)` (the same
sequence for every engine), then backpropagates sum(x). At 256 elements the
arithmetic is nearly free, so time per op is the engine's bookkeeping:
creating a node, dispatching the op, and running its VJP. Reported in
microseconds per forward op (forward + backward time / number of ops).
"""
import numpy as np

from benchmarks import numpy_reference
from benchmarks.engines import torch

SCALE, SHIFT = 1.001, 0.001
PATTERN = ("mul", "add", "tanh")


def chain_ops(n_ops):
    return [PATTERN[i % len(PATTERN)] for i in range(n_ops)]


def make_input(shape=(16, 16), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def run_chain(h, ops):
    """The chain on a tinygrad_edu or torch tensor (both have * + and .tanh())."""
    for op in ops:
        if op == "mul":
            h = h * SCALE
        elif op == "add":
            h = h + SHIFT
        else:
            h = h.tanh()
    return h


def chain_step(x, ops):
    """step() -> (sum of the output, x.grad): forward + backward from leaf `x`
    (tinygrad_edu or torch), as tensors, so that tg.compile can trace it."""
    def step():
        out = run_chain(x, ops).sum()
        out.backward()
        return out, x.grad
    return step


def autograd_chain(x, step):
    """run() -> (sum of the output, gradient wrt the input) as NumPy, x.grad cleared first
    (outside `step`: a compiled step checks on entry that .grad is None, as traced)."""
    def run():
        x.grad = None
        out, grad = step()
        return out.item(), np.asarray(grad)
    return run


def tinygrad_chain(x0, ops):
    import tinygrad_edu as tg
    x = tg.tensor(x0, requires_grad=True)
    return autograd_chain(x, chain_step(x, ops))


def compiled_chain(x0, ops):
    """tinygrad_chain's step through tg.compile (its first two calls trace)."""
    import tinygrad_edu as tg
    x = tg.tensor(x0, requires_grad=True)
    step = tg.compile(chain_step(x, ops))
    run = autograd_chain(x, step)
    run.compiled = step
    return run


def torch_chain(x0, ops):
    x = torch.tensor(x0, requires_grad=True)
    return autograd_chain(x, chain_step(x, ops))


def numpy_forward(x0, ops):
    def run():
        return numpy_reference.chain_forward(x0, ops, SCALE, SHIFT).sum(), None
    return run


def numpy_forward_backward(x0, ops):
    def run():
        out, grad = numpy_reference.chain_forward_backward(x0, ops, SCALE, SHIFT)
        return out.sum(), grad
    return run


BUILDERS = {"tinygrad_edu": tinygrad_chain, "tinygrad_edu compiled": compiled_chain,
            "numpy fwd": numpy_forward,
            "numpy fwd+bwd": numpy_forward_backward, "torch": torch_chain}


def make_runs(engines, n_ops=500, shape=(16, 16)):
    """{engine: run()} for the same input and op sequence; run() -> (output sum, grad)."""
    x0, ops = make_input(shape), chain_ops(n_ops)
    return {name: BUILDERS[name](x0, ops) for name in engines}


def check(runs):
    """Raise unless all engines agree on the output and (where computed) on the gradient."""
    results = {name: run() for name, run in runs.items()}
    ref_name = next(iter(results))
    ref_out, ref_grad = results[ref_name]
    for name, (out, grad) in results.items():
        if not np.isclose(out, ref_out, rtol=1e-10):
            raise AssertionError(f"W3: output {out!r} of {name} differs from {ref_out!r} of {ref_name}")
        if grad is not None and ref_grad is not None and not np.allclose(grad, ref_grad, rtol=1e-9):
            raise AssertionError(f"W3: the gradient of {name} differs from {ref_name}'s")
    return results
