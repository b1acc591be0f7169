"""Toy datasets and the plumbing to feed them to a model.

The generators return NumPy arrays (X of shape (n_samples, n_features), float64;
y of shape (n_samples,), int64), like scikit-learn's, and the same `seed` always
gives the same data. `DataLoader` turns arrays, or a dataset of (x, y) samples,
into shuffled minibatches of Tensors. Every count, size and seed argument is
checked, and a wrong one raises an error naming the function and the argument.
"""
import math

import numpy as np

from .tensor import Tensor, default_generator


def check_integer(value, name, who, minimum=None):
    """`value` as a Python int; a TypeError unless it is an int or a NumPy integer (a bool is
    not a count, and a float is refused rather than truncated), a ValueError below minimum."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {value!r} "
                        f"({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value}")
    return int(value)


def is_real(value):
    """A Python or NumPy integer or float, and not a bool."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def check_nonnegative(value, name, who):
    """`value` (a real number, see is_real) as a float that is >= 0 and finite."""
    if not is_real(value):
        raise TypeError(f"{who}: {name} must be a number, got {value!r} ({type(value).__name__})")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{who}: {name} must be non-negative and finite, got {value}")
    return float(value)


def make_generator(seed, who):
    """np.random.default_rng(seed), with seed None (fresh entropy), an integer >= 0, or
    something default_rng takes as it is (a Generator, BitGenerator or SeedSequence)."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.BitGenerator,
                                         np.random.SeedSequence)):
        return np.random.default_rng(seed)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{who}: seed must be None, an integer or a np.random.Generator, got "
                        f"{seed!r} ({type(seed).__name__})")
    if seed < 0:
        raise ValueError(f"{who}: seed must be non-negative, got {seed}")
    return np.random.default_rng(int(seed))


def _counts(n_samples, n_groups, who):
    """Split n_samples as evenly as possible into n_groups (the first groups get the extra)."""
    n_samples = check_integer(n_samples, "n_samples", who, minimum=1)
    if n_samples < n_groups:
        raise ValueError(f"{who}: n_samples={n_samples} is smaller than the number of "
                         f"classes ({n_groups})")
    base, extra = divmod(n_samples, n_groups)
    return [base + (i < extra) for i in range(n_groups)]


def _shuffled(rng, X, y):
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_blobs(n_samples=100, centers=3, n_features=2, cluster_std=1.0,
               center_box=(-10.0, 10.0), seed=None):
    """Gaussian clusters. `centers` is a number of clusters (placed uniformly at random
    in center_box) or an array of shape (k, n_features); cluster_std is one number or
    one per cluster."""
    n_features = check_integer(n_features, "n_features", "make_blobs", minimum=1)
    rng = make_generator(seed, "make_blobs")
    if np.ndim(centers) == 0:
        k = check_integer(centers, "centers", "make_blobs", minimum=1)
        low, high = _box(center_box)
        centers = rng.uniform(low, high, size=(k, n_features))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or 0 in centers.shape:
        raise ValueError(f"make_blobs: centers must be a count or an array of shape "
                         f"(k, n_features) with k >= 1, got shape {centers.shape}")
    std = _cluster_stds(cluster_std, len(centers))
    counts = _counts(n_samples, len(centers), "make_blobs")
    X = np.concatenate([c + s * rng.standard_normal((n, centers.shape[1]))
                        for c, s, n in zip(centers, std, counts)])
    y = np.repeat(np.arange(len(centers)), counts)
    return _shuffled(rng, X, y)


def _box(center_box):
    """make_blobs' center_box as (low, high) floats, low <= high."""
    try:
        low, high = (float(v) for v in center_box)
    except (TypeError, ValueError):
        low = high = math.nan
    if not low <= high:   # also false for NaN
        raise ValueError(f"make_blobs: center_box must be (low, high) with low <= high, "
                         f"got {center_box!r}")
    return low, high


def _cluster_stds(cluster_std, k):
    """make_blobs' cluster_std as k non-negative floats."""
    if np.ndim(cluster_std) == 0:
        return np.full(k, check_nonnegative(cluster_std, "cluster_std", "make_blobs"))
    std = np.asarray([check_nonnegative(s, "cluster_std", "make_blobs")
                      for s in np.ravel(cluster_std)])
    if np.shape(cluster_std) != (k,):
        raise ValueError(f"make_blobs: cluster_std must be one number or one per cluster "
                         f"({k}), got shape {np.shape(cluster_std)}")
    return std


def make_moons(n_samples=100, noise=0.0, seed=None):
    """Two interleaving half circles: class 0 the upper arc, class 1 the lower one
    (shifted right and down); Gaussian noise of std `noise` is added to each point."""
    noise = check_nonnegative(noise, "noise", "make_moons")
    rng = make_generator(seed, "make_moons")
    n_upper, n_lower = _counts(n_samples, 2, "make_moons")
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    X = np.concatenate([np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
                        np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])])
    y = np.repeat([0, 1], [n_upper, n_lower])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(rng, X, y)


