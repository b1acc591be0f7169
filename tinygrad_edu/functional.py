"""The old import path of the composites: they live in tinygrad_edu.nn.functional (PyTorch's path)."""
from .nn.functional import (relu, leaky_relu, sigmoid, tanh, softmax, log_softmax,  # noqa: F401
                            logsumexp, cross_entropy, nll_loss, mse_loss,
                            binary_cross_entropy, binary_cross_entropy_with_logits,
                            multi_margin_loss, linear, dropout, batch_norm)
