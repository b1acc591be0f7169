"""training.fit: the optional training loop helper and its History."""
import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import data, nn, optim
from tinygrad_edu.training import fit, evaluate


@pytest.fixture
def moons():
    X, y = data.make_moons(300, noise=0.15, seed=0)
    return data.train_test_split(X, y, test_size=0.3, seed=0, stratify=y)


def test_fit_learns_moons_and_records_history(moons):
    Xtr, Xv, ytr, yv = moons
    tg.manual_seed(0)
    model = nn.MLP([2, 16, 16, 2])
    opt = optim.Adam(model.parameters(), lr=0.02)
    lines = []
    h = fit(model, F.cross_entropy, opt, (Xtr, ytr), epochs=30, val=(Xv, yv), batch_size=32,
            seed=0, log=lines.append, restore_best=True)
    assert len(h) == 30
    for series in (h.train_loss, h.train_acc, h.val_loss, h.val_acc, h.lr):
        assert len(series) == 30
    assert h.train_loss[-1] < h.train_loss[0]
    assert max(h.val_acc) > 0.9
    assert h.val_acc[h.best_epoch - 1] == max(h.val_acc)
    assert h.best_epoch == h.val_acc.index(max(h.val_acc)) + 1   # ties: the earliest
    # restore_best: the model now scores exactly the best epoch's validation accuracy
    _, acc = evaluate(model, F.cross_entropy, Xv, yv)
    assert acc == h.val_acc[h.best_epoch - 1]
    # progress: epoch 1, every 3rd epoch (the last included), a note about the restore
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 11 and epoch_lines[0].startswith("epoch  1/30")
    assert "val_acc" in epoch_lines[0] and epoch_lines[0].endswith("s")
    assert lines[-1].startswith(f"restored the parameters of epoch {h.best_epoch}")
    assert model.training   # left ready for more training


def test_fit_without_restore_keeps_last_parameters(moons):
    Xtr, Xv, ytr, yv = moons
    tg.manual_seed(1)
    model = nn.MLP([2, 8, 2])
    h = fit(model, F.cross_entropy, optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            (Xtr, ytr), epochs=6, val=(Xv, yv), restore_best=False, verbose=False, seed=1)
    loss, acc = evaluate(model, F.cross_entropy, Xv, yv)
    assert acc == h.val_acc[-1] and loss == pytest.approx(h.val_loss[-1], rel=1e-12)


def test_fit_with_dataloader_scheduler_and_no_validation():
    X, y = data.make_blobs(120, centers=3, seed=2)
    tg.manual_seed(2)
    model = nn.MLP([2, 8, 3], batchnorm=True, dropout=0.1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    loader = data.DataLoader(X, y, batch_size=25, shuffle=True, seed=0)
    lines = []
    h = fit(model, F.cross_entropy, opt, loader, epochs=5, scheduler=sched,
            print_every=2, log=lines.append)
    assert h.lr == [0.1, 0.1, 0.05, 0.05, 0.025]
    assert h.best_epoch is None and h.val_acc == [None] * 5
    assert [line.split()[1] for line in lines] == ["1/5", "2/5", "4/5", "5/5"]
    assert "History(5 epochs" in repr(h)


def test_fit_on_regression_has_no_accuracy():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((64, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]])
    tg.manual_seed(3)
    model = nn.Linear(3, 1)
    h = fit(model, F.mse_loss, optim.Adam(model.parameters(), lr=0.1), (X, y), epochs=40,
            val=(X, y), verbose=False, seed=0)
    assert h.train_acc[0] is None and h.val_acc[0] is None
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)   # best by loss when no accuracy
    assert min(h.val_loss) < 0.05


# --- clear errors instead of silent or confusing results --------------------------------------

def tiny_setup(seed=0):
    tg.manual_seed(seed)
    model = nn.MLP([2, 4, 2])
    return model, optim.SGD(model.parameters(), lr=0.1)


def test_fit_refuses_an_empty_training_set():
    model, opt = tiny_setup()
    empty = (np.zeros((0, 2)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError, match=r"fit: the training set \(train\) is empty"):
        fit(model, F.cross_entropy, opt, empty, epochs=2, verbose=False)
    # samples, but no batch: drop_last with a batch larger than the set
    X, y = data.make_moons(10, seed=0)
    loader = data.DataLoader(X, y, batch_size=16, drop_last=True)
    with pytest.raises(ValueError, match=r"fit: train gives no batches: 10 samples, "
                                         r"batch_size=16, drop_last=True"):
        fit(model, F.cross_entropy, opt, loader, epochs=2, verbose=False)


def test_fit_refuses_an_empty_or_malformed_validation_set_and_a_bad_train():
    model, opt = tiny_setup()
    X, y = data.make_moons(20, seed=0)
    with pytest.raises(ValueError, match=r"fit: the validation set \(val\) is empty"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=1, verbose=False,
            val=(np.zeros((0, 2)), np.zeros(0, dtype=np.int64)))
    with pytest.raises(ValueError, match=r"fit: val's X has 20 samples but its y has 5"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=1, verbose=False, val=(X, y[:5]))
    with pytest.raises(TypeError, match=r"fit: train must be a DataLoader or a pair \(X, y\)"):
        fit(model, F.cross_entropy, opt, X, epochs=1, verbose=False)
    with pytest.raises(TypeError, match=r"fit: val must be a pair \(X_val, y_val\)"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=1, verbose=False, val=X)
    with pytest.raises(ValueError, match=r"evaluate: the set is empty"):
        evaluate(model, F.cross_entropy, np.zeros((0, 2)), np.zeros(0, dtype=np.int64))


def test_fit_drop_last_avoids_a_one_sample_batchnorm_batch():
    X, y = data.make_moons(33, seed=0)
    tg.manual_seed(0)
    model = nn.MLP([2, 8, 2], batchnorm=True)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="more than one value per feature"):
        fit(model, F.cross_entropy, opt, (X, y), epochs=1, batch_size=16, verbose=False)
    sizes = []

    def loss_fn(scores, target):
        sizes.append(len(target))
        return F.cross_entropy(scores, target)
    h = fit(model, loss_fn, opt, (X, y), epochs=2, batch_size=16, drop_last=True, verbose=False)
    assert sizes == [16, 16, 16, 16] and len(h) == 2


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 2.5}, TypeError, "fit: epochs must be an integer"),
    ({"epochs": -1}, ValueError, "fit: epochs must be at least 0"),
    ({"print_every": 0}, ValueError, "fit: print_every must be at least 1"),
    ({"batch_size": 2.5}, TypeError, "DataLoader: batch_size must be an integer"),
])
def test_fit_names_a_bad_count(kwargs, error, match):
    model, opt = tiny_setup()
    X, y = data.make_moons(20, seed=0)
    with pytest.raises(error, match=match):
        fit(model, F.cross_entropy, opt, (X, y), verbose=False, **kwargs)


def test_fit_trains_from_a_dataloader_over_a_dataset_of_pairs():
    X, y = data.make_blobs(60, centers=3, seed=4)
    results = []
    for train in (data.DataLoader(X, y, batch_size=16, shuffle=True, seed=0),
                  data.DataLoader(list(zip(X, y)), batch_size=16, shuffle=True, seed=0)):
        tg.manual_seed(4)
        model = nn.MLP([2, 4, 3])
        opt = optim.SGD(model.parameters(), lr=0.1)
        results.append(fit(model, F.cross_entropy, opt, train, epochs=3, verbose=False))
    assert results[0].train_loss == results[1].train_loss   # same batches, same run
    assert results[0].train_acc[0] is not None
