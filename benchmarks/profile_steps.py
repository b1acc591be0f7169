"""Where a tinygrad_edu training step spends its time: `python benchmarks/profile_steps.py w1`.

For W1/W2 (one training step) and W3 (the op chain) this prints
  - the step split into phases (zero_grad, forward, backward, optimizer step),
    medians over many steps;
  - the graph the forward pass builds, node counts by op;
  - the "replay" time: the same primitives' NumPy forwards run back to back on
    the saved inputs, i.e. the arithmetic the forward cannot avoid. Forward
    minus replay, divided by the nodes, is the engine's overhead per node;
  - with --cprofile, the top functions of a cProfile run.
It measures; it changes nothing in the library.
"""
import argparse
import collections
import cProfile
import os
import pstats
import statistics
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import tinygrad_edu as tg  # noqa: E402
from tinygrad_edu import nn, optim  # noqa: E402
from benchmarks import w1_deep_batchnorm_mlp, w2_mnist_mlp, w3_op_overhead  # noqa: E402
from benchmarks.engines import copy_mlp_weights  # noqa: E402


def mlp_parts(workload):
    """(forward() -> loss, optimizer, model) for W1 or W2, as in the benchmark."""
    if workload == "w1":
        X, y = w1_deep_batchnorm_mlp.make_data()
        weights, bn = w1_deep_batchnorm_mlp.make_weights(w1_deep_batchnorm_mlp.DIMS)
        dims = w1_deep_batchnorm_mlp.DIMS
    else:
        X, y = w2_mnist_mlp.make_data()
        weights, bn = w2_mnist_mlp.make_weights(w2_mnist_mlp.DIMS), None
        dims = w2_mnist_mlp.DIMS
    model = nn.MLP(list(dims), batchnorm=bn is not None)
    copy_mlp_weights(model.modules(), weights, bn)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    Xt = tg.tensor(X)
    return (lambda: tg.functional.cross_entropy(model(Xt), y)), opt


def graph_nodes(root):
    """Every recorded node reachable from root (iterative walk)."""
    seen, stack, nodes = set(), [root], []
    while stack:
        t = stack.pop()
        if t in seen or t._op is None:
            continue
        seen.add(t)
        nodes.append(t)
        stack.extend(t._parents)
    return nodes


def replay_seconds(nodes, repeats=50):
    """Time of the nodes' NumPy forwards alone, on the inputs they saw."""
    calls = [(n._op.forward, [p._data for p in n._parents], n._args) for n in nodes]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for forward, datas, args in calls:
            forward(*datas, *args)
        best = min(best, time.perf_counter() - start)
    return best


def phases(workload, steps):
    forward, opt = mlp_parts(workload)
    times = collections.defaultdict(list)
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        t1 = time.perf_counter()
        loss = forward()
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        for name, dt in (("zero_grad", t1 - t0), ("forward", t2 - t1),
                         ("backward", t3 - t2), ("optimizer step", t4 - t3)):
            times[name].append(dt)
    med = {k: statistics.median(v) for k, v in times.items()}
    total = sum(med.values())
    print(f"{workload}: one step = {total * 1e3:.3f} ms (sum of phase medians)")
    for name, t in med.items():
        print(f"  {name:15s} {t * 1e6:9.1f} us  {t / total:6.1%}")
    loss = forward()
    nodes = graph_nodes(loss)
    counts = collections.Counter(n._op.name for n in nodes)
    replay = replay_seconds(nodes)
    print(f"  forward graph: {len(nodes)} nodes: "
          + ", ".join(f"{k} {v}" for k, v in counts.most_common()))
    print(f"  NumPy replay of those forwards: {replay * 1e6:.1f} us -> forward overhead "
          f"{(med['forward'] - replay) * 1e6 / len(nodes):.2f} us/node")
    vjps = sum(sum(p.requires_grad for p in n._parents) for n in nodes)
    print(f"  backward: {vjps} VJP calls, {med['backward'] * 1e6 / len(nodes):.2f} us/node")
    n_params = sum(len(g["params"]) for g in opt.param_groups)
    print(f"  optimizer: {n_params} parameters, "
          f"{med['optimizer step'] * 1e6 / n_params:.2f} us/parameter")
    loss.backward()


def chain(steps, n_ops=500):
    x0, ops = w3_op_overhead.make_input(), w3_op_overhead.chain_ops(n_ops)
    x = tg.tensor(x0, requires_grad=True)
    fwd, bwd = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        h = x
        for op in ops:
            h = h * w3_op_overhead.SCALE if op == "mul" else (
                h + w3_op_overhead.SHIFT if op == "add" else h.tanh())
        out = h.sum()
        t1 = time.perf_counter()
        x.grad = None
        out.backward()
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
    h = x
    for op in ops:
        h = h * 1.001 if op == "mul" else (h + 0.001 if op == "add" else h.tanh())
    nodes = graph_nodes(h.sum())
    replay = replay_seconds(nodes)
    f, b = statistics.median(fwd), statistics.median(bwd)
    print(f"w3: {n_ops} ops: forward {f * 1e6 / n_ops:.2f} us/op "
          f"(NumPy replay {replay * 1e6 / len(nodes):.2f} us/op), "
          f"backward {b * 1e6 / n_ops:.2f} us/op")


def main():
    p = argparse.ArgumentParser(description="Profile tinygrad_edu on W1, W2, W3.")
    p.add_argument("workloads", nargs="*", default=["w1", "w2", "w3"])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--cprofile", action="store_true", help="also print cProfile's top 25")
    args = p.parse_args()
    for w in args.workloads:
        run = (lambda: chain(args.steps)) if w == "w3" else (lambda: phases(w, args.steps))
        run()
        if args.cprofile:
            prof = cProfile.Profile()
            prof.runcall(run)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
