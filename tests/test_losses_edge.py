"""Loss edge cases: N-d class targets, float labels, BCE at 0 and 1."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F


def test_cross_entropy_with_spatial_class_targets_matches_loop():
    rng = np.random.default_rng(0)
    logits = tg.Tensor(rng.standard_normal((3, 4, 5)), requires_grad=True)
    target = rng.integers(0, 4, (3, 5))
    loss = F.cross_entropy(logits, target, reduction="none")
    assert loss.shape == (3, 5)
    logp = logits.numpy() - np.log(np.exp(logits.numpy()).sum(1, keepdims=True))
    expected = -np.take_along_axis(logp, target[:, None, :], 1)[:, 0, :]
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-12)
    assert tg.gradcheck(lambda z: F.cross_entropy(z, target), [logits])


def test_cross_entropy_spatial_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 2))
    t = rng.integers(0, 3, (2, 4, 2))
    ours = tg.Tensor(x, requires_grad=True)
    F.cross_entropy(ours, t).backward()
    theirs = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(theirs, torch.tensor(t)).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_float_class_labels_are_refused():
    with pytest.raises(TypeError, match="cross_entropy: class targets must be integers"):
        F.cross_entropy(tg.randn(4, 3), np.array([0.0, 1.0, 2.0, 1.0]))


@pytest.mark.parametrize("p, y", [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)])
def test_binary_cross_entropy_at_the_ends_is_finite_without_warnings(p, y):
    x = tg.tensor([p, 0.5], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(x, tg.tensor([y, 1.0]))
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert loss.item() <= (100 + np.log(2)) / 2 + 1e-9   # the log is clamped at -100
