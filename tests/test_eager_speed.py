"""The eager step's cheaper bookkeeping (tensor.apply, autograd's backward pass, batch_norm's
running statistics) keeps its meaning: which results count as views, what errors say, the
values and gradients of a BatchNorm MLP step (against PyTorch), and what tg.compile sees.
Correctness only: no timing is asserted here."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, ops, optim
from tinygrad_edu.tensor import apply

try:
    import torch
except ImportError:   # the PyTorch comparisons are skipped, the rest still runs
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")


# --- which results of a view op share memory (tensor.apply) ---------------------------

def test_a_view_of_an_owner_and_a_view_of_a_view_share_the_owners_version():
    w = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    t = w.T                      # a view of w's own array
    tt = t.reshape(6)            # reshape of a transposed view: a copy, not a view
    row = w[0]                   # basic index: a view
    row_t = row.reshape(3, 1)    # a view of a view: its base is w's array
    assert t._base is w and row._base is w and row_t._base is w
    assert tt._base is None
    loss = (row_t * row_t).sum()
    with tg.no_grad():
        w.add_(1.0)
    for view in (t, row, row_t):
        assert view._version == 0 and w._version == 1   # the owner's counter is the one
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_an_empty_view_shares_no_memory_as_numpy_says():
    x = tg.tensor(np.ones((3, 4)), requires_grad=True)
    empty = x[0:0]
    assert empty.shape == (0, 4)
    assert np.may_share_memory(empty._data, x._data) is False
    assert empty._base is None
    full = x[1:]
    assert full._base is x


def test_a_view_of_a_slice_counts_changes_of_the_owner():
    # the input is itself a view (x[1:]): its result's base is the owner x's array
    x = tg.tensor(np.arange(12.0).reshape(3, 4))
    part = x[1:]
    w = tg.tensor(np.ones(4), requires_grad=True)
    y = (part.T.reshape(4, 2).T * w).sum()   # Permute, copy (Reshape), Permute
    assert part.T._base is x
    y.backward()
    assert np.array_equal(w.grad.numpy(), part.numpy().sum(0))


def test_a_forward_error_still_names_the_op_and_the_shapes():
    a = tg.tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.tensor(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"MatMul: inputs of shape \(2, 3\) and \(4, 5\)"):
        a @ b
    with pytest.raises(ValueError, match=r"Add: inputs of shape \(2, 3\) and \(4, 5\)"):
        a + b
    with pytest.raises(ValueError, match=r"Reshape: inputs of shape \(2, 3\)"):
        apply(ops.reshape, (a,), ((7,),))


# --- batch_norm's running statistics (no detach under no_grad) ------------------------

def test_running_statistics_are_unchanged_off_the_graph_and_bump_versions():
    bn = nn.BatchNorm1d(3)
    x = tg.tensor(np.random.default_rng(0).standard_normal((8, 3)), requires_grad=True)
    rm, rv = bn.running_mean, bn.running_var
    v_mean, v_var = rm._version, rv._version
    out = bn(x)
    assert not rm.requires_grad and rm._op is None and rv._op is None
    assert rm._version == v_mean + 1 and rv._version == v_var + 1
    assert bn.num_batches_tracked.item() == 1 and bn.num_batches_tracked.dtype == np.int64
    xs = x.numpy()
    assert np.allclose(rm.numpy(), 0.1 * xs.mean(0), rtol=0, atol=1e-15)
    assert np.allclose(rv.numpy(), 0.9 + 0.1 * xs.var(0, ddof=1), rtol=0, atol=1e-15)
    out.sum().backward()   # the statistics' update left the graph alone
    assert x.grad is not None and x.grad.shape == (8, 3)


def test_batch_norm_gradients_pass_gradcheck():
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    w = tg.tensor(1 + 0.1 * rng.standard_normal(3), requires_grad=True)
    b = tg.tensor(0.1 * rng.standard_normal(3), requires_grad=True)

    def f(x, w, b):
        rm, rv = tg.zeros(3), tg.ones(3)
        return tg.functional.batch_norm(x, rm, rv, w, b, training=True)

    assert tg.gradcheck(f, (x, w, b))
    assert tg.gradgradcheck(f, (x, w, b))


# --- the W1 step against PyTorch ---------------------------------------------------

def w1_models(n=64, dims=(2, 16, 8, 3)):
    from benchmarks import w1_deep_batchnorm_mlp as w1
    from benchmarks.engines import copy_mlp_weights
    X, y = w1.make_data(n)
    weights, bn = w1.make_weights(dims)
    ours = nn.MLP(list(dims), batchnorm=True)
    copy_mlp_weights(ours.modules(), weights, bn)
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(dims) - 2:
            layers += [torch.nn.BatchNorm1d(fan_out), torch.nn.ReLU()]
    theirs = torch.nn.Sequential(*layers).double()
    copy_mlp_weights(theirs.modules(), weights, bn)
    return X, y, ours, theirs


@needs_torch
def test_three_adam_steps_of_a_batchnorm_mlp_match_pytorch():
    X, y, ours, theirs = w1_models()
    opt = optim.Adam(ours.parameters(), lr=1e-2)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-2)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(3):
        opt.zero_grad()
        loss = tg.functional.cross_entropy(ours(tg.tensor(X)), y)
        loss.backward()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(Xt), yt)
        tloss.backward()
        assert np.isclose(loss.item(), tloss.item(), rtol=1e-12, atol=0)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert np.allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12)
        opt.step()
        topt.step()
    # Adam divides by sqrt(v): a gradient near 0 turns rounding-level differences of the
    # two engines into step differences of ~1e-8, so the weights get a looser tolerance
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert np.allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)
    for (name, b), (_, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert np.allclose(b.numpy(), tb.numpy(), rtol=1e-6, atol=1e-7), name   # as the weights


def test_compiled_w1_step_equals_the_eager_one():
    from benchmarks import w1_deep_batchnorm_mlp as w1
    X, y = w1.make_data(48)
    weights, bn = w1.make_weights(w1.DIMS)
    eager = w1.tinygrad_step(X, y, weights, bn)
    compiled = w1.compiled_step(X, y, weights, bn)
    for _ in range(4):   # calls 1 and 2 trace, then the program replays
        assert eager().item() == compiled().item()
