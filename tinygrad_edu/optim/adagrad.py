"""Adagrad: each coordinate's step shrinks with the sum of its past squared gradients."""
import numpy as np

from .optimizer import Optimizer, check_number


class Adagrad(Optimizer):
    """PyTorch's Adagrad (Duchi et al., 2011). At step t, with g = grad (+ weight_decay * p):

        clr = lr / (1 + (t - 1) lr_decay)
        s <- s + g^2                      (s starts at initial_accumulator_value)
        p <- p - clr * g / (sqrt(s) + eps)

    As in PyTorch, the state of every parameter is made by the constructor, and
    initial_accumulator_value is one value for the whole optimizer.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self.init_state(p, group)

    def check_hyperparameters(self, group):
        super().check_hyperparameters(group)
        check_number("lr_decay", group["lr_decay"])
        check_number("initial_accumulator_value", group["initial_accumulator_value"])
        if group["initial_accumulator_value"] != self.defaults["initial_accumulator_value"]:
            # PyTorch fills every sum with the optimizer's value and ignores the group's
            raise ValueError(f"initial_accumulator_value is one value for the whole optimizer "
                             f"({self.defaults['initial_accumulator_value']!r}); a parameter "
                             f"group can't have its own ({group['initial_accumulator_value']!r})")
        check_number("eps", group["eps"])

    def init_state(self, p, group):
        return {"step": 0, "sum": np.full_like(p._data, self.defaults["initial_accumulator_value"]),
                "_work": np.empty_like(p._data)}

    def update(self, param, grad, group, state):
        wd, s, work = group["weight_decay"], state["sum"], state["_work"]
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        g = grad + wd * param if wd else grad   # a new array: .grad belongs to the user
        np.multiply(g, g, out=work)
        s += work
        np.sqrt(s, out=work)
        work += group["eps"]
        np.divide(g, work, out=work)
        work *= clr
        param -= work
