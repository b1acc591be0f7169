"""Port of the idea of HIPS autograd's test_numpy.py / test_systematic.py: one loop over
unary ops, binary ops under broadcasting, and reductions over every axis choice, each
checked two ways: values against PyTorch (float64), and the gradient (and, for smooth
ops, the second derivative) against finite differences with tg.gradcheck/gradgradcheck.

Ops are looked up by their PyTorch name on both libraries (tg.<name>, torch.<name>), so
a missing name is a failure naming that name.
"""
import numpy as np
import pytest

import tinygrad_edu as tg

torch = pytest.importorskip("torch")


def sample(domain, shape, rng):
    """Points where the op is defined and, for kinked ops, away from the kinks."""
    if domain == "real":
        return rng.standard_normal(shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "gt1":
        return rng.uniform(1.1, 3.0, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)
    if domain == "prob":
        return rng.uniform(0.1, 0.9, shape)
    if domain == "offgrid":   # floor/ceil/round/frac: away from integers and halves
        return rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.4, shape)
    raise ValueError(domain)


# (PyTorch name, domain, smooth)
UNARY = [
    ("exp", "real", True), ("log", "pos", True), ("log2", "pos", True), ("log10", "pos", True),
    ("log1p", "pos", True), ("expm1", "real", True), ("exp2", "real", True),
    ("sqrt", "pos", True), ("rsqrt", "pos", True), ("reciprocal", "pos", True),
    ("square", "real", True), ("neg", "real", True), ("abs", "nonzero", False),
    ("sin", "real", True), ("cos", "real", True), ("tan", "unit", True),
    ("sinh", "real", True), ("cosh", "real", True), ("tanh", "real", True),
    ("asin", "unit", True), ("acos", "unit", True), ("atan", "real", True),
    ("asinh", "real", True), ("acosh", "gt1", True), ("atanh", "unit", True),
    ("sigmoid", "real", True), ("relu", "nonzero", False), ("sign", "nonzero", False),
    ("floor", "offgrid", False), ("ceil", "offgrid", False), ("round", "offgrid", False),
    ("trunc", "offgrid", False), ("frac", "offgrid", False),
    ("deg2rad", "real", True), ("rad2deg", "real", True),
    ("erf", "real", True), ("erfc", "real", True), ("erfinv", "unit", True),
    ("sinc", "nonzero", True), ("logit", "prob", True), ("lgamma", "pos", True),
    ("digamma", "pos", True), ("i0", "real", True),
]

# (PyTorch name, domain of x, domain of y, smooth)
BINARY = [
    ("add", "real", "real", True), ("sub", "real", "real", True),
    ("mul", "real", "real", True), ("div", "real", "pos", True),
    ("true_divide", "real", "pos", True), ("pow", "pos", "real", True),
    ("maximum", "real", "real", False), ("minimum", "real", "real", False),
    ("fmax", "real", "real", False), ("fmin", "real", "real", False),
    ("atan2", "real", "pos", True), ("hypot", "nonzero", "nonzero", True),
    ("logaddexp", "real", "real", True), ("logaddexp2", "real", "real", True),
    ("remainder", "pos", "pos", False), ("fmod", "pos", "pos", False),
    ("copysign", "nonzero", "nonzero", False), ("xlogy", "pos", "pos", True),
]

BROADCAST_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 3)),
                    ((2, 3), ()), ((4, 1, 3), (2, 1))]

# (PyTorch name, keyword arguments beyond dim/keepdim, whether dim may be a tuple)
REDUCTIONS = [
    ("sum", {}, True), ("mean", {}, True), ("prod", {}, False), ("amax", {}, True),
    ("amin", {}, True), ("logsumexp", {}, True), ("std", {}, True), ("var", {}, True),
    ("norm", {}, True), ("nansum", {}, True),
]
AXES = [None, 0, 1, -1, (0, 2)]


def compare_values(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                               rtol=1e-9, atol=1e-12)


def check(fn_of_lib, arrays, smooth):
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    compare_values(fn_of_lib(tg, *ours), fn_of_lib(torch, *theirs))
    assert tg.gradcheck(lambda *xs: fn_of_lib(tg, *xs), ours)


@pytest.mark.parametrize("name, domain, smooth", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)], ids=["0d", "1d", "2d"])
def test_unary(name, domain, smooth, shape):
    x = sample(domain, shape, np.random.default_rng(1))
    check(lambda m, t: getattr(m, name)(t), [x], smooth)