def make_circles(n_samples=100, noise=0.0, factor=0.8, seed=None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius `factor` (< 1)."""
    if not is_real(factor):
        raise TypeError(f"make_circles: factor must be a number, got {factor!r}")
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    noise = check_nonnegative(noise, "noise", "make_circles")
    rng = make_generator(seed, "make_circles")
    n_outer, n_inner = _counts(n_samples, 2, "make_circles")
    t_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
                        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])])
    y = np.repeat([0, 1], [n_outer, n_inner])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(rng, X, y)


def make_spirals(n_samples=300, n_classes=3, noise=0.2, seed=None):
    """Interleaved spiral arms, one per class (n_samples in total, not per class).

    Arm k: radius r from 0 to 1, angle 4k + 4r (radians) plus Gaussian noise of
    std `noise`, point (r sin angle, r cos angle). Not linearly separable: a
    linear classifier gets about 1/n_classes of it right, a small MLP nearly all.
    """
    n_classes = check_integer(n_classes, "n_classes", "make_spirals", minimum=1)
    noise = check_nonnegative(noise, "noise", "make_spirals")
    rng = make_generator(seed, "make_spirals")
    counts = _counts(n_samples, n_classes, "make_spirals")
    arms = []
    for k, n in enumerate(counts):
        r = np.linspace(0.0, 1.0, n)
        angle = 4.0 * k + 4.0 * r + noise * rng.standard_normal(n)
        arms.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
    y = np.repeat(np.arange(n_classes), counts)
    return _shuffled(rng, np.concatenate(arms), y)


def train_test_split(X, y, test_size=0.25, seed=None, stratify=None, shuffle=True):
    """Split arrays into (X_train, X_test, y_train, y_test), scikit-learn's order.

    test_size: a fraction in (0, 1) (the test set gets ceil(fraction * n) samples)
    or a number of samples. As in scikit-learn, a float (Python or NumPy) is a
    fraction and an integer a count. stratify=y keeps each class's share the same
    in both parts. shuffle=False takes the last samples as the test set.
    """
    X, y = np.asarray(X), np.asarray(y)
    for name, array in (("X", X), ("y", y)):
        if array.ndim == 0:
            raise ValueError(f"train_test_split: {name} must have at least one dimension "
                             f"(one row per sample), got a scalar")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}")
    n_test = _test_count(test_size, n)
    rng = make_generator(seed, "train_test_split")
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[:n - n_test], order[n - n_test:]
    else:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        labels = np.asarray(stratify)
        if labels.shape[:1] != (n,):
            raise ValueError(f"train_test_split: stratify has {len(np.atleast_1d(labels))} "
                             f"labels but X has {n} samples")
        train, test = _stratified(labels, n_test, rng)
    return X[train], X[test], y[train], y[test]


def _test_count(test_size, n):
    """How many of n samples go to the test set: a float test_size is a fraction in (0, 1),
    an integer one a count; each part must keep at least one sample."""
    if isinstance(test_size, (float, np.floating)):
        if not 0 < test_size < 1:
            raise ValueError(f"train_test_split: test_size={test_size} is read as a fraction "
                             f"and must be in (0, 1); pass an integer for a number of samples")
        n_test = math.ceil(test_size * n)   # in test_size's precision, as scikit-learn
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, (bool, np.bool_)):
        n_test = int(test_size)
    else:
        raise TypeError(f"train_test_split: test_size must be a fraction (float) or a number "
                        f"of samples (int), got {test_size!r} ({type(test_size).__name__})")
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves {n_test} of {n} "
                         f"samples for testing; both parts need at least one")
    return n_test


def _stratified(labels, n_test, rng):
    """Indices (train, test) with each class split in the proportion n_test / n."""
    classes, inverse = np.unique(labels, return_inverse=True)
    n = len(labels)
    members = [rng.permutation(np.flatnonzero(inverse == c)) for c in range(len(classes))]
    exact = np.array([len(m) * n_test / n for m in members])
    take = np.floor(exact).astype(int)
    # hand out the remaining test slots to the classes with the largest remainders
    for c in np.argsort(-(exact - take), kind="stable")[:n_test - take.sum()]:
        take[c] += 1
    test = np.concatenate([m[:k] for m, k in zip(members, take)])
    train = np.concatenate([m[k:] for m, k in zip(members, take)])
    return rng.permutation(train), rng.permutation(test)


def one_hot(y, num_classes=None):
    """Integer labels (N,) -> float64 rows (N, num_classes) with a single 1.

    A Tensor in gives a Tensor out, an array in an array out.
    """
    labels = np.asarray(y._data if isinstance(y, Tensor) else y)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    num_classes = check_integer(num_classes, "num_classes", "one_hot", minimum=0)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values "
                         f"from {labels.min()} to {labels.max()}")
    out = np.eye(num_classes)[labels]
    return Tensor(out) if isinstance(y, Tensor) else out


class DataLoader:
    """Minibatches as Tensors: `for xb, yb in DataLoader(X, y, batch_size=32)`.

    The data comes in one of two ways:

    * arrays: X of shape (N, ...) and y of shape (N, ...) (arrays, Tensors or
      anything np.asarray takes); each batch is (xb, yb), rows of X and y. With
      y=None each batch is just a Tensor of X rows.
    * a dataset of samples, as in PyTorch's `DataLoader(dataset, batch_size=...)`:
      X is a list (or any object with __len__ and __getitem__, like a PyTorch
      map-style Dataset) whose items are tuples (x, y) (or lists, or more fields),
      and y is omitted. As PyTorch's default collate does, each field is stacked
      over the batch: a batch of B samples (x_i, y_i) is the tuple
      (Tensor of shape (B, *x.shape), Tensor of shape (B, *y.shape)). Samples
      are read batch by batch, so a dataset that draws new ones each time gives
      fresh samples every epoch.

    batch_size: an integer >= 1 (a NumPy integer too; floats are refused, as in
    PyTorch). The last batch holds the leftover samples, or is dropped with
    drop_last=True (e.g. to avoid a one-sample batch in a BatchNorm network).
    shuffle=True draws a new order every epoch from a generator seeded once with
    `seed`, so a run is reproducible and epochs still differ. With seed=None the
    orders come from the generator tinygrad_edu.manual_seed seeds (as PyTorch's
    DataLoader follows torch.manual_seed).
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=False, seed=None, drop_last=False):
        self.batch_size = check_integer(batch_size, "batch_size", "DataLoader", minimum=1)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = None if seed is None else make_generator(seed, "DataLoader")
        # `dataset` is what is counted and indexed: the samples, or the X array
        self.X = self.y = None
        if y is None and is_dataset_of_samples(X):
            self.dataset = X
            return
        self.X = self.dataset = _as_array(X, "X")
        self.y = None if y is None else _as_array(y, "y")
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} samples but y has {len(self.y)}")

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n = len(self.dataset)
        rng = self.rng if self.rng is not None else default_generator()
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            if self.X is None:
                yield collate([self.dataset[int(j)] for j in idx], idx)
                continue
            xb = Tensor(self.X[idx])
            yield xb if self.y is None else (xb, Tensor(self.y[idx]))


