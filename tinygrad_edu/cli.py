"""`tinygrad-edu` / `python -m tinygrad_edu`: see a model train, look at its graph, check gradients.

    tinygrad-edu demo                      train a BatchNorm MLP, check its gradients by hand,
                                           draw its graph (into demo_output/)
    tinygrad-edu graph --dims 2,16,16,3 --batchnorm --out graph.svg
    tinygrad-edu check                     every derivation in manual.py vs autograd and
                                           finite differences (exit status 1 on a mismatch)
    tinygrad-edu train --dataset spirals --hidden 32,32 --optimizer adam --epochs 50
"""
import argparse
import os
import sys
import time

import numpy as np

DATASETS = ("moons", "blobs", "circles", "spirals")


# --- pieces shared by the commands ------------------------------------------------------------

def load_dataset(name, n_samples, seed):
    """(X_train, X_val, y_train, y_val): a 2-D toy problem, 80% / 20%, stratified."""
    from . import data
    if name == "moons":
        X, y = data.make_moons(n_samples, noise=0.15, seed=seed)
    elif name == "blobs":
        X, y = data.make_blobs(n_samples, centers=[[-1, 0], [1, 0], [0, 1.5]], cluster_std=0.63,
                               seed=seed)
    elif name == "circles":
        X, y = data.make_circles(n_samples, noise=0.08, factor=0.5, seed=seed)
    elif name == "spirals":
        X, y = data.make_spirals(n_samples, n_classes=3, noise=0.2, seed=seed)
    else:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return data.train_test_split(X, y, test_size=0.2, seed=seed, stratify=y)


def write_graph(dot, path_stem, fmt="svg"):
    """Render to path_stem.<fmt> with Graphviz's dot; without dot, write path_stem.dot instead.

    Returns (path written, True if rendered / False if it is the DOT text).
    """
    from . import viz
    try:
        return viz.render_graph(dot, path_stem, fmt), True
    except viz.GraphvizNotFoundError:
        return viz.save_dot(dot, path_stem + ".dot"), False


def no_dot_message(dot_paths, fmt="svg"):
    """What to do when dot is missing: one message, however many graphs were written."""
    from . import viz
    renders = "\n".join(f"    dot -T{fmt} {p} -o {os.path.splitext(p)[0]}.{fmt}" for p in dot_paths)
    what = "the graphs were" if len(dot_paths) > 1 else "the graph was"
    return (f"Graphviz's 'dot' program was not found on your PATH, so {what} saved as "
            f"DOT text instead of {fmt.upper()}.\nInstall Graphviz with one of:\n"
            f"{viz.INSTALL_COMMANDS}then render it with:\n{renders}")


def count_nodes(dot):
    """(tensor nodes, op nodes) in a drawing, read from its DOT text."""
    body = [line for line in dot.body if "[label=" in line and "legend" not in line
            and " -> " not in line]
    ops = sum("shape=ellipse" in line or "shape=circle" in line or "shape=box3d" in line
              for line in body)
    return len(body) - ops, ops


