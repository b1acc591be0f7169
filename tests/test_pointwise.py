"""pointwise.py against PyTorch (float64 values and gradients), finite differences
(gradcheck, gradgradcheck) and the edge cases PyTorch defines: NaN, infinities, ties,
tiny arguments, integer tensors."""
import math

import numpy as np
import pytest

import tinygrad_edu as tg

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)


def sample(kind, shape):
    """Inputs away from kinks and jumps: `kind` picks the domain."""
    if kind == "normal":
        return rng.standard_normal(shape) * 2
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "above1":
        return rng.uniform(1.2, 3.0, shape)
    if kind == "away":   # |x| in [0.5, 2], either sign: a divisor
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    raise ValueError(kind)


def as_tuple(out):
    return tuple(out) if isinstance(out, tuple) else (out,)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape, (ours.shape, expected.shape)
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=atol, equal_nan=True)


def oracle(ours, theirs, arrays, smooth=True, grad=True, rtol=1e-10, fd=True):
    """Values of every output, and gradients of the first, equal PyTorch's; then (fd)
    gradcheck, and gradgradcheck when smooth, on the first output."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, refs = as_tuple(ours(*xs)), as_tuple(theirs(*ts))
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        close(o, r, rtol=rtol)
    out, ref = outs[0], refs[0]
    assert out.requires_grad == ref.requires_grad
    if not grad or not ref.requires_grad:
        return
    seed = rng.standard_normal(out.shape)
    got = tg.grad(out, xs, tg.tensor(seed), allow_unused=True)
    want = torch.autograd.grad(ref, ts, torch.tensor(seed), allow_unused=True)
    for g, w, a in zip(got, want, arrays):
        w = np.zeros_like(a) if w is None else w.numpy()
        g = np.zeros_like(a) if g is None else g.numpy()
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)
    if fd and out.numel() and all(np.size(a) for a in arrays):
        first = lambda *a: as_tuple(ours(*a))[0]   # noqa: E731
        assert tg.gradcheck(first, xs)
        if smooth:
            assert tg.gradgradcheck(first, xs)


SHAPES = [(), (3,), (2, 3), (1, 4), (0, 3)]
PAIRS = [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((0, 3), (3,))]

UNARY = [  # name, ours, torch, domain, smooth
    ("floor", tg.floor, torch.floor, "normal", True),
    ("ceil", tg.ceil, torch.ceil, "normal", True),
    ("trunc", tg.trunc, torch.trunc, "normal", True),
    ("round", tg.round, torch.round, "normal", True),
    ("round2", lambda x: tg.round(x, decimals=2), lambda x: torch.round(x, decimals=2), "normal", True),
    ("frac", tg.frac, torch.frac, "normal", True),
    ("sign", tg.sign, torch.sign, "normal", True),
    ("tan", tg.tan, torch.tan, "unit", True),
    ("sinh", tg.sinh, torch.sinh, "normal", True),
    ("cosh", tg.cosh, torch.cosh, "normal", True),
    ("asinh", tg.asinh, torch.asinh, "normal", True),
    ("acosh", tg.acosh, torch.acosh, "above1", True),
    ("atanh", tg.atanh, torch.atanh, "unit", True),
    ("asin", tg.asin, torch.asin, "unit", True),
    ("acos", tg.acos, torch.acos, "unit", True),
    ("atan", tg.atan, torch.atan, "normal", True),
    ("exp2", tg.exp2, torch.exp2, "normal", True),
    ("expm1", tg.expm1, torch.expm1, "normal", True),
    ("log1p", tg.log1p, torch.log1p, "positive", True),
    ("log2", tg.log2, torch.log2, "positive", True),
    ("log10", tg.log10, torch.log10, "positive", True),
    ("square", tg.square, torch.square, "normal", True),
    ("rsqrt", tg.rsqrt, torch.rsqrt, "positive", True),
    ("reciprocal", tg.reciprocal, torch.reciprocal, "away", True),
    ("deg2rad", tg.deg2rad, torch.deg2rad, "normal", True),
    ("rad2deg", tg.rad2deg, torch.rad2deg, "normal", True),
    ("nan_to_num", tg.nan_to_num, torch.nan_to_num, "normal", True),
    ("clamp_min", lambda x: tg.clamp_min(x, 0.3), lambda x: torch.clamp_min(x, 0.3), "normal", False),
    ("clamp_max", lambda x: tg.clamp_max(x, 0.3), lambda x: torch.clamp_max(x, 0.3), "normal", False),
    ("neg", tg.neg, torch.neg, "normal", True),
    ("negative", tg.negative, torch.negative, "normal", True),
    ("abs", tg.abs, torch.abs, "away", True),
    ("absolute", tg.absolute, torch.absolute, "away", True),
]

BINARY = [
    ("remainder", tg.remainder, torch.remainder, "normal", "away", True),
    ("fmod", tg.fmod, torch.fmod, "normal", "away", True),
    ("atan2", tg.atan2, torch.atan2, "normal", "normal", True),
    ("hypot", tg.hypot, torch.hypot, "normal", "normal", True),
    ("logaddexp", tg.logaddexp, torch.logaddexp, "normal", "normal", True),
    ("logaddexp2", tg.logaddexp2, torch.logaddexp2, "normal", "normal", True),
    ("fmax", tg.fmax, torch.fmax, "normal", "normal", False),
    ("fmin", tg.fmin, torch.fmin, "normal", "normal", False),
    ("lerp", lambda a, b: tg.lerp(a, b, 0.3), lambda a, b: torch.lerp(a, b, 0.3), "normal", "normal", True),
    ("lerp_far", lambda a, b: tg.lerp(a, b, 0.8), lambda a, b: torch.lerp(a, b, 0.8), "normal", "normal", True),
]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, ours, theirs, domain, smooth", UNARY, ids=[c[0] for c in UNARY])
def test_unary_matches_torch(name, ours, theirs, domain, smooth, shape):
    oracle(ours, theirs, [sample(domain, shape)], smooth)


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name, ours, theirs, da, db, smooth", BINARY, ids=[c[0] for c in BINARY])
def test_binary_matches_torch(name, ours, theirs, da, db, smooth, shapes):
    oracle(ours, theirs, [sample(da, shapes[0]), sample(db, shapes[1])], smooth)


def test_methods_are_the_functions():
    x = np.array([0.3, -0.7, 2.5])
    y = np.array([1.5, -0.5, 2.0])
    pairs = [(lambda t: t.floor(), torch.floor), (lambda t: t.frac(), torch.frac),
             (lambda t: t.round(decimals=1), lambda t: t.round(decimals=1)),
             (lambda t: t.tan(), torch.tan), (lambda t: t.atan(), torch.atan),
             (lambda t: t.sinh(), torch.sinh), (lambda t: t.expm1(), torch.expm1),
             (lambda t: t.log1p(), torch.log1p), (lambda t: t.square(), torch.square),
             (lambda t: t.nan_to_num(), torch.nan_to_num), (lambda t: t.neg(), torch.neg),
             (lambda t: t.absolute(), torch.absolute), (lambda t: t.deg2rad(), torch.deg2rad),
             (lambda t: t.clamp_min(0.0), lambda t: t.clamp_min(0.0)),
             (lambda t: t.clamp_max(0.0), lambda t: t.clamp_max(0.0))]
    for ours, theirs in pairs:
        oracle(ours, theirs, [x], smooth=False, grad=False)
    binary = [(lambda a, b: a % b, lambda a, b: a % b), (lambda a, b: a.remainder(b), torch.remainder),
              (lambda a, b: a.fmod(b), torch.fmod), (lambda a, b: a.atan2(b), torch.atan2),
              (lambda a, b: a.hypot(b), torch.hypot), (lambda a, b: a.logaddexp(b), torch.logaddexp),
              (lambda a, b: a.fmax(b), torch.fmax),
              (lambda a, b: a.lerp(b, 0.25), lambda a, b: a.lerp(b, 0.25))]
    for ours, theirs in binary:
        oracle(ours, theirs, [x, y], smooth=False)


def test_remainder_follows_pythons_sign_convention():
    a = np.array([5.5, -5.5, 5.5, -5.5, 0.0, 3.0, -3.0])
    b = np.array([2.0, 2.0, -2.0, -2.0, 2.0, 1.5, 1.5])
    expected = np.array([x % y for x, y in zip(a, b)])
    np.testing.assert_array_equal(tg.remainder(tg.tensor(a), tg.tensor(b)).numpy(), expected)
    np.testing.assert_array_equal((tg.tensor(a) % tg.tensor(b)).numpy(), expected)
    np.testing.assert_array_equal((7.0 % tg.tensor(b)).numpy(), 7.0 % b)
    np.testing.assert_array_equal(tg.fmod(tg.tensor(a), tg.tensor(b)).numpy(), np.fmod(a, b))


def test_remainder_gradients_are_one_and_minus_the_quotient():
    a = tg.tensor([5.5, -5.5, 2.2], requires_grad=True)
    b = tg.tensor([2.0, 2.0, -0.7], requires_grad=True)
    tg.remainder(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1, 1, 1])
    np.testing.assert_array_equal(b.grad.numpy(), -np.floor(a.numpy() / b.numpy()))
    a.grad = b.grad = None
    tg.fmod(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), -np.trunc(a.numpy() / b.numpy()))


def test_remainder_values_are_exact_where_the_formula_rounds():
    a = np.array([1e10 + 0.3, 7.3, -123456.789])
    b = np.array([0.1, 0.3, 0.7])
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    np.testing.assert_array_equal(tg.remainder(x, y).numpy(), np.remainder(a, b))
    np.testing.assert_array_equal(tg.fmod(x, y).numpy(), np.fmod(a, b))


def test_remainder_by_infinity_and_zero_and_integers():
    a = tg.tensor([5.0, -5.0], requires_grad=True)
    got = tg.remainder(a, math.inf)
    np.testing.assert_array_equal(got.numpy(), torch.remainder(torch.tensor([5.0, -5.0]), math.inf).numpy())
    got.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    assert np.isnan(tg.fmod(tg.tensor([1.0]), 0.0).numpy()).all()
    ints = tg.tensor([7, -7, 9])
    assert (ints % 4).dtype == np.int64
    np.testing.assert_array_equal((ints % 4).numpy(), [3, 1, 1])
    np.testing.assert_array_equal(tg.fmod(ints, 4).numpy(), [3, -3, 1])
    with pytest.raises(ZeroDivisionError, match="remainder"):
        ints % 0


def test_rounding_keeps_requires_grad_with_a_zero_gradient_as_pytorch():
    for fn in (tg.floor, tg.ceil, tg.round, tg.trunc, tg.sign):
        x = tg.tensor([1.5, -2.5, math.inf, -math.inf, 0.0], requires_grad=True)
        y = fn(x)
        assert y.requires_grad
        y.backward(tg.ones_like(y))
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(5))
    assert not tg.floor(tg.tensor([1.5])).requires_grad
    np.testing.assert_array_equal(tg.floor(tg.tensor([1.5, -1.5, math.inf])).numpy(), [1, -2, math.inf])
    assert tg.floor(tg.tensor([3, 4])).dtype == np.int64


def test_sign_of_nan_is_zero_as_pytorch():
    x = np.array([math.nan, -0.0, 2.0, -3.0])
    close(tg.sign(tg.tensor(x)), torch.sign(torch.tensor(x)))


def test_round_is_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1.25, 1.35])
    close(tg.round(tg.tensor(x)), torch.round(torch.tensor(x)))
    close(tg.round(tg.tensor(x), decimals=1), torch.round(torch.tensor(x), decimals=1))
    close(tg.round(tg.tensor([1234.5, 1250.0]), decimals=-2),
          torch.round(torch.tensor([1234.5, 1250.0], dtype=torch.float64), decimals=-2))


def test_expm1_and_log1p_are_exact_for_tiny_arguments():
    tiny = np.array([1e-17, -3e-12, 1e-300, 5e-9])
    x = tg.tensor(tiny, requires_grad=True)
    np.testing.assert_allclose(tg.expm1(x).numpy(), np.expm1(tiny), rtol=1e-15)
    np.testing.assert_allclose(tg.log1p(x).numpy(), np.log1p(tiny), rtol=1e-15)
    assert (x.exp() - 1).numpy()[0] == 0   # why they are primitives
    tg.log1p(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + tiny), rtol=1e-15)


def test_inverse_and_hyperbolic_functions_are_accurate_at_extremes():
    x = np.array([1e-20, -1e-12, 1e-5, 30.0, -1e5, 1e300])
    close(tg.asinh(tg.tensor(x)), torch.asinh(torch.tensor(x)), rtol=1e-14)
    close(tg.sinh(tg.tensor(x[:4])), torch.sinh(torch.tensor(x[:4])), rtol=1e-14)
    y = np.array([1.0, 1.0 + 1e-12, 2.0, 1e8, 1e300])
    close(tg.acosh(tg.tensor(y)), torch.acosh(torch.tensor(y)), rtol=1e-14)
    z = np.array([1e-20, -1e-9, 0.5, -0.999999, 1.0, -1.0])
    close(tg.atanh(tg.tensor(z)), torch.atanh(torch.tensor(z)), rtol=1e-12)
    w = np.array([-1.0, -1e-15, 0.999999999, 1.0])
    close(tg.asin(tg.tensor(w)), torch.asin(torch.tensor(w)), rtol=1e-14)
    close(tg.acos(tg.tensor(w)), torch.acos(torch.tensor(w)), rtol=1e-14)
    c = np.array([-710.0, 0.0, 700.0])
    close(tg.cosh(tg.tensor(c)), torch.cosh(torch.tensor(c)), rtol=1e-12)
    with np.errstate(invalid="ignore"):
        assert np.isnan(tg.acosh(tg.tensor([0.5])).numpy()).all()
        assert np.isnan(tg.atanh(tg.tensor([1.5])).numpy()).all()


def test_derivatives_at_zero_of_the_odd_functions():
    for ours, theirs in [(tg.asinh, torch.asinh), (tg.atanh, torch.atanh), (tg.sinh, torch.sinh),
                         (tg.cosh, torch.cosh), (tg.asin, torch.asin), (tg.atan, torch.atan)]:
        oracle(ours, theirs, [np.array([0.0, -0.0])])


def test_hypot_neither_overflows_nor_underflows():
    a, b = np.array([3e200, 3e-200, 0.0, math.inf]), np.array([4e200, 4e-200, 0.0, 1.0])
    close(tg.hypot(tg.tensor(a), tg.tensor(b)), torch.hypot(torch.tensor(a), torch.tensor(b)))
    oracle(tg.hypot, torch.hypot, [a[:2], b[:2]], fd=False)


def test_logaddexp_at_infinities_ties_and_large_values():
    a = np.array([-math.inf, math.inf, 1000.0, 2.0, -1000.0, 0.0])
    b = np.array([-math.inf, math.inf, 1000.0, 2.0, 1000.0, -math.inf])
    close(tg.logaddexp(tg.tensor(a), tg.tensor(b)), torch.logaddexp(torch.tensor(a), torch.tensor(b)))
    close(tg.logaddexp2(tg.tensor(a), tg.tensor(b)), torch.logaddexp2(torch.tensor(a), torch.tensor(b)))
    oracle(tg.logaddexp, torch.logaddexp, [a[2:4], b[2:4]], smooth=False)   # ties: gradient 1/2


def test_fmax_fmin_prefer_numbers_to_nan_and_send_ties_to_the_first():
    a = np.array([math.nan, 1.0, math.nan, 2.0, 3.0])
    b = np.array([1.0, math.nan, math.nan, 2.0, -3.0])
    for ours, theirs in [(tg.fmax, torch.fmax), (tg.fmin, torch.fmin)]:
        oracle(ours, theirs, [a, b], smooth=False, grad=False)
        xs = [tg.tensor(v, requires_grad=True) for v in (a, b)]
        ts = [torch.tensor(v, requires_grad=True) for v in (a, b)]
        ours(*xs).sum().backward()
        theirs(*ts).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_nan_to_num_defaults_and_arguments():
    x = np.array([math.nan, math.inf, -math.inf, 1.5])
    oracle(tg.nan_to_num, torch.nan_to_num, [x], smooth=False)
    oracle(lambda t: tg.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-2.0),
           lambda t: torch.nan_to_num(t, nan=1.0, posinf=2.0, neginf=-2.0), [x], smooth=False)
    f32 = tg.nan_to_num(tg.tensor(x.astype(np.float32)))
    assert f32.dtype == np.float32 and f32.numpy()[1] == np.finfo(np.float32).max


def test_lerp_with_a_tensor_weight_and_at_the_ends():
    a, b, w = sample("normal", (2, 3)), sample("normal", (3,)), np.array([0.0, 0.49, 1.0])
    oracle(tg.lerp, torch.lerp, [a, b, w])
    end = tg.lerp(tg.tensor([0.1]), tg.tensor([0.7]), 1.0)
    assert end.numpy()[0] == 0.7


def test_predicates_are_bool_and_off_the_graph():
    x = tg.tensor([math.nan, math.inf, -1.0, 0.0], requires_grad=True)
    t = torch.tensor(x.numpy())
    for ours, theirs in [(tg.isnan, torch.isnan), (tg.isinf, torch.isinf),
                         (tg.isfinite, torch.isfinite), (tg.logical_not, torch.logical_not),
                         (lambda v: v.isnan(), torch.isnan), (lambda v: v.isinf(), torch.isinf)]:
        out = ours(x)
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), theirs(t).numpy())
    y = tg.tensor([1.0, 0.0, -1.0, 0.0])
    u = torch.tensor(y.numpy())
    for name in ("logical_and", "logical_or", "logical_xor", "eq", "ne", "lt", "le", "gt", "ge"):
        out = getattr(tg, name)(x, y)
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), getattr(torch, name)(t, u).numpy(), err_msg=name)
        np.testing.assert_array_equal(getattr(x, name)(y).numpy(), out.numpy(), err_msg=name)
    np.testing.assert_array_equal(tg.eq(x, 0.0).numpy(), [False, False, False, True])


def test_float32_stays_float32():
    x = tg.tensor(np.array([0.25, 0.5], dtype=np.float32), requires_grad=True)
    for fn in (tg.floor, tg.tan, tg.sinh, tg.asinh, tg.atanh, tg.expm1, tg.log1p, tg.atan,
               tg.square, tg.rsqrt, tg.exp2, tg.log2, tg.sign):
        assert fn(x).dtype == np.float32, fn.__name__
    assert (x % 0.2).dtype == np.float32
    assert tg.logaddexp(x, x).dtype == np.float32
