"""Generators and random sampling: determinism, independence, distributions, arguments.
The streams are NumPy's, not PyTorch's, so values are checked statistically."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


def test_generator_is_deterministic_and_reseedable():
    g = tg.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    a = tg.randn(4, generator=g).numpy()
    g.manual_seed(5)
    np.testing.assert_array_equal(tg.randn(4, generator=g).numpy(), a)
    # fresh generators start from PyTorch's default seed: the same numbers
    assert tg.Generator().initial_seed() == 67280421310721
    np.testing.assert_array_equal(tg.rand(3, generator=tg.Generator()).numpy(),
                                  tg.rand(3, generator=tg.Generator()).numpy())


def test_two_generators_are_independent():
    g1, g2 = tg.Generator().manual_seed(1), tg.Generator().manual_seed(1)
    first = tg.rand(5, generator=g1).numpy()
    tg.rand(100, generator=tg.Generator().manual_seed(1))   # another one drawing in between
    tg.manual_seed(7); tg.rand(100)                        # and the default one
    np.testing.assert_array_equal(tg.rand(5, generator=g2).numpy(), first)
    assert not np.array_equal(tg.rand(5, generator=g1).numpy(), first)


def test_manual_seed_seeds_the_default_generator_and_returns_it():
    g = tg.manual_seed(3)
    assert isinstance(g, tg.Generator) and tg.initial_seed() == 3
    a = [tg.randn(3).numpy(), tg.randint(10, (3,)).numpy(), tg.randperm(5).numpy()]
    tg.manual_seed(3)
    b = [tg.randn(3).numpy(), tg.randint(10, (3,)).numpy(), tg.randperm(5).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    # the same stream as before generators existed: default_rng(seed)
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.randn(3).numpy(),
                                  np.random.default_rng(3).standard_normal(3))
    # nn.init and dropout follow it too
    tg.manual_seed(4)
    w1 = nn.init.normal_(tg.zeros(3, 3)).numpy().copy()
    tg.manual_seed(4)
    np.testing.assert_array_equal(nn.init.normal_(tg.zeros(3, 3)).numpy(), w1)


def test_seed_state_and_negative_seeds():
    g = tg.Generator()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2 ** 64
    state = g.get_state()
    a = tg.rand(4, generator=g).numpy()
    g.set_state(state)
    np.testing.assert_array_equal(tg.rand(4, generator=g).numpy(), a)
    assert tg.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1   # as PyTorch
    tg.set_rng_state(tg.get_rng_state())
    with pytest.raises(ValueError, match="manual_seed"):
        tg.manual_seed(2 ** 64)
    with pytest.raises(TypeError, match="manual_seed: the seed must be an int"):
        tg.manual_seed(1.5)
    with pytest.raises(RuntimeError, match="Generator: device 'cuda'"):
        tg.Generator("cuda")


def test_plain_numpy_generators_still_work():
    rng = np.random.default_rng(0)
    x = tg.randn(2, 3, generator=rng)
    assert x.shape == (2, 3)
    np.testing.assert_array_equal(x.numpy(), np.random.default_rng(0).standard_normal((2, 3)))
    # and a tg.Generator works where NumPy generators are expected
    layer = nn.Linear(3, 2, generator=tg.Generator().manual_seed(0))
    assert layer.weight.shape == (2, 3)
    with pytest.raises(TypeError, match="randn: generator must be"):
        tg.randn(2, generator=0)


def test_distributions():
    g = tg.Generator().manual_seed(0)
    n = 200_000
    z = tg.randn(n, generator=g).numpy()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    u = tg.rand(n, generator=g).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.002
    x = tg.normal(2.0, 3.0, (n,), generator=g).numpy()
    assert abs(x.mean() - 2) < 0.03 and abs(x.std() - 3) < 0.03
    k = tg.randint(3, 7, (n,), generator=g)
    assert k.dtype == np.int64 and set(np.unique(k.numpy())) == {3, 4, 5, 6}
    counts = np.bincount(k.numpy() - 3) / n
    np.testing.assert_allclose(counts, 0.25, atol=0.01)
    b = tg.bernoulli(tg.full((n,), 0.3), generator=g).numpy()
    assert set(np.unique(b)) == {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    p = tg.randperm(10, generator=g)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))


def test_normal_with_tensor_parameters():
    mean = tg.tensor([0.0, 100.0, -100.0], requires_grad=True)
    x = tg.normal(mean, 0.1, generator=tg.Generator().manual_seed(0))
    assert x.shape == (3,)
    np.testing.assert_allclose(x.numpy(), [0, 100, -100], atol=1)
    (x * 3).sum().backward()   # as PyTorch: no reparameterisation, a zero gradient
    np.testing.assert_array_equal(mean.grad.numpy(), [0, 0, 0])
    std = tg.tensor([[1.0], [0.0]])
    assert tg.normal(tg.zeros(3), std).shape == (2, 3)
    assert tg.normal(0.0, 1.0).shape == ()
    with pytest.raises(ValueError, match="normal: std must be >= 0"):
        tg.normal(0.0, -1.0, (2,))
    with pytest.raises(TypeError, match="normal: size"):
        tg.normal(tg.zeros(2), 1.0, (2,))


def test_randint_forms_and_errors():
    assert tg.randint(5, (2, 3)).shape == (2, 3)
    assert tg.randint(1, 2, (4,)).tolist() == [1, 1, 1, 1]
    assert tg.randint(3, size=(2,)).shape == (2,)
    assert tg.randint(3, (2,), dtype=tg.int32).dtype == np.int32
    with pytest.raises(ValueError, match="randint: low must be less than high"):
        tg.randint(3, 3, (2,))
    with pytest.raises(TypeError, match="randint: expected"):
        tg.randint(3)
    with pytest.raises(TypeError, match="randint: high must be an int"):
        tg.randint(2.5, (2,))
    with pytest.raises(ValueError, match="randperm: sizes can't be negative"):
        tg.randperm(-1)


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_draws_each_row_never_zeros(replacement):
    g = tg.Generator().manual_seed(0)
    w = tg.tensor([[0.0, 1.0, 3.0, 0.0], [5.0, 0.0, 0.0, 5.0]])
    for _ in range(200):
        s = tg.multinomial(w, 2, replacement, generator=g)
        assert s.shape == (2, 2) and s.dtype == np.int64
        assert set(s[0].tolist()) <= {1, 2} and set(s[1].tolist()) <= {0, 3}
        if not replacement:
            assert sorted(s[0].tolist()) == [1, 2] and sorted(s[1].tolist()) == [0, 3]


def test_multinomial_frequencies_and_errors():
    g = tg.Generator().manual_seed(1)
    s = tg.multinomial(tg.tensor([1.0, 2.0, 7.0]), 50_000, replacement=True, generator=g)
    assert s.shape == (50_000,)
    np.testing.assert_allclose(np.bincount(s.numpy()) / 50_000, [0.1, 0.2, 0.7], atol=0.01)
    # without replacement the first draw still follows the weights
    first = [tg.multinomial(tg.tensor([1.0, 3.0]), 2, generator=g)[0].item() for _ in range(2000)]
    assert abs(np.mean(first) - 0.75) < 0.04
    with pytest.raises(ValueError, match="can't draw 3 samples without replacement"):
        tg.multinomial(tg.tensor([0.0, 1.0, 1.0]), 3)
    with pytest.raises(ValueError, match="num_samples must be positive"):
        tg.multinomial(tg.tensor([1.0]), 0)
    with pytest.raises(ValueError, match="finite and non-negative"):
        tg.multinomial(tg.tensor([-1.0, 2.0]), 1, True)
    with pytest.raises(ValueError, match="positive total weight"):
        tg.multinomial(tg.tensor([[1.0, 1.0], [0.0, 0.0]]), 1, True)
    with pytest.raises(ValueError, match="1-D or 2-D"):
        tg.multinomial(tg.ones(2, 2, 2), 1)


def test_in_place_fills():
    g = tg.Generator().manual_seed(0)
    x = tg.zeros(100_000)
    v = x._version
    assert x.normal_(3.0, 2.0, generator=g) is x and x._version > v
    assert abs(x.numpy().mean() - 3) < 0.03 and abs(x.numpy().std() - 2) < 0.03
    x.uniform_(-1.0, 2.0, generator=g)
    assert x.numpy().min() >= -1 and x.numpy().max() < 2 and abs(x.numpy().mean() - 0.5) < 0.02
    x.bernoulli_(0.25, generator=g)
    assert set(np.unique(x.numpy())) == {0.0, 1.0} and abs(x.numpy().mean() - 0.25) < 0.01
    a, b = tg.zeros(4).normal_(generator=tg.Generator()), tg.zeros(4).normal_(generator=tg.Generator())
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    w = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="normal_: a leaf tensor that requires grad"):
        w.normal_()
    with tg.no_grad():
        w.uniform_()
    with pytest.raises(TypeError, match="normal_: the tensor must be floating point"):
        tg.zeros(3, dtype=tg.int64).normal_()
    with pytest.raises(ValueError, match="uniform_: from must be <= to"):
        tg.zeros(3).uniform_(2.0, 1.0)


def test_like_functions_and_dtypes():
    x = tg.zeros(2, 3, dtype=tg.float32)
    assert tg.rand_like(x).shape == (2, 3) and tg.rand_like(x).dtype == np.float32
    assert tg.randn_like(x, dtype=tg.float64).dtype == np.float64
    k = tg.randint_like(tg.zeros(4, dtype=tg.int64), 2, 5)
    assert k.dtype == np.int64 and k.shape == (4,) and set(k.tolist()) <= {2, 3, 4}
    assert tg.randint_like(x, 3).dtype == np.float32
    assert tg.randn(2, requires_grad=True).requires_grad
    assert tg.rand(2, dtype=tg.float32).dtype == np.float32
    with pytest.raises(TypeError, match="randn: dtype must be a floating point dtype"):
        tg.randn(2, dtype=tg.int64)
    with pytest.raises(RuntimeError, match="rand: device 'cuda:0'"):
        tg.rand(2, device="cuda:0")
