"""Random sampling with generator objects, shaped like PyTorch's (torch.Generator,
torch.manual_seed, torch.randn, torch.multinomial, ...).

A `Generator` *is* a NumPy `np.random.Generator` (a subclass) with PyTorch's seeding
methods added, so everything that takes `generator=` accepts either kind, and code that
draws with NumPy's methods (nn.init, dropout, DataLoader) works with both.

The streams are NumPy's (PCG64), not PyTorch's (Mersenne Twister): the same seed gives
different numbers here and in PyTorch. What matches is the distribution, the shapes, the
dtypes, and determinism (the same seed gives the same numbers here every time).

Samples are plain tensors, off the graph (leaves; `requires_grad=True` makes them leaves
that require grad), as in PyTorch.
"""
import copy
import numbers

import numpy as np

from .tensor import Tensor, wrap, where, lift, inplace, data_of, shape_of, check_device

# torch.Generator() starts from this seed; so does ours (PyTorch's default_rng_seed_val)
DEFAULT_SEED = 67280421310721


def seed_value(seed, who):
    """A seed as PyTorch takes it: an int in [-2^63, 2^64); negative ones wrap to 2^64 + seed."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{who}: the seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueError(f"{who}: the seed must lie in [-2**63, 2**64), got {seed}")
    return seed % 2 ** 64


class Generator(np.random.Generator):
    """A source of random numbers with its own state (torch.Generator).

    `Generator()` starts from PyTorch's default seed, so two fresh generators give the
    same numbers; `manual_seed(s)` restarts it from seed s and returns it.
    """

    def __init__(self, device="cpu"):
        check_device(device, "Generator")
        super().__init__(np.random.PCG64(DEFAULT_SEED))
        self._initial_seed = DEFAULT_SEED

    device = property(lambda self: "cpu")

    def manual_seed(self, seed):
        seed = seed_value(seed, "manual_seed")
        # in place: code that holds this generator sees the new stream
        self.bit_generator.state = np.random.PCG64(seed).state
        self._initial_seed = seed
        return self

    def seed(self):
        """Reseed from fresh entropy; returns the seed used."""
        seed = int(np.random.SeedSequence().entropy) % 2 ** 64
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed this generator was last started from."""
        return self._initial_seed

    def get_state(self):
        """A copy of the state (a dict of NumPy's PCG64 state, not PyTorch's ByteTensor)."""
        return copy.deepcopy(self.bit_generator.state)

    def set_state(self, new_state):
        self.bit_generator.state = new_state
        return self

    def __repr__(self):
        return f"<tinygrad_edu.Generator (initial seed {self._initial_seed})>"

    __str__ = __repr__   # NumPy's Generator defines its own __str__


_default = Generator()
_default.seed()   # as PyTorch's default generator: different numbers in every process


def default_generator():
    """The generator behind every random function when no generator= is given."""
    return _default


def manual_seed(seed):
    """Seed the default generator (randn, rand, ..., nn.init, dropout, DataLoader); returns it."""
    return _default.manual_seed(seed)


def seed():
    """Reseed the default generator from fresh entropy; returns the seed."""
    return _default.seed()


def initial_seed():
    return _default.initial_seed()


def get_rng_state():
    return _default.get_state()


def set_rng_state(new_state):
    _default.set_state(new_state)


