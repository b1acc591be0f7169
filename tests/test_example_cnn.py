"""examples/digits_cnn.py: it learns, one training step equals PyTorch's, its graph draws.

Also the max pooling it relies on: the gradient of a window with tied maxima goes to
the first one (after ReLU, all-zero windows are common), and a NaN wins its window.
"""
import functools
import shutil

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

from test_examples import load


@functools.lru_cache(maxsize=None)
def example():
    return load("digits_cnn")


def torch_twin(torch, channels):
    """The example's DigitsCNN in PyTorch, with the same parameter and buffer names."""
    tnn = torch.nn

    class DigitsCNN(tnn.Module):
        def __init__(self):
            super().__init__()
            c1, c2 = channels
            self.conv1 = tnn.Conv2d(1, c1, 3, padding=1, bias=False)
            self.bn1 = tnn.BatchNorm2d(c1)
            self.relu1, self.pool1 = tnn.ReLU(), tnn.MaxPool2d(2)
            self.conv2 = tnn.Conv2d(c1, c2, 3, padding=1, bias=False)
            self.bn2 = tnn.BatchNorm2d(c2)
            self.relu2, self.pool2 = tnn.ReLU(), tnn.MaxPool2d(2)
            self.fc = tnn.Linear(c2 * 2 * 2, 10)

        def forward(self, x):
            x = self.pool1(self.relu1(self.bn1(self.conv1(x))))
            x = self.pool2(self.relu2(self.bn2(self.conv2(x))))
            return self.fc(x.flatten(1))

    return DigitsCNN().double()


def images(n, seed=0):
    """Digit-like inputs: pixels in [0, 1], a third of them exactly 0 (as the digits' are)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 1, 8, 8))
    X[X < 1 / 3] = 0.0
    return X, rng.integers(0, 10, size=n)


def test_quick_run_learns_the_digits():
    pytest.importorskip("sklearn")
    r = example().main(["--quick"])
    # chance is 10 %; a model whose convolutions or pooling were broken stays far below
    assert r["test_acc"] >= 0.93
    losses = [loss for _, loss, _ in r["history"]]
    assert losses[-1] < losses[0] / 3


@pytest.mark.parametrize("channels", [(16, 32), (3, 5)])
def test_one_training_step_equals_pytorch(channels):
    torch = pytest.importorskip("torch")
    tg.manual_seed(3)
    model = example().DigitsCNN(channels)
    twin = torch_twin(torch, channels)
    twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in
                          model.state_dict().items()})
    X, y = images(32)
    loss = F.cross_entropy(model(tg.tensor(X)), y)
    loss.backward()
    theirs = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
    theirs.backward()
    assert np.isclose(loss.item(), theirs.item(), rtol=1e-12, atol=0)
    grads = dict(twin.named_parameters())
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)
    ours = model.state_dict()   # the BatchNorm running statistics moved alike
    for name, value in twin.state_dict().items():
        np.testing.assert_allclose(ours[name], value.numpy(), rtol=1e-12, err_msg=name)


def test_gradients_of_the_small_network_match_finite_differences():
    tg.manual_seed(4)
    model = example().DigitsCNN((2, 3))
    X, y = images(4, seed=1)
    X += np.random.default_rng(2).random(X.shape) * 1e-3   # no exact ties in the pools
    model.eval()   # BatchNorm as a fixed affine map: the loss is a function of x alone
    x = tg.tensor(X, requires_grad=True)
    assert tg.gradcheck(lambda x: F.cross_entropy(model(x), y), (x,))
    w = model.conv1.weight
    assert tg.gradcheck(lambda w: F.conv2d(x, w, padding=1).tanh().sum(), (w,))
    assert tg.gradgradcheck(lambda w: F.conv2d(x, w, padding=1).tanh().sum(), (w,))


def test_max_pool_ties_and_nan_as_pytorch():
    torch = pytest.importorskip("torch")
    X = np.zeros((1, 2, 4, 4))
    X[0, 0, 1, 1] = X[0, 0, 0, 1] = 2.0   # a tie: the first in row-major order wins
    X[0, 1, 2, 3] = np.nan
    X[0, 1, 0, 0] = -1.0                  # a window of zeros and a negative value
    x = tg.tensor(X, requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    values.sum().backward()
    t = torch.tensor(X, requires_grad=True)
    t_values, t_indices = torch.nn.functional.max_pool2d(t, 2, return_indices=True)
    t_values.sum().backward()
    np.testing.assert_array_equal(values.numpy(), t_values.detach().numpy())   # NaN too
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_max_pool_with_padding_never_picks_the_padding():
    torch = pytest.importorskip("torch")
    X = -np.abs(np.random.default_rng(5).standard_normal((2, 3, 5, 5))) - 1   # all < 0
    x = tg.tensor(X, requires_grad=True)
    (F.max_pool2d(x, 3, stride=2, padding=1) * tg.tensor(np.arange(27.0).reshape(3, 3, 3))
     ).sum().backward()
    t = torch.tensor(X, requires_grad=True)
    (torch.nn.functional.max_pool2d(t, 3, stride=2, padding=1)
     * torch.arange(27.0, dtype=torch.float64).reshape(3, 3, 3)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=0, atol=0)


def test_bad_input_names_the_layer_and_the_shapes():
    model = example().DigitsCNN()
    with pytest.raises(RuntimeError, match=r"conv2d.*1 channels.*\(2, 3, 8, 8\)"):
        model(tg.tensor(np.zeros((2, 3, 8, 8))))
    with pytest.raises(ValueError, match=r"Linear: expected input with last axis 128.*"
                                         r"\(2, 512\)"):
        model(tg.tensor(np.zeros((2, 1, 16, 16))))   # 16x16 images leave 32x4x4 features


def test_graph_collapses_each_layer_call_into_one_node(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    tg.manual_seed(0)
    model = example().DigitsCNN((2, 3))
    X, y = images(4)
    criterion = tg.nn.CrossEntropyLoss()   # as the example: the loss is one node too
    path = example().draw(criterion(model(tg.tensor(X)), y), model, str(tmp_path / "g.svg"))
    svg = open(path).read()
    for layer in ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "fc"):
        assert svg.count(f">{layer}: ") == 1, layer   # "conv1: Conv2d(1->8, 3x3)"
    assert svg.count(">CrossEntropyLoss</text>") == 1 and ">Exp</text>" not in svg
    assert "Unfold" not in svg and "MatMul" not in svg   # inside the collapsed nodes
