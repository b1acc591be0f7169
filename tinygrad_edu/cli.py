"""tinygrad-edu (or python -m tinygrad_edu): see a model train, look at its graph, check gradients.

    tinygrad-edu demo                      train a BatchNorm MLP, check its gradients by hand,
                                           draw its graph (into demo_output/)
    tinygrad-edu graph --dims 2,16,16,3 --batchnorm --out graph.svg
    tinygrad-edu check                     every derivation in manual.py vs autograd and
                                           finite differences (exit status 1 on a mismatch)
    tinygrad-edu train --dataset spirals --hidden 32,32 --optimizer adam --epochs 50
    tinygrad-edu compile-demo              the NumPy program tg.compile writes for a tiny
                                           MLP's step, next to the same step by hand

Exit status: 0 when all went well; 1 when a gradient check fails, training diverges
or a graph could not be rendered; 2 for a bad command line, refused before any work
(also when no command is given: this help is printed); 130 when interrupted (Ctrl-C);
141 when the output pipe closes early (tinygrad-edu check | head).
"""
import argparse
import os
import sys
import time

import numpy as np

DATASETS = ("moons", "blobs", "circles", "spirals")
GRAPH_FORMATS = ("svg", "png", "pdf", "dot")
# Bounds that keep a run on a laptop: wide enough for any 2-D toy problem, small
# enough that a typo (--hidden 100000000) is refused instead of eating the memory.
MAX_WIDTH, MAX_HIDDEN_LAYERS = 1024, 8
# 20 points leave every class a few points on both sides of the 80/20 split.
MIN_SAMPLES, MAX_SAMPLES = 20, 100_000
MAX_EPOCHS, MAX_BATCH = 10_000, 100_000


class TrainingDiverged(Exception):
    """The loss became NaN or infinite: the step size is too large for this model."""


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


def write_graph(dot, path):
    """Write a drawing to exactly `path`; its format is the extension, in any case.

    .svg, .png and .pdf are rendered by Graphviz's dot; without dot, the DOT text
    goes to the same stem + ".dot" instead. .dot is the DOT text itself.
    Returns (path written, True if it is `path`).
    """
    from . import viz
    stem, ext = os.path.splitext(path)
    fmt = ext[1:].lower()
    if fmt == "dot":
        return viz.save_dot(dot, path), True
    folder, name = os.path.split(path)
    # render_graph names its file <stem>.<lower-case format>; rendering to a side name
    # and renaming keeps the user's "g.SVG", and never leaves a half-written file
    part = os.path.join(folder, f".{name}.{os.getpid()}.part.{fmt}")
    try:
        viz.render_graph(dot, part, fmt)
        os.replace(part, path)
    except viz.GraphvizNotFoundError:
        return viz.save_dot(dot, stem + ".dot"), False
    finally:
        if os.path.exists(part):
            os.remove(part)
    return path, True


def no_dot_message(written):
    """What to do when dot is missing, for [(DOT file written, file asked for)], in one message."""
    from . import viz
    fmt = os.path.splitext(written[0][1])[1][1:].lower()
    renders = "\n".join(f"    dot -T{os.path.splitext(wanted)[1][1:].lower()} {dot_path} "
                        f"-o {wanted}" for dot_path, wanted in written)
    what = "the graphs were" if len(written) > 1 else "the graph was"
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
    from . import plots
    try:
        plots.require_matplotlib("save_plots")
    except ImportError:
        log("  (matplotlib not installed: no plots; pip install matplotlib)")
        return []
    paths = [os.path.join(out, "decision_boundary.png"), os.path.join(out, "loss_curve.png")]
    plots.plot_decision_boundary(model, X, y, title="decision boundary (validation points)"
                                 ).savefig(paths[0], dpi=100)
    history.plot().savefig(paths[1], dpi=100)
    return paths


def make_optimizer(name, params, lr):
    from . import optim
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimizer {name!r}; choose adam or sgd")