def is_dataset_of_samples(X):
    """Whether X is a sequence of samples with fields ((x, y) tuples or [x, y] lists), not
    an array: what PyTorch's default collate would split into one batch per field."""
    if isinstance(X, (np.ndarray, Tensor)) or not hasattr(X, "__getitem__"):
        return False
    try:
        return len(X) > 0 and isinstance(X[0], (tuple, list))
    except (TypeError, KeyError, IndexError):
        return False


def _as_array(values, name):
    """DataLoader's X or y as an ndarray (a Tensor's values are shared, not copied)."""
    if isinstance(values, Tensor):
        return values.numpy()
    try:
        return np.asarray(values)
    except ValueError as error:   # NumPy's "inhomogeneous shape" for ragged rows
        raise ValueError(f"DataLoader: {name} is not an array of samples of one shape ({error}); "
                         f"pass a dataset of (x, y) tuples without y, or X and y as "
                         f"arrays") from None


def collate(samples, idx):
    """A tuple of Tensors, field k stacking every sample's k-th field (PyTorch's default
    collate); idx are the samples' indices in the dataset, for the error messages."""
    first = samples[0]
    for sample, j in zip(samples, idx):
        if not isinstance(sample, (tuple, list)):
            raise ValueError(f"DataLoader: sample {j} is a {type(sample).__name__}, not a tuple "
                             f"of fields like sample {idx[0]}")
        if len(sample) != len(first):
            raise ValueError(f"DataLoader: sample {j} has {len(sample)} fields, sample {idx[0]} "
                             f"has {len(first)}")
    batch = []
    for k in range(len(first)):
        values = [np.asarray(sample[k]) for sample in samples]
        for value, j in zip(values, idx):
            if value.shape != values[0].shape:
                raise ValueError(f"DataLoader: field {k} of the samples has shapes "
                                 f"{values[0].shape} (sample {idx[0]}) and {value.shape} "
                                 f"(sample {j}); every sample's field must have one shape")
        batch.append(Tensor(np.stack(values)))
    return tuple(batch)
