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
        return [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(3)]

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
    with pytest.raises(ValueError, match="DataLoader: batch_size must be at least 1, got 0"):
        data.DataLoader(np.zeros((3, 1)), batch_size=0)


# --- clear errors instead of silent or confusing results --------------------------------------

@pytest.mark.parametrize("batch_size, error", [
    (2.5, TypeError), (2.0, TypeError), (True, TypeError), (np.float32(4), TypeError),
    ("4", TypeError), (0, ValueError), (-3, ValueError),
])
def test_dataloader_batch_size_must_be_a_positive_integer(batch_size, error):
    # PyTorch's DataLoader refuses every non-int batch_size too (2.0 included)
    with pytest.raises(error, match="DataLoader: batch_size must be"):
        data.DataLoader(np.zeros((10, 1)), batch_size=batch_size)


def test_dataloader_accepts_numpy_integer_batch_sizes():
    loader = data.DataLoader(np.zeros((10, 1)), batch_size=np.int64(4))
    assert len(loader) == 3 and loader.batch_size == 4 and type(loader.batch_size) is int


class PairDataset:
    """A PyTorch-style map-style dataset: __len__, and __getitem__ giving (x, y)."""

    def __init__(self, X, y):
        self.X, self.y, self.reads = X, y, 0

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        self.reads += 1
        return tg.tensor(self.X[i]), int(self.y[i])


def test_dataloader_batches_a_dataset_of_pairs_as_default_collate_does():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    expected = [(xb.tolist(), yb.tolist()) for xb, yb in
                data.DataLoader(X, y, batch_size=4, shuffle=True, seed=3)]
    for dataset in (list(zip(X, y)), PairDataset(X, y)):
        loader = data.DataLoader(dataset, batch_size=4, shuffle=True, seed=3)
        assert len(loader) == 3
        batches = list(loader)
        xb, yb = batches[0]
        assert isinstance(xb, tg.Tensor) and xb.shape == (4, 2) and xb.dtype == np.float64
        assert isinstance(yb, tg.Tensor) and yb.dtype.kind == "i"
        assert [(xb.tolist(), yb.tolist()) for xb, yb in batches] == expected   # same order
    dataset = PairDataset(X, y)
    batches = iter(data.DataLoader(dataset, batch_size=3))
    assert dataset.reads == 1          # the first sample, to see it is a tuple of fields
    next(batches)
    assert dataset.reads == 1 + 3      # read lazily, batch by batch, as PyTorch does
    # [x, y] lists are samples of fields too, as PyTorch's default collate reads them
    xb, yb = next(iter(data.DataLoader([[np.zeros(2), 0], [np.ones(2), 1]], batch_size=2)))
    assert xb.tolist() == [[0, 0], [1, 1]] and yb.tolist() == [0, 1]
    # ... so a list of number lists without y is two fields, as in PyTorch; with y, a matrix
    first, second = next(iter(data.DataLoader([[1, 2], [3, 4]], batch_size=2)))
    assert first.tolist() == [1, 3] and second.tolist() == [2, 4]
    xb, yb = next(iter(data.DataLoader([[1, 2], [3, 4]], [0, 1], batch_size=2)))
    assert xb.tolist() == [[1, 2], [3, 4]] and yb.tolist() == [0, 1]
    # samples of three fields give three tensors per batch
    triples = [(x, label, 2 * label) for x, label in zip(X, y)]
    xb, yb, zb = next(iter(data.DataLoader(triples, batch_size=5)))
    assert zb.tolist() == [0, 2, 4, 6, 8] and xb.shape == (5, 2)


def test_dataloader_dataset_errors_name_the_problem():
    pairs = [(np.zeros(2), 0), (np.zeros(3), 1)]
    with pytest.raises(ValueError, match=r"DataLoader: field 0 of the samples has shapes "
                                         r"\(2,\) \(sample 0\) and \(3,\) \(sample 1\)"):
        list(data.DataLoader(pairs, batch_size=2))
    with pytest.raises(ValueError, match=r"DataLoader: sample 1 has 1 fields, sample 0 has 2"):
        list(data.DataLoader([(np.zeros(2), 0), (np.zeros(2),)], batch_size=2))
    with pytest.raises(ValueError, match=r"DataLoader: X is not an array of samples of one "
                                         r"shape.*\(x, y\) tuples without y"):
        data.DataLoader(list(zip(np.zeros((3, 2)), range(3))), np.arange(3))
    with pytest.raises(ValueError, match=r"DataLoader: sample 1 is a int, not a tuple of "
                                         r"fields like sample 0"):
        list(data.DataLoader([(np.zeros(2), 0), 5], batch_size=2))
    # ragged rows are not an array: say what was expected
    for args in (([np.zeros(2), np.zeros(3)],), ([np.zeros(2), np.zeros(3)], [0, 1])):
        with pytest.raises(ValueError, match=r"DataLoader: X is not an array of samples "
                                             r"of one shape.*\(x, y\) tuples"):
            data.DataLoader(*args)


