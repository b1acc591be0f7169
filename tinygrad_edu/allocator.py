"""An explicit opt-in: keep freed memory in the process instead of handing it back.

A training step allocates and frees the same model-sized temporaries every
time. With glibc's default thresholds, freed blocks at the top of the heap
are returned to the operating system (trim threshold 128 KiB) and blocks over
128 KiB get their own mmap, so the same pages are mapped in again, page
fault by page fault, on every step. For the seed notebook's BatchNorm MLP
(batch 960, float64) that is ~700 page faults per step and about half the
step time. Raising both thresholds keeps the memory around for reuse.

This changes the whole process's allocator, so tinygrad_edu never does it on
its own: call tune_malloc() yourself (the same as starting Python with
MALLOC_TRIM_THRESHOLD_ and MALLOC_MMAP_THRESHOLD_ set).
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1   # from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3


def tune_malloc(trim_threshold=256 << 20, mmap_threshold=32 << 20):
    """Raise glibc's malloc trim and mmap thresholds (bytes). Returns True if applied.

    On systems without glibc (macOS, Windows, musl) nothing changes and the
    result is False.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # glibc caps the mmap threshold at 32 MiB on 64-bit systems and rejects larger values
    return bool(mallopt(M_TRIM_THRESHOLD, int(trim_threshold))) and \
        bool(mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)))
