"""Adamax: Adam with the infinity norm in place of the root mean square."""
import numpy as np

from .optimizer import Optimizer, check_betas, check_number


class Adamax(Optimizer):
    """PyTorch's Adamax (Kingma & Ba, 2015, section 7). At step t, with
    g = grad (+ weight_decay * p):

        m <- m + (1 - beta1) (g - m)
        u <- max(beta2 u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        check_betas(group)
        check_number("eps", group["eps"])

    def init_state(self, p, group):
        return {"step": 0, "exp_avg": np.zeros_like(p._data), "exp_inf": np.zeros_like(p._data),
                "_work": np.empty_like(p._data)}

    def update(self, param, grad, group, state):
        beta1, beta2 = group["betas"]
        wd, m, u, work = group["weight_decay"], state["exp_avg"], state["exp_inf"], state["_work"]
        state["step"] += 1
        g = grad + wd * param if wd else grad   # a new array: .grad belongs to the user
        np.subtract(g, m, out=work)             # m <- m + (1 - beta1)(g - m)
        work *= 1 - beta1
        m += work
        u *= beta2                              # u <- max(beta2 u, |g| + eps)
        np.abs(g, out=work)
        work += group["eps"]
        np.maximum(u, work, out=u)
        np.divide(m, u, out=work)
        work *= group["lr"] / (1 - beta1 ** state["step"])
        param -= work
