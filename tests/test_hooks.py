"""Tensor hooks, detach_, autograd.backward (several roots, inputs=), anomaly-mode
switches and the refused autograd.Function, each against PyTorch where it has one."""
import gc

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd


def torch_or_skip():
    return pytest.importorskip("torch")


def leaf(values):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def tleaf(torch, values):
    return torch.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# --- register_hook ----------------------------------------------------------------------

def test_leaf_hook_sees_total_gradient_once_and_replaces_it_before_accumulation():
    torch = torch_or_skip()
    seen, tseen = [], []
    x, tx = leaf([1.0, -2.0]), tleaf(torch, [1.0, -2.0])
    x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    tx.register_hook(lambda g: tseen.append(g.numpy().copy()) or g * 10)
    (x * x + x).sum().backward()
    (tx * tx + tx).sum().backward()
    assert len(seen) == 1 and np.allclose(seen[0], tseen[0])   # once, with the sum
    assert np.allclose(x.grad.numpy(), tx.grad.numpy())


def test_nonleaf_hook_changes_what_flows_on_and_what_retain_grad_keeps():
    torch = torch_or_skip()
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    z, tz = x * 2, tx * 2
    z.retain_grad()
    tz.retain_grad()
    z.register_hook(lambda g: g * 10)
    tz.register_hook(lambda g: g * 10)
    (z * z).sum().backward()
    (tz * tz).sum().backward()
    assert np.allclose(z.grad.numpy(), tz.grad.numpy())   # retain_grad sees the hooked value
    assert np.allclose(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.tolist() == [80.0, 160.0]


def test_hooks_run_in_registration_order_each_given_the_previous_result():
    torch = torch_or_skip()
    calls = []
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    x.register_hook(lambda g: calls.append(("a", g.tolist())) or g * 2)
    x.register_hook(lambda g: calls.append(("b", g.tolist())) or g + 1)
    tx.register_hook(lambda g: g * 2)
    tx.register_hook(lambda g: g + 1)
    (x * 1.0).sum().backward()
    (tx * 1.0).sum().backward()
    assert calls == [("a", [1.0, 1.0]), ("b", [2.0, 2.0])]
    assert x.grad.tolist() == tx.grad.tolist() == [3.0, 3.0]


def test_hooks_run_for_grad_on_leaf_and_nonleaf_inputs():
    torch = torch_or_skip()
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    tx.register_hook(lambda g: g * 10)
    assert np.allclose(tg.grad((x * x).sum(), x)[0].numpy(),
                       torch.autograd.grad((tx * tx).sum(), tx)[0].numpy())
    assert x.grad is None
    y, ty = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    z, tz = y * 2, ty * 2
    z.register_hook(lambda g: g * 10)
    tz.register_hook(lambda g: g * 10)
    assert np.allclose(tg.grad((z * z).sum(), z, retain_graph=True)[0].numpy(),
                       torch.autograd.grad((tz * tz).sum(), tz, retain_graph=True)[0].numpy())
    assert np.allclose(tg.grad((z * z).sum(), y)[0].numpy(),
                       torch.autograd.grad((tz * tz).sum(), ty)[0].numpy())


def test_hook_on_the_root_gets_the_seed():
    seen = []
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.register_hook(lambda g: seen.append(g.item()) or g * 3)
    y.backward()
    assert seen == [1.0] and x.grad.tolist() == [6.0, 12.0]


def test_removed_hook_no_longer_runs_and_remove_twice_is_harmless():
    x = leaf([1.0])
    handle = x.register_hook(lambda g: g * 100)
    kept = x.register_hook(lambda g: g + 1)
    handle.remove()
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [3.0]
    kept.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
    with x.register_hook(lambda g: g * 0):
        pass   # removed on leaving the block
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
    assert not autograd.hooks


def test_hooks_go_with_their_tensor():
    def register():
        x = leaf([1.0])
        x.register_hook(lambda g: g)
    register()
    gc.collect()
    assert not autograd.hooks


def test_hook_with_create_graph_gets_a_differentiable_gradient():
    torch = torch_or_skip()
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.requires_grad) or g * x)   # a differentiable change
    tx.register_hook(lambda g: g * tx)
    (g,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    (tg_,) = torch.autograd.grad((tx ** 3).sum(), tx, create_graph=True)
    assert seen == [True]
    assert np.allclose(g.numpy(), tg_.detach().numpy())
    (gg,) = tg.grad(g.sum(), x)
    (tgg,) = torch.autograd.grad(tg_.sum(), tx)
    assert np.allclose(gg.numpy(), tgg.numpy())


def test_hook_result_is_copied_into_grad_so_later_accumulation_leaves_it_alone():
    x = leaf([1.0, 2.0])
    mine = tg.tensor([5.0, 5.0])
    x.register_hook(lambda g: mine)
    (x * 1.0).sum().backward()
    (x * 1.0).sum().backward()
    assert x.grad.tolist() == [10.0, 10.0] and mine.tolist() == [5.0, 5.0]


def test_hook_of_wrong_shape_dtype_or_type_raises_naming_the_hook():
    def summed(g):
        return g.sum()

    x = leaf([1.0, 2.0])
    x.register_hook(summed)
    with pytest.raises(RuntimeError, match=r"hook 'summed'.*shape \(2,\).*shape \(\)"):
        (x * x).sum().backward()
    y = leaf([1.0, 2.0])
    y.register_hook(lambda g: g.to(np.float32))
    with pytest.raises(RuntimeError, match="dtype.*float64.*float32"):
        (y * y).sum().backward()
    z = leaf([1.0])
    z.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match="returned a int"):
        (z * z).sum().backward()


