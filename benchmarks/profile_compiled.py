"""Where a compiled training step spends its time, line by line:
`python benchmarks/profile_compiled.py --workload w6`.

Each line of the step's program (step.source) is timed with perf_counter; the table
sums the times per op kind (the comment each line carries names its op) and lists the
most expensive lines. The instrumentation itself costs ~0.1 us a line, so the
instrumented total is a little above the uninstrumented one printed next to it.
"""
import argparse
import collections
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKLOADS = ("w1", "w2", "w6", "w7")


def compiled_step(workload):
    """(step(), the compiled function): step() runs one training step (and its data)."""
    from benchmarks import w1_deep_batchnorm_mlp, w2_mnist_mlp, w6_digits_cnn, w7_char_gpt
    module = {"w1": w1_deep_batchnorm_mlp, "w2": w2_mnist_mlp, "w6": w6_digits_cnn,
              "w7": w7_char_gpt}[workload]
    step = module.make_steps(["tinygrad_edu compiled"])["tinygrad_edu compiled"]
    return step, getattr(step, "compiled", step)


def program_of(step, compiled):
    """The replayed Program and the arguments the next call gives it."""
    for _ in range(3):
        step()
    program = next(e for e in compiled.cache.values() if type(e).__name__ == "Program")
    seen = []
    run = program.run

    def recording(*args):
        seen.append(args)
        return run(*args)
    program.run = recording
    step()
    program.run = run
    return program, seen[-1]


def instrumented(source):
    """(source with a timer around each line, the lines timed)."""
    lines = [line for line in source.split("\n") if line.strip()]
    out = [lines[0], "    _T = __import__('time').perf_counter"]
    timed = []
    for line in lines[1:]:
        if line.strip().startswith("return"):
            out.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        out += [f"{indent}_t0 = _T()", line, f"{indent}_PROF[{len(timed)}] += _T() - _t0"]
        timed.append(line.strip())
    return "\n".join(out), timed


def kind(line):
    """The op a program line came from: the first word of its comment, else its call."""
    if "#" in line:
        return line.split("#", 1)[1].strip().split()[0]
    return line.split("=", 1)[-1].split("(")[0].strip()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workload", choices=WORKLOADS, default="w6")
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    step, compiled = compiled_step(args.workload)
    program, call_args = program_of(step, compiled)
    text, timed = instrumented(compiled.source)
    namespace = dict(program.run.__globals__)
    namespace["_PROF"] = [0.0] * len(timed)
    exec(compile(text, "<profiled>", "exec"), namespace)
    profiled = namespace["step"]
    for _ in range(args.calls):
        profiled(*call_args)
    t0 = time.perf_counter()
    for _ in range(args.calls):
        program.run(*call_args)
    plain = (time.perf_counter() - t0) / args.calls
    prof = [t / args.calls for t in namespace["_PROF"]]
    print(f"{args.workload}: {len(timed)} lines, instrumented {sum(prof) * 1e3:.3f} ms, "
          f"uninstrumented {plain * 1e3:.3f} ms per step")
    by_kind = collections.Counter()
    count = collections.Counter()
    for line, t in zip(timed, prof):
        by_kind[kind(line)] += t
        count[kind(line)] += 1
    print(f"\n{'op kind':30s} {'lines':>6s} {'us':>9s}")
    for k, t in by_kind.most_common(args.top):
        print(f"{k:30s} {count[k]:6d} {t * 1e6:9.1f}")
    print("\ntop lines (us):")
    for t, line in sorted(zip(prof, timed), reverse=True)[:args.top]:
        print(f"{t * 1e6:8.1f} {line[:150]}")


if __name__ == "__main__":
    main()
