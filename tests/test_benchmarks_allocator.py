"""benchmarks/allocator.tune_malloc: what it promises, checked without timing anything.

On glibc it returns True and the thresholds really are in force: glibc reports
(mallinfo2) how many blocks are mmapped and how much free memory tops the heap,
and both follow the thresholds we set. That changes the process's allocator, so
it runs in a subprocess. Elsewhere it is a no-op returning False. How many page
faults it saves is measured by `python benchmarks/allocator.py`, not asserted.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import allocator  # noqa: E402

GLIBC = sys.platform.startswith("linux") and allocator.glibc_mallopt() is not None

PROBE = textwrap.dedent("""
    import ctypes, ctypes.util
    from benchmarks.allocator import tune_malloc

    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]
    libc.mallinfo2.restype = MallInfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    MiB = 1 << 20

    def mmapped(size):       # did malloc(size) get its own mmap?
        before = libc.mallinfo2().hblks
        block = libc.malloc(size)
        got = libc.mallinfo2().hblks - before
        libc.free(block)
        return got

    def top_kept(size):      # after malloc(size) from the heap and free, is it still there?
        libc.free(libc.malloc(size))
        return libc.mallinfo2().keepcost >= size

    print(tune_malloc(trim_threshold=256 * MiB, mmap_threshold=1 * MiB),
          mmapped(2 * MiB), mmapped(MiB // 2))
    print(tune_malloc(), mmapped(16 * MiB), top_kept(8 * MiB))
    print(tune_malloc(trim_threshold=128 << 10, mmap_threshold=32 * MiB), top_kept(8 * MiB))
""")


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt and mallinfo2")
def test_tune_malloc_applies_both_thresholds_on_glibc():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, timeout=60)
    if "mallinfo2" in done.stderr:
        pytest.skip("glibc older than 2.33 (no mallinfo2)")
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    # mmap threshold 1 MiB: 2 MiB gets its own mmap, 512 KiB comes from the heap
    assert lines[0] == ["True", "1", "0"]
    # the defaults: 32 MiB mmap threshold (16 MiB from the heap), 256 MiB trim (8 MiB kept)
    assert lines[1] == ["True", "0", "True"]
    # trim threshold 128 KiB: the freed 8 MiB at the top of the heap goes back to the OS
    assert lines[2] == ["True", "False"]


class FakeMallopt:
    """Records mallopt calls; answers `results[param]` (1 = accepted, 0 = refused)."""

    def __init__(self, results):
        self.results, self.calls = results, []

    def __call__(self, param, value):
        self.calls.append((param, value))
        return self.results[param]


def test_tune_malloc_is_a_no_op_returning_false_without_glibc(monkeypatch):
    monkeypatch.setattr(allocator.platform, "libc_ver", lambda: ("", ""))   # e.g. musl
    assert allocator.glibc_mallopt() is None
    assert allocator.tune_malloc() is False


def test_tune_malloc_passes_the_thresholds_and_reports_a_refusal(monkeypatch):
    accepted = FakeMallopt({allocator.M_MMAP_THRESHOLD: 1, allocator.M_TRIM_THRESHOLD: 1})
    monkeypatch.setattr(allocator, "glibc_mallopt", lambda: accepted)
    assert allocator.tune_malloc(trim_threshold=5 << 20, mmap_threshold=3 << 20) is True
    assert accepted.calls == [(allocator.M_MMAP_THRESHOLD, 3 << 20),
                              (allocator.M_TRIM_THRESHOLD, 5 << 20)]
    # glibc refuses the mmap threshold (too large): False, and the trim threshold is left alone
    refused = FakeMallopt({allocator.M_MMAP_THRESHOLD: 0, allocator.M_TRIM_THRESHOLD: 1})
    monkeypatch.setattr(allocator, "glibc_mallopt", lambda: refused)
    assert allocator.tune_malloc() is False
    assert refused.calls == [(allocator.M_MMAP_THRESHOLD, 32 << 20)]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"mmap_threshold": 2.5e6}, TypeError, r"tune_malloc: mmap_threshold must be an integer"),
    ({"trim_threshold": True}, TypeError, r"tune_malloc: trim_threshold must be an integer"),
    ({"trim_threshold": -1}, ValueError, r"tune_malloc: trim_threshold must be in \[0, "),
    ({"mmap_threshold": 2 ** 31}, ValueError, r"tune_malloc: mmap_threshold must be in \[0, "),
])
def test_tune_malloc_refuses_bad_thresholds_before_touching_anything(monkeypatch, kwargs, error,
                                                                      match):
    untouched = FakeMallopt({})
    monkeypatch.setattr(allocator, "glibc_mallopt", lambda: untouched)
    with pytest.raises(error, match=match):
        allocator.tune_malloc(**kwargs)
    assert untouched.calls == []


def test_allocator_script_reports_faults_and_time_for_both_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "allocator.py"),
                           "--steps", "2"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    default, tuned = done.stdout.splitlines()
    assert default.startswith("default") and "page faults/step" in default
    assert tuned.startswith("tune_malloc()")
    assert ("page faults/step" in tuned) == GLIBC


def test_tune_malloc_is_not_engine_api():
    import tinygrad_edu
    assert not hasattr(tinygrad_edu, "tune_malloc")
