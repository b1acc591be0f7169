"""The old import path of the composites: they live in tinygrad_edu.nn.functional (PyTorch's path)."""
from .nn.functional import *  # noqa: F401,F403  (the same objects, one home)