def test_register_hook_refuses_tensors_without_grad_and_non_callables():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        leaf([1.0]).register_hook(3)


# --- detach_ ---------------------------------------------------------------------------

def test_detach__cuts_a_result_from_the_graph_in_place_as_pytorch():
    torch = torch_or_skip()
    a, ta = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    c, tc = a * 2, ta * 2
    assert c.detach_() is c and tc.detach_() is tc
    assert (c.requires_grad, c.is_leaf, c.grad_fn) == (tc.requires_grad, tc.is_leaf, None)
    assert not (c * 2).requires_grad and not (tc * 2).requires_grad
    a.detach_()
    ta.detach_()
    assert a.requires_grad == ta.requires_grad == False   # noqa: E712


@pytest.mark.parametrize("make_use", [lambda c: c * 3, lambda c: c + 3])
def test_a_use_of_a_tensor_from_before_detach__refuses_backward_instead_of_dropping_it(make_use):
    # PyTorch's graph links ops, so d still reaches a; ours links tensors, so it can't:
    # an error, never a gradient silently missing a's part
    a = leaf([1.0, 2.0])
    c = a * 2
    d = make_use(c) + a
    c.detach_()
    with pytest.raises(RuntimeError, match="detached in place"):
        d.sum().backward()
    b = leaf([1.0])
    e = b * b
    b.detach_()
    with pytest.raises(RuntimeError, match="detached in place"):
        e.backward()


def test_detach__refuses_views_but_not_detached_tensors():
    a = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="view.*detach\\(\\)"):
        a[:2].detach_()
    with pytest.raises(RuntimeError, match="view"):
        tg.tensor([1.0, 2.0]).T[:1].detach_()
    d = a.detach()
    assert d.detach_() is d


# --- autograd.backward --------------------------------------------------------------------

def test_backward_of_several_roots_is_one_pass():
    torch = torch_or_skip()
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    tg.autograd.backward([(x * x).sum(), x * 3], [None, tg.ones(2)])
    torch.autograd.backward([(tx * tx).sum(), tx * 3], [None, torch.ones(2, dtype=torch.float64)])
    assert x.grad.tolist() == tx.grad.tolist() == [5.0, 7.0]
    assert seen == [[5.0, 7.0]]   # the hook ran once: one pass, not two