def test_dataloader_drop_last_with_shuffle_gives_full_distinct_batches():
    X, y = np.arange(23.0)[:, None], np.arange(23)
    loader = data.DataLoader(X, y, batch_size=5, shuffle=True, seed=0, drop_last=True)
    assert len(loader) == 4
    for _ in range(2):
        labels = [yb.tolist() for _, yb in loader]
        assert [len(b) for b in labels] == [5, 5, 5, 5]
        flat = sum(labels, [])
        assert len(set(flat)) == 20   # 20 different samples, 3 left out this epoch


@pytest.mark.parametrize("seed, error", [(2.5, TypeError), (-1, ValueError), ("0", TypeError)])
def test_seed_arguments_are_checked(seed, error):
    for call in (lambda: data.DataLoader(np.zeros((4, 1)), seed=seed),
                 lambda: data.make_moons(10, seed=seed),
                 lambda: data.train_test_split(np.zeros((4, 1)), np.arange(4), seed=seed)):
        with pytest.raises(error, match=r"(DataLoader|make_moons|train_test_split): seed must be"):
            call()
    assert data.make_moons(10, seed=np.random.default_rng(0))[0].shape == (10, 2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: data.make_blobs(10, centers=0), ValueError, "make_blobs: centers must be at least 1"),
    (lambda: data.make_blobs(10, centers=2.5), TypeError, "make_blobs: centers must be an integer"),
    (lambda: data.make_blobs(10, centers=True), TypeError,
     "make_blobs: centers must be an integer"),
    (lambda: data.make_blobs(10, centers=np.zeros((0, 2))), ValueError,
     r"make_blobs: centers must be a count or an array of shape \(k, n_features\) with k >= 1"),
    (lambda: data.make_blobs(10, n_features=0), ValueError,
     "make_blobs: n_features must be at least 1"),
    (lambda: data.make_blobs(10, cluster_std=-1.0), ValueError,
     "make_blobs: cluster_std must be non-negative"),
    (lambda: data.make_blobs(10, centers=3, cluster_std=[1.0, 2.0]), ValueError,
     r"make_blobs: cluster_std must be one number or one per cluster \(3\), got shape \(2,\)"),
    (lambda: data.make_blobs(10, center_box=(5.0, -5.0)), ValueError,
     r"make_blobs: center_box must be \(low, high\) with low <= high"),
    (lambda: data.make_blobs(10.5), TypeError, "make_blobs: n_samples must be an integer"),
    (lambda: data.make_blobs(-4), ValueError, "make_blobs: n_samples must be at least 1"),
    (lambda: data.make_moons(0), ValueError, "make_moons: n_samples must be at least 1"),
    (lambda: data.make_moons(10, noise=-0.1), ValueError, "make_moons: noise must be non-negative"),
    (lambda: data.make_moons(10, noise="0.1"), TypeError, "make_moons: noise must be a number"),
    (lambda: data.make_circles(10, noise=float("nan")), ValueError,
     "make_circles: noise must be non-negative and finite"),
    (lambda: data.make_circles(10, factor="0.5"), TypeError,
     "make_circles: factor must be a number"),
    (lambda: data.make_spirals(10, n_classes=0), ValueError,
     "make_spirals: n_classes must be at least 1"),
    (lambda: data.make_spirals(10, n_classes=2.0), TypeError,
     "make_spirals: n_classes must be an integer"),
    (lambda: data.make_spirals(2, n_classes=3), ValueError, "smaller than the number of classes"),
    (lambda: data.one_hot([0, 1], num_classes=2.5), TypeError,
     "one_hot: num_classes must be an integer"),
    (lambda: data.one_hot([0, 1], num_classes=-1), ValueError,
     "one_hot: num_classes must be at least 0"),
])
def test_generator_and_one_hot_arguments_are_checked(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_generators_accept_numpy_numbers():
    X, y = data.make_blobs(np.int64(30), centers=np.int32(3), n_features=np.int64(2),
                           cluster_std=np.float32(0.5), seed=np.int64(0))
    assert X.shape == (30, 2) and set(y.tolist()) == {0, 1, 2}
    assert data.make_spirals(np.int64(12), n_classes=np.int64(4))[0].shape == (12, 2)
    assert data.one_hot([1], num_classes=np.int64(3)).shape == (1, 3)


def test_train_test_split_reads_every_float_as_a_fraction():
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    for fraction in (0.2, np.float32(0.2), np.float64(0.2)):
        assert len(data.train_test_split(X, y, test_size=fraction, seed=0)[1]) == 4
    assert len(data.train_test_split(X, y, test_size=np.int64(3), seed=0)[1]) == 3
    with pytest.raises(ValueError, match=r"train_test_split: test_size=1.5 is read as a fraction "
                                         r"and must be in \(0, 1\)"):
        data.train_test_split(X, y, test_size=1.5)
    with pytest.raises(TypeError, match="train_test_split: test_size must be a fraction"):
        data.train_test_split(X, y, test_size=True)
    with pytest.raises(TypeError, match="train_test_split: test_size must be a fraction"):
        data.train_test_split(X, y, test_size="0.2")
    with pytest.raises(ValueError, match="train_test_split: stratify has 3 labels but X has 20"):
        data.train_test_split(X, y, stratify=y[:3])
    with pytest.raises(ValueError, match="train_test_split: X must have at least one dimension"):
        data.train_test_split(np.float64(1.0), np.arange(1))
