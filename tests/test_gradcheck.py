"""check.gradcheck and gradgradcheck must catch wrong derivatives, and say where."""
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import ops
from tinygrad_edu.check import GradcheckError
from tinygrad_edu.tensor import apply

# d/dx e^x is e^x; this one claims 2 e^x.
bad_exp = ops.Op("BadExp", np.exp, lambda g, y, x: g * 2 * y, reads="y")
# Right first derivative of x^3 (3 x^2), but computed from x.numpy(): a constant to
# the graph, so its own derivative (6 x) is lost.
flat_cube = ops.Op("FlatCube", lambda x: x ** 3, lambda g, y, x: g * (3 * x.numpy() ** 2),
                   reads="x")
# Right first derivative via detach(): the same mistake, spelled differently.
detached_sin = ops.Op("DetachedSin", np.sin, lambda g, y, x: g * x.detach().cos(), reads="x")


def test_gradcheck_passes_on_right_gradients(randt):
    assert tg.gradcheck(lambda a, b: (a * b).exp().sum(0), [randt(2, 3), randt(3)])


def test_gradcheck_catches_a_wrong_gradient_and_says_where():
    x = tg.tensor([[0.1, 0.2], [0.3, 0.4]], requires_grad=True, name="w")
    with pytest.raises(GradcheckError) as info:
        tg.gradcheck(lambda w: apply(bad_exp, (w,)), [x])
    message = str(info.value)
    assert "input 0 (w)" in message
    assert "shape (2, 2)" in message
    m = re.search(r"d out\[(\d+), (\d+)\] / d x\[(\d+), (\d+)\]: analytic (\S+), numerical (\S+)",
                  message)
    assert m, message
    out_el, in_el = m.group(1, 2), m.group(3, 4)
    assert out_el == in_el          # exp is elementwise: only the diagonal is nonzero
    analytic, numerical = float(m.group(5)), float(m.group(6))
    value = np.exp(x.numpy()[int(in_el[0]), int(in_el[1])])
    assert np.isclose(analytic, 2 * value, rtol=1e-9)
    assert np.isclose(numerical, value, rtol=1e-6)
    # the worst element is reported: the largest x gives the largest error
    assert in_el == ("1", "1")


def test_gradcheck_names_the_second_input():
    a = tg.tensor([0.5, 1.0], requires_grad=True)
    b = tg.tensor([0.2, 0.3], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1 .*shape \(2,\)"):
        tg.gradcheck(lambda a, b: a * 2 + apply(bad_exp, (b,)), [a, b])


def test_gradcheck_without_raising_returns_false():
    x = tg.tensor([0.5], requires_grad=True)
    assert tg.gradcheck(lambda x: apply(bad_exp, (x,)), [x], raise_exception=False) is False


def test_gradcheck_runs_in_float64_for_float32_inputs():
    x = tg.tensor(np.array([0.3, 0.7], np.float32), requires_grad=True)
    assert tg.gradcheck(lambda x: (x * x).sin(), [x])


def test_gradcheck_leaves_the_inputs_unchanged(randt):
    x = randt(2, 3)
    before = x.numpy().copy()
    tg.gradcheck(lambda x: x.exp(), [x])
    np.testing.assert_array_equal(x.numpy(), before)
    assert x.grad is None and x._version == 0


def test_gradcheck_skips_inputs_that_do_not_require_grad(randt):
    const = tg.tensor([1.0, 2.0])
    assert tg.gradcheck(lambda x, c: x * c, [randt(2), const])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        tg.gradcheck(lambda x: x * 2, [tg.tensor([1.0])])


def test_gradcheck_handles_several_outputs(randt):
    assert tg.gradcheck(lambda x: (x.sin(), x.exp().sum()), [randt(3)])


def test_gradcheck_tolerances():
    # a gradient off by 1e-4 relative: caught with the defaults, passes with rtol=1e-3
    slightly = ops.Op("Slightly", np.exp, lambda g, y, x: g * y * (1 + 1e-4), reads="y")
    x = tg.tensor([1.0], requires_grad=True)
    fn = lambda x: apply(slightly, (x,))    # noqa: E731
    assert tg.gradcheck(fn, [x], rtol=1e-3)
    assert not tg.gradcheck(fn, [x], atol=0, rtol=1e-6, raise_exception=False)


def test_gradgradcheck_passes_on_right_second_derivatives(randt):
    assert tg.gradgradcheck(lambda x, w: (x @ w).tanh(), [randt(2, 3), randt(3, 2)])


@pytest.mark.parametrize("op", [flat_cube, detached_sin], ids=lambda op: op.name)
def test_gradgradcheck_catches_a_second_derivative_lost_to_data_or_detach(op):
    x = tg.tensor([0.5, -1.2], requires_grad=True)
    fn = lambda x: apply(op, (x,))    # noqa: E731
    assert tg.gradcheck(fn, [x])       # the first derivative is right...
    with pytest.raises(GradcheckError, match=r"input 0 .*analytic 0\.0, numerical"):
        tg.gradgradcheck(fn, [x])      # ...its derivative is not


def test_gradgradcheck_with_given_grad_outputs():
    x = tg.tensor([0.3, 0.9], requires_grad=True)
    assert tg.gradgradcheck(lambda x: x ** 3, [x], grad_outputs=[np.array([1.0, -2.0])])


def test_gradcheck_of_a_transposed_input():
    # a non-C-contiguous input: perturbing a flattened copy of it would change nothing
    x = tg.Tensor(np.random.default_rng(0).standard_normal((3, 2)).T, requires_grad=True)
    assert not x.numpy().flags.c_contiguous
    assert tg.gradcheck(lambda x: x.exp() @ x.T, [x])


def test_gradcheck_wants_tensors_back():
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match="gradcheck: fn must return a Tensor.*got float"):
        tg.gradcheck(lambda x: x.sum().item(), [x])


def test_a_float32_output_is_named_as_the_likely_cause():
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(GradcheckError, match="output 0 is float32"):
        tg.gradcheck(lambda x: x.to(np.float32).exp(), [x])