def finite_loss(loss_fn, lr):
    """loss_fn, raising TrainingDiverged at the first loss that is NaN or infinite.

    Training on from there would only print NaN for every remaining epoch and
    end with a model that predicts one class.
    """
    def checked(scores, labels):
        loss = loss_fn(scores, labels)
        if not np.isfinite(loss.item()):
            raise TrainingDiverged(f"training diverged: the loss became {loss.item()}; "
                                   f"try a smaller --lr (it was {lr:g})")
        return loss
    return checked


def train_model(dims, batchnorm, dataset, optimizer, lr, epochs, batch_size, seed, n_samples):
    """Build, train and evaluate an MLP; returns (model, history, split data)."""
    from . import nn
    from .data import DataLoader
    from .functional import cross_entropy
    from .training import fit
    X_tr, X_val, y_tr, y_val = load_dataset(dataset, n_samples, seed)
    model = nn.MLP(dims, batchnorm=batchnorm, generator=np.random.default_rng(seed))
    opt = make_optimizer(optimizer, model.parameters(), lr)
    # BatchNorm1d can't normalise a batch of one sample in training mode. Like
    # PyTorch users, drop that last batch (drop_last): the order is reshuffled every
    # epoch, so a different sample sits out each time.
    loader = DataLoader(X_tr, y_tr, batch_size=batch_size, shuffle=True, seed=seed,
                        drop_last=batchnorm and len(X_tr) % batch_size == 1)
    # the NaN or inf a diverging run produces is reported by finite_loss, in one line
    with np.errstate(over="ignore", invalid="ignore"):
        history = fit(model, finite_loss(cross_entropy, lr), opt, loader, epochs=epochs,
                      val=(X_val, y_val), restore_best=True,
                      log=lambda line: print("   " + line))
    return model, history, (X_tr, X_val, y_tr, y_val)


# --- commands ---------------------------------------------------------------------------------

