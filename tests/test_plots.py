"""plots.py (and History.plot): figures, their lines, labels and artists; the errors.
And the notebook tables of History and Module (_repr_html_)."""
import io
import sys

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import data, nn, optim, plots, viz
from tinygrad_edu.training import History, fit


@pytest.fixture
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    return matplotlib


@pytest.fixture
def moons():
    X, y = data.make_moons(120, noise=0.2, seed=0)
    return data.train_test_split(X, y, test_size=0.25, seed=0, stratify=y)


def fitted(moons, **kwargs):
    Xtr, Xv, ytr, yv = moons
    tg.manual_seed(0)
    model = nn.MLP([2, 8, 2])
    history = fit(model, F.cross_entropy, optim.Adam(model.parameters(), lr=0.05), (Xtr, ytr),
                  epochs=5, val=(Xv, yv), seed=0, verbose=False, **kwargs)
    return model, history


def labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_history_plot_draws_loss_and_accuracy_train_vs_validation(mpl, moons):
    _, history = fitted(moons)
    fig = history.plot()
    assert isinstance(fig, mpl.figure.Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_xlabel() == acc_ax.get_xlabel() == "epoch"
    best = f"best epoch ({history.best_epoch})"
    assert labels(loss_ax) == labels(acc_ax) == ["train", "validation", best]
    train, val = loss_ax.get_lines()[:2]
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(train.get_ydata(), history.train_loss)
    np.testing.assert_array_equal(val.get_ydata(), history.val_loss)
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_ydata(), history.val_acc)
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == labels(loss_ax)
    fig.savefig(io.BytesIO(), format="png")   # it renders


def test_history_plot_without_validation_or_accuracy(mpl):
    history = History()
    for epoch in range(3):   # a regression without a validation set
        history.append(1.0 / (epoch + 1), None, None, None, 0.1, float(epoch))
    fig = history.plot()
    ax, = fig.axes
    assert labels(ax) == ["train"] and ax.get_ylabel() == "loss"


def test_history_plot_on_given_axes_marks_the_restored_epoch(mpl, moons):
    from matplotlib.figure import Figure
    _, history = fitted(moons, restore_best=True)
    history.restored_epoch = 1 if history.best_epoch != 1 else 2   # as if restored elsewhere
    axes = Figure().subplots(1, 2)
    assert history.plot(axes=axes) is axes[0].figure
    assert labels(axes[0])[-1] == f"restored epoch ({history.restored_epoch})"
    with pytest.raises(ValueError, match="plot_history: this history needs 2 Axes "
                                         r"\(loss, accuracy\), got 1"):
        history.plot(axes=[axes[0]])


def test_plot_history_refuses_what_is_not_a_history(mpl):
    with pytest.raises(TypeError, match="plot_history: expected the History that fit"):
        plots.plot_history({"train_loss": [1.0]})
    with pytest.raises(ValueError, match="no epochs"):
        History().plot()


def test_decision_boundary_of_a_module_colours_every_class(mpl, moons):
    model, _ = fitted(moons)
    _, Xv, _, yv = moons
    model.train()
    fig = viz.plot_decision_boundary(model, Xv, yv, steps=50, title="moons")
    assert model.training   # put back in its mode
    ax, = fig.axes
    assert ax.get_title() == "moons"
    contour, = [c for c in ax.collections if hasattr(c, "levels")] or [None]
    scatter = [c for c in ax.collections if c.get_offsets().shape == (len(Xv), 2)]
    assert len(scatter) == 1
    np.testing.assert_array_equal(scatter[0].get_offsets(), Xv)
    assert contour is not None and list(contour.levels) == [-0.5, 0.5, 1.5]


