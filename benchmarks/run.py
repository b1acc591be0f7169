"""Run every benchmark and print one table: `python benchmarks/run.py`.

    --threads N      BLAS/OpenMP/torch threads for ALL engines (default 1)
    --quick          fewer repeats and no 100k chain (about 35 s)
    --malloc-tuned   re-run this script with glibc's malloc trim/mmap thresholds raised,
                     for all engines alike (see MALLOC_TUNED), and say so in the header
    --only w1 w3 ... run some workloads only (w1 w2 w2b w3 w5 w6 w7)

Engines: tinygrad_edu, "tinygrad_edu compiled" (the same step through tg.compile,
checked to replay its program), a hand-written NumPy reference
(benchmarks/numpy_reference.py, the floor) and PyTorch eager (when installed), on the
same data and weights. Each workload first checks that the engines compute the same
losses, then times them in interleaved repeats and reports medians; its "trace" row is
what the compiled engine's first two calls cost on a fresh step, against an eager step.
Read the ratios; absolute times are for this machine only.
"""
import argparse
import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc returns freed memory at the top of the heap to the OS once more than
# 128 KiB is free (trim threshold), and serves blocks over 128 KiB with fresh
# mmaps: model-sized temporaries then page-fault again on every op. Raising
# both thresholds keeps that memory in the process. The library never does
# this on its own; this flag does it for every engine equally, in a new process
# (glibc reads these variables at startup).
WORKLOADS = ("w1", "w2", "w2b", "w3", "w5", "w6", "w7")   # suite.WORKLOADS' keys, in order
MALLOC_TUNED = {"MALLOC_TRIM_THRESHOLD_": str(256 * 2 ** 20),
                "MALLOC_MMAP_THRESHOLD_": str(32 * 2 ** 20)}   # 32 MiB: glibc's maximum


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--malloc-tuned", action="store_true")
    p.add_argument("--only", nargs="+", choices=tuple(WORKLOADS), default=tuple(WORKLOADS))
    return p.parse_args(argv)


def malloc_mode():
    set_here = {k: os.environ[k] for k in MALLOC_TUNED if k in os.environ}
    if not set_here:
        return "glibc defaults"
    return "tuned: " + " ".join(f"{k}={v}" for k, v in set_here.items())


def main(argv=None):
    args = parse_args(argv)
    if args.malloc_tuned and any(os.environ.get(k) != v for k, v in MALLOC_TUNED.items()):
        env = {**os.environ, **MALLOC_TUNED}
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)
    # before NumPy or torch is imported: the thread pools read these once
    for var in THREAD_VARS:
        os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import suite
    suite.run_all(args, malloc_mode())


if __name__ == "__main__":
    main()