def demo(args):
    """Train a BatchNorm MLP, check its gradients against a hand derivation, draw its graph."""
    from .derivations import check_model_gradients
    from .functional import cross_entropy
    from .training import evaluate
    start = time.perf_counter()
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
    draw_demo_graphs(loss, model, args.out)
    for path in save_plots(model, history, X_val, y_val, args.out, log=lambda s: print("   " + s)):
        print(f"   {path}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0 if result.passed else 1


def draw_demo_graphs(loss, model, out):
    """graph.svg (every op, backward order) and graph_layers.svg (one node per layer)."""
    from . import viz
    full = viz.draw_graph(loss, model, modules="cluster", show=("order", "grads"), direction="TB")
    layers = viz.draw_graph(loss, model, modules="collapse", show="grads", direction="TB")
    n_tensors, n_ops = count_nodes(full)
    unrendered = []
    for dot, name, what in [(full, "graph.svg", f"every op ({n_tensors} tensors, {n_ops} ops), "
                                                f"numbered in backward order"),
                            (layers, "graph_layers.svg", "one node per layer")]:
        wanted = os.path.join(out, name)
        path, rendered = write_graph(dot, wanted)
        print(f"   {path}: computation graph, {what}")
        if not rendered:
            unrendered.append((path, wanted))
    if unrendered:
        print("   " + no_dot_message(unrendered).replace("\n", "\n   "))


def graph(args):
    """Draw the graph of an MLP's cross-entropy loss on a random batch."""
    from . import nn, viz
    from .functional import cross_entropy
    from .tensor import Tensor
    dims, rng = args.dims, np.random.default_rng(args.seed)
    model = nn.MLP(dims, batchnorm=args.batchnorm, generator=rng)
    x = Tensor(rng.standard_normal((args.batch, dims[0])))
    loss = cross_entropy(model(x), rng.integers(0, dims[-1], args.batch))
    dot = viz.draw_graph(viz.retain_grads_and_backward(loss) if args.grads else loss, model,
                         show=["order"] * args.backward_order + ["grads"] * args.grads,
                         modules=("collapse" if args.collapse else
                                  "cluster" if args.cluster else None), direction=args.rankdir)
    path, rendered = write_graph(dot, args.out)
    if not rendered:   # the DOT text is there, but not the file asked for
        print(f"tinygrad-edu graph: wrote {path}. " + no_dot_message([(path, args.out)]),
              file=sys.stderr)
        return 1
    n_tensors, n_ops = count_nodes(dot)
    print(f"wrote {path}: {n_tensors} tensors, {n_ops} ops")
    return 0


def check(args):
    """Every derivation in manual.py against autograd and finite differences."""
    from .derivations import check_derivations
    # two lines: the report keeps within 100 columns
    print("hand-derived gradients (tinygrad_edu/manual.py) vs autograd and central finite\n"
          f"differences, random float64 inputs (seed {args.seed})")
    report = check_derivations(seed=args.seed)
    return 0 if report.passed else 1


HAND_STEP = """\
z1 = linear_forward(x, W1, b1)                       # forward
h = relu(z1)
z2 = linear_forward(h, W2, b2)
loss, dz2 = softmax_cross_entropy(z2, y)             # dL/dz2 = (softmax(z2) - Y) / N
dh, dW2, db2 = linear_backward(dz2, h, W2)           # backward, layer by layer
dz1 = relu_backward(dh, z1)
_, dW1, db1 = linear_backward(dz1, x, W1)
W1 -= lr * dW1; b1 -= lr * db1; W2 -= lr * dW2; b2 -= lr * db2   # the SGD update
"""


def compile_demo(args):
    """Compile one SGD step of a tiny MLP (2-4-3, ReLU, cross-entropy), print the NumPy
    program tg.compile wrote for it (the backward pass autograd derived, written out),
    then the same step written by hand with manual.py, and check that both give the
    same gradients."""
    from . import manual, nn, optim
    from .check import compare_gradients
    from .compile import compile as tg_compile
    from .tensor import tensor
    from .functional import cross_entropy
    from .random import manual_seed
    rng = np.random.default_rng(args.seed)
    manual_seed(args.seed)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = rng.standard_normal((8, 2)), rng.integers(0, 3, 8)

    @tg_compile
    def step(x, y):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    xt, yt = tensor(x), tensor(y)
    for _ in range(3):   # calls 1 and 2 are traced and checked; 3 runs the program
        step(xt, yt)
    W1, b1, W2, b2 = [p.numpy().copy() for p in model.parameters()]
    step(xt, yt)   # one more replay: .grad now holds the gradients at W1, b1, W2, b2
    print("1. the step tg.compile wrote: model = Sequential(Linear(2, 4), ReLU(), "
          "Linear(4, 3)), SGD lr 0.1, a batch of 8")
    print(step.source)
    print("2. the same step by hand, with manual.py (the classic labs' backward):")
    print(HAND_STEP)
    z1 = manual.linear_forward(x, W1, b1)
    h = manual.relu(z1)
    _, dz2 = manual.softmax_cross_entropy(manual.linear_forward(h, W2, b2), y)
    dh, dW2, db2 = manual.linear_backward(dz2, h, W2)
    _, dW1, db1 = manual.linear_backward(manual.relu_backward(dh, z1), x, W1)
    print("3. the compiled step's gradients against the hand-written ones:")
    result = compare_gradients(model, {"0.weight": dW1, "0.bias": db1, "2.weight": dW2,
                                       "2.bias": db2}, verbose=False,
                               labels=("tg.compile", "manual.py"))
    print("   " + result.table().replace("\n", "\n   "))
    return 0 if result.passed else 1


def train(args):
    """Train an MLP on a toy dataset and report accuracy (optionally plots in --out)."""
    from .functional import cross_entropy
    from .training import evaluate
    n_classes = 3 if args.dataset in ("blobs", "spirals") else 2
    dims = [2] + args.hidden + [n_classes]
    print(f"training MLP {'-'.join(map(str, dims))}{' with BatchNorm1d' if args.batchnorm else ''}"
          f" on {args.dataset}: {args.optimizer} lr {args.lr}, {args.epochs} epochs")
    model, history, (X_tr, X_val, y_tr, y_val) = train_model(
        dims, args.batchnorm, args.dataset, args.optimizer, args.lr, args.epochs,
        args.batch_size, args.seed, args.samples)
    _, train_acc = evaluate(model, cross_entropy, X_tr, y_tr)
    _, val_acc = evaluate(model, cross_entropy, X_val, y_val)
    print(f"train accuracy {train_acc:.1%}   validation accuracy {val_acc:.1%}")
    if args.out:
        for path in save_plots(model, history, X_val, y_val, args.out):
            print(f"wrote {path}")
    return 0


# --- checking the command line before any work ------------------------------------------------
#
# Values are checked by argparse `type=` functions (their message follows "argument
# --flag:"), combinations and output paths by each command's `validate`; both end in
# Parser.error: one line, exit status 2.

def int_in(low, high=None):
    """An argparse type: an integer from low to high (no upper bound when high is None)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < low:
            least = {0: "a non-negative integer", 1: "a positive integer"}.get(
                low, f"at least {low}")
            raise argparse.ArgumentTypeError(f"must be {least}, got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {value}")
        return value
    return parse


def learning_rate(text):
    """An argparse type: a positive, finite float (nan, inf, 0 and negatives can't train)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def layer_sizes(fewest, most):
    """An argparse type: comma-separated layer widths, 1 to MAX_WIDTH, fewest to most of them."""
    def parse(text):
        try:
            sizes = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"takes comma-separated integers, got {text!r}") from None
        if not fewest <= len(sizes) <= most:
            raise argparse.ArgumentTypeError(f"takes {fewest} to {most} sizes, got {text!r}")
        if any(not 1 <= s <= MAX_WIDTH for s in sizes):
            raise argparse.ArgumentTypeError(f"sizes must be from 1 to {MAX_WIDTH}, got {text!r}")
        return sizes
    return parse


def graph_file(text):
    """An argparse type: a file name ending in .svg, .png, .pdf or .dot (any case)."""
    if os.path.splitext(text)[1][1:].lower() not in GRAPH_FORMATS:
        raise argparse.ArgumentTypeError(
            f"must end in .svg, .png, .pdf or .dot, got {text!r}")
    return text


def folder_problem(path):
    """Create the folder `path` if needed; None if it can be written to, else why not."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        return f"cannot create the folder {path!r}: {e.strerror}"
    if not os.access(path, os.W_OK):
        return f"cannot write into the folder {path!r}"
    return None


def batchnorm_batch_problem(flag, size):
    return (f"{flag} must be at least 2 with --batchnorm (BatchNorm1d computes statistics "
            f"over the batch), got {size}")


def validate_demo(args):
    problem = folder_problem(args.out)
    return problem and f"--out: {problem}"


def validate_graph(args):
    if args.batchnorm and args.batch < 2:
        return batchnorm_batch_problem("--batch", args.batch)
    if os.path.isdir(args.out):
        return f"--out: {args.out!r} is a folder; give a file name such as graph.svg"
    problem = folder_problem(os.path.dirname(args.out) or ".")
    return problem and f"--out: {problem}"


def validate_train(args):
    if args.batchnorm and args.hidden and args.batch_size < 2:
        return batchnorm_batch_problem("--batch-size", args.batch_size)
    problem = args.out and folder_problem(args.out)
    return problem and f"--out: {problem}"


# --- the parser ---------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    """argparse's parser with a one-line error: the usage block of a command with a
    dozen options would bury the line that says what is wrong."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keeps the description's layout and adds "(default: ...)" to options that take a value."""

    def _get_help_string(self, action):
        # flags and optional outputs: "(default: False)" would only be noise
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def add_training_options(p, dataset, samples, lr_help):
    p.add_argument("--dataset", choices=DATASETS, default=dataset, help="toy 2-D dataset")
    p.add_argument("--samples", type=int_in(MIN_SAMPLES, MAX_SAMPLES), default=samples,
                   help=f"points in the dataset, {MIN_SAMPLES} to {MAX_SAMPLES}")
    p.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=30,
                   help=f"passes over the data, 1 to {MAX_EPOCHS}")
    p.add_argument("--lr", type=learning_rate, default=0.01, help=lr_help)
    p.add_argument("--seed", type=int_in(0), default=0,
                   help="seed of the data and weights, 0 or more")


