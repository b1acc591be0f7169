"""Toy datasets and the plumbing to feed them to a model.

The generators return NumPy arrays (X of shape (n_samples, n_features), float64;
y of shape (n_samples,), int64), like scikit-learn's, and the same `seed` always
gives the same data. `DataLoader` turns arrays into shuffled minibatches of Tensors.
"""
import math

import numpy as np

from .tensor import Tensor, default_generator


def _counts(n_samples, n_groups, who):
    """Split n_samples as evenly as possible into n_groups (the first groups get the extra)."""
    if n_samples < n_groups:
        raise ValueError(f"{who}: n_samples={n_samples} is smaller than the number of "
                         f"classes ({n_groups})")
    base, extra = divmod(int(n_samples), n_groups)
    return [base + (i < extra) for i in range(n_groups)]


def _shuffled(rng, X, y):
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_blobs(n_samples=100, centers=3, n_features=2, cluster_std=1.0,
               center_box=(-10.0, 10.0), seed=None):
    """Gaussian clusters. `centers` is a number of clusters (placed uniformly at random
    in center_box) or an array of shape (k, n_features); cluster_std is one number or
    one per cluster."""
    rng = np.random.default_rng(seed)
    if np.ndim(centers) == 0:
        centers = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2:
        raise ValueError(f"make_blobs: centers must be a count or an array of shape "
                         f"(k, n_features), got shape {centers.shape}")
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (len(centers),))
    counts = _counts(n_samples, len(centers), "make_blobs")
    X = np.concatenate([c + s * rng.standard_normal((n, centers.shape[1]))
                        for c, s, n in zip(centers, std, counts)])
    y = np.repeat(np.arange(len(centers)), counts)
    return _shuffled(rng, X, y)


def make_moons(n_samples=100, noise=0.0, seed=None):
    """Two interleaving half circles: class 0 the upper arc, class 1 the lower one
    (shifted right and down); Gaussian noise of std `noise` is added to each point."""
    rng = np.random.default_rng(seed)
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
    if not 0 < factor < 1:
        raise ValueError(f"make_circles: factor must be in (0, 1), got {factor}")
    rng = np.random.default_rng(seed)
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
    rng = np.random.default_rng(seed)
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
    or a number of samples. stratify=y keeps each class's share the same in both
    parts. shuffle=False takes the last samples as the test set.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}")
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"train_test_split: test_size={test_size} leaves {n_test} of {n} "
                         f"samples for testing; both parts need at least one")
    rng = np.random.default_rng(seed)
    if stratify is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        train, test = order[:n - n_test], order[n - n_test:]
    else:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        train, test = _stratified(np.asarray(stratify), n_test, rng)
    return X[train], X[test], y[train], y[test]


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
    labels = np.asarray(y.data if isinstance(y, Tensor) else y)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got values "
                         f"from {labels.min()} to {labels.max()}")
    out = np.eye(num_classes)[labels]
    return Tensor(out) if isinstance(y, Tensor) else out


class DataLoader:
    """Minibatches of (X, y) as Tensors: `for xb, yb in DataLoader(X, y, batch_size=32)`.

    The last batch holds the leftover samples (or is dropped with drop_last=True).
    shuffle=True draws a new order every epoch from a generator seeded once with
    `seed`, so a run is reproducible and epochs still differ. With seed=None the
    orders come from the generator tinygrad_edu.manual_seed seeds (as PyTorch's
    DataLoader follows torch.manual_seed). With y=None each batch is just a
    Tensor of X rows.
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=False, seed=None, drop_last=False):
        self.X = X.data if isinstance(X, Tensor) else np.asarray(X)
        self.y = None if y is None else (y.data if isinstance(y, Tensor) else np.asarray(y))
        if self.y is not None and len(self.y) != len(self.X):
            raise ValueError(f"DataLoader: X has {len(self.X)} samples but y has {len(self.y)}")
        if int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be positive, got {batch_size}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def __iter__(self):
        n = len(self.X)
        rng = self.rng if self.rng is not None else default_generator()
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            xb = Tensor(self.X[idx])
            yield xb if self.y is None else (xb, Tensor(self.y[idx]))
