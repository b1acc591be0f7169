"""erfc, erfinv, lgamma, digamma, polygamma, i0 and torch.special: values and gradients
against PyTorch (float64), gradcheck and gradgradcheck, the poles and the tails."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")

POSITIVE = [0.05, 0.3, 1.0, 1.7, 2.5, 5.5, 12.3, 40.0]
REAL = [-3.7, -2.5, -0.4, -0.01, 0.05, 0.3, 1.7, 5.5, 12.3]
UNIT = [-0.999, -0.9, -0.5, -0.1, 0.0, 0.2, 0.6, 0.95, 0.99999]

# (our function, torch's, points, relative tolerance of the values)
CASES = {
    "erfc": (tg.erfc, lambda x: torch.erfc(x), [-3.0, -0.5, 0.0, 0.4, 2.0, 6.0, 10.0, 26.0], 1e-14),
    "erfinv": (tg.erfinv, lambda x: torch.erfinv(x), UNIT, 1e-14),
    "lgamma": (tg.lgamma, lambda x: torch.lgamma(x), REAL + [171.0, 1e5], 1e-13),
    "digamma": (tg.digamma, lambda x: torch.digamma(x), REAL + [1e5], 1e-13),
    "i0": (tg.i0, lambda x: torch.i0(x), [-30.0, -3.0, -0.5, 0.0, 0.5, 2.0, 9.0, 50.0, 700.0], 1e-14),
    "i1": (tg.special.i1, lambda x: torch.special.i1(x), [-30.0, -3.0, -0.5, 0.0, 0.5, 2.0, 9.0, 50.0], 1e-14),
    "polygamma2": (lambda x: tg.polygamma(2, x), lambda x: torch.polygamma(2, x), REAL, 1e-13),
    "polygamma3": (lambda x: x.polygamma(3), lambda x: x.polygamma(3), REAL, 1e-13),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_torch(name):
    ours, theirs, points, rtol = CASES[name]
    x = tg.tensor(points, requires_grad=True)
    t = torch.tensor(np.array(points), requires_grad=True)
    y, u = ours(x), theirs(t)
    np.testing.assert_allclose(y.numpy(), u.detach().numpy(), rtol=rtol, atol=1e-300)
    seed = np.linspace(0.5, 1.5, len(points))
    y.backward(tg.tensor(seed))
    u.backward(torch.tensor(seed))
    # torch's trigamma (digamma's derivative) is accurate to ~1e-10; ours to ~1e-15
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-300)


def test_trigamma_is_accurate_to_the_last_digits():
    # psi'(x) = sum_k 1/(x + k)^2: summed to 10^6 terms plus the tail's three terms
    for v in (0.3, 1.7, -0.4, 12.3):
        k = np.arange(10 ** 6)
        z = v + 10 ** 6
        exact = math.fsum(1 / (v + k) ** 2) + 1 / z + 1 / (2 * z * z) + 1 / (6 * z ** 3)
        assert tg.polygamma(1, tg.tensor(v)).item() == pytest.approx(exact, rel=1e-15)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_and_gradgradcheck(name):
    fn, _, points, _ = CASES[name]
    small = [p for p in points if abs(p) < 15][:5]
    x = tg.tensor(small, requires_grad=True)
    assert tg.gradcheck(fn, (x,))
    assert tg.gradgradcheck(fn, (x,))


def test_known_values():
    assert tg.lgamma(tg.tensor(0.5)).item() == pytest.approx(math.log(math.pi) / 2, rel=1e-15)
    assert tg.digamma(tg.tensor(1.0)).item() == pytest.approx(-0.5772156649015329, rel=1e-15)
    assert tg.polygamma(1, tg.tensor(1.0)).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-15)
    assert tg.erfc(tg.tensor(10.0)).item() == pytest.approx(2.088487583762545e-45, rel=1e-14)
    assert tg.erf(tg.erfinv(tg.tensor(0.3))).item() == pytest.approx(0.3, rel=1e-15)
    # the left tail of the normal CDF (1 + erf would round it to zero)
    assert tg.special.ndtr(tg.tensor(-10.0)).item() == pytest.approx(7.619853024160527e-24, rel=1e-13)


def test_poles_and_edges_as_torch():
    inf, nan = math.inf, math.nan
    lg = tg.lgamma(tg.tensor([0.0, -1.0, -2.0, inf, -inf])).numpy()
    np.testing.assert_array_equal(lg, [inf, inf, inf, inf, inf])
    dg = tg.digamma(tg.tensor([0.0, -1.0, -3.0, inf, nan])).numpy()
    np.testing.assert_array_equal(dg, [-inf, nan, nan, inf, nan])
    ei = tg.erfinv(tg.tensor([1.0, -1.0, 1.5, 0.0])).numpy()
    np.testing.assert_array_equal(ei, [inf, -inf, nan, 0.0])
    assert tg.i0(tg.tensor(800.0)).item() == inf
    assert tg.polygamma(1, tg.tensor(0.0)).item() == inf


def test_dtypes_follow_the_input():
    assert tg.lgamma(tg.tensor([1.5], dtype=tg.float32)).dtype == np.float32
    assert tg.i0(tg.tensor([1.5], dtype=tg.float32)).dtype == np.float32
    assert tg.digamma(tg.tensor([2, 3])).dtype == np.float64   # integers give floats


def test_function_forms_methods_and_special_names():
    x = tg.tensor([0.3, 1.2])
    for a, b in ((x.lgamma(), tg.special.gammaln(x)), (x.digamma(), tg.special.psi(x)),
                 (x.digamma(), tg.special.digamma(x)), (x.erfc(), tg.special.erfc(x)),
                 (x.i0(), tg.special.i0(x)), (x.polygamma(1), tg.special.polygamma(1, x)),
                 ((x / 2).erfinv(), tg.special.erfinv(x / 2)), (x.sigmoid(), tg.special.expit(x))):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="polygamma"):
        tg.polygamma(-1, tg.tensor([1.0]))
    with pytest.raises(ValueError, match="polygamma"):
        tg.polygamma(1.5, tg.tensor([1.0]))
    with pytest.raises(TypeError, match="lgamma"):
        tg.lgamma(tg.tensor([1 + 2j]))


def test_a_graph_names_the_orders():
    x = tg.tensor([1.0], requires_grad=True)
    labels = [y._op.label(y._args) for y in (tg.digamma(x), tg.polygamma(2, x), tg.i0(x))]
    assert labels == ["Digamma", "Polygamma n=2", "I0"]