def add_graph_options(p):
    p.add_argument("--dims", type=layer_sizes(2, MAX_HIDDEN_LAYERS + 2), default="2,16,16,3",
                   help=f"layer sizes, input to output: 2 to {MAX_HIDDEN_LAYERS + 2} sizes, "
                        f"each 1 to {MAX_WIDTH}")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm1d after each hidden Linear")
    p.add_argument("--batch", type=int_in(1, MAX_BATCH), default=8,
                   help=f"batch size of the random input, 1 to {MAX_BATCH} (2 or more with "
                        f"--batchnorm)")
    p.add_argument("--out", type=graph_file, default="graph.svg",
                   help="file: .svg, .png, .pdf (need Graphviz's dot; without it the .dot is "
                        "written) or .dot (DOT text); the extension may be in any case")
    p.add_argument("--collapse", action="store_true", help="one node per layer instead of per op")
    p.add_argument("--cluster", action="store_true", help="box the ops of each module")
    p.add_argument("--backward-order", action="store_true",
                   help="number ops in the order backward() runs them")
    p.add_argument("--grads", action="store_true", help="run backward and show gradient norms")
    p.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                   help="left to right or top to bottom")
    p.add_argument("--seed", type=int_in(0), default=0,
                   help="seed of the weights and the batch, 0 or more")


