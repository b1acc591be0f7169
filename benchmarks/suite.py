"""The workloads, measured and put in one table (run.py sets up threads and malloc first)."""
import os
import platform
import statistics

import numpy as np

from benchmarks import common, w1_deep_batchnorm_mlp, w2_mnist_mlp, w3_op_overhead, w5_deep_chain
from benchmarks import w6_digits_cnn, w7_char_gpt
from benchmarks.common import Table, interleaved_medians, peak_traced_bytes, seconds_per_call
from benchmarks.common import verdict
from benchmarks.engines import assert_replays, available, to_float, torch

ENGINES = ("tinygrad_edu", "tinygrad_edu compiled", "numpy", "torch")


def header(args, malloc):
    lines = [f"python {platform.python_version()}  numpy {np.__version__}"
             f"  torch {torch.__version__ if torch else 'not installed'}",
             f"cpu: {cpu_model()}, {os.cpu_count()} logical cores",
             f"threads: {args.threads} for every engine ({blas_threads()}"
             f"{', torch %d' % torch.get_num_threads() if torch else ''})",
             f"malloc: {malloc}",
             "times: median of interleaved repeats; ratios = tinygrad_edu (or row) time / other"]
    return "\n".join(lines)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS threads: see OPENBLAS_NUM_THREADS"
    pools = [f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()]
    return ", ".join(pools) or "no BLAS pool found"


def first_losses(steps, n=3):
    """Each engine's loss over its first n steps (same weights: they must agree)."""
    return {name: [to_float(step()) for _ in range(n)] for name, step in steps.items()}


def add_step_rows(table, workload, times, target_fn=None, compiled_target=None):
    """One row per engine: seconds per step and its ratio to NumPy and to torch."""
    for name, t in times.items():
        vs_np = t / times["numpy"] if name != "numpy" and "numpy" in times else None
        vs_torch = t / times["torch"] if name != "torch" and "torch" in times else None
        target = target_fn(vs_np, vs_torch) if name == "tinygrad_edu" and target_fn else ""
        if name == "tinygrad_edu compiled" and "tinygrad_edu" in times:
            target = f"{t / times['tinygrad_edu']:.2f}x eager"
            if compiled_target:   # issue 13's targets for the compiled step
                target += ", " + compiled_target(vs_np, vs_torch)
        table.add(workload, "time/step", name, t, "s", vs_np, vs_torch, target)


def fresh_compiled(make_steps, **sizes):
    """build() for first_two_calls: a new compiled step of a workload (new model, new
    optimizer state, nothing traced yet)."""
    return lambda: make_steps(["tinygrad_edu compiled"], **sizes)["tinygrad_edu compiled"]


def first_two_calls(build, repeats):
    """(first, second) call seconds of a fresh compiled step from build(), medians over
    `repeats` fresh steps: the eager call tg.compile records, then the second recorded
    call that checks the first and turns it into the program."""
    firsts, seconds = [], []
    for _ in range(repeats):
        step = build()
        firsts.append(seconds_per_call(step, 1))
        seconds.append(seconds_per_call(step, 1))
        assert_replays("trace cost", {"tinygrad_edu compiled": step})
    return statistics.median(firsts), statistics.median(seconds)


def add_trace_row(table, workload, first, second, eager):
    """What compiling costs once. Issue 13's target: the tracing call at most 10x an eager
    step; tg.compile traces the first two calls (the second checks the first), so each
    of the two is held to it."""
    worst = max(first, second) / eager
    table.add(workload, "trace: 1st, 2nd call", "tinygrad_edu compiled", first, "s",
              target=f"1st {first / eager:.1f}x, 2nd {second / eager:.1f}x eager step, each "
                     f"<=10x {verdict(worst, 10)}")


def add_fault_rows(table, workload, steps):
    """Minor page faults per step: what --malloc-tuned changes (see run.py)."""
    faults = {name: common.page_faults_per_call(step) for name, step in steps.items()}
    for name, f in faults.items():
        table.add(workload, "page faults/step", name, f, "")


def time_steps(table, label, name, steps, make_steps, quick, rtol, target_fn=None,
               compiled_target=None, calls=10, repeats=(5, 25), **sizes):
    """Check that the engines agree, time them side by side, and add their time rows, the
    compiled step's trace row and the page-fault rows; returns the times."""
    common.check_losses(label, first_losses(steps), rtol=rtol)
    assert_replays(label, steps)
    times = interleaved_medians(steps, calls=calls, repeats=repeats[0] if quick else repeats[1])
    add_step_rows(table, name, times, target_fn, compiled_target)
    if "tinygrad_edu compiled" in steps:
        build = fresh_compiled(make_steps, **sizes)
        add_trace_row(table, name, *first_two_calls(build, 1 if quick else 3),
                      times["tinygrad_edu"])
    add_fault_rows(table, name, steps)
    return times


