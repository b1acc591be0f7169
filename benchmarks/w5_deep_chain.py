"""W5, a deep chain: 10,000 or 100,000 scalar ops, then backward.

`x = x * 1.0000001; x = x + 1e-7`, alternating, on a 0-d float64 tensor.
Measures forward and backward time separately, and the memory each graph
node costs (tracemalloc: the graph held after the forward pass, and the peak
over forward + backward, divided by the number of nodes). A recursive
topological sort would raise RecursionError here; tinygrad_edu's is iterative.
The compiled engine (compiled_chain) replays the whole chain as one NumPy program.
"""
import gc
import time

import numpy as np

from benchmarks.common import peak_traced_bytes, retained_traced_bytes
from benchmarks.engines import torch

SCALE, SHIFT = 1.0000001, 1e-7


def forward_tinygrad(n_ops):
    import tinygrad_edu as tg
    x = tg.tensor(1.0, requires_grad=True)
    h = x
    for i in range(n_ops):
        h = h * SCALE if i % 2 == 0 else h + SHIFT
    return x, h


def forward_torch(n_ops):
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    h = x
    for i in range(n_ops):
        h = h * SCALE if i % 2 == 0 else h + SHIFT
    return x, h


FORWARDS = {"tinygrad_edu": forward_tinygrad, "torch": forward_torch}


def compiled_chain(n_ops):
    """run() -> d out/dx: the chain and its backward as one tg.compile step.

    The program is one function, so its forward and backward are timed together. The
    leaf is made once, outside the step: one made inside would be a new tensor on every
    call, which tg.compile refuses. Tracing 100,000 ops takes about 10x an eager step and
    about 1.4 GB (two recorded calls and a 200,000-line program)."""
    import tinygrad_edu as tg
    x = tg.tensor(1.0, requires_grad=True)

    def chain():
        h = x
        for i in range(n_ops):
            h = h * SCALE if i % 2 == 0 else h + SHIFT
        h.backward()
        return x.grad

    step = tg.compile(chain)

    def run():
        x.grad = None   # outside the step: the program checks on entry that .grad is None
        return float(step().item())
    run.compiled = step
    return run


def expected_grad(n_ops):
    """d out / d x = SCALE ** (number of multiplications)."""
    return SCALE ** ((n_ops + 1) // 2)


def time_once(engine, n_ops, collect=True):
    """(forward seconds, backward seconds, gradient) for one fresh chain.

    collect=False pauses Python's garbage collector meanwhile: a graph kept
    alive is 100,000s of tracked objects, and the collections its growth
    triggers (each one walking the graph) can cost more than the ops.
    """
    paused = not collect and gc.isenabled()
    if paused:
        gc.disable()
    try:
        start = time.perf_counter()
        x, out = FORWARDS[engine](n_ops)
        mid = time.perf_counter()
        out.backward()
        end = time.perf_counter()
    finally:
        if paused:
            gc.enable()
    return mid - start, end - mid, float(x.grad.item())


def tinygrad_memory(n_ops):
    """(bytes per node held after the forward pass, peak bytes per node over fwd + bwd)."""
    holder = {}

    def forward():
        holder["graph"] = forward_tinygrad(n_ops)

    held = retained_traced_bytes(forward)

    def both():
        x, out = forward_tinygrad(n_ops)
        out.backward()
        return x
    peak = peak_traced_bytes(both)
    holder.clear()
    return held / n_ops, peak / n_ops


def check(engines, n_ops):
    for engine in engines:
        _, _, g = time_once(engine, n_ops)
        if not np.isclose(g, expected_grad(n_ops), rtol=1e-9):
            raise AssertionError(f"W5: {engine} gives d out/dx = {g!r}, expected "
                                 f"{expected_grad(n_ops)!r}")
