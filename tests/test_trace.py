"""trace: backward_trace runs backward and reports each VJP in execution order."""
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, trace, viz
from tinygrad_edu.autograd import walk
from tinygrad_edu.functional import cross_entropy


def mlp_loss(batchnorm=True, seed=0, n=6):
    rng = np.random.default_rng(seed)
    model = nn.MLP([2, 4, 3], batchnorm=batchnorm, generator=rng)
    x = tg.Tensor(rng.standard_normal((n, 2)))
    return model, cross_entropy(model(x), np.arange(n) % 3)


def test_viz_still_offers_the_trace():
    assert viz.backward_trace is trace.backward_trace
    assert viz.BackwardTrace is trace.BackwardTrace and viz.TraceRow is trace.TraceRow


def test_backward_trace_gives_the_same_gradients_as_backward():
    model_a, loss_a = mlp_loss(seed=3)
    model_b, loss_b = mlp_loss(seed=3)
    loss_a.backward()
    result = trace.backward_trace(loss_b, model_b)
    for (name, pa), (_, pb) in zip(model_a.named_parameters(), model_b.named_parameters()):
        np.testing.assert_array_equal(pa.grad.numpy(), pb.grad.numpy(), err_msg=name)
    # intermediates don't keep gradients they were not asked to keep
    inner = [t for t in walk([loss_b], grad_only=True) if t._op is not None]
    assert all(t.grad is None and not t._retains_grad for t in inner)
    assert len(result) == len(inner)


def test_backward_trace_rows_in_execution_order():
    model, loss = mlp_loss(batchnorm=False)
    result = trace.backward_trace(loss, model)
    rows = result.rows
    assert [r.step for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].output == "loss" and rows[0].shape == () and rows[0].grad_norm == 1.0
    # the last step of each Linear sends gradient to its weight (after Permute)
    targets = {name for r in rows for name, _, _ in r.inputs}
    assert {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"} <= targets
    relu = next(r for r in rows if r.op == "ReLU")
    assert relu.output == "relu1.ReLU" and relu.shape == (6, 4) and "x > 0" in relu.rule
    fc2_bias = next(g for r in rows for name, _, g in r.inputs if name == "fc2.bias")
    assert fc2_bias == pytest.approx(np.linalg.norm(model.fc2.bias.grad.numpy()))
    table = str(result)
    assert table.splitlines()[0].split()[:2] == ["step", "op"]
    assert "d fc1.weight (4, 2)" in table
    # the numbering is the one draw_graph(show="order") shows, and the graph is kept
    src = viz.draw_graph(loss, model, show="order").source
    assert f'"#{relu.step} ReLU"' in src


def test_backward_trace_reports_this_backward_only():
    # a second backward doubles the leaves' .grad; its trace shows what it added
    model, loss = mlp_loss(batchnorm=False)
    first = trace.backward_trace(loss, model)
    once = model.fc1.weight.grad.numpy().copy()
    second = trace.backward_trace(loss, model)
    np.testing.assert_allclose(model.fc1.weight.grad.numpy(), 2 * once)
    assert [r.inputs for r in second] == [r.inputs for r in first]
    norm = next(g for r in second for name, _, g in r.inputs if name == "fc1.weight")
    assert norm == pytest.approx(np.linalg.norm(once))


def test_rules_come_from_the_ops_rows():
    model, loss = mlp_loss()
    ops_run = [t._op for t in reversed(list(walk([loss], grad_only=True))) if t._op is not None]
    rows = trace.backward_trace(loss, model).rows
    assert [r.rule for r in rows] == [op.rule for op in ops_run]
    assert [r.op.split()[0] for r in rows] == [op.name for op in ops_run]


def test_model_as_a_dict_of_names():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor(3.0, requires_grad=True)
    rows = trace.backward_trace((x * w).sum(), {"weight": w}).rows
    assert [name for name, _, _ in rows[-1].inputs] == ["input0", "weight"]


def test_a_freed_graph_gives_a_clear_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward_trace: .* freed by the first backward"):
        trace.backward_trace(y)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="backward_trace: expected a Tensor.*float"):
        trace.backward_trace(1.5)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="backward_trace: model must be a Module or a dict.*str"):
        trace.backward_trace((x * x).sum(), "fc1")