def test_backward_inputs_accumulates_only_there():
    torch = torch_or_skip()
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    tx, tw = tleaf(torch, [1.0, 2.0]), tleaf(torch, [3.0, 4.0])
    z, tz = x * w, tx * tw
    z.retain_grad()
    tz.retain_grad()
    z.sum().backward(inputs=[x])
    tz.sum().backward(inputs=[tx])
    assert x.grad.tolist() == tx.grad.tolist()
    assert w.grad is None and tw.grad is None
    assert z.grad.tolist() == tz.grad.tolist()   # retain_grad on the way still applies
    u = leaf([1.0])
    tg.autograd.backward((x * x).sum(), inputs=u)   # unused: its grad stays None
    assert u.grad is None


def test_backward_inputs_may_be_a_nonleaf():
    torch = torch_or_skip()
    x, tx = leaf([1.0, 2.0]), tleaf(torch, [1.0, 2.0])
    z, tz = x * 3, tx * 3
    (z.sum() * 2).backward(inputs=[z])
    (tz.sum() * 2).backward(inputs=[tz])
    assert z.grad.tolist() == tz.grad.tolist() == [2.0, 2.0]
    assert x.grad is None and tx.grad is None


def test_backward_arguments_are_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * x).sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="inputs\\[0\\] does not require grad"):
        (x * x).sum().backward(inputs=[tg.tensor([1.0])])
    with pytest.raises(RuntimeError, match="2 tensors and 1 grad_tensors"):
        tg.autograd.backward([(x * x).sum(), x.sum()], [None])
    with pytest.raises(RuntimeError, match="tensors\\[1\\].*does not require grad"):
        tg.autograd.backward([x.sum(), tg.tensor(1.0)])
    with pytest.raises(RuntimeError, match="implicitly only for scalar"):
        tg.autograd.backward(x * 2)


def test_backward_retain_graph_defaults_to_create_graph():
    x = leaf([1.0, 2.0])
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    (gg,) = tg.grad(x.grad.sum(), x)
    assert gg.tolist() == [6.0, 12.0]
    y.backward()   # the graph was kept by create_graph=True
    y2 = (x.exp()).sum()
    y2.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y2.backward()


def test_tensor_backward_takes_pytorchs_gradient_argument():
    x = leaf([1.0, 2.0])
    (x * 2).backward(gradient=tg.tensor([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]


def test_autograd_is_torch_autograd_shaped():
    assert tg.autograd.grad is tg.grad
    from tinygrad_edu.autograd.functional import jacobian
    assert tg.autograd.functional.jacobian is jacobian


# --- anomaly mode -----------------------------------------------------------------------

def test_set_detect_anomaly_switches_now_and_restores_as_a_context():
    assert not autograd.is_anomaly_enabled()
    with autograd.set_detect_anomaly(True):
        assert autograd.is_anomaly_enabled()
        with np.errstate(divide="ignore"), pytest.raises(FloatingPointError, match="Log"):
            tg.tensor([0.0]).log()
    assert not autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    try:
        assert autograd.is_anomaly_enabled()
    finally:
        autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()


def test_detect_anomaly_check_nan_false_records_sites_but_does_not_raise():
    x = leaf([0.0])
    with np.errstate(divide="ignore", invalid="ignore"), tg.detect_anomaly(check_nan=False):
        assert not autograd.is_anomaly_check_nan_enabled()
        y = x.log()
        y.sum().backward()
    assert y._trace is not None and "test_hooks.py" in y._trace
    assert autograd.is_anomaly_check_nan_enabled()

    @tg.detect_anomaly(check_nan=False)
    def f():
        return autograd.is_anomaly_enabled(), autograd.is_anomaly_check_nan_enabled()
    assert f() == (True, False)


def test_anomaly_site_is_the_users_line_even_through_nn_functional():
    logits = leaf([[0.0, 1.0]])
    with tg.detect_anomaly():
        loss = tg.nn.functional.cross_entropy(logits, tg.tensor([1]))
    assert "test_hooks.py" in loss._trace


# --- autograd.Function ------------------------------------------------------------------

def test_custom_function_is_refused_with_the_reason():
    with pytest.raises(NotImplementedError, match="hand-written backward.*composition"):
        class Square(tg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * x
    with pytest.raises(NotImplementedError, match="autograd.Function"):
        tg.autograd.Function()
