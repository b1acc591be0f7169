"""An explicit opt-in: keep freed memory in the process instead of handing it back.

A training step allocates and frees the same model-sized temporaries every
time. With glibc's default thresholds, freed blocks at the top of the heap
are returned to the operating system (trim threshold 128 KiB) and blocks over
128 KiB get their own mmap, so the same pages are mapped in again, page
fault by page fault, on every step. Raising both thresholds keeps the memory
around for reuse.

This changes the whole process's allocator, so it is a benchmarking aid and
not part of tinygrad_edu: call tune_malloc() yourself (the same as starting
Python with MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ set), from the
repository root with `from benchmarks.allocator import tune_malloc`.

`python benchmarks/allocator.py` measures what it does to one W1 training
step (minor page faults and time per step, before and after).
"""
import ctypes
import ctypes.util
import os
import platform
import sys

M_TRIM_THRESHOLD = -1   # from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
C_INT_MAX = 2 ** 31 - 1   # mallopt takes a C int; ctypes would wrap larger values silently


def tune_malloc(trim_threshold=256 << 20, mmap_threshold=32 << 20):
    """Set glibc's malloc trim and mmap thresholds (bytes); True if glibc accepted both.

    trim_threshold: free memory at the top of the heap beyond this is given back
    to the OS. mmap_threshold: blocks of at least this size get their own mmap
    (glibc caps it at 32 MiB on 64-bit systems). Both are integers in
    [0, 2**31 - 1]. Setting the mmap threshold also turns off glibc's adaptive
    one. It is set first, so if glibc refuses it nothing has changed. Where the
    C library is not glibc (macOS, Windows, musl) nothing changes and the result
    is False.
    """
    for name, value in (("trim_threshold", trim_threshold), ("mmap_threshold", mmap_threshold)):
        if isinstance(value, bool) or not hasattr(type(value), "__index__"):
            raise TypeError(f"tune_malloc: {name} must be an integer number of bytes, got "
                            f"{value!r} ({type(value).__name__})")
        if not 0 <= value <= C_INT_MAX:
            raise ValueError(f"tune_malloc: {name} must be in [0, {C_INT_MAX}] bytes, got {value}")
    mallopt = glibc_mallopt()
    if mallopt is None:
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))) and \
        bool(mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))


def glibc_mallopt():
    """glibc's mallopt(param, value) -> 1 on success, or None where the C library isn't glibc.

    musl also has a mallopt, one that changes nothing, hence the glibc check.
    """
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt


def measure(steps=40):
    """Minor page faults and seconds per W1 tinygrad_edu step, before and after tune_malloc.

    Returns {"default": (faults, seconds), "tuned": (faults, seconds) or None, "applied": bool}.
    The two settings run one after the other in this process, so run it on its own.
    """
    from benchmarks import common, w1_deep_batchnorm_mlp
    step = w1_deep_batchnorm_mlp.make_steps(["tinygrad_edu"])["tinygrad_edu"]
    results = {"default": (common.page_faults_per_call(step, steps),
                           common.seconds_per_call(step, steps))}
    results["applied"] = tune_malloc()
    results["tuned"] = None
    if results["applied"]:
        results["tuned"] = (common.page_faults_per_call(step, steps),
                            common.seconds_per_call(step, steps))
    return results


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="What tune_malloc does to a W1 training step.")
    parser.add_argument("--steps", type=int, default=40, help="steps per measurement")
    args = parser.parse_args(argv)
    preset = sorted(k for k in os.environ if k.startswith("MALLOC_"))
    if preset:
        print(f"note: {', '.join(preset)} set in the environment: the 'default' row is not "
              f"glibc's default")
    results = measure(args.steps)
    rows = [("default", results["default"]), ("tune_malloc()", results["tuned"])]
    for label, row in rows:
        if row is None:
            print(f"{label:14s} not applied (the C library is not glibc)")
        else:
            print(f"{label:14s} {row[0]:8.1f} page faults/step  {row[1] * 1e3:7.3f} ms/step")
    return results


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.run import THREAD_VARS
    for var in THREAD_VARS:   # one thread, as run.py's default; before NumPy is imported
        os.environ.setdefault(var, "1")
    main()
