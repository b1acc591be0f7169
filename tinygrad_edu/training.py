"""fit(): a small training loop for classifiers, with a per-epoch history.

This is a convenience. The loop it runs is the plain PyTorch one, which stays
the main way to train (and the one to read first):

    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()

fit() adds what you would otherwise write around it: evaluation on a
validation set after each epoch, a learning-rate schedule, progress lines (a
tqdm bar in a terminal or notebook), and, when asked, going back to the
parameters of the best epoch.
"""
import html
import sys
import time

import numpy as np

from .autograd import no_grad
from .data import DataLoader, check_integer
from .formatting import in_notebook
from .tensor import Tensor


class History:
    """Per-epoch records of a fit() run (lists indexed by epoch - 1).

    train_loss: mean training loss over the epoch's batches (weighted by batch size);
    train_acc: accuracy on those batches, as seen during training (None if not a
    classification); val_loss, val_acc: on the validation set after the epoch
    (None without one); lr: the first parameter group's learning rate during the
    epoch; seconds: time elapsed since the start at the end of each epoch;
    best_epoch: the epoch (1-based) with the best validation accuracy (or
    loss, when accuracy is not available), or None; restored_epoch: the epoch
    whose parameters the model ended with when fit(restore_best=True) went back
    to it, else None (the model has the last epoch's parameters). The lists
    always hold every epoch: history.val_acc[-1] is the last epoch's, and
    history.val_acc[history.restored_epoch - 1] the restored one's.
    """

    def __init__(self):
        self.train_loss, self.train_acc = [], []
        self.val_loss, self.val_acc = [], []
        self.lr, self.seconds = [], []
        self.best_epoch = self.restored_epoch = None

    def __len__(self):
        return len(self.train_loss)

    def append(self, train_loss, train_acc, val_loss, val_acc, lr, seconds):
        """Record one epoch (None for what it doesn't have: accuracy, validation)."""
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        self.val_loss.append(val_loss)
        self.val_acc.append(val_acc)
        self.lr.append(lr)
        self.seconds.append(seconds)

    def as_dict(self):
        return {"train_loss": self.train_loss, "train_acc": self.train_acc,
                "val_loss": self.val_loss, "val_acc": self.val_acc, "lr": self.lr,
                "best_epoch": self.best_epoch, "restored_epoch": self.restored_epoch}

    def __repr__(self):
        if not self.train_loss:
            return "History(0 epochs)"
        last = f"train_loss={self.train_loss[-1]:.4g}"
        if self.val_acc and self.val_acc[-1] is not None:
            last += f", val_acc={self.val_acc[-1]:.4f}"
        restored = "" if self.restored_epoch is None else f", restored_epoch={self.restored_epoch}"
        return f"History({len(self)} epochs, {last}, best_epoch={self.best_epoch}{restored})"

    def _repr_html_(self):
        """A notebook table: one row per epoch; the restored (or best) epoch in bold."""
        columns = [("epoch", list(range(1, len(self) + 1)), "{}"),
                   ("loss", self.train_loss, "{:.4f}"), ("acc", self.train_acc, "{:.3f}"),
                   ("val_loss", self.val_loss, "{:.4f}"), ("val_acc", self.val_acc, "{:.3f}"),
                   ("lr", self.lr, "{:.2g}"), ("seconds", self.seconds, "{:.1f}")]
        columns = [c for c in columns if any(v is not None for v in c[1])]
        marked = self.restored_epoch or self.best_epoch
        rows = []
        for i in range(len(self)):
            cells = "".join(f"<td>{fmt.format(values[i]) if values[i] is not None else ''}</td>"
                            for _, values, fmt in columns)
            style = ' style="font-weight:bold"' if i + 1 == marked else ""
            rows.append(f"<tr{style}>{cells}</tr>")
        head = "".join(f"<th>{name}</th>" for name, _, _ in columns)
        note = html.escape(repr(self))
        return (f"<table><caption>{note}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    def plot(self, axes=None):
        """Loss (and accuracy, where recorded) per epoch, train vs validation: a matplotlib
        Figure (shown inline in a notebook). See plots.plot_history."""
        from .plots import plot_history
        return plot_history(self, axes=axes)


def correct_count(scores, labels):
    """How many rows of `scores` (N, C) have their largest score at the integer label;
    None when this isn't a classification (non-integer labels, or one score per row)."""
    labels = labels._data if isinstance(labels, Tensor) else np.asarray(labels)
    if labels.dtype.kind not in "iu" or scores.ndim != 2 or scores.shape[1] < 2:
        return None
    return int((scores._data.argmax(axis=1) == labels).sum())


def evaluate(model, loss_fn, X, y):
    """(loss, accuracy or None) of the model on (X, y), in eval mode without recording."""
    if len(X) == 0:
        raise ValueError("evaluate: the set is empty (X has 0 samples): a loss and an "
                         "accuracy need at least one")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            X = X if isinstance(X, Tensor) else Tensor(X)
            y = y if isinstance(y, Tensor) else Tensor(y)
            scores = model(X)
            loss = float(loss_fn(scores, y).item())
    finally:
        model.train(was_training)
    correct = correct_count(scores, y)
    return loss, (None if correct is None else correct / len(y))


def fit(model, loss_fn, optimizer, train, epochs=10, val=None, scheduler=None, batch_size=32,
        shuffle=True, seed=None, verbose=True, print_every=None, restore_best=False,
        log=print, drop_last=False, progress_bar=None):
    """Train `model` for `epochs` epochs and return a History.

    train: a DataLoader (for a dataset of (x, y) samples: DataLoader(dataset, ...)),
    or a pair (X, y) of arrays that is batched here with batch_size, shuffle,
    seed and drop_last (True drops a last, smaller batch: a BatchNorm network
    cannot train on one sample). val: an optional pair (X_val, y_val) evaluated
    after each epoch. Neither may be empty (a ValueError says which).
    scheduler.step() is called once per epoch.

    verbose=True logs one line every `print_every` epochs (default: about 10
    lines per run, plus the first and last) with the elapsed time.
    progress_bar: None (default) shows a tqdm bar over the epochs, the lines
    printed above it, when tqdm is installed, log is print and stdout is a
    terminal or a Jupyter kernel; never in a log written to a file or a pipe.
    True always shows one (tqdm required), False never.

    restore_best=False (the default, as Keras' EarlyStopping and PyTorch
    Lightning): the model ends with the last epoch's parameters. True (needs
    val): it ends with the parameters and buffers of the epoch with the best
    validation accuracy (or loss, where accuracy does not apply; ties keep the
    earlier epoch); history.restored_epoch says which, and that epoch's numbers
    are logged.
    """
    epochs = check_integer(epochs, "epochs", "fit", minimum=0)
    if print_every is None:
        print_every = max(1, epochs // 10)
    print_every = check_integer(print_every, "print_every", "fit", minimum=1)
    if not isinstance(restore_best, bool):
        raise TypeError(f"fit: restore_best must be True or False, got {restore_best!r}")
    if restore_best and val is None:
        raise ValueError("fit: restore_best=True needs a validation set (val=(X_val, y_val)) "
                         "to choose the best epoch by")
    if not (progress_bar is None or isinstance(progress_bar, bool)):
        raise TypeError(f"fit: progress_bar must be None (automatic), True or False, "
                        f"got {progress_bar!r}")
    if not isinstance(train, DataLoader) and not (isinstance(train, (tuple, list))
                                                  and len(train) == 2):
        raise TypeError(f"fit: train must be a DataLoader or a pair (X, y), got "
                        f"{type(train).__name__}")
    loader = train if isinstance(train, DataLoader) else DataLoader(
        train[0], train[1], batch_size=batch_size, shuffle=shuffle, seed=seed,
        drop_last=drop_last)
    check_sets(loader, val)
    history, best = History(), BestEpoch(keep_state=restore_best)
    bar = make_progress_bar(epochs, progress_bar, log) if verbose else None
    say = log if bar is None else bar.write
    start = time.perf_counter()
    try:
        for epoch in range(1, epochs + 1):
            lr = optimizer.param_groups[0]["lr"]
            train_loss, train_acc = train_epoch(model, loss_fn, optimizer, loader)
            if scheduler is not None:
                scheduler.step()
            val_loss, val_acc = (None, None) if val is None else evaluate(model, loss_fn, *val)
            history.append(train_loss, train_acc, val_loss, val_acc, lr,
                           time.perf_counter() - start)
            if val is not None and best.update(val_loss, val_acc, model):
                history.best_epoch = epoch
            if bar is not None:
                bar.set_postfix_str(metrics_text(history, epoch - 1), refresh=False)
                bar.update(1)
            if verbose and (epoch == 1 or epoch == epochs or epoch % print_every == 0):
                say(progress_line(history, epoch, epochs))
    finally:
        if bar is not None:
            bar.close()
    if best.state is not None:
        model.load_state_dict(best.state)
        history.restored_epoch = history.best_epoch
        if verbose:
            by = "accuracy" if history.val_acc[0] is not None else "loss"
            log(f"restored the parameters of epoch {history.restored_epoch} (best validation "
                f"{by}): {metrics_text(history, history.restored_epoch - 1)}")
    return history


def interactive_output():
    """Whether stdout is read by a person as it is written: a terminal or a Jupyter kernel."""
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty is not None and isatty()) or in_notebook()


def make_progress_bar(epochs, wanted, log):
    """A tqdm bar over the epochs on stdout, or None (see fit's progress_bar)."""
    if wanted is False or (wanted is None and (log is not print or not interactive_output())):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        if wanted:
            raise ModuleNotFoundError("fit: progress_bar=True needs tqdm: pip install tqdm  "
                                      "(or: pip install 'tinygrad_edu[progress]')") from None
        return None
    return tqdm(total=epochs, unit="epoch", file=sys.stdout, dynamic_ncols=True, leave=True)


def check_sets(loader, val):
    """fit's checks: a training loader with at least one batch, a non-empty (X, y) pair as val."""
    n = len(loader.dataset)
    if n == 0:
        raise ValueError("fit: the training set (train) is empty: there is nothing to train on")
    if len(loader) == 0:
        raise ValueError(f"fit: train gives no batches: {n} samples, batch_size="
                         f"{loader.batch_size}, drop_last={loader.drop_last}")
    if val is None:
        return
    if not isinstance(val, (tuple, list)) or len(val) != 2:
        raise TypeError(f"fit: val must be a pair (X_val, y_val), got {type(val).__name__}"
                        + (f" of length {len(val)}" if isinstance(val, (tuple, list)) else ""))
    n_x, n_y = len(val[0]), len(val[1])
    if n_x != n_y:
        raise ValueError(f"fit: val's X has {n_x} samples but its y has {n_y}")
    if n_x == 0:
        raise ValueError("fit: the validation set (val) is empty; pass val=None to train "
                         "without one")


def train_epoch(model, loss_fn, optimizer, loader):
    """One pass over `loader` in training mode: zero_grad, forward, loss, backward, step.

    Returns (mean loss over the samples, each batch's loss weighted by its size;
    accuracy on those batches as seen during training, or None if not a classification).
    """
    model.train()
    total_loss, total_correct, seen, counted = 0.0, 0, 0, True
    for xb, yb in loader:
        optimizer.zero_grad()
        scores = model(xb)
        loss = loss_fn(scores, yb)
        loss.backward()
        optimizer.step()
        n = len(xb)
        total_loss += float(loss.item()) * n
        seen += n
        correct = correct_count(scores, yb)
        counted = counted and correct is not None
        total_correct += correct or 0
    return total_loss / seen, (total_correct / seen if counted else None)


class BestEpoch:
    """The best validation score so far and, with keep_state, the model's state at it.

    The score is the validation accuracy, or minus the validation loss when
    accuracy does not apply: higher is better.
    """

    def __init__(self, keep_state):
        self.keep_state, self.score, self.state = keep_state, None, None

    def update(self, val_loss, val_acc, model):
        """Record this epoch if it beats every earlier one (ties keep the earlier); True if so."""
        score = val_acc if val_acc is not None else -val_loss
        if self.score is not None and score <= self.score:
            return False
        self.score = score
        if self.keep_state:
            # copies: state_dict() shares memory with the model, and later steps change it
            self.state = {k: v.clone() for k, v in model.state_dict().items()}
        return True


def progress_line(history, epoch, epochs):
    """One epoch's log line: its number, its metrics and the time elapsed."""
    return (f"epoch {epoch:>{len(str(epochs))}}/{epochs}  "
            f"{metrics_text(history, epoch - 1)}  {history.seconds[epoch - 1]:.1f}s")


def metrics_text(history, i):
    """The numbers of the epoch at index i: "loss 0.3 acc 0.9 val_loss ... lr 0.01"."""
    parts = [f"loss {history.train_loss[i]:.4f}"]
    if history.train_acc[i] is not None:
        parts.append(f"acc {history.train_acc[i]:.3f}")
    if history.val_loss[i] is not None:
        parts.append(f"val_loss {history.val_loss[i]:.4f}")
    if history.val_acc[i] is not None:
        parts.append(f"val_acc {history.val_acc[i]:.3f}")
    parts.append(f"lr {history.lr[i]:.2g}")
    return "  ".join(parts)