def run_w1(table, quick):
    steps = w1_deep_batchnorm_mlp.make_steps(available(ENGINES))
    time_steps(table, "W1", "W1 deep BN MLP 960x(2-16-16-8-8-3) f64", steps,
               w1_deep_batchnorm_mlp.make_steps, quick, rtol=1e-9,
               target_fn=lambda n, t: f"<=0.8x torch {verdict(t, 0.8)}, "
                                      f"<=1.0x numpy {verdict(n, 1.0)}",
               compiled_target=lambda n, t: f"<=0.5x torch {verdict(t, 0.5)}, "
                                            f"<=0.5x numpy {verdict(n, 0.5)}")


def run_w2(table, quick):
    steps = w2_mnist_mlp.make_steps(available(ENGINES))
    name = "W2 MLP 128x(784-256-256-10) f32"
    time_steps(table, "W2", name, steps, w2_mnist_mlp.make_steps, quick, rtol=2e-5,   # float32
               target_fn=lambda n, t: f"<=1.0x torch {verdict(t, 1.0)}, "
                                      f"<=1.1x numpy {verdict(n, 1.1)}",
               compiled_target=lambda n, t: f"<=0.9x torch {verdict(t, 0.9)}, "
                                            f"<=1.0x numpy {verdict(n, 1.0)}")
    ours, floor = peak_traced_bytes(steps["tinygrad_edu"]), peak_traced_bytes(steps["numpy"])
    table.add(name, "peak mem/step", "tinygrad_edu", ours, "B", ours / floor, None,
              f"<=1.3x numpy {verdict(ours / floor, 1.3)}")
    if "tinygrad_edu compiled" in steps:
        steps["tinygrad_edu compiled"]()   # past the two traced calls: the program's peak
        compiled = peak_traced_bytes(steps["tinygrad_edu compiled"])
        table.add(name, "peak mem/step", "tinygrad_edu compiled", compiled, "B",
                  compiled / floor, None, f"<=1.0x numpy {verdict(compiled / floor, 1.0)}")
    table.add(name, "peak mem/step", "numpy", floor, "B")
    if "torch" in steps:
        table.add(name, "peak mem/step", "torch", None, "B",
                  target="(not visible to tracemalloc)")


def run_w2b(table, quick, batches=(512, 4096), dims=w2_mnist_mlp.DIMS):
    """W2's network at batch sizes where the matrix products dominate (compute-bound)."""
    for batch in batches:
        steps = w2_mnist_mlp.make_steps(available(ENGINES), batch=batch, dims=dims)
        calls, repeats = (5, (5, 15)) if batch <= 512 else (2, (3, 9))
        name = f"W2b MLP {batch}x({'-'.join(map(str, dims))}) f32"
        time_steps(table, f"W2b batch {batch}", name, steps, w2_mnist_mlp.make_steps, quick,
                   rtol=2e-5,   # float32
                   compiled_target=lambda n, t: f"<=1.0x torch {verdict(t, 1.0)}",
                   calls=calls, repeats=repeats, batch=batch, dims=dims)


def run_w3(table, quick, n_ops=500):
    engines = ["tinygrad_edu", "tinygrad_edu compiled", "numpy fwd", "numpy fwd+bwd"]
    runs = w3_op_overhead.make_runs(engines + available(["torch"]), n_ops)
    w3_op_overhead.check(runs)   # the compiled engine's first (traced) call
    w3_op_overhead.check(runs)   # its second: the program is made, then replayed below
    assert_replays("W3", runs)
    times = interleaved_medians(runs, calls=5, repeats=5 if quick else 25)
    name = f"W3 {n_ops}-op chain (16,16) f64"
    floor, theirs = times["numpy fwd+bwd"], times.get("torch")
    for engine, t in times.items():
        per_op = t / n_ops * 1e6
        target = ""
        if engine == "tinygrad_edu":
            target = f"<=5 us/op {verdict(per_op, 5)}"
            if theirs:
                target += f", < torch {verdict(t / theirs, 0.999)}"
        if engine == "tinygrad_edu compiled":
            target = f"{t / times['tinygrad_edu']:.2f}x eager"
        measure = "us/op fwd only" if engine == "numpy fwd" else "us/op fwd+bwd"
        table.add(name, measure, engine, per_op, "us",
                  t / floor if engine != "numpy fwd+bwd" else None,
                  t / theirs if theirs and engine != "torch" else None, target)
    build = fresh_compiled(w3_op_overhead.make_runs, n_ops=n_ops)
    add_trace_row(table, name, *first_two_calls(build, 1 if quick else 3), times["tinygrad_edu"])


