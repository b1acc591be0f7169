"""Adam and AdamW: per-parameter step sizes from running moments of the gradient."""
import math

import numpy as np

from .optimizer import Optimizer, check_betas, check_flag, check_number


class Adam(Optimizer):
    """PyTorch's Adam (Kingma & Ba, 2015). At step t, with g = grad (+ weight_decay * p):

        m <- m + (1 - beta1) (g - m)              (= beta1 m + (1 - beta1) g)
        v <- beta2 v + (1 - beta2) g^2
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    amsgrad=True divides by the running maximum of v instead of v.
    Every array is updated in place; the state is allocated once.
    """
    decoupled = False   # AdamW sets this: weight decay shrinks p instead of adding to g

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        # a list becomes a tuple; anything else is left for check_hyperparameters to refuse
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        check_betas(group)
        check_number("eps", group["eps"])
        check_flag("amsgrad", group["amsgrad"])

    def init_state(self, p, group):
        state = {"step": 0, "exp_avg": np.zeros_like(p._data),
                 "exp_avg_sq": np.zeros_like(p._data), "_work": np.empty_like(p._data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p._data)
        return state

    def update(self, param, grad, group, state):
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        m, v, work = state["exp_avg"], state["exp_avg_sq"], state["_work"]
        state["step"] += 1
        t = state["step"]
        g = grad
        if wd and self.decoupled:
            param *= 1 - lr * wd
        elif wd:
            g = grad + wd * param   # a new array: .grad belongs to the user

        np.subtract(g, m, out=work)             # m <- m + (1 - beta1)(g - m)
        work *= 1 - beta1
        m += work
        v *= beta2                              # v <- beta2 v + (1 - beta2) g^2
        np.multiply(g, g, out=work)
        work *= 1 - beta2
        v += work

        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1 ** t)
        np.sqrt(v, out=work)                    # denominator sqrt(v_hat) + eps
        work /= math.sqrt(1 - beta2 ** t)
        work += eps
        np.divide(m, work, out=work)
        work *= step_size
        param -= work


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the Adam
    step, p <- p (1 - lr * weight_decay). The default weight_decay is 1e-2, as PyTorch."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