@pytest.mark.parametrize("name, domain, smooth", [u for u in UNARY if u[2]],
                         ids=[u[0] for u in UNARY if u[2]])
def test_unary_second_order(name, domain, smooth):
    ours = tg.tensor(sample(domain, (4,), np.random.default_rng(2)), requires_grad=True)
    assert tg.gradgradcheck(lambda t: getattr(tg, name)(t), [ours])


@pytest.mark.parametrize("name, dx, dy, smooth", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=[f"{a}-{b}" for a, b in BROADCAST_SHAPES])
def test_binary_broadcasting(name, dx, dy, smooth, shapes):
    rng = np.random.default_rng(3)
    x, y = sample(dx, shapes[0], rng), sample(dy, shapes[1], rng)
    check(lambda m, a, b: getattr(m, name)(a, b), [x, y], smooth)


@pytest.mark.parametrize("name, dx, dy, smooth", [b for b in BINARY if b[3]],
                         ids=[b[0] for b in BINARY if b[3]])
def test_binary_second_order(name, dx, dy, smooth):
    rng = np.random.default_rng(4)
    xs = [tg.tensor(sample(dx, (2, 3), rng), requires_grad=True),
          tg.tensor(sample(dy, (3,), rng), requires_grad=True)]
    assert tg.gradgradcheck(lambda a, b: getattr(tg, name)(a, b), xs)


@pytest.mark.parametrize("name, kwargs, tuple_dims", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
@pytest.mark.parametrize("axis", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("keepdim", [False, True], ids=["drop", "keep"])
def test_reduction(name, kwargs, tuple_dims, axis, keepdim):
    if isinstance(axis, tuple) and not tuple_dims:
        pytest.skip(f"torch.{name} takes a single dim (PyTorch's own signature)")
    if axis is None and keepdim:
        pytest.skip("keepdim needs a dim in PyTorch's signature")
    x = sample("pos" if name == "prod" else "real", (2, 3, 4), np.random.default_rng(5))

    def fn(m, t):
        if axis is None:
            return getattr(m, name)(t, **kwargs) if name != "logsumexp" else \
                m.logsumexp(t, dim=(0, 1, 2))
        return getattr(m, name)(t, dim=axis, keepdim=keepdim, **kwargs)
    check(fn, [x], True)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumulative(name, dim):
    x = sample("pos", (3, 4), np.random.default_rng(6))
    check(lambda m, t: getattr(m, name)(t, dim=dim), [x], True)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 1), (1, 3), (3,))],
                         ids=["same", "broadcast"])
def test_where_broadcasting(shapes):
    rng = np.random.default_rng(7)
    c, x, y = (sample("real", s, rng) for s in shapes)

    def fn(m, a, b):
        return m.where(m.tensor(c) > 0, a, b)
    check(fn, [x, y], False)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)),
                                    ((2, 3), (3,)), ((5, 2, 3), (3, 4)), ((5, 2, 3), (5, 3, 4))],
                         ids=["vv", "mm", "vm", "mv", "bm", "bb"])
def test_matmul_shapes(shapes):
    rng = np.random.default_rng(8)
    check(lambda m, a, b: m.matmul(a, b), [sample("real", s, rng) for s in shapes], True)


@pytest.mark.parametrize("equation, shapes", [("ij,jk->ik", ((2, 3), (3, 4))),
                                              ("bij,bjk->bik", ((2, 2, 3), (2, 3, 4))),
                                              ("ii->", ((3, 3),)), ("ij->ji", ((2, 3),)),
                                              ("i,j->ij", ((2,), (3,)))],
                         ids=["mm", "bmm", "trace", "transpose", "outer"])
def test_einsum(equation, shapes):
    rng = np.random.default_rng(9)
    check(lambda m, *ts: m.einsum(equation, *ts), [sample("real", s, rng) for s in shapes], True)


OUT_OF_SCOPE = [
    "complex numbers (HIPS tests real/imag/angle/conj)",
    "forward mode (HIPS checks modes=['fwd'])",
]


@pytest.mark.parametrize("feature", OUT_OF_SCOPE)
def test_out_of_scope(feature):
    pytest.skip(f"out of scope: {feature}")
