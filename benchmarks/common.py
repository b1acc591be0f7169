"""Shared helpers: interleaved timing, tracemalloc peaks, and the result table.

Machines are shared and noisy, so every comparison is made *inside one run*:
the engines of a workload take turns (interleaved repeats, the order rotated
each round) and we keep the median of each. Ratios are what to read; the
absolute times are context for this machine only.
"""
import gc
import statistics
import time
import tracemalloc


def seconds_per_call(fn, calls):
    """Wall time of `calls` back-to-back calls of fn, divided by `calls`."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved_medians(fns, calls, repeats, warmup=2):
    """{name: median seconds per call}, the engines taking turns `repeats` times.

    Rotating who goes first each round keeps a slow phase of the machine
    (another job, a frequency change) from landing on one engine only.
    """
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    samples = {name: [] for name in names}
    # The garbage collector stays on: the cycles it chases are part of what an
    # engine costs its users (graph nodes are Python objects in tinygrad_edu).
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            samples[name].append(seconds_per_call(fns[name], calls))
    return {name: statistics.median(s) for name, s in samples.items()}


def peak_traced_bytes(fn):
    """Peak bytes allocated (and visible to tracemalloc) while fn() runs, above the start.

    NumPy reports its array buffers to tracemalloc, so this covers tinygrad_edu
    and the NumPy reference; PyTorch's CPU allocator does not report to it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del result
    return peak


def retained_traced_bytes(fn):
    """Bytes fn() left allocated (traced) when it returned: what it keeps alive."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def page_faults_per_call(fn, calls=20):
    """Minor page faults per call of fn (fresh pages the kernel had to map in).

    Unlike time, this count hardly depends on what else the machine is doing,
    so it shows the allocator effect (see run.py --malloc-tuned) clearly.
    """
    import resource
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def close(a, b, rtol):
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-30)


def check_losses(workload, losses, rtol):
    """Raise unless every engine's losses match the first engine's (same weights, same data).

    `losses` is {engine: [loss after step 0, 1, ...]}: comparing a few steps
    checks the forward pass, the gradients and the optimizer update at once.
    """
    names = list(losses)
    ref = losses[names[0]]
    for name in names[1:]:
        for i, (a, b) in enumerate(zip(ref, losses[name])):
            if not close(a, b, rtol):
                raise AssertionError(
                    f"{workload}: loss {i} differs between {names[0]} ({a!r}) and {name} "
                    f"({b!r}); the engines are not computing the same thing")


class Table:
    """Rows of (workload, measure, engine, value, unit, vs NumPy, vs torch, target)."""

    header = ("workload", "measure", "engine", "value", "vs numpy", "vs torch", "target")

    def __init__(self):
        self.rows = []

    def add(self, workload, measure, engine, value, unit, vs_numpy=None, vs_torch=None,
            target=""):
        self.rows.append((workload, measure, engine, format_value(value, unit),
                          ratio(vs_numpy), ratio(vs_torch), target))

    def render(self):
        rows = [self.header] + self.rows
        widths = [max(len(str(r[i])) for r in rows) for i in range(len(self.header))]
        lines = []
        for k, row in enumerate(rows):
            cells = [str(c).ljust(w) if i < 3 else str(c).rjust(w) if i < 6 else str(c)
                     for i, (c, w) in enumerate(zip(row, widths))]
            lines.append("  ".join(cells).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def ratio(x):
    return "" if x is None else f"{x:.2f}x"


def format_value(value, unit):
    if value is None:
        return "n/a"
    if unit == "s":
        if value < 1e-3:
            return f"{value * 1e6:.1f} us"
        if value < 1:
            return f"{value * 1e3:.2f} ms"
        return f"{value:.2f} s"
    if unit == "us":
        return f"{value:.2f} us"
    if unit == "B":
        if value < 10 * 1024:
            return f"{value:.0f} B"
        if value < 10 * 1024 ** 2:
            return f"{value / 1024:.1f} KiB"
        return f"{value / 1024 ** 2:.1f} MiB"
    return f"{value:.3g} {unit}".rstrip()


def verdict(value, limit):
    """'ok' / 'MISS' for a ratio against its target (`value <= limit`)."""
    if value is None:
        return "n/a"
    return "ok" if value <= limit else "MISS"