def test_decision_boundary_of_functions_and_their_output_kinds(mpl):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    y = np.array([0, 1, 2])
    seen = []

    def class_ids(points):
        seen.append(type(points))
        return (points[:, 0] > 1).astype(np.int64) + (points[:, 1] > 0.5)

    fig = plots.plot_decision_boundary(class_ids, X, y, steps=10)
    assert seen == [np.ndarray] and len(fig.axes) == 1
    contour, = [c for c in fig.axes[0].collections if hasattr(c, "levels")]
    assert list(contour.levels) == [-0.5, 0.5, 1.5, 2.5]   # classes 0, 1 and 2
    probabilities = lambda points: 1 / (1 + np.exp(-points[:, :1]))   # (M, 1)
    plots.plot_decision_boundary(probabilities, X, y > 0, steps=10, threshold=0.5)
    with pytest.raises(ValueError, match="one score per point; pass threshold= "
                                         r"\(0 for logits, 0.5 for probabilities\)"):
        plots.plot_decision_boundary(probabilities, X, y, steps=10)
    with pytest.raises(ValueError, match=r"threshold applies to one score per point, but the "
                                         r"model gives shape \(100, 3\)"):
        plots.plot_decision_boundary(lambda p: np.zeros((len(p), 3)), X, y, steps=10,
                                     threshold=0)
    with pytest.raises(ValueError, match=r"output on 100 points has shape \(100, 2, 2\)"):
        plots.plot_decision_boundary(lambda p: np.zeros((len(p), 2, 2)), X, y, steps=10)


def test_decision_boundary_refuses_bad_input(mpl):
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=np.int64)
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 2\), got \(4, 3\)"):
        plots.plot_decision_boundary(model, np.zeros((4, 3)), y)
    with pytest.raises(ValueError, match=r"y must have shape \(4,\) to match X \(4, 2\), "
                                         r"got \(3,\)"):
        plots.plot_decision_boundary(model, X, y[:3])
    with pytest.raises(TypeError, match="model must be a Module or a function"):
        plots.plot_decision_boundary("model", X, y)
    with pytest.raises(ValueError, match="steps must be an integer >= 2, got 1"):
        plots.plot_decision_boundary(model, X, y, steps=1)


def test_grad_flow_has_a_bar_pair_per_parameter_with_a_gradient(mpl):
    tg.manual_seed(0)
    model = nn.MLP([3, 4, 2])
    with pytest.raises(ValueError, match="plot_grad_flow: no parameter has a gradient; "
                                         r"call loss.backward\(\) first"):
        viz.plot_grad_flow(model)
    F.cross_entropy(model(tg.randn(5, 3)), np.array([0, 1, 0, 1, 1])).backward()
    fig = viz.plot_grad_flow(model)
    ax, = fig.axes
    names = [name for name, _ in model.named_parameters()]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert len(ax.patches) == 2 * len(names) and ax.get_yscale() == "log"
    heights = [p.get_height() for p in ax.patches]
    grads = [p.grad.numpy() for p in model.parameters()]
    np.testing.assert_allclose(heights[:len(names)], [np.abs(g).max() for g in grads])
    np.testing.assert_allclose(heights[len(names):], [np.abs(g).mean() for g in grads])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["max |grad|", "mean |grad|"]
    # named pairs work too, and parameters without a gradient are left out
    model.fc2.bias.grad = None
    ax = plots.plot_grad_flow(model.named_parameters()).axes[0]
    assert len(ax.patches) == 2 * (len(names) - 1)


def test_activation_histograms_one_line_per_tensor_with_saturation(mpl):
    tg.manual_seed(0)
    x = tg.randn(64, 10, requires_grad=True)
    outputs = {"tanh1": (3 * x).tanh(), "tanh2": (0.1 * x).tanh()}
    for t in outputs.values():
        t.retain_grad()
    (outputs["tanh1"].sum() + (outputs["tanh2"] ** 2).sum()).backward()
    fig = viz.plot_activation_histograms(outputs, saturation=0.97, bins=20)
    ax, = fig.axes
    assert len(ax.get_lines()) == 2 and ax.get_xlabel() == "value"
    saturated = np.mean(np.abs(outputs["tanh1"].numpy()) > 0.97)
    assert labels(ax)[0].startswith("tanh1: mean")
    assert labels(ax)[0].endswith(f"saturated {saturated:.1%}") and saturated > 0.2
    assert labels(ax)[1].endswith("saturated 0.0%")
    assert len(ax.get_lines()[0].get_xdata()) == 20
    grads = plots.plot_activation_histograms(outputs, grad=True).axes[0]
    assert grads.get_xlabel() == "gradient" and grads.get_title() == "gradient distribution"


