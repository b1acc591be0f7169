"""tg.autograd.functional against torch.autograd.functional in float64: values, the
return structure (tuples exactly where PyTorch has them), create_graph, strict, errors."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional

rng = np.random.default_rng(0)
X = rng.normal(size=3)
Y = rng.normal(size=(2, 3))


def ours(a):
    return tg.tensor(np.array(a, dtype=np.float64))


def theirs(a):
    return torch.tensor(np.array(a, dtype=np.float64))


def same(a, b):
    """Same nesting (Tensor vs tuple) and the same values."""
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    assert isinstance(a, tg.Tensor) and not isinstance(a, tuple)
    assert a.shape == tuple(b.shape)
    np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


# each f works on both libraries' tensors (only methods and operators)
def one_to_one(x):
    return (x * x).exp() * x.sum()


def two_to_two(x, y):
    return (x * y).tanh(), (y ** 2).sum() * x


def two_to_one(x, y):
    return (x * y.sum(0)).sum()


def one_to_two(x):
    return x.sin(), (x ** 3).sum()


def scalar_of_one(x):
    return (x.exp() * x).sum()


def scalar_of_two(x, y):
    return ((x * y).sum() ** 2) + (y ** 3).sum()


@pytest.mark.parametrize("f, args, as_tuple", [
    (one_to_one, (X,), False), (one_to_one, (X,), True), (one_to_two, (X,), False),
    (one_to_two, (X,), True), (two_to_two, (X, Y), True), (two_to_one, (X, Y), True),
])
def test_jacobian_matches_torch_with_its_structure(f, args, as_tuple):
    a = tuple(ours(v) for v in args) if as_tuple else ours(args[0])
    b = tuple(theirs(v) for v in args) if as_tuple else theirs(args[0])
    same(AF.jacobian(f, a), TF.jacobian(f, b))
    same(AF.jacobian(f, a, vectorize=True), TF.jacobian(f, b, vectorize=True))


@pytest.mark.parametrize("f, args, as_tuple", [
    (scalar_of_one, (X,), False), (scalar_of_one, (X,), True), (scalar_of_two, (X, Y), True),
])
def test_hessian_matches_torch_with_its_structure(f, args, as_tuple):
    a = tuple(ours(v) for v in args) if as_tuple else ours(args[0])
    b = tuple(theirs(v) for v in args) if as_tuple else theirs(args[0])
    same(AF.hessian(f, a), TF.hessian(f, b))


@pytest.mark.parametrize("name", ["vhp", "hvp"])
@pytest.mark.parametrize("f, args", [(scalar_of_one, (X,)), (scalar_of_two, (X, Y))])
def test_vhp_and_hvp_match_torch(name, f, args):
    v = tuple(rng.normal(size=np.shape(a)) for a in args)
    single = len(args) == 1
    a = ours(args[0]) if single else tuple(ours(x) for x in args)
    b = theirs(args[0]) if single else tuple(theirs(x) for x in args)
    va = ours(v[0]) if single else tuple(ours(x) for x in v)
    vb = theirs(v[0]) if single else tuple(theirs(x) for x in v)
    same(getattr(AF, name)(f, a, va), getattr(TF, name)(f, b, vb))


@pytest.mark.parametrize("f, args", [
    (one_to_one, (X,)), (two_to_two, (X, Y)), (one_to_two, (X,)), (two_to_one, (X, Y)),
])
def test_vjp_and_jvp_match_torch(f, args):
    single = len(args) == 1
    a = ours(args[0]) if single else tuple(ours(x) for x in args)
    b = theirs(args[0]) if single else tuple(theirs(x) for x in args)
    out = f(*[theirs(x) for x in args])
    outs = out if isinstance(out, tuple) else (out,)
    u = tuple(rng.normal(size=tuple(o.shape)) for o in outs)
    ua = tuple(ours(x) for x in u) if isinstance(out, tuple) else ours(u[0])
    ub = tuple(theirs(x) for x in u) if isinstance(out, tuple) else theirs(u[0])
    same(AF.vjp(f, a, ua), TF.vjp(f, b, ub))
    v = tuple(rng.normal(size=np.shape(x)) for x in args)
    va = ours(v[0]) if single else tuple(ours(x) for x in v)
    vb = theirs(v[0]) if single else tuple(theirs(x) for x in v)
    same(AF.jvp(f, a, va), TF.jvp(f, b, vb))


def test_v_may_be_none_only_for_one_number():
    same(AF.vjp(scalar_of_one, ours(X)), TF.vjp(scalar_of_one, theirs(X)))
    same(AF.jvp(lambda x: x.exp(), ours([0.5])), TF.jvp(lambda x: x.exp(), theirs([0.5])))
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(one_to_one, ours(X))
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.hvp(scalar_of_one, ours(X))


def test_create_graph_results_are_differentiable_and_match_torch():
    x, tx = ours(X).requires_grad_(), theirs(X).requires_grad_()
    h = AF.hessian(scalar_of_one, x, create_graph=True)
    th = TF.hessian(scalar_of_one, tx, create_graph=True)
    assert h.requires_grad
    (g,) = tg.grad(h.sum(), x)
    (tgr,) = torch.autograd.grad(th.sum(), tx)
    same(g, tgr)
    out, j = AF.jvp(one_to_one, x, ours(X), create_graph=True)
    tout, tj = TF.jvp(one_to_one, tx, theirs(X), create_graph=True)
    (g,) = tg.grad(j.sum(), x)
    (tgr,) = torch.autograd.grad(tj.sum(), tx)
    same(g, tgr)


def test_without_create_graph_results_are_detached_and_inputs_untouched():
    x = ours(X).requires_grad_()
    out, g = AF.vjp(scalar_of_one, x)
    assert not out.requires_grad and not g.requires_grad and x.grad is None
    assert not AF.jacobian(one_to_one, x).requires_grad


def test_independent_inputs_give_zeros_or_strict_errors_as_torch():
    def f(x, y):
        return x * 2

    a, b = (ours(X), ours(X)), (theirs(X), theirs(X))
    same(AF.jacobian(f, a), TF.jacobian(f, b))
    same(AF.vjp(f, a, ours(X)), TF.vjp(f, b, theirs(X)))
    with pytest.raises(RuntimeError, match="Output 0 of the user-provided function is "
                                           "independent of input 1"):
        AF.jacobian(f, a, strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        AF.vjp(f, a, ours(X), strict=True)
    with pytest.raises(RuntimeError, match="independent of the input"):
        AF.hessian(lambda x: x.sum(), ours(X), strict=True)   # linear: constant gradient
    with pytest.raises(RuntimeError, match="does not require gradients"):
        AF.vjp(lambda x: ours(X), ours(X), ours(X), strict=True)
    same(AF.hessian(lambda x: x.sum(), ours(X)), TF.hessian(lambda x: x.sum(), theirs(X)))


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(TypeError, match="jacobian: the inputs must be either a Tensor or a "
                                        "tuple of Tensors but the given inputs has type list"):
        AF.jacobian(one_to_one, [ours(X)])
    with pytest.raises(TypeError, match="index 1 has type ndarray"):
        AF.vjp(two_to_one, (ours(X), Y), ours(1.0))
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \(3,\) but got \(2,\)"):
        AF.jvp(one_to_one, ours(X), ours([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="invalid length: should be 2 but got 1"):
        AF.jvp(two_to_one, (ours(X), ours(Y)), (ours(X),))
    with pytest.raises(RuntimeError, match="hessian: the Tensor returned .* single element"):
        AF.hessian(one_to_one, ours(X))
    with pytest.raises(RuntimeError, match="vhp: the function should return a single Tensor"):
        AF.vhp(one_to_two, ours(X), ours(X))
    with pytest.raises(RuntimeError, match="strict=True.*vectorize=True"):
        AF.jacobian(one_to_one, ours(X), strict=True, vectorize=True)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        AF.jacobian(one_to_one, ours(X), strategy="forward-mode")
    with pytest.raises(ValueError, match="strategy"):
        AF.jacobian(one_to_one, ours(X), strategy="sideways")


def test_jacobian_agrees_with_finite_differences_and_is_twice_differentiable():
    def f(x):
        return AF.jacobian(one_to_one, x, create_graph=True).sum()
    x = tg.tensor(rng.normal(size=3), requires_grad=True)
    assert tg.gradcheck(f, (x,))
    assert tg.gradcheck(lambda x: AF.vjp(one_to_one, x, ours(X), create_graph=True)[1], (x,))
