"""Our own ports of outside test suites (micrograd, tinygrad 2021, PyTorch's test_autograd,
HIPS autograd), run against tinygrad_edu to MEASURE how much PyTorch-shaped code runs.

Failures here are data (the next work list), not regressions, so the default
`python -m pytest -q` does not collect this folder. Run it with

    python -m pytest tests/ported --ported -q        (or TINYGRAD_EDU_PORTED=1)
    python tests/ported/run.py                       (the same, from anywhere)

and a per-suite pass-rate table is printed at the end.
"""
import os
import pathlib

import pytest


def pytest_addoption(parser):
    parser.addoption("--ported", action="store_true", default=False,
                     help="collect tests/ported (ports of outside test suites)")


def enabled(config):
    # getoption's default covers the run from the project root, where this conftest is
    # loaded only during collection (after the command line was parsed).
    return bool(os.environ.get("TINYGRAD_EDU_PORTED")) or config.getoption("--ported", default=False)


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return not enabled(config)
    return None


def pytest_terminal_summary(terminalreporter, config):
    if not enabled(config):
        return
    counts = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if report.when not in ("call", "setup") or \
                    (outcome == "passed" and report.when != "call"):
                continue
            suite = counts.setdefault(pathlib.Path(report.nodeid.split("::")[0]).stem, {"passed": 0, "failed": 0, "skipped": 0})
            suite["failed" if outcome == "error" else outcome] += 1
    if not counts:
        return
    write = terminalreporter.write_line
    write("")
    write("ported suites: pass rate of in-scope tests (skipped = out of scope)")
    total_pass = total_in = 0
    for name in sorted(counts):
        c = counts[name]
        in_scope = c["passed"] + c["failed"]
        total_pass += c["passed"]
        total_in += in_scope
        rate = 100.0 * c["passed"] / in_scope if in_scope else 0.0
        write(f"  {name:28s} {c['passed']:4d}/{in_scope:<4d} passed  {rate:5.1f}%"
              f"   ({c['failed']} failed, {c['skipped']} skipped)")
    rate = 100.0 * total_pass / total_in if total_in else 0.0
    write(f"  {'overall':28s} {total_pass:4d}/{total_in:<4d} passed  {rate:5.1f}%")
