"""fit's progress output (a tqdm bar only where a person watches) and restore_best."""
import io
import sys
import types

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import data, nn, optim, training
from tinygrad_edu.training import evaluate, fit


@pytest.fixture
def moons():
    X, y = data.make_moons(200, noise=0.2, seed=0)
    return data.train_test_split(X, y, test_size=0.3, seed=0, stratify=y)


def small_run(moons, **kwargs):
    Xtr, Xv, ytr, yv = moons
    tg.manual_seed(0)
    model = nn.MLP([2, 8, 2])
    opt = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    history = fit(model, F.cross_entropy, opt, (Xtr, ytr), epochs=kwargs.pop("epochs", 6),
                  val=(Xv, yv), seed=0, **kwargs)
    return model, history


class Terminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self):
        return True


class FakeTqdm:
    """Records what fit asks of a tqdm bar."""
    made = []

    def __init__(self, total, unit, file, **kwargs):
        self.total, self.unit, self.file, self.kwargs = total, unit, file, kwargs
        self.n, self.postfixes, self.written, self.closed = 0, [], [], False
        FakeTqdm.made.append(self)

    def update(self, n):
        self.n += n

    def set_postfix_str(self, text, refresh=True):
        self.postfixes.append(text)

    def write(self, text):
        self.written.append(text)

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    FakeTqdm.made = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    return FakeTqdm


@pytest.fixture
def no_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)   # `from tqdm import tqdm` fails


def test_a_terminal_gets_a_bar_with_the_lines_written_above_it(moons, monkeypatch, fake_tqdm):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    _, history = small_run(moons, print_every=3)
    bar, = fake_tqdm.made
    assert bar.total == 6 and bar.n == 6 and bar.unit == "epoch" and bar.closed
    assert bar.file is terminal
    assert [line.split()[1] for line in bar.written] == ["1/6", "3/6", "6/6"]
    assert bar.postfixes[-1] == training.metrics_text(history, 5)
    assert f"val_acc {history.val_acc[-1]:.3f}" in bar.postfixes[-1]
    assert terminal.getvalue() == ""   # everything went through the bar


def test_a_jupyter_kernel_counts_as_interactive(monkeypatch, fake_tqdm, moons):
    shell = types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setattr(sys, "stdout", io.StringIO())   # a kernel's stdout is no terminal
    assert training.interactive_output()
    small_run(moons, epochs=2)
    assert len(fake_tqdm.made) == 1
    # IPython in a plain terminal-less process (no kernel) is not interactive
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not training.interactive_output()


def test_a_log_file_or_pipe_never_gets_a_bar(moons, fake_tqdm, capsys):
    small_run(moons, epochs=4, print_every=2)   # pytest's captured stdout is not a terminal
    out = capsys.readouterr().out
    assert fake_tqdm.made == [] and "\r" not in out
    assert [line.split()[1] for line in out.splitlines()] == ["1/4", "2/4", "4/4"]


def test_a_custom_log_or_progress_bar_false_gets_plain_lines(moons, monkeypatch, fake_tqdm):
    monkeypatch.setattr(sys, "stdout", Terminal())
    lines = []
    small_run(moons, epochs=3, log=lines.append)
    small_run(moons, epochs=3, progress_bar=False)
    assert fake_tqdm.made == [] and len(lines) == 3
    assert sys.stdout.getvalue().count("epoch ") == 3
    small_run(moons, epochs=3, verbose=False)   # quiet means quiet: no bar either
    assert fake_tqdm.made == []


def test_progress_bar_true_shows_one_even_in_a_log(moons, fake_tqdm, capsys):
    small_run(moons, epochs=2, progress_bar=True)
    assert len(fake_tqdm.made) == 1 and capsys.readouterr().out == ""


