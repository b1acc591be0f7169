"""data: toy datasets, splitting, one_hot and DataLoader."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import data

GENERATORS = [
    lambda seed: data.make_blobs(90, centers=3, n_features=4, seed=seed),
    lambda seed: data.make_moons(90, noise=0.1, seed=seed),
    lambda seed: data.make_circles(90, noise=0.05, factor=0.5, seed=seed),
    lambda seed: data.make_spirals(90, n_classes=3, noise=0.2, seed=seed),
]


@pytest.mark.parametrize("make", GENERATORS, ids=["blobs", "moons", "circles", "spirals"])
def test_generators_are_seeded_arrays(make):
    X, y = make(0)
    assert isinstance(X, np.ndarray) and X.dtype == np.float64 and X.shape[0] == 90
    assert y.dtype.kind == "i" and y.shape == (90,)
    X2, y2 = make(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(1)
    assert not np.array_equal(X, X3)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1   # balanced classes
    assert not np.all(np.diff(y) >= 0)        # shuffled, not sorted by class


def test_moons_and_circles_geometry_without_noise():
    X, y = data.make_moons(101, seed=0)
    assert np.bincount(y).tolist() == [51, 50]
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1)
    assert upper[:, 1].min() >= -1e-12 and lower[:, 1].max() <= 0.5 + 1e-12
    X, y = data.make_circles(100, factor=0.3, seed=0)
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1)
    np.testing.assert_allclose(np.hypot(*X[y == 1].T), 0.3)
    with pytest.raises(ValueError, match="factor must be in"):
        data.make_circles(10, factor=1.5)


def test_blobs_with_given_centers_and_stds():
    centers = np.array([[0.0, 0.0], [100.0, 100.0]])
    X, y = data.make_blobs(2000, centers=centers, cluster_std=[1.0, 3.0], seed=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(0), centers[k], atol=0.3)
        assert X[y == k].std(0) == pytest.approx([1.0, 3.0][k] * np.ones(2), rel=0.1)
    with pytest.raises(ValueError, match="smaller than the number of classes"):
        data.make_blobs(2, centers=3)


def test_spirals_radius_and_classes():
    X, y = data.make_spirals(300, n_classes=4, noise=0.0, seed=0)
    assert set(y.tolist()) == {0, 1, 2, 3}
    assert np.hypot(*X.T).max() == pytest.approx(1.0)


def test_train_test_split_partitions_the_data():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, test_size=0.25, seed=0)
    assert len(Xte) == 5 and len(Xtr) == 15
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(20))
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)   # rows stay paired with labels
    again = data.train_test_split(X, y, test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[1], Xte)
    assert len(data.train_test_split(X, y, test_size=3, seed=0)[1]) == 3
    assert len(data.train_test_split(X, y, test_size=0.33)[1]) == 7   # ceil, as scikit-learn
    _, Xte, _, yte = data.train_test_split(X, y, test_size=4, shuffle=False)
    assert yte.tolist() == [16, 17, 18, 19]
    with pytest.raises(ValueError, match="X has 20 samples but y has 3"):
        data.train_test_split(X, y[:3])
    with pytest.raises(ValueError, match="both parts need at least one"):
        data.train_test_split(X, y, test_size=20)


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)[:, None]
    _, _, ytr, yte = data.train_test_split(X, y, test_size=0.2, seed=3, stratify=y)
    assert np.bincount(yte).tolist() == [12, 6, 2]
    assert np.bincount(ytr).tolist() == [48, 24, 8]


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0, 1])),
                                  [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert data.one_hot([0, 1], num_classes=4).shape == (2, 4)
    t = data.one_hot(tg.tensor([1, 0]))
    assert isinstance(t, tg.Tensor) and t.dtype == np.float64 and t.tolist() == [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        data.one_hot([0, 2], num_classes=2)
    with pytest.raises(TypeError, match="labels must be integers"):
        data.one_hot([0.5])


def test_dataloader_batches_and_partial_last_batch():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = data.DataLoader(X, y, batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    xb, yb = batches[-1]
    assert isinstance(xb, tg.Tensor) and isinstance(yb, tg.Tensor)
    assert yb.tolist() == [8, 9] and xb.tolist() == [[16, 17], [18, 19]]
    dropped = data.DataLoader(X, y, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(b[0]) for b in dropped] == [4, 4]
    only_x = list(data.DataLoader(X, batch_size=5))
    assert len(only_x) == 2 and isinstance(only_x[0], tg.Tensor)
    assert len(data.DataLoader(tg.tensor(X), tg.tensor(y), batch_size=10)) == 1


def test_dataloader_reshuffles_each_epoch_reproducibly():
    X, y = np.arange(30.0)[:, None], np.arange(30)

    def epochs(seed):
        loader = data.DataLoader(X, y, batch_size=7, shuffle=True, seed=seed)
        return [np.concatenate([yb.data for _, yb in loader]) for _ in range(3)]

    first = epochs(0)
    for order in first:
        assert sorted(order.tolist()) == list(range(30))   # every sample once per epoch
    assert not np.array_equal(first[0], first[1])         # a new order each epoch
    assert not np.array_equal(first[0], np.arange(30))
    for a, b in zip(first, epochs(0)):
        np.testing.assert_array_equal(a, b)               # same seed, same sequence
    assert not np.array_equal(first[0], epochs(1)[0])
    # seed=None: tinygrad_edu.manual_seed makes the run reproducible, as torch.manual_seed
    tg.manual_seed(5)
    unseeded = epochs(None)
    tg.manual_seed(5)
    for a, b in zip(unseeded, epochs(None)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(unseeded[0], unseeded[1])


def test_dataloader_errors():
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        data.DataLoader(np.zeros((3, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be positive"):
        data.DataLoader(np.zeros((3, 1)), batch_size=0)
