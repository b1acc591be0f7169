"""The backward engine: the classic autograd bugs, grad(), grad modes, version
counters, detect_anomaly and numerical stability."""
import gc
import sys
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import functional as F


def leaf(values):
    return tg.tensor(values, requires_grad=True)


# --- the classic bugs ---------------------------------------------------------------

def test_x_times_x():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    assert x.grad.tolist() == [2.0, -4.0, 6.0]


def test_x_times_x_plus_x():
    x = leaf([1.0, -2.0, 3.0])
    (x * x + x).sum().backward()
    assert x.grad.tolist() == [3.0, -3.0, 7.0]


def test_same_tensor_used_three_times():
    x = leaf(2.0)
    (x * x * x).backward()
    assert x.grad.item() == 12.0
    y = leaf(2.0)
    (y + y + y).backward()
    assert y.grad.item() == 3.0


def test_diamond_graph():
    # x -> a -> (b, c) -> d: a's gradient must be the sum over both paths
    x = leaf(0.3)
    a = x * 2
    d = a.exp() * a.sin()
    d.backward()
    a_ = 0.6
    expected = 2 * (np.exp(a_) * np.sin(a_) + np.exp(a_) * np.cos(a_))
    assert np.isclose(x.grad.item(), expected, rtol=1e-12)


def test_fan_out_to_many_consumers():
    x = leaf([0.5, -1.0])
    y = x.exp().sum() + (x * 3).sum() + x.tanh().sum() + x[0]
    y.backward()
    d = np.array([0.5, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(d) + 3 + 1 - np.tanh(d) ** 2 + [1, 0])


def test_repeated_index_scatter_adds():
    x = leaf([1.0, 2.0, 3.0])
    (x[[0, 0, 1]] * tg.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [11.0, 100.0, 0.0]


def test_backward_twice_raises_a_clear_error():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_twice_with_retain_graph_accumulates():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_leaf_grad_accumulates_until_set_to_none():
    x = leaf([1.0, 2.0])
    for _ in range(3):
        (x * 2).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    grad_object = x.grad
    (x * 1).sum().backward()
    assert x.grad is grad_object          # accumulated in place, like PyTorch
    x.grad = None
    (x * 5).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_zero_grad_method():
    x = leaf([1.0])
    (x * 3).sum().backward()
    x.zero_grad()
    assert x.grad is None


def test_chain_of_100_000_ops_under_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000    # nobody raised it for us
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 100_000.5
    assert x.grad.item() == 1.0


def test_dropping_a_long_chain_without_backward_is_fine():
    # deallocating 100,000 nested nodes must not overflow the C stack, and reference
    # counting alone must free them (no cycles for the garbage collector to find)
    x = leaf(1.0)
    y = x * 1.0
    first = weakref.ref(y)
    for _ in range(100_000):
        y = y * 1.0
    last = weakref.ref(y)
    assert first() is not None        # the chain holds it
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        del y
        assert last() is None and first() is None
    finally:
        if gc_was_on:
            gc.enable()


def test_intermediates_are_freed_after_backward():
    x = leaf([1.0, 2.0])
    h = x.exp()
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    assert ref() is not None          # the graph still holds it
    y.backward()
    assert ref() is None


def test_intermediates_survive_backward_with_retain_graph():
    x = leaf([1.0, 2.0])
    h = x.exp()
    ref = weakref.ref(h)
    y = (h * h).sum()
    del h
    y.backward(retain_graph=True)
    assert ref() is not None
    y.backward()                       # and it can be used again
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp(2 * np.array([1.0, 2.0])))


def test_two_leaves_never_share_a_grad_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.data += 100                 # in-place change to one gradient...
    assert b.grad.tolist() == [1.0, 1.0]   # ...must not show up in the other


def test_grad_does_not_alias_the_given_output_gradient():
    x = leaf([1.0, 2.0])
    g = tg.tensor([1.0, 1.0])
    x.backward(g)                      # x is its own root
    x.grad.data += 1
    assert g.tolist() == [1.0, 1.0]
    y = leaf([0.0, 0.0])
    (y * 1).backward(g)
    y.grad.data += 1
    assert g.tolist() == [1.0, 1.0]


def test_nonscalar_backward_without_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*scalar"):
        (x * 2).backward()


def test_backward_with_a_wrong_shaped_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(tg.ones(3))


def test_backward_with_an_explicit_grad():
    x = leaf([1.0, 2.0])
    (x * x).backward(tg.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [2.0, -4.0]


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor(1.0).backward()


def test_integer_tensors_cannot_require_grad():
    # RuntimeError, as PyTorch (code that catches it must still catch it)
    with pytest.raises(RuntimeError, match="int64"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.arange(3).requires_grad_()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad(leaf(1.0) * 2, tg.tensor([1, 2]))


# --- version counters: in-place changes to saved tensors ----------------------------

def test_data_inplace_add_of_a_saved_input_raises_naming_the_op():
    x = leaf([1.0, 2.0])
    y = x.log().sum()
    x.data += 1
    with pytest.raises(RuntimeError, match="Log.*modified in place"):
        y.backward()


def test_data_assignment_of_a_saved_input_raises():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (a * b).sum()
    b.data = np.array([0.0, 0.0])
    with pytest.raises(RuntimeError, match="Mul.*modified in place") as info:
        y.backward()
    assert "input 1" in str(info.value)


def test_setitem_under_no_grad_of_a_saved_input_raises():
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = tg.tensor([1.0, 1.0])
    y = (w @ x).sum()
    with tg.no_grad():
        x[0] = 5.0
    with pytest.raises(RuntimeError, match="MatMul"):
        y.backward()


def test_inplace_change_of_a_saved_output_raises():
    x = leaf([1.0, 2.0])
    e = x.exp()
    y = e.sum()
    e.data += 1
    with pytest.raises(RuntimeError, match="output of Exp"):
        y.backward()


def test_inplace_change_of_an_input_that_is_not_saved_is_fine():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (a + b).sum()
    a.data += 10                      # Add's gradient doesn't read its inputs
    y.backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_inplace_change_after_backward_is_fine():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    with tg.no_grad():
        x.data -= 0.1 * x.grad.data    # an optimizer step
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.6, 3.2])   # 2x at the updated x


def test_setitem_on_a_tensor_that_requires_grad_raises():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*in place"):
        x[0] = 3.0
    assert x.tolist() == [1.0, 2.0]
    with tg.no_grad():
        x[0] = 3.0
    assert x.tolist() == [3.0, 2.0]


# --- grad modes -------------------------------------------------------------------------

def test_no_grad_and_enable_grad_as_context_managers_nest():
    x = leaf(1.0)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            z = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    assert z.requires_grad and not z.is_leaf


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError
    assert tg.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf(1.0)

    @tg.no_grad()
    def infer(t):
        """Docstring kept."""
        return t * 2

    @tg.enable_grad()
    def train(t):
        return t * 2

    assert not infer(x).requires_grad
    assert infer.__name__ == "infer" and infer.__doc__ == "Docstring kept."
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert train(x).requires_grad
        assert not tg.is_grad_enabled()


def test_set_grad_enabled_switches_immediately_and_restores_as_context():
    x = leaf(1.0)
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with tg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)          # a plain call switches it, as in PyTorch
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    x = leaf(1.0)

    @tg.set_grad_enabled(False)
    def infer(t):
        return t * 2

    assert tg.is_grad_enabled()         # decorating must not switch the mode
    assert not infer(x).requires_grad
    assert tg.is_grad_enabled()


