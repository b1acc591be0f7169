"""Plots a learner draws while training: the loss curves, a decision boundary, and the
per-layer statistics the makemore lectures use to spot dead or saturated layers.

matplotlib is optional (pip install matplotlib) and imported only when a plot is
drawn. Each function draws on `ax` (or `axes`) when given, else on a new Figure
made without pyplot (no GUI window, no global state), and returns the Figure: the
last line of a notebook cell shows it, and fig.savefig(path) writes it to a file.
"""
import numpy as np

from .formatting import in_notebook

MATPLOTLIB_INSTALL = "pip install matplotlib  (or: pip install 'tinygrad_edu[plots]')"


def require_matplotlib(caller):
    """matplotlib.figure.Figure, or an ImportError saying how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ModuleNotFoundError(f"{caller} needs matplotlib: {MATPLOTLIB_INSTALL}") from None
    if in_notebook():
        show_figures_inline(Figure)
    return Figure


def show_figures_inline(Figure):
    """Let a notebook cell show a Figure made without pyplot, as a PNG.

    Jupyter shows pyplot's figures because `import matplotlib.pyplot` turns on its
    inline backend; a Figure made directly would display as "<Figure size ...>".
    This registers, in the notebook's own display formatter, what the inline
    backend would: a Figure displays as its PNG.
    """
    from IPython import get_ipython
    from IPython.core.pylabtools import print_figure
    formatter = get_ipython().display_formatter.formatters["image/png"]
    if Figure not in formatter.type_printers:   # the inline backend's, or ours, already there
        formatter.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))


def new_axes(caller, ax, figsize):
    """`ax` itself, or the Axes of a new Figure of `figsize`."""
    Figure = require_matplotlib(caller)
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").add_subplot()


def plot_history(history, axes=None):
    """A fit() History: loss per epoch, train vs validation, and accuracy beside it where
    it was recorded. The best epoch is marked (dotted), and so is the restored one.

    axes: a sequence of one Axes (loss) or two (loss, accuracy) to draw on; by default
    a new Figure with one panel per quantity. Returns the Figure.
    """
    from .training import History
    if not isinstance(history, History):
        raise TypeError(f"plot_history: expected the History that fit() returns, "
                        f"got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("plot_history: the history has no epochs to draw (fit ran 0 epochs)")
    has_acc = history.train_acc[0] is not None or history.val_acc[0] is not None
    panels = 2 if has_acc else 1
    if axes is None:
        Figure = require_matplotlib("plot_history")
        fig = Figure(figsize=(5 * panels, 3.5), layout="constrained")
        axes = fig.subplots(1, panels, squeeze=False)[0]
    elif len(axes) != panels:
        raise ValueError(f"plot_history: this history needs {panels} Axes "
                         f"({'loss, accuracy' if has_acc else 'loss'}), got {len(axes)}")
    epochs = np.arange(1, len(history) + 1)
    quantities = [("loss", history.train_loss, history.val_loss)]
    if has_acc:
        quantities.append(("accuracy", history.train_acc, history.val_acc))
    for ax, (name, train, val) in zip(axes, quantities):
        if train[0] is not None:
            ax.plot(epochs, train, label="train")
        if val[0] is not None:
            ax.plot(epochs, val, label="validation")
        if history.best_epoch is not None:
            ax.axvline(history.best_epoch, color="gray", linestyle=":", linewidth=1,
                       label=f"best epoch ({history.best_epoch})")
        if history.restored_epoch is not None and history.restored_epoch != history.best_epoch:
            ax.axvline(history.restored_epoch, color="black", linestyle="--", linewidth=1,
                       label=f"restored epoch ({history.restored_epoch})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title(name)
        ax.legend()
    return axes[0].figure


def plot_decision_boundary(model, X, y, ax=None, steps=200, pad=0.5, threshold=None,
                           title=None):
    """Colour the plane by the class `model` predicts, with the points (X, y) on top.

    model: an nn.Module (called on an (M, 2) Tensor in eval mode without recording,
    then put back in its mode), or any function of an (M, 2) NumPy array. Its
    output per point is either scores (M, C) with C >= 2 (the class is the argmax),
    integer class ids (M,), or one score per point, (M,) or (M, 1), which needs
    `threshold` (0 for logits, 0.5 for probabilities): class 1 where score > threshold.
    X: (N, 2) points, y: (N,) integer labels. steps: grid points per axis; pad:
    margin around the data. Returns the Figure.
    """
    from .nn.module import Module
    X = _numpy(X)
    y = _numpy(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    if y.shape != (len(X),):
        raise ValueError(f"plot_decision_boundary: y must have shape ({len(X)},) to match X "
                         f"{X.shape}, got {y.shape}")
    if not callable(model):
        raise TypeError(f"plot_decision_boundary: model must be a Module or a function of "
                        f"points, got {type(model).__name__}")
    if int(steps) != steps or steps < 2:
        raise ValueError(f"plot_decision_boundary: steps must be an integer >= 2, got {steps}")
    ax = new_axes("plot_decision_boundary", ax, (5, 5))
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, int(steps))
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, int(steps))
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()]
    out = _predict_module(model, grid) if isinstance(model, Module) else _numpy(model(grid))
    classes = _classes(out, len(grid), threshold).reshape(gx.shape)
    n_classes = int(max(classes.max(), y.max() if y.size else 0)) + 1
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(gx, gy, classes, levels=levels, alpha=0.3, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=10, cmap="viridis", vmin=0, vmax=n_classes - 1,
               edgecolors="k", linewidths=0.3)
    ax.set_title("decision boundary" if title is None else title)
    return ax.figure


def _predict_module(model, points):
    from .autograd import no_grad
    from .tensor import Tensor
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return _numpy(model(Tensor(points)))
    finally:
        model.train(was_training)


def _classes(out, n, threshold):
    """Class ids (n,) from a model's output on n points (see plot_decision_boundary)."""
    if out.shape == (n, 1) or (out.shape == (n,) and out.dtype.kind == "f"):
        if threshold is None:
            raise ValueError("plot_decision_boundary: the model gives one score per point; "
                             "pass threshold= (0 for logits, 0.5 for probabilities)")
        return (out.reshape(n) > threshold).astype(np.int64)
    if threshold is not None:
        raise ValueError(f"plot_decision_boundary: threshold applies to one score per point, "
                         f"but the model gives shape {out.shape}")
    if out.shape == (n,) and out.dtype.kind in "iub":
        return out.astype(np.int64)
    if out.ndim == 2 and out.shape[0] == n and out.shape[1] >= 2:
        return out.argmax(axis=1)
    raise ValueError(f"plot_decision_boundary: the model's output on {n} points has shape "
                     f"{out.shape} ({out.dtype}); expected scores ({n}, C), class ids ({n},) "
                     f"or one score per point")


