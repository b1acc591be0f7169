"""check.compare_gradients: the autograd-vs-manual table, and what a failure says."""
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import check, manual, nn
from tinygrad_edu.functional import cross_entropy


def grads():
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((4, 3)), "b1": rng.standard_normal(4)}


def test_equal_gradients_pass_and_print_a_table(capsys):
    g = grads()
    result = tg.compare_gradients(g, {k: v.copy() for k, v in g.items()})
    assert result and result.passed and result.failures == []
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:2] == ["gradient", "shape"] and "result" in header
    assert "W1" in out and "(4, 3)" in out and "all gradients match" in out
    row = result["W1"]
    assert row.shape_match and row.max_abs == 0.0 and row.max_rel == 0.0 and row.passed


def test_a_planted_error_names_the_parameter_and_the_worst_element(capsys):
    g = grads()
    wrong = {k: v.copy() for k, v in g.items()}
    wrong["W1"][2, 1] += 1e-3
    wrong["W1"][0, 0] += 1e-7            # within tolerance
    result = tg.compare_gradients(g, wrong)
    assert not result
    assert [r.name for r in result.failures] == ["W1"]
    row = result["W1"]
    assert row.worst_index == (2, 1)
    assert row.max_abs == pytest.approx(1e-3)
    assert result["b1"].passed
    out = capsys.readouterr().out
    assert "FAIL W1: worst element (2, 1)" in out and "1 of 2 differ" in out


def test_tolerances_are_used():
    g = {"w": np.array([1.0, 2.0])}
    near = {"w": np.array([1.0, 2.0 + 1e-4])}
    assert not tg.compare_gradients(g, near, verbose=False)
    assert tg.compare_gradients(g, near, rtol=1e-3, verbose=False)
    assert tg.compare_gradients(g, near, atol=1e-3, verbose=False)


def test_shape_mismatch_and_missing_gradients_fail():
    g = grads()
    bad = {"W1": g["W1"].T, "extra": np.zeros(2)}
    result = tg.compare_gradients(g, bad, verbose=False)
    assert not result["W1"].shape_match and not result["W1"].passed
    assert "shape (4, 3) (autograd) vs (3, 4) (manual)" in result["W1"].describe_failure()
    assert result["b1"].describe_failure() == "b1: no manual gradient"
    assert result["extra"].describe_failure() == "extra: no autograd gradient"
    assert "NO" in result.table()


def test_nan_never_passes():
    a = {"w": np.array([1.0, np.nan])}
    assert not tg.compare_gradients(a, {"w": np.array([1.0, 2.0])}, verbose=False)
    assert not tg.compare_gradients({"w": np.array([1.0, 2.0])}, a, verbose=False)


def test_tensors_and_a_module_are_accepted():
    model = nn.MLP([2, 3, 2], generator=np.random.default_rng(0))
    X, y = np.random.default_rng(1).standard_normal((5, 2)), np.array([0, 1, 0, 1, 1])
    cross_entropy(model(tg.Tensor(X)), y).backward()
    from tinygrad_edu.derivations import mlp_layers
    layers, rename = mlp_layers(model)
    _, hand = manual.mlp_backprop(X, y, layers)
    result = tg.compare_gradients(model, hand, rename=rename, verbose=False)
    assert result.passed
    assert [r.name for r in result.rows] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    # Tensors on both sides work too
    as_tensors = {n: p.grad for n, p in model.named_parameters()}
    assert tg.compare_gradients(as_tensors, as_tensors, verbose=False)
    # a Module whose backward never ran has no gradients: every row fails
    fresh = nn.MLP([2, 3, 2])
    assert not tg.compare_gradients(fresh, hand, rename=rename, verbose=False)


@pytest.mark.parametrize("empty", [{}, nn.ReLU()], ids=["dict", "module without parameters"])
def test_comparing_nothing_raises(empty):
    # no gradients on either side: nothing was checked, so it must not read as a pass
    with pytest.raises(ValueError, match="compare_gradients: nothing to compare"):
        tg.compare_gradients(empty, {}, verbose=False)


def test_labels_name_the_sides_in_failures():
    g = grads()
    result = tg.compare_gradients(g, {"W1": g["W1"] + 1}, labels=("mine", "yours"),
                                  verbose=False)
    assert re.fullmatch(r"W1: worst element \(\d, \d\): mine \S+, yours \S+ \(\|diff\| 1\)",
                        result["W1"].describe_failure())
    assert result["b1"].describe_failure() == "b1: no yours gradient"
    assert "mine vs yours" in result.table()


def test_wrong_input_type_is_named():
    with pytest.raises(TypeError, match="compare_gradients"):
        tg.compare_gradients([1, 2], {}, verbose=False)


def test_a_model_and_a_manual_backward_function():
    model = nn.MLP([2, 5, 3], generator=np.random.default_rng(0))
    X, y = np.random.default_rng(1).standard_normal((8, 2)), np.arange(8) % 3
    cross_entropy(model(tg.Tensor(X)), y).backward()

    def my_backward(m, slip=0.0):
        layers = [{"W": m.fc1.weight.numpy(), "b": m.fc1.bias.numpy()},
                  {"W": m.fc2.weight.numpy(), "b": m.fc2.bias.numpy()}]
        _, grads = manual.mlp_backprop(X, y, layers)
        grads["b2"] = grads["b2"] + slip
        return {"fc1.weight": grads["W1"], "fc1.bias": grads["b1"],
                "fc2.weight": grads["W2"], "fc2.bias": grads["b2"]}

    assert check.compare_gradients(model, my_backward, verbose=False).passed
    result = check.compare_gradients(model, lambda m: my_backward(m, slip=1e-3), verbose=False)
    assert not result.passed
    assert "fc2.bias" in str(result) and "FAIL" in str(result)
