"""RMSprop: divide the step by a running root-mean-square of the gradient."""
import numpy as np

from .optimizer import Optimizer, check_flag, check_number


class RMSprop(Optimizer):
    """PyTorch's RMSprop. With g = grad + weight_decay * p:

        v <- alpha v + (1 - alpha) g^2
        centered:  a <- a + (1 - alpha)(g - a);  d = sqrt(v - a^2) + eps
        otherwise: d = sqrt(v) + eps
        momentum > 0:  b <- momentum b + g / d;  p <- p - lr b
        otherwise:     p <- p - lr g / d
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        check_number("alpha", group["alpha"])
        check_number("eps", group["eps"])
        check_number("momentum", group["momentum"])
        check_flag("centered", group["centered"])

    def init_state(self, p, group):
        state = {"step": 0, "square_avg": np.zeros_like(p._data), "_work": np.empty_like(p._data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(p._data)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(p._data)
        return state

    def update(self, param, grad, group, state):
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        v, work = state["square_avg"], state["_work"]
        state["step"] += 1
        g = grad + wd * param if wd else grad   # a new array: .grad belongs to the user

        v *= alpha
        np.multiply(g, g, out=work)
        work *= 1 - alpha
        v += work
        if group["centered"]:
            a = state["grad_avg"]
            np.subtract(g, a, out=work)
            work *= 1 - alpha
            a += work
            np.multiply(a, a, out=work)
            np.subtract(v, work, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(v, out=work)
        work += eps
        np.divide(g, work, out=work)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += work
            np.multiply(buf, lr, out=work)
        else:
            work *= lr
        param -= work
