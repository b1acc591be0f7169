"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""
import numpy as np

from .optimizer import Optimizer, check_flag, check_number


class SGD(Optimizer):
    """PyTorch's SGD. With g = grad + weight_decay * p:

        momentum == 0:  p <- p - lr * g
        otherwise:      b <- g on the first step, then b <- momentum * b + (1 - dampening) * g
                        p <- p - lr * (g + momentum * b)   (nesterov)
                        p <- p - lr * b                    (otherwise)
    """

    # PyTorch's order: weight_decay before nesterov
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        check_number("momentum", group["momentum"])
        check_number("dampening", group["dampening"], minimum=None)
        check_flag("nesterov", group["nesterov"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires momentum > 0 and dampening = 0")

    def init_state(self, p, group):
        # "_work" is scratch space, so a step allocates nothing after the first
        return {"momentum_buffer": None, "_work": np.empty_like(p._data)}

    def update(self, param, grad, group, state):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        work = state["_work"]
        if work.shape != param.shape:   # p.data was given a new shape: only scratch depends on it
            work = state["_work"] = np.empty_like(param)
        g = grad   # never modified: .grad belongs to the user
        if wd:
            np.multiply(param, wd, out=work)
            work += grad
            g = work
        if momentum:
            buf = state["momentum_buffer"]
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                if group["dampening"]:
                    buf += (1 - group["dampening"]) * g
                else:
                    buf += g
            if group["nesterov"]:
                if g is work:
                    work += momentum * buf
                else:
                    np.multiply(buf, momentum, out=work)
                    work += g
                g = work
            else:
                g = buf
        if g is work:
            work *= lr
        else:
            np.multiply(g, lr, out=work)
        param -= work