def test_activation_histograms_refuse_bad_input(mpl):
    with pytest.raises(TypeError, match=r"expected a non-empty dict \{name: tensor\}, got list"):
        plots.plot_activation_histograms([tg.ones(3)])
    with pytest.raises(TypeError, match="non-empty dict"):
        plots.plot_activation_histograms({})
    with pytest.raises(ValueError, match="'h' has no gradient; call its retain_grad"):
        plots.plot_activation_histograms({"h": tg.ones(3)}, grad=True)
    with pytest.raises(TypeError, match="grad=True needs Tensors, but 'h' is a ndarray"):
        plots.plot_activation_histograms({"h": np.ones(3)}, grad=True)
    with pytest.raises(ValueError, match=r"'h' is empty \(shape \(0,\)\)"):
        plots.plot_activation_histograms({"h": np.ones(0)})
    with pytest.raises(ValueError, match="bins must be a positive integer, got 0"):
        plots.plot_activation_histograms({"h": np.ones(3)}, bins=0)


def test_without_matplotlib_each_plot_says_how_to_install_it(monkeypatch, moons):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    _, history = fitted(moons)
    with pytest.raises(ModuleNotFoundError, match="plot_history needs matplotlib: "
                                                  "pip install matplotlib"):
        history.plot()
    with pytest.raises(ModuleNotFoundError, match="plot_decision_boundary needs matplotlib"):
        plots.plot_decision_boundary(nn.Linear(2, 2), np.zeros((2, 2)), np.zeros(2, int))


# --- notebook display: HTML tables next to the plain reprs --------------------------------

def test_history_html_table_has_a_row_per_epoch_and_marks_the_restored_one(moons):
    _, history = fitted(moons, restore_best=True)
    table = history._repr_html_()
    assert table.count("<tr") == 1 + len(history)   # the header and one row per epoch
    assert "<th>val_acc</th>" in table and "<th>lr</th>" in table
    bold = table.split('<tr style="font-weight:bold">')
    assert len(bold) == 2 and bold[1].startswith(f"<td>{history.restored_epoch}</td>")
    assert f"<td>{history.val_loss[-1]:.4f}</td>" in table
    assert "restored_epoch=" in table   # the caption is the plain repr
    assert len(repr(history)) <= 100
    plain = History()
    plain.append(0.5, None, None, None, 0.1, 0.0)   # no accuracy, no validation: no columns
    assert "<th>acc</th>" not in plain._repr_html_() and "val_" not in plain._repr_html_()


def test_module_html_table_lists_parameters_with_shapes_counts_and_total():
    model = nn.MLP([3, 4, 2], batchnorm=True)
    table = model._repr_html_()
    names = [name for name, _ in model.named_parameters()]
    assert table.count("<tr>") == 1 + len(names) + 1   # header, parameters, total
    assert "<td>fc1.weight</td><td>(4, 3)</td><td>12</td>" in table
    assert "<td>bn1.bias</td><td>(4,)</td><td>4</td>" in table
    total = sum(p.numel() for p in model.parameters())
    assert total == 12 + 4 + 4 + 4 + 8 + 2 and f"<b>{total:,}</b>" in table
    assert "<caption>MLP</caption>" in table
    assert repr(model).startswith("MLP(\n  (fc1): Linear(")   # the plain repr is PyTorch's
    assert max(len(line) for line in repr(model).splitlines()) <= 100
    big = nn.Linear(1000, 2000)
    assert "<b>2,002,000</b>" in big._repr_html_()