def run_w5(table, quick):
    engines = available(["tinygrad_edu", "torch"])
    sizes = (10_000,) if quick else (10_000, 100_000)
    for n_ops in sizes:
        name = f"W5 {n_ops:,}-op scalar chain"
        try:
            w5_deep_chain.check(engines, n_ops)
        except RecursionError as e:   # reported, not fatal: that is what W5 is about
            table.add(name, "backward", "?", None, "s", target=f"RecursionError: {e}")
            continue
        # one compiled chain, traced here (its two recorded calls), then replayed below
        compiled = w5_deep_chain.compiled_chain(n_ops)
        trace = (seconds_per_call(compiled, 1), seconds_per_call(compiled, 1))
        assert_replays(name, {"tinygrad_edu compiled": compiled})
        if not np.isclose(compiled(), w5_deep_chain.expected_grad(n_ops), rtol=1e-9):
            raise AssertionError(f"W5: the compiled chain's d out/dx differs from "
                                 f"{w5_deep_chain.expected_grad(n_ops)!r}")
        # "tinygrad_edu, gc off": the same engine with Python's collector paused, to
        # show how much of its time the collector takes on a graph this large
        runs = {e: (e, True) for e in engines}
        runs["tinygrad_edu, gc off"] = ("tinygrad_edu", False)
        names = list(runs) + ["tinygrad_edu compiled"]
        samples = {e: ([], [], []) for e in names}   # forward, backward, both
        for r in range(3 if quick else 5 if n_ops > 10_000 else 9):
            for key in names[r % len(names):] + names[:r % len(names)]:
                if key == "tinygrad_edu compiled":   # one program: no forward/backward split
                    samples[key][2].append(seconds_per_call(compiled, 1))
                    continue
                fwd, bwd, _ = w5_deep_chain.time_once(runs[key][0], n_ops, collect=runs[key][1])
                for i, t in enumerate((fwd, bwd, fwd + bwd)):
                    samples[key][i].append(t)
        med = {e: [statistics.median(s) if s else None for s in three]
               for e, three in samples.items()}
        for i, measure in enumerate(("forward", "backward", "fwd+bwd")):
            for engine in names:
                t = med[engine][i]
                if t is None:
                    continue
                vs_torch = t / med["torch"][i] if engine != "torch" and "torch" in med else None
                target = ""
                if engine == "tinygrad_edu" and measure == "backward" and n_ops >= 100_000:
                    target = f"<=1.0x torch {verdict(vs_torch, 1.0)}"
                if engine == "tinygrad_edu compiled":
                    target = f"{t / med['tinygrad_edu'][2]:.2f}x eager"
                table.add(name, measure, engine, t, "s", None, vs_torch, target)
        add_trace_row(table, name, *trace, med["tinygrad_edu"][2])
        held, peak = w5_deep_chain.tinygrad_memory(n_ops)
        table.add(name, "graph bytes/node", "tinygrad_edu", held, "B")
        table.add(name, "peak bytes/node", "tinygrad_edu", peak, "B",
                  target=f"< 2 KB {verdict(peak, 2047)}")


def run_against_torch(table, quick, label, name, steps, rtol, calls, repeats, target,
                      make_steps):
    """A workload timed against PyTorch only (no NumPy floor): W6 and W7. The compiled
    step's target is issue 13's <=1.0x torch."""
    time_steps(table, label, name, steps, make_steps, quick, rtol,   # float32
               target_fn=lambda n, t: f"<={target}x torch {verdict(t, target)}",
               compiled_target=lambda n, t: f"<=1.0x torch {verdict(t, 1.0)}",
               calls=calls, repeats=repeats)
    table.add(name, "peak mem/step", "tinygrad_edu", peak_traced_bytes(steps["tinygrad_edu"]), "B")
    if "tinygrad_edu compiled" in steps:
        table.add(name, "peak mem/step", "tinygrad_edu compiled",
                  peak_traced_bytes(steps["tinygrad_edu compiled"]), "B")
    if "torch" in steps:
        table.add(name, "peak mem/step", "torch", None, "B",
                  target="(not visible to tracemalloc)")


def run_w6(table, quick):
    steps = w6_digits_cnn.make_steps(available(["tinygrad_edu", "tinygrad_edu compiled", "torch"]))
    run_against_torch(table, quick, "W6", "W6 digits CNN 64x(1x8x8) f32", steps, rtol=2e-5,
                      calls=10, repeats=(5, 25), target=2.0, make_steps=w6_digits_cnn.make_steps)


def run_w7(table, quick):
    steps = w7_char_gpt.make_steps(available(["tinygrad_edu", "tinygrad_edu compiled", "torch"]))
    run_against_torch(table, quick, "W7", "W7 char GPT 16x32 (3x4 heads, 64) f32", steps,
                      rtol=1e-5, calls=5, repeats=(5, 15), target=1.3,
                      make_steps=w7_char_gpt.make_steps)


WORKLOADS = {"w1": run_w1, "w2": run_w2, "w2b": run_w2b, "w3": run_w3, "w5": run_w5,
             "w6": run_w6, "w7": run_w7}


def run_all(args, malloc):
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(header(args, malloc), flush=True)
    table = Table()
    for key in args.only:
        WORKLOADS[key](table, args.quick)
    print()
    print(table.render())