def plot_grad_flow(model, ax=None):
    """Per parameter, the mean and the largest |gradient| (bars, log scale), in the order
    the layers run: gradients that shrink layer by layer towards the input (vanishing)
    or grow (exploding) show at a glance. Call it after loss.backward().

    model: an nn.Module, or (name, parameter) pairs such as model.named_parameters().
    Parameters without a gradient are left out; if none has one, ValueError.
    Returns the Figure.
    """
    from .nn.module import Module
    pairs = list(model.named_parameters() if isinstance(model, Module) else model)
    named = [(name, p.grad.numpy()) for name, p in pairs if p.grad is not None]
    if not named:
        raise ValueError("plot_grad_flow: no parameter has a gradient; call loss.backward() "
                         "first (and don't zero the gradients before plotting)")
    ax = new_axes("plot_grad_flow", ax, (max(5, 0.5 * len(named) + 2), 4))
    positions = np.arange(len(named))
    largest = [float(np.abs(g).max()) if g.size else 0.0 for _, g in named]
    mean = [float(np.abs(g).mean()) if g.size else 0.0 for _, g in named]
    ax.bar(positions, largest, color="tab:cyan", alpha=0.6, label="max |grad|")
    ax.bar(positions, mean, color="tab:blue", alpha=0.8, label="mean |grad|")
    ax.set_xticks(positions, [name for name, _ in named], rotation=60, ha="right")
    if max(largest) > 0:
        ax.set_yscale("log")
    ax.set_ylabel("|gradient|")
    ax.set_title("gradient flow")
    ax.legend()
    return ax.figure


def plot_activation_histograms(tensors, ax=None, grad=False, bins=50, saturation=None):
    """One histogram line per named tensor: the makemore plot of each layer's outputs
    (are they spread out, dead, saturated?) or, with grad=True, of their gradients.

    tensors: {name: Tensor or array}, e.g. each Tanh layer's output kept by a forward
    hook (call retain_grad() on it before backward for grad=True). The legend gives
    each one's mean and std and, with saturation=s (0.97 for tanh in the lectures),
    the share of values with |value| > s. Returns the Figure.
    """
    from .tensor import Tensor
    if not isinstance(tensors, dict) or not tensors:
        raise TypeError("plot_activation_histograms: expected a non-empty dict {name: "
                        "tensor}, got " + (repr(tensors) if isinstance(tensors, dict)
                                           else type(tensors).__name__))
    if int(bins) != bins or bins < 1:
        raise ValueError(f"plot_activation_histograms: bins must be a positive integer, "
                         f"got {bins}")
    values = {}
    for name, t in tensors.items():
        if grad:
            if not isinstance(t, Tensor):
                raise TypeError(f"plot_activation_histograms: grad=True needs Tensors, but "
                                f"{name!r} is a {type(t).__name__}")
            if t.grad is None:
                raise ValueError(f"plot_activation_histograms: {name!r} has no gradient; "
                                 f"call its retain_grad() before backward()")
            t = t.grad
        array = _numpy(t)
        if array.size == 0:
            raise ValueError(f"plot_activation_histograms: {name!r} is empty (shape "
                             f"{array.shape})")
        values[name] = array.ravel().astype(np.float64)
    ax = new_axes("plot_activation_histograms", ax, (7, 3.5))
    for name, v in values.items():
        density, edges = np.histogram(v, bins=int(bins), density=True)
        label = f"{name}: mean {v.mean():+.2f}, std {v.std():.2f}"
        if saturation is not None:
            label += f", saturated {np.mean(np.abs(v) > saturation):.1%}"
        ax.plot((edges[:-1] + edges[1:]) / 2, density, label=label)
    ax.set_xlabel("gradient" if grad else "value")
    ax.set_ylabel("density")
    ax.set_title("gradient distribution" if grad else "activation distribution")
    ax.legend(fontsize="small")
    return ax.figure


def _numpy(value):
    from .tensor import Tensor
    return value.numpy() if isinstance(value, Tensor) else np.asarray(value)