def test_without_tqdm_a_terminal_gets_lines_and_asking_for_a_bar_explains(moons, monkeypatch,
                                                                          no_tqdm):
    monkeypatch.setattr(sys, "stdout", Terminal())
    small_run(moons, epochs=2)
    assert sys.stdout.getvalue().count("epoch ") == 2
    with pytest.raises(ModuleNotFoundError, match=r"fit: progress_bar=True needs tqdm: "
                                                  r"pip install tqdm"):
        small_run(moons, epochs=2, progress_bar=True)


def test_the_bar_is_closed_when_training_fails(moons, monkeypatch, fake_tqdm):
    monkeypatch.setattr(sys, "stdout", Terminal())
    Xtr, Xv, ytr, yv = moons
    model = nn.MLP([2, 4, 2])

    def broken_loss(scores, labels):
        raise RuntimeError("loss exploded")

    with pytest.raises(RuntimeError, match="loss exploded"):
        fit(model, broken_loss, optim.SGD(model.parameters(), lr=0.1), (Xtr, ytr), epochs=3)
    assert fake_tqdm.made[0].closed


def test_a_real_tqdm_bar_counts_the_epochs(moons, monkeypatch):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    small_run(moons, epochs=3, print_every=1)
    out = terminal.getvalue()
    assert "3/3" in out and "epoch" in out and out.count("epoch 2/3  loss") == 1


def test_by_default_the_model_keeps_its_last_parameters(moons, capsys):
    Xtr, Xv, ytr, yv = moons
    model, history = small_run(moons)
    assert history.restored_epoch is None and history.best_epoch is not None
    loss, acc = evaluate(model, F.cross_entropy, Xv, yv)
    assert acc == history.val_acc[-1] and loss == pytest.approx(history.val_loss[-1], rel=1e-12)
    assert "restored" not in capsys.readouterr().out
    assert "restored_epoch" not in repr(history)


def test_restore_best_says_which_epoch_and_prints_its_numbers(moons):
    Xtr, Xv, ytr, yv = moons
    lines = []
    model, history = small_run(moons, epochs=12, restore_best=True, log=lines.append)
    best = history.best_epoch
    assert history.restored_epoch == best and len(history.val_acc) == 12   # every epoch kept
    assert history.val_acc[best - 1] == max(history.val_acc)
    loss, acc = evaluate(model, F.cross_entropy, Xv, yv)
    assert acc == history.val_acc[best - 1]
    assert loss == pytest.approx(history.val_loss[best - 1], rel=1e-12)
    assert lines[-1] == (f"restored the parameters of epoch {best} (best validation accuracy): "
                         + training.metrics_text(history, best - 1))
    assert f"val_loss {history.val_loss[best - 1]:.4f}" in lines[-1]
    assert f"restored_epoch={best}" in repr(history)
    assert history.as_dict()["restored_epoch"] == best


def test_restore_best_on_a_regression_goes_by_validation_loss(capsys):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 2))
    y = X @ np.array([[1.0], [-1.0]])
    tg.manual_seed(3)
    model = nn.Linear(2, 1)
    history = fit(model, F.mse_loss, optim.SGD(model.parameters(), lr=0.05), (X, y),
                  epochs=5, val=(X, y), restore_best=True, seed=0)
    assert history.restored_epoch == history.val_loss.index(min(history.val_loss)) + 1
    assert "(best validation loss)" in capsys.readouterr().out


def test_bad_arguments_are_refused(moons):
    Xtr, Xv, ytr, yv = moons
    model = nn.MLP([2, 4, 2])
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="restore_best=True needs a validation set"):
        fit(model, F.cross_entropy, opt, (Xtr, ytr), epochs=1, restore_best=True)
    with pytest.raises(TypeError, match="restore_best must be True or False, got 'yes'"):
        fit(model, F.cross_entropy, opt, (Xtr, ytr), epochs=1, val=(Xv, yv), restore_best="yes")
    with pytest.raises(TypeError, match="progress_bar must be None .*got 1"):
        fit(model, F.cross_entropy, opt, (Xtr, ytr), epochs=1, progress_bar=1)