def generator_of(generator, who):
    """The generator to draw from: `generator`, or the default one when it is None."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(f"{who}: generator must be a tinygrad_edu.Generator (or a "
                        f"np.random.Generator), got {type(generator).__name__}")
    return generator


def sample(values, dtype, requires_grad, who, device=None):
    """A new leaf holding `values` as `dtype` (floating dtypes only for samples of reals)."""
    check_device(device, who)
    dtype = np.dtype(dtype)
    return Tensor(values.astype(dtype, copy=False), requires_grad=requires_grad)


def float_dtype(dtype, who):
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"{who}: dtype must be a floating point dtype, got {dtype}")
    return dtype


# --- sampling functions ---------------------------------------------------------------------

def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(0, 1), shape `size` (randn(2, 3) or randn((2, 3)))."""
    rng = generator_of(generator, "randn")
    return sample(rng.standard_normal(shape_of(size, "randn")), float_dtype(dtype, "randn"),
                  requires_grad, "randn", device)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of U[0, 1), shape `size`."""
    rng = generator_of(generator, "rand")
    return sample(rng.random(shape_of(size, "rand")), float_dtype(dtype, "rand"),
                  requires_grad, "rand", device)


def randint(*args, size=None, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """Integers drawn uniformly from [low, high): randint(high, size) or randint(low, high, size)."""
    if size is not None:
        args = args + (size,)
    if len(args) == 2:
        args = (0,) + args
    if len(args) != 3:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high, size = args
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"randint: {name} must be an int, got {v!r}")
    if low >= high:
        raise ValueError(f"randint: low must be less than high, got low={low} >= high={high}")
    shape = shape_of((size,) if isinstance(size, numbers.Integral) else (tuple(size),), "randint")
    rng = generator_of(generator, "randint")
    return sample(rng.integers(low, high, shape), dtype, requires_grad, "randint", device)


def randperm(n, *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of 0, ..., n - 1."""
    n = shape_of((n,), "randperm")[0]
    rng = generator_of(generator, "randperm")
    return sample(rng.permutation(n), dtype, requires_grad, "randperm", device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Samples of N(mean, std^2). mean and std are numbers (then `size` gives the shape;
    none: a 0-d tensor) or tensors (the shape is theirs, broadcast).

    As in PyTorch the sample is not reparameterised: mean and std that require grad
    get a zero gradient through it."""
    rng = generator_of(generator, "normal")
    params = [p for p in (mean, std) if isinstance(p, Tensor)]
    mean_a, std_a = np.asarray(data_of(mean)), np.asarray(data_of(std))
    if (std_a < 0).any() or np.isnan(std_a).any():
        raise ValueError(f"normal: std must be >= 0, got {std_a.min()}")
    if params:
        if size is not None:
            raise TypeError("normal: size can only be given with a number mean and std")
        shape = np.broadcast_shapes(mean_a.shape, std_a.shape)
        dtype = params[0].dtype if dtype is None else dtype
    else:
        shape = () if size is None else shape_of(
            (size,) if isinstance(size, numbers.Integral) else (tuple(size),), "normal")
    values = mean_a + std_a * rng.standard_normal(shape)
    out = sample(values, float_dtype(dtype, "normal"), requires_grad, "normal", device)
    return zero_gradient_to(out, params)


def zero_gradient_to(out, params):
    """`out` with a zero gradient to each of `params` (where(False, p, out) is out)."""
    for p in params:
        if p.requires_grad:
            out = where(np.zeros(out.shape, dtype=bool), lift(p, out).to(out.dtype), out)
    return out


def uniform(low=0.0, high=1.0, size=(), *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Samples of U[low, high) (NumPy's uniform; PyTorch has Tensor.uniform_ instead)."""
    rng = generator_of(generator, "uniform")
    return sample(rng.uniform(low, high, size), float_dtype(dtype, "uniform"), requires_grad,
                  "uniform", device)


def bernoulli(input, p=None, *, generator=None):
    """1 with probability input (or p, a number), else 0; the dtype is input's."""
    probs = np.asarray(data_of(input))
    if p is not None:
        probs = np.full(probs.shape, p, dtype=np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError("bernoulli: probabilities must lie in [0, 1]")
    rng = generator_of(generator, "bernoulli")
    out = wrap((rng.random(probs.shape) < probs).astype(np.asarray(data_of(input)).dtype))
    return zero_gradient_to(out, [input] if isinstance(input, Tensor) else [])


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the categories of each row, with probabilities proportional to
    the row's (non-negative) weights; (n,) -> (num_samples,), (m, n) -> (m, num_samples).

    Without replacement each index appears at most once per row. Asking for more samples
    than a row has non-zero weights raises (PyTorch would then return zero-weight
    categories); a zero weight is never drawn."""
    weights = np.asarray(data_of(input), dtype=np.float64)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: input must be 1-D or 2-D, got shape {weights.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial: num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"multinomial: num_samples must be positive, got {num_samples}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("multinomial: the weights must be finite and non-negative")
    rows = weights.reshape(-1, weights.shape[-1])
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise ValueError("multinomial: every row needs a positive total weight")
    if not replacement:
        fewest = int((rows > 0).sum(axis=1).min())
        if num_samples > fewest:
            raise ValueError(f"multinomial: can't draw {num_samples} samples without replacement "
                             f"from a row with {fewest} non-zero weights")
    rng = generator_of(generator, "multinomial")
    drawn = np.stack([rng.choice(len(row), size=num_samples, replace=replacement, p=row / total)
                      for row, total in zip(rows, totals)])
    return wrap(drawn.reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64))


def rand_like(input, *, dtype=None, generator=None, requires_grad=False):
    """rand with input's shape (and dtype, unless given)."""
    return rand(input.shape, generator=generator, dtype=pick_dtype(input, dtype),
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, generator=None, requires_grad=False):
    return randn(input.shape, generator=generator, dtype=pick_dtype(input, dtype),
                 requires_grad=requires_grad)


def randint_like(input, *args, dtype=None, generator=None, requires_grad=False):
    """randint_like(input, high) or randint_like(input, low, high): input's shape and dtype."""
    return randint(*args, input.shape, generator=generator, dtype=pick_dtype(input, dtype),
                   requires_grad=requires_grad)


def pick_dtype(input, dtype):
    return np.asarray(data_of(input)).dtype if dtype is None else dtype


# --- in place (Tensor.normal_, uniform_, bernoulli_) --------------------------------------------

def refill(t, who, values):
    """t's values replaced by `values`, in place (recorded as fill_ is: a zero gradient to
    the old values); only floating point tensors hold samples of reals."""
    return inplace(t, who, lambda old, o: where(np.ones(old.shape, dtype=bool),
                                                lift(o, old).to(old.dtype), old), values)


def normal_(t, mean=0.0, std=1.0, generator=None):
    if t.dtype.kind != "f":
        raise TypeError(f"normal_: the tensor must be floating point, got dtype {t.dtype}")
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    rng = generator_of(generator, "normal_")
    return refill(t, "normal_", mean + std * rng.standard_normal(t.shape))


def uniform_(t, low=0.0, high=1.0, generator=None):
    if t.dtype.kind != "f":
        raise TypeError(f"uniform_: the tensor must be floating point, got dtype {t.dtype}")
    if low > high:
        raise ValueError(f"uniform_: from must be <= to, got from={low} > to={high}")
    rng = generator_of(generator, "uniform_")
    return refill(t, "uniform_", rng.uniform(low, high, t.shape))


def bernoulli_(t, p=0.5, generator=None):
    """t filled with 1 with probability p (a number or an array of t's shape), else 0."""
    probs = np.broadcast_to(np.asarray(data_of(p), dtype=np.float64), t.shape)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise ValueError("bernoulli_: p must lie in [0, 1]")
    rng = generator_of(generator, "bernoulli_")
    return refill(t, "bernoulli_", (rng.random(t.shape) < probs).astype(t.dtype))
