"""Shared test helpers: a seeded generator and a factory for random float64 leaves."""
import numpy as np
import pytest

import tinygrad_edu as tg


def make_randt(seed=0):
    """A factory randt(*shape, positive=False) of float64 leaves that require grad.

    Values are standard normal (so, almost surely, no ties and no zeros), or
    uniform in [0.5, 2] with positive=True (for log, sqrt, division, pow).
    """
    rng = np.random.default_rng(seed)

    def randt(*shape, positive=False, requires_grad=True):
        values = rng.uniform(0.5, 2.0, shape) if positive else rng.standard_normal(shape)
        return tg.tensor(values, requires_grad=requires_grad)
    return randt


@pytest.fixture
def rng():
    """A fresh generator per test, so results don't depend on which tests ran before."""
    return np.random.default_rng(0)


@pytest.fixture
def randt():
    return make_randt(0)