def save_plots(model, history, X, y, out, log=print):
    """decision_boundary.png and loss_curve.png, if matplotlib is installed."""
    try:
        from matplotlib.figure import Figure   # no pyplot: no GUI backend, no global state
    except ImportError:
        log("  (matplotlib not installed: no plots; pip install matplotlib)")
        return []
    from .autograd import no_grad
    from .tensor import Tensor
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, 200)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, 200)
    gx, gy = np.meshgrid(xs, ys)
    model.eval()
    with no_grad():
        pred = model(Tensor(np.c_[gx.ravel(), gy.ravel()])).data.argmax(1).reshape(gx.shape)
    fig = Figure(figsize=(5, 5))
    ax = fig.add_subplot()
    ax.contourf(gx, gy, pred, alpha=0.3, levels=np.arange(pred.max() + 2) - 0.5, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="viridis", edgecolors="k", linewidths=0.2)
    ax.set_title("decision boundary (validation points)")
    paths = [os.path.join(out, "decision_boundary.png")]
    fig.savefig(paths[0], dpi=100)

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    epochs = np.arange(1, len(history.train_loss) + 1)
    ax.plot(epochs, history.train_loss, label="train")
    if history.val_loss and history.val_loss[0] is not None:
        ax.plot(epochs, history.val_loss, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.legend()
    paths.append(os.path.join(out, "loss_curve.png"))
    fig.savefig(paths[1], dpi=100)
    return paths


def make_optimizer(name, params, lr):
    from . import optim
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimizer {name!r}; choose adam or sgd")


def train_model(dims, batchnorm, dataset, optimizer, lr, epochs, batch_size, seed, n_samples):
    """Build, train and evaluate an MLP; returns (model, history, split data)."""
    from . import nn
    from .functional import cross_entropy
    from .training import fit
    X_tr, X_val, y_tr, y_val = load_dataset(dataset, n_samples, seed)
    model = nn.MLP(dims, batchnorm=batchnorm, generator=np.random.default_rng(seed))
    opt = make_optimizer(optimizer, model.parameters(), lr)
    history = fit(model, cross_entropy, opt, (X_tr, y_tr), epochs=epochs,
                  val=(X_val, y_val), batch_size=batch_size, seed=seed,
                  log=lambda line: print("   " + line))
    return model, history, (X_tr, X_val, y_tr, y_val)


# --- commands ---------------------------------------------------------------------------------

def demo(args):
    """Train a BatchNorm MLP, check its gradients against a hand derivation, draw its graph."""
    from . import viz
    from .derivations import check_model_gradients
    from .training import evaluate
    from .functional import cross_entropy
    start = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    dims = [2, 16, 16, 8, 8, 3]
    print(f"tinygrad_edu demo: MLP {'-'.join(map(str, dims))} with BatchNorm1d on "
          f"{args.dataset} ({args.samples} points, 80% train), Adam lr {args.lr}")
    print("1. training")
    model, history, (X_tr, X_val, y_tr, y_val) = train_model(
        dims, True, args.dataset, "adam", args.lr, args.epochs, 64, args.seed, args.samples)
    _, train_acc = evaluate(model, cross_entropy, X_tr, y_tr)
    _, val_acc = evaluate(model, cross_entropy, X_val, y_val)
    print(f"   train accuracy {train_acc:.1%}   validation accuracy {val_acc:.1%}")

    print(f"2. gradients on the full training batch ({len(X_tr)} points): "
          f"autograd vs backprop by hand (manual.mlp_backprop)")
    loss, result = check_model_gradients(model, X_tr, y_tr, verbose=False)
    print("   " + result.table().replace("\n", "\n   "))

    print(f"3. pictures in {args.out}/")
    full = viz.draw_graph(loss, model, cluster_modules=True, backward_order=True, show_grads=True,
                          rankdir="TB")
    layers = viz.draw_graph(loss, model, collapse=True, show_grads=True, rankdir="TB")
    n_tensors, n_ops = count_nodes(full)
    unrendered = []
    for dot, stem, what in [(full, "graph", f"every op ({n_tensors} tensors, {n_ops} ops), "
                                            f"numbered in backward order"),
                            (layers, "graph_layers", "one node per layer")]:
        path, rendered = write_graph(dot, os.path.join(args.out, stem))
        print(f"   {path}: computation graph, {what}")
        if not rendered:
            unrendered.append(path)
    if unrendered:
        print("   " + no_dot_message(unrendered).replace("\n", "\n   "))
    for path in save_plots(model, history, X_val, y_val, args.out, log=lambda s: print("   " + s)):
        print(f"   {path}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0 if result.passed else 1


def graph(args):
    """Draw the graph of an MLP's cross-entropy loss on a random batch."""
    from . import nn, viz
    from .functional import cross_entropy
    from .tensor import Tensor
    dims = parse_ints(args.dims, "--dims")
    rng = np.random.default_rng(args.seed)
    model = nn.MLP(dims, batchnorm=args.batchnorm, generator=rng)
    x = Tensor(rng.standard_normal((args.batch, dims[0])))
    loss = cross_entropy(model(x), rng.integers(0, dims[-1], args.batch))
    dot = viz.draw_graph(loss, model, collapse=args.collapse, cluster_modules=args.cluster,
                         backward_order=args.backward_order, run_backward=args.grads,
                         rankdir=args.rankdir)
    stem, ext = os.path.splitext(args.out)
    fmt = ext.lstrip(".").lower() or "svg"
    if fmt in ("dot", "svg", "png", "pdf") and os.path.dirname(args.out):
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
    if fmt == "dot":
        path = viz.save_dot(dot, args.out)
    elif fmt in ("svg", "png", "pdf"):
        path, rendered = write_graph(dot, stem, fmt)
        if not rendered:   # the DOT text is there, but not the file asked for
            print(f"tinygrad-edu graph: wrote {path}. " + no_dot_message([path], fmt),
                  file=sys.stderr)
            return 1
    else:
        print(f"tinygrad-edu graph: --out must end in .svg, .png, .pdf or .dot, got {args.out}",
              file=sys.stderr)
        return 2
    n_tensors, n_ops = count_nodes(dot)
    print(f"wrote {path}: {n_tensors} tensors, {n_ops} ops")
    return 0


def check(args):
    """Every derivation in manual.py against autograd and finite differences."""
    from .derivations import check_derivations
    print("hand-derived gradients (tinygrad_edu/manual.py) vs autograd and central finite "
          f"differences, random float64 inputs (seed {args.seed})")
    report = check_derivations(seed=args.seed)
    return 0 if report.passed else 1


def train(args):
    """Train an MLP on a toy dataset and report accuracy (optionally plots in --out)."""
    from .training import evaluate
    from .functional import cross_entropy
    hidden = parse_ints(args.hidden, "--hidden") if args.hidden else []
    n_classes = 3 if args.dataset in ("blobs", "spirals") else 2
    dims = [2] + hidden + [n_classes]
    print(f"training MLP {'-'.join(map(str, dims))}{' with BatchNorm1d' if args.batchnorm else ''}"
          f" on {args.dataset}: {args.optimizer} lr {args.lr}, {args.epochs} epochs")
    model, history, (X_tr, X_val, y_tr, y_val) = train_model(
        dims, args.batchnorm, args.dataset, args.optimizer, args.lr, args.epochs,
        args.batch_size, args.seed, args.samples)
    _, train_acc = evaluate(model, cross_entropy, X_tr, y_tr)
    _, val_acc = evaluate(model, cross_entropy, X_val, y_val)
    print(f"train accuracy {train_acc:.1%}   validation accuracy {val_acc:.1%}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for path in save_plots(model, history, X_val, y_val, args.out):
            print(f"wrote {path}")
    return 0


def parse_ints(text, flag):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SystemExit(f"tinygrad-edu: {flag} takes comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        raise SystemExit(f"tinygrad-edu: {flag} needs positive sizes, got {text!r}")
    return values


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's layout and adds "(default: ...)" to options that take a value."""

    def _get_help_string(self, action):
        # flags and optional outputs: "(default: False)" would only be noise
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygrad-edu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, run, help):
        p = sub.add_parser(name, help=help, description=run.__doc__,
                           formatter_class=HelpFormatter)
        p.set_defaults(run=run)
        return p

    p = command("demo", demo, "train a BatchNorm MLP, check its gradients by hand, draw its "
                              "graph (start here)")
    p.add_argument("--out", default="demo_output", help="output folder")
    p.add_argument("--dataset", choices=DATASETS, default="spirals", help="toy 2-D dataset")
    p.add_argument("--samples", type=positive_int, default=1200, help="points in the dataset")
    p.add_argument("--epochs", type=positive_int, default=30, help="passes over the data")
    p.add_argument("--lr", type=float, default=0.01, help="Adam learning rate")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")

    p = command("graph", graph, "draw the computation graph of an MLP's loss to a file")
    p.add_argument("--dims", default="2,16,16,3", help="layer sizes, input to output")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm1d after each hidden Linear")
    p.add_argument("--batch", type=positive_int, default=8, help="batch size of the random input")
    p.add_argument("--out", default="graph.svg", help="file: .svg, .png, .pdf (need Graphviz's "
                                                      "dot; without it the .dot is written) or "
                                                      ".dot (DOT text)")
    p.add_argument("--collapse", action="store_true", help="one node per layer instead of per op")
    p.add_argument("--cluster", action="store_true", help="box the ops of each module")
    p.add_argument("--backward-order", action="store_true",
                   help="number ops in the order backward() runs them")
    p.add_argument("--grads", action="store_true", help="run backward and show gradient norms")
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="left to right or top to bottom")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch")

    p = command("check", check, "check every hand derivation in manual.py against autograd "
                                "and finite differences (exit status 1 on a mismatch)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")

    p = command("train", train, "train an MLP on a toy dataset")
    p.add_argument("--dataset", choices=DATASETS, default="moons", help="toy 2-D dataset")
    p.add_argument("--hidden", default="16,16", help="hidden sizes ('' for none)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                   help="adam, or sgd with momentum 0.9")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate")
    p.add_argument("--epochs", type=positive_int, default=30, help="passes over the data")
    p.add_argument("--batch-size", type=positive_int, default=32, help="minibatch size")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm1d after each hidden Linear")
    p.add_argument("--samples", type=positive_int, default=600, help="points in the dataset")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    p.add_argument("--out", default=None, help="folder for decision-boundary and loss plots")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