def add_train_options(p):
    add_training_options(p, "moons", 600, "learning rate, a positive number")
    p.add_argument("--hidden", type=layer_sizes(0, MAX_HIDDEN_LAYERS), default="16,16",
                   help=f"hidden sizes, comma-separated ('' for none): up to "
                        f"{MAX_HIDDEN_LAYERS} layers, each 1 to {MAX_WIDTH} wide")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam",
                   help="adam, or sgd with momentum 0.9")
    p.add_argument("--batch-size", type=int_in(1, MAX_BATCH), default=32,
                   help=f"minibatch size, 1 to {MAX_BATCH} (2 or more with --batchnorm)")
    p.add_argument("--batchnorm", action="store_true", help="BatchNorm1d after each hidden Linear")
    p.add_argument("--out", default=None, help="folder for decision-boundary and loss plots")


def build_parser():
    from . import __version__
    parser = Parser(prog="tinygrad-edu", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tinygrad-edu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name, run, validate, help):
        p = sub.add_parser(name, help=help, description=run.__doc__,
                           formatter_class=HelpFormatter)
        p.set_defaults(run=run, validate=validate, parser=p)
        return p

    p = command("demo", demo, validate_demo, "train a BatchNorm MLP, check its gradients by "
                                             "hand, draw its graph (start here)")
    p.add_argument("--out", default="demo_output", help="output folder")
    add_training_options(p, "spirals", 1200, "Adam learning rate, a positive number")
    add_graph_options(command("graph", graph, validate_graph,
                              "draw the computation graph of an MLP's loss to a file"))
    p = command("check", check, None, "check every hand derivation in manual.py against "
                                      "autograd and finite differences (exit status 1 on a "
                                      "mismatch)")
    p.add_argument("--seed", type=int_in(0), default=0, help="seed of the random inputs, 0 or more")
    add_train_options(command("train", train, validate_train, "train an MLP on a toy dataset"))
    p = command("compile-demo", compile_demo, None, "print the NumPy program tg.compile writes "
                                                    "for a tiny MLP's training step, next to "
                                                    "the same step by hand")
    p.add_argument("--seed", type=int_in(0), default=0, help="seed of the data and weights")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:   # a bare `tinygrad-edu`: say what there is to run
        parser.print_help(sys.stderr)
        return 2
    problem = args.validate and args.validate(args)
    if problem:
        args.parser.error(problem)   # one line naming the option; exits with status 2
    try:
        return args.run(args)
    except TrainingDiverged as e:
        print(f"tinygrad-edu {args.command}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tinygrad-edu {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # `tinygrad-edu check | head`: the reader has all it wanted
        # point stdout at devnull, or flushing it at exit raises the same error again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141   # 128 + SIGPIPE, what the shell reports for a program stopped by it


if __name__ == "__main__":
    sys.exit(main())