# --- leaves, retain_grad, detach --------------------------------------------------------

def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x * 4
    (h * h + other).sum().backward()
    assert h.grad.tolist() == [6.0, 12.0]
    assert other.grad is None
    assert x.grad.tolist() == [22.0, 40.0]


def test_retain_grad_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor(1.0).retain_grad()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (x * d).sum()
    y.backward()
    assert x.grad.tolist() == [2.0, 4.0]     # d counted as a constant
    d2 = x.detach()
    d2.data[0] = 7.0
    assert x.numpy()[0] == 7.0                  # same memory, as in PyTorch


def test_is_leaf_and_requires_grad_():
    x = tg.tensor([1.0, 2.0])
    assert x.is_leaf and not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.requires_grad and y.grad_fn.name == "Mul"
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)
    assert x.requires_grad_(False) is x and not x.requires_grad
    assert not (x * 2).requires_grad


# --- tg.grad -----------------------------------------------------------------------------

def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = tg.grad(y, [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None
    (gx2,) = tg.grad((x * x).sum(), x)
    assert gx2.tolist() == [2.0, 4.0]


def test_grad_with_grad_outputs():
    x = leaf([1.0, 2.0])
    (g,) = tg.grad(x * x, [x], grad_outputs=tg.tensor([10.0, -1.0]))
    assert g.tolist() == [20.0, -4.0]
    # several outputs: gradients add up
    (g,) = tg.grad([x * 2, x.sum()], [x], grad_outputs=[tg.ones(2), tg.tensor(3.0)])
    assert g.tolist() == [5.0, 5.0]


def test_grad_allow_unused():
    x, unused = leaf(2.0), leaf(3.0)
    with pytest.raises(RuntimeError, match="input 1.*allow_unused=True"):
        tg.grad(x * x, [x, unused])
    gx, gu = tg.grad(x * x, [x, unused], allow_unused=True)
    assert gx.item() == 4.0 and gu is None


def test_grad_of_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = tg.grad((h * h).sum(), h)
    assert gh.tolist() == [6.0, 12.0]


def test_hessian_vector_product_with_create_graph():
    # f(x) = sum(x_i^3) + x_0 x_1:  H = diag(6x) + [[0, 1], [1, 0]]
    x = leaf([1.0, 2.0])
    f = (x ** 3).sum() + x[0] * x[1]
    (g,) = tg.grad(f, x, create_graph=True)
    assert g.requires_grad
    v = tg.tensor([1.0, -1.0])
    (hv,) = tg.grad((g * v).sum(), x)
    hessian = np.array([[6.0, 1.0], [1.0, 12.0]])
    np.testing.assert_allclose(hv.numpy(), hessian @ v.numpy())


def test_gradient_penalty_backward():
    # penalty = |d/dx sum(x^3)|^2 = sum(9 x^4);  its gradient is 36 x^3
    x = leaf([1.0, -2.0])
    (g,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 36 * np.array([1.0, -2.0]) ** 3)


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.tolist() == [3.0, 12.0] and g.requires_grad
    x.grad = None
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_third_derivative():
    x = leaf(0.7)
    (g1,) = tg.grad(x.sin(), x, create_graph=True)
    (g2,) = tg.grad(g1, x, create_graph=True)
    (g3,) = tg.grad(g2, x)
    assert np.isclose(g3.item(), -np.cos(0.7))


def test_grad_of_an_output_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad(tg.tensor(1.0) * 2, leaf(1.0))


# --- detect_anomaly ------------------------------------------------------------------------

def test_detect_anomaly_names_the_op_and_line_in_forward():
    x = leaf([-1.0, 2.0])
    with np.errstate(invalid="ignore"), tg.detect_anomaly():
        with pytest.raises(FloatingPointError) as info:
            x.log()   # ANOMALY-FORWARD
    message = str(info.value)
    assert "forward of Log produced nan" in message
    assert "test_autograd.py" in message and "ANOMALY-FORWARD" in message


def test_detect_anomaly_names_the_op_and_line_in_backward():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"), tg.detect_anomaly():
        y = x.sqrt().sum()   # ANOMALY-BACKWARD
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    assert "backward" in message and "Sqrt produced inf" in message
    assert "test_autograd.py" in message and "ANOMALY-BACKWARD" in message


def test_without_detect_anomaly_nan_passes_silently():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.numpy()[0])


# --- numerical stability: no warnings, finite results ---------------------------------

@pytest.fixture
def strict_numpy():
    """Turn every warning into an error and NumPy overflow/division/invalid into exceptions.

    Underflow (exp(-2000) rounding to 0) is left alone: it is the correct
    result, and NumPy ignores it by default.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


def test_cross_entropy_on_logits_of_1000(strict_numpy):
    logits = leaf([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0], [0.0, 0.0, 1000.0]])
    loss = F.cross_entropy(logits, [1, 0, 2])
    loss.backward()
    assert np.isclose(loss.item(), 4000.0 / 3)
    assert np.all(np.isfinite(logits.grad.numpy()))
    expected = np.array([[1, -1, 0], [-1, 1, 0], [0, 0, 0]]) / 3
    np.testing.assert_allclose(logits.grad.numpy(), expected, atol=1e-12)


def test_softmax_family_on_logits_of_1000(strict_numpy):
    x = leaf([[1000.0, -1000.0], [-1000.0, -1000.0]])
    for out in (x.softmax(1), x.log_softmax(1), x.logsumexp(1), x.logsumexp()):
        (out * out).sum().backward()
        assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(x.grad.numpy()))
        x.grad = None
    np.testing.assert_allclose(x.softmax(1).numpy(), [[1.0, 0.0], [0.5, 0.5]])


def test_sigmoid_of_1000(strict_numpy):
    x = leaf([1000.0, -1000.0, 0.0])
    y = x.sigmoid()
    y.sum().backward()
    assert y.tolist() == [1.0, 0.0, 0.5]
    assert x.grad.tolist() == [0.0, 0.0, 0.25]


def test_bce_with_logits_of_1000(strict_numpy):
    z = leaf([1000.0, -1000.0])
    loss = F.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0]), reduction="sum")
    loss.backward()
    assert loss.item() == 2000.0
    assert z.grad.tolist() == [1.0, -1.0]
