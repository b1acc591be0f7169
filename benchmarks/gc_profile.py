"""What Python's cyclic garbage collector costs a tinygrad_edu step:
`python benchmarks/gc_profile.py` (torch imported too, as in a notebook).

For a W1 training step and W5's chains it prints
  - the GC-tracked objects each graph node leaves alive (the net count CPython's
    generation-0 counter sees: allocations minus deallocations of tracked objects);
  - how many collections of each generation ran and their share of the time
    (gc.callbacks time each one).
It measures; it changes nothing in the library (it pauses the collector only
around its own allocation counts).
"""
import gc
import os
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import w5_deep_chain  # noqa: E402
from benchmarks.engines import torch  # noqa: E402,F401  (imported: its objects are walked too)
from benchmarks.profile_steps import mlp_parts, graph_nodes  # noqa: E402


class Collections:
    """gc.callbacks that count and time collections per generation."""

    def __init__(self):
        self.count, self.seconds, self._start = [0, 0, 0], 0.0, None

    def __call__(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.count[info["generation"]] += 1

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)
        return False


def tracked_per_node(build):
    """(net GC-tracked objects left alive by build(), the graph's node count)."""
    gc.collect()
    gc.disable()
    try:
        before = gc.get_count()[0]
        root = build()
        after = gc.get_count()[0]
    finally:
        gc.enable()
    return after - before, len(graph_nodes(root))


def w1(steps):
    forward, opt = mlp_parts("w1")
    for _ in range(20):   # warm up (Adam's state, caches)
        opt.zero_grad()
        forward().backward()
        opt.step()
    live, nodes = tracked_per_node(forward)
    print(f"W1: forward graph of {nodes} nodes leaves {live} tracked objects alive "
          f"({live / nodes:.2f} per node)")
    times = []
    with Collections() as c:
        start = time.perf_counter()
        for _ in range(steps):
            t0 = time.perf_counter()
            opt.zero_grad()
            forward().backward()
            opt.step()
            times.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
    print(f"W1: {steps} steps, median {statistics.median(times) * 1e3:.3f} ms/step; "
          f"collections gen0/1/2 = {c.count[0]}/{c.count[1]}/{c.count[2]} "
          f"({sum(c.count) / steps:.2f} per step), {c.seconds / total:.1%} of the time")


def w5(n_ops):
    live, nodes = tracked_per_node(lambda: w5_deep_chain.forward_tinygrad(n_ops)[1])
    print(f"W5 {n_ops:,}: the chain leaves {live} tracked objects alive "
          f"({live / nodes:.2f} per node)")
    gc.collect()
    with Collections() as c:
        f, b, _ = w5_deep_chain.time_once("tinygrad_edu", n_ops)
    print(f"W5 {n_ops:,}: forward {f * 1e3:.1f} ms + backward {b * 1e3:.1f} ms; collections "
          f"gen0/1/2 = {c.count[0]}/{c.count[1]}/{c.count[2]}, {c.seconds * 1e3:.1f} ms "
          f"({c.seconds / (f + b):.1%} of the time)")


if __name__ == "__main__":
    w1(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
    w5(10_000)
    w5(100_000)
