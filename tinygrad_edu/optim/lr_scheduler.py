"""Learning-rate schedules, as torch.optim.lr_scheduler: call scheduler.step() once per
epoch (OneCycleLR: once per batch), after optimizer.step().

Every scheduler sets each parameter group's lr, and get_last_lr() returns them. The
constructor and load_state_dict() check the settings with the same check_settings(),
so a saved state dict can set nothing the constructor would refuse.
"""
import bisect
import math
import numbers
import types
from collections import Counter

from ..autograd import state as autograd_state
from .optimizer import Optimizer, check_flag, check_integer, check_number, check_positive


def not_in_a_compiled_step(scheduler):
    """A scheduler's step is Python on the groups' dicts, which a tg.compile program does
    not replay (it would keep the traced lr): a step of fn that calls it runs eagerly, with
    compile's warning. Stepped between compiled calls, the program reads the new lr live."""
    if autograd_state.recorder is not None:
        autograd_state.recorder.fail(f"{type(scheduler).__name__}.step() inside fn is not "
                                     f"replayed; step the scheduler between the calls")


class LRScheduler:
    """Base class: sets each group's lr from get_lr() on every step().

    The constructor records each group's starting lr as group["initial_lr"] (kept if
    already there) and takes the first step, at epoch 0. With last_epoch >= 0 (resuming)
    the groups must already have "initial_lr", and that first step changes nothing.
    """
    _is_initial = False   # True during the constructor's step

    def __init__(self, optimizer, last_epoch=-1):
        who = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        else:
            missing = [i for i, g in enumerate(optimizer.param_groups) if "initial_lr" not in g]
            if missing:
                raise KeyError(f"{who}: param_groups[{missing[0]}] has no 'initial_lr', needed "
                               f"to resume with last_epoch={last_epoch!r}: load the "
                               f"optimizer's state dict first")
            base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.base_lrs = base_lrs
        self.last_epoch = last_epoch
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self._check(self.state_dict(), who)
        self._initial_step()   # reads base_lrs, not the groups' initial_lr: a refused one changes nothing
        for group, lr in zip(optimizer.param_groups, base_lrs):
            group.setdefault("initial_lr", lr)

    def _initial_step(self):
        """The constructor's first step (SequentialLR takes it again for its first schedule)."""
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial   # back to the class's False, and out of state_dict()

    def get_lr(self):
        """The lr of each group for epoch self.last_epoch."""
        raise NotImplementedError

    def step(self):
        not_in_a_compiled_step(self)
        groups = self.optimizer.param_groups
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
            if len(lrs) != len(groups):
                raise RuntimeError(f"{type(self).__name__}: the optimizer has {len(groups)} "
                                   f"parameter groups, {len(lrs)} when the scheduler was made "
                                   f"(add_param_group after it?)")
        except BaseException:
            self.last_epoch -= 1   # a refused step changes nothing
            raise
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def _update_lr(self, epoch):
        """Jump to `epoch` (SequentialLR's switch to this schedule, at 0): the lr from the
        schedule's closed form in base_lrs where it has one, else from get_lr(), as PyTorch."""
        groups = self.optimizer.param_groups
        was = self.last_epoch
        self.last_epoch = epoch
        try:
            closed_form = getattr(self, "_get_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
            if len(lrs) != len(groups):
                raise RuntimeError(f"{type(self).__name__}: the optimizer has {len(groups)} "
                                   f"parameter groups, {len(lrs)} when the scheduler was made")
        except BaseException:
            self.last_epoch = was
            raise
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]

    def get_last_lr(self):
        """The learning rate of each parameter group, as set by the last step()."""
        return list(self._last_lr)

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    # --- saving and restoring --------------------------------------------------

    def check_settings(self, state):
        """Raise a TypeError or ValueError for an invalid entry of `state` (a dict like
        state_dict()'s); subclasses extend this. The caller prefixes the message."""
        check_integer("last_epoch", state["last_epoch"], minimum=-1)
        check_lrs("base_lrs", state["base_lrs"], len(self.optimizer.param_groups))
        check_lrs("_last_lr", state["_last_lr"], len(self.optimizer.param_groups))

    def _check(self, state, where):
        try:
            self.check_settings(state)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {e}") from None

    def state_dict(self):
        """Every attribute but the optimizer (lists copied)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items()
                if k != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() saved. It must have exactly this scheduler's keys, and
        pass check_settings() as the constructor's arguments do; anything refused raises,
        and then nothing has changed."""
        vars(self).update(self._restored(self._validated(state_dict)))

    def _validated(self, state_dict):
        """`state_dict` checked as load_state_dict() needs, lists copied; raises if refused."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{who}: expected a dict, as state_dict() returns, got "
                            f"{type(state_dict).__name__}")
        own = self.state_dict()
        for k in state_dict:
            if k not in own:   # e.g. "optimizer", or another scheduler's setting
                raise ValueError(f"{who}: {k!r} is not {type(self).__name__} state "
                                 f"(expected {sorted(own)})")
        for k in own:
            if k not in state_dict:
                raise ValueError(f"{who}: the state dict lacks {k!r} (expected {sorted(own)})")
        new = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in state_dict.items()}
        self._check(new, who)
        return new

    def _restored(self, state):
        """The checked `state` as the attributes to set."""
        return state


def check_lrs(name, values, n):
    """A list of `n` learning rates, one per parameter group."""
    if not isinstance(values, (list, tuple)):
        raise TypeError(f"{name} must be a list with one number per parameter group, got "
                        f"{type(values).__name__}")
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} values, the optimizer {n} parameter groups")
    for i, v in enumerate(values):
        check_number(f"{name}[{i}]", v)


def per_group(name, value, optimizer):
    """`value` for every group: a list or tuple is one value per group, as PyTorch."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} has {len(value)} values, the optimizer {n} parameter "
                             f"groups")
        return list(value)
    return [value] * n


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch); `lr_lambda` is a function of the epoch, or a
    list of them, one per parameter group.

    state_dict() saves, for each lr_lambda, None if it is a function, else (a callable
    object) a copy of its attributes, as PyTorch.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"LambdaLR: {type(optimizer).__name__} is not an Optimizer")
        lambdas = per_group("LambdaLR: lr_lambda", lr_lambda, optimizer)
        for i, fn in enumerate(lambdas):
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda[{i}] must be a function of the epoch, "
                                f"got {type(fn).__name__}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        lrs = []
        for i, (fn, base_lr) in enumerate(zip(self.lr_lambdas, self.base_lrs)):
            factor = fn(self.last_epoch)
            try:
                check_number(f"lr_lambda[{i}]({self.last_epoch})", factor)
            except (TypeError, ValueError) as e:   # a negative or nan lr would reach step()
                raise type(e)(f"LambdaLR: {e}") from None
            lrs.append(base_lr * factor)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        state["lr_lambdas"] = [None if _is_function(fn) else dict(vars(fn))
                               for fn in self.lr_lambdas]
        return state

    def check_settings(self, state):
        super().check_settings(state)
        saved = state["lr_lambdas"]
        if not (isinstance(saved, (list, tuple)) and len(saved) == len(self.lr_lambdas)):
            raise TypeError(f"lr_lambdas must be a list of {len(self.lr_lambdas)} entries, "
                            f"got {saved!r}")
        for i, (entry, fn) in enumerate(zip(saved, self.lr_lambdas)):
            if entry is None:
                continue
            if _is_function(fn) or not isinstance(entry, dict):
                raise TypeError(f"lr_lambdas[{i}] must be None for a function, a dict of "
                                f"attributes for a callable object; got {entry!r}")
            for k in entry:
                if not (isinstance(k, str) and k in vars(fn)):
                    raise ValueError(f"lr_lambdas[{i}]: {k!r} is not an attribute of "
                                     f"{type(fn).__name__}")

    def _restored(self, state):
        state = dict(state)
        for fn, entry in zip(self.lr_lambdas, state.pop("lr_lambdas")):
            if entry is not None:
                vars(fn).update(entry)
        return state


def _is_function(fn):
    """Whether state_dict() saves None for `fn` (it has no attributes of its own to save)."""
    return isinstance(fn, (types.FunctionType, types.MethodType)) or not hasattr(fn, "__dict__")


class StepLR(LRScheduler):
    """lr = initial_lr * gamma^(epoch // step_size): multiply by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_integer("step_size", state["step_size"], minimum=1)
        check_number("gamma", state["gamma"])

    def get_lr(self):
        # Multiply the current lr (PyTorch's "chainable" form), so lr changes made
        # by hand between steps are kept.
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [lr * self.gamma ** (self.last_epoch // self.step_size) for lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the lr by gamma at each epoch in `milestones` (by gamma^k at a milestone
    listed k times): lr = initial_lr * gamma^(number of milestones <= epoch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be a list of epochs, got "
                            f"{milestones!r}")
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        milestones = state["milestones"]
        if not isinstance(milestones, dict):
            raise TypeError(f"milestones must be a Counter {{epoch: times}}, got "
                            f"{type(milestones).__name__}")
        for epoch, times in milestones.items():
            # 2.5 would never equal an epoch: the decay would silently never happen
            check_integer("milestone", epoch)
            check_integer(f"the count of milestone {epoch}", times, minimum=1)
        check_number("gamma", state["gamma"])

    def _restored(self, state):
        return {**state, "milestones": Counter({int(k): int(v)
                                                for k, v in state["milestones"].items()})}

    def get_lr(self):
        times = self.milestones.get(self.last_epoch, 0)
        if not times:
            return self._current_lrs()
        return [lr * self.gamma ** times for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        times = sum(n for epoch, n in self.milestones.items() if epoch <= self.last_epoch)
        return [lr * self.gamma ** times for lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_number("gamma", state["gamma"])

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [lr * self.gamma ** self.last_epoch for lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2, computed as
    PyTorch does, from the previous lr:

        lr_e = eta_min + (lr_{e-1} - eta_min) (1 + cos(pi e / T_max)) / (1 + cos(pi (e-1) / T_max))

    and past T_max it rises again (period 2 T_max): no restarts, as PyTorch.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_integer("T_max", state["T_max"], minimum=1)
        check_number("eta_min", state["eta_min"])

    def get_lr(self):
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (e - 1 - T) % (2 * T) == 0:   # the step out of the minimum: the ratio would be 0/0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [self.eta_min + (lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for lr in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor on initial_lr goes linearly from start_factor (epoch 0) to end_factor
    (epoch total_iters), then stays:

        lr = initial_lr (start + (end - start) min(epoch, total_iters) / total_iters)

    computed, as PyTorch, by multiplying the previous lr.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_number("start_factor", state["start_factor"])
        if not 0 < state["start_factor"] <= 1:
            raise ValueError(f"invalid start_factor {state['start_factor']!r} (must be in "
                             f"(0, 1])")
        check_number("end_factor", state["end_factor"])
        if state["end_factor"] > 1:
            raise ValueError(f"invalid end_factor {state['end_factor']!r} (must be in [0, 1])")
        check_integer("total_iters", state["total_iters"], minimum=1)

    def get_lr(self):
        e, start, end = self.last_epoch, self.start_factor, self.end_factor
        if e == 0:
            return [lr * start for lr in self._current_lrs()]
        if self._is_initial or e > self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 + (end - start) / (self.total_iters * start + (e - 1) * (end - start)))
                for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        start, end = self.start_factor, self.end_factor
        return [lr * (start + (end - start) * min(self.total_iters, self.last_epoch)
                      / self.total_iters) for lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor until epoch total_iters, then initial_lr (as PyTorch,
    computed from the previous lr)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_number("factor", state["factor"])
        if not 0 < state["factor"] <= 1:
            raise ValueError(f"invalid factor {state['factor']!r} (must be in (0, 1])")
        check_integer("total_iters", state["total_iters"], minimum=0)

    def get_lr(self):
        e = self.last_epoch
        if e == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self._is_initial or e != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        factor = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [lr * factor for lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr (1 - min(epoch, total_iters) / total_iters)^power, computed as
    PyTorch from the previous lr: lr_e = lr_{e-1} ((1 - e/T) / (1 - (e-1)/T))^power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_integer("total_iters", state["total_iters"], minimum=1)
        check_number("power", state["power"], minimum=None)

    def get_lr(self):
        e, T = self.last_epoch, self.total_iters
        if self._is_initial or e == 0 or e > T:
            return self._current_lrs()
        factor = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        factor = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [lr * factor for lr in self.base_lrs]


def set_momentum(group, use_beta1, momentum):
    """Cycle the momentum: Adam's beta1 (use_beta1) or SGD's momentum, as PyTorch's schedulers."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017), stepped once per batch.

    The lr goes from max_lr / div_factor up to max_lr over the first pct_start of
    total_steps, then down to max_lr / div_factor / final_div_factor (three_phase: back to
    the start over as many steps, then down to that minimum). Each phase anneals by a half
    cosine ('cos') or a line ('linear'). With cycle_momentum, the momentum (SGD, RMSprop)
    or beta1 (Adam, Adamax) goes the other way, between max_momentum and base_momentum.
    total_steps, or else epochs * steps_per_epoch, is the number of steps; one more
    step() than that raises.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        who = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: {type(optimizer).__name__} is not an Optimizer")
        try:
            if total_steps is None:
                if epochs is None or steps_per_epoch is None:
                    raise ValueError("give total_steps, or epochs and steps_per_epoch")
                check_integer("epochs", epochs, minimum=1)
                check_integer("steps_per_epoch", steps_per_epoch, minimum=1)
                total_steps = epochs * steps_per_epoch
            check_positive("div_factor", div_factor)
            check_positive("final_div_factor", final_div_factor)
            max_lrs = per_group("max_lr", max_lr, optimizer)
            for i, lr in enumerate(max_lrs):
                check_number(f"max_lr[{i}]", lr)
            check_flag("cycle_momentum", cycle_momentum)
            use_beta1 = "betas" in optimizer.defaults
            if cycle_momentum:
                if "momentum" not in optimizer.defaults and not use_beta1:
                    raise ValueError(f"{type(optimizer).__name__} has no momentum or beta1 to "
                                     f"cycle: pass cycle_momentum=False")
                high = per_group("max_momentum", max_momentum, optimizer)
                low = per_group("base_momentum", base_momentum, optimizer)
                for i, (h, b) in enumerate(zip(high, low)):
                    # beta1 must stay below 1 (Adam refuses it in load_state_dict)
                    check_number(f"max_momentum[{i}]", h, below=1 if use_beta1 else None)
                    check_number(f"base_momentum[{i}]", b, below=1 if use_beta1 else None)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{who}: {e}") from None
        self.total_steps, self.pct_start, self.three_phase = total_steps, pct_start, three_phase
        self.anneal_strategy, self.cycle_momentum = anneal_strategy, cycle_momentum
        self.use_beta1 = use_beta1
        self.optimizer = optimizer
        self._check_own(who)   # before the groups change
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
            if cycle_momentum:
                for group, h, b in zip(optimizer.param_groups, high, low):
                    set_momentum(group, self.use_beta1, h)
                    group["max_momentum"], group["base_momentum"] = h, b
        super().__init__(optimizer, last_epoch)

    def _check_own(self, who):
        state = {k: v for k, v in vars(self).items() if k != "optimizer"}
        try:
            self._check_schedule(state)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{who}: {e}") from None

    def _check_schedule(self, state):
        check_integer("total_steps", state["total_steps"], minimum=1)
        check_number("pct_start", state["pct_start"])
        if state["pct_start"] > 1:
            raise ValueError(f"invalid pct_start {state['pct_start']!r} (must be in [0, 1])")
        if state["anneal_strategy"] not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got "
                             f"{state['anneal_strategy']!r}")
        check_flag("three_phase", state["three_phase"])
        check_flag("cycle_momentum", state["cycle_momentum"])
        if state["use_beta1"] is not ("betas" in self.optimizer.defaults):
            raise ValueError(f"use_beta1={state['use_beta1']!r}, but the optimizer "
                             f"{'has' if 'betas' in self.optimizer.defaults else 'has no'} betas")

    def check_settings(self, state):
        super().check_settings(state)
        self._check_schedule(state)
        needed = ["initial_lr", "max_lr", "min_lr"] + \
            ["max_momentum", "base_momentum"] * state["cycle_momentum"]
        for i, group in enumerate(self.optimizer.param_groups):
            for key in needed:
                if key not in group:
                    raise ValueError(f"param_groups[{i}] has no {key!r} (load the "
                                     f"optimizer's state dict first)")

    def _phases(self):
        """[(end_step, lr from, lr to, momentum from, momentum to)], the keys naming group
        entries. Phases run from the previous end_step to theirs."""
        n, pct = self.total_steps, self.pct_start
        if self.three_phase:
            return [(float(pct * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                    (float(2 * pct * n) - 2, "max_lr", "initial_lr", "base_momentum",
                     "max_momentum"),
                    (n - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        return [(float(pct * n) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (n - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; total_steps is "
                             f"{self.total_steps}")
        phases = self._phases()
        lrs, momenta = [], []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(phases):
                if step <= end_step or i == len(phases) - 1:
                    if end_step == start_step:
                        raise ValueError(f"OneCycleLR: phase {i} of the schedule has no steps "
                                         f"(total_steps={self.total_steps}, pct_start="
                                         f"{self.pct_start}): PyTorch divides by zero here")
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        momenta.append(self._anneal(group[m0], group[m1], pct))
                    break
                start_step = end_step
        if self.cycle_momentum:   # only now: a refused step leaves the momenta too
            for group, momentum in zip(self.optimizer.param_groups, momenta):
                set_momentum(group, self.use_beta1, momentum)
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Multiply each group's lr by `factor` (not below min_lr) once the metric given to
    step(metrics) has not improved for more than `patience` epochs; then wait `cooldown`
    epochs before counting again.

    Improving means, for mode='min', metric < best (1 - threshold) ('rel') or
    metric < best - threshold ('abs'); for 'max' the mirror image. A NaN metric never
    improves. A change of lr smaller than eps is skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        who = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: {type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = per_group(f"{who}: min_lr", min_lr, optimizer)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self._check(self.state_dict(), who)

    @property
    def mode_worse(self):
        return math.inf if self.mode == "min" else -math.inf

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def check_settings(self, state):
        n = len(self.optimizer.param_groups)
        check_integer("last_epoch", state["last_epoch"])
        check_lrs("_last_lr", state["_last_lr"], n)
        if state["mode"] not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {state['mode']!r}")
        if state["threshold_mode"] not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got "
                             f"{state['threshold_mode']!r}")
        check_number("factor", state["factor"], below=1)
        check_integer("patience", state["patience"])
        check_number("threshold", state["threshold"])
        check_integer("cooldown", state["cooldown"])
        check_number("eps", state["eps"])
        if state["default_min_lr"] is not None:
            check_number("min_lr", state["default_min_lr"])
        check_lrs("min_lrs", state["min_lrs"], n if state["default_min_lr"] is None
                  else len(state["min_lrs"]))
        best = state["best"]
        if isinstance(best, bool) or not isinstance(best, numbers.Real) or math.isnan(best):
            raise TypeError(f"best must be a number (inf before the first step), got {best!r}")
        check_integer("cooldown_counter", state["cooldown_counter"])
        check_integer("num_bad_epochs", state["num_bad_epochs"])

    def step(self, metrics):
        """Count `metrics` (a number or a one-element tensor, e.g. the validation loss)."""
        not_in_a_compiled_step(self)
        if isinstance(metrics, (str, bytes, bool)):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number, got "
                            f"{metrics!r}")
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0   # bad epochs during the cooldown don't count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    def _is_better(self, a):
        best, threshold = self.best, self.threshold
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - threshold)
        if self.mode == "min":
            return a < best - threshold
        if self.threshold_mode == "rel":
            return a > best * (threshold + 1.0)
        return a > best + threshold

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                   f"parameter groups, min_lr gives {len(self.min_lrs)}; set "
                                   f"min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), stepped once per batch: the lr goes from
    base_lr up to max_lr in step_size_up steps, back down in step_size_down (default: as
    many), and again; the height of each cycle is scaled by

        triangular: 1;  triangular2: 1 / 2^(cycle - 1);  exp_range: gamma^step

    or by scale_fn(cycle) (scale_mode='cycle') / scale_fn(step) ('iterations'). With
    cycle_momentum (the default, as PyTorch: the optimizer needs a momentum or betas), the
    momentum (or beta1) goes the other way, from max_momentum down to base_momentum.

    state_dict() saves _scale_fn_custom as LambdaLR saves its lr_lambda: None for a
    function, a copy of its attributes for a callable object.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
                 mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle",
                 cycle_momentum=True, base_momentum=0.8, max_momentum=0.9, last_epoch=-1):
        who = "CyclicLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: {type(optimizer).__name__} is not an Optimizer")
        try:
            base_lrs = per_group("base_lr", base_lr, optimizer)
            self.max_lrs = per_group("max_lr", max_lr, optimizer)
            check_positive("step_size_up", step_size_up)
            if step_size_down is not None:
                check_number("step_size_down", step_size_down)
            if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
                raise ValueError("mode is invalid and scale_fn is None")
            if scale_fn is not None and not callable(scale_fn):
                raise TypeError(f"scale_fn must be a function, got {type(scale_fn).__name__}")
            check_flag("cycle_momentum", cycle_momentum)
            if cycle_momentum and "momentum" not in optimizer.defaults \
                    and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled")
        except (TypeError, ValueError) as e:
            raise type(e)(f"{who}: {e}") from None
        self.optimizer = optimizer
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        # the built-in modes fix the scale mode, as PyTorch (scale_mode is then ignored)
        self.scale_mode = {"triangular": "cycle", "triangular2": "cycle",
                           "exp_range": "iterations"}.get(mode, scale_mode) \
            if scale_fn is None else scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = per_group(f"{who}: base_momentum", base_momentum, optimizer)
            self.max_momentums = per_group(f"{who}: max_momentum", max_momentum, optimizer)
        self._check_own(who, base_lrs)   # before the groups change
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
            if cycle_momentum:
                for group, high, low in zip(optimizer.param_groups, self.max_momentums,
                                            self.base_momentums):
                    set_momentum(group, self.use_beta1, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        # As PyTorch: base_lr, not the groups' initial_lr (an earlier scheduler's), from now on
        self.base_lrs = base_lrs

    def _check_own(self, who, base_lrs):
        state = {k: v for k, v in vars(self).items() if k != "optimizer"}
        try:
            self._check_cycle(state)
            check_lrs("base_lr", base_lrs, len(self.optimizer.param_groups))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{who}: {e}") from None

    def _check_cycle(self, state):
        n = len(self.optimizer.param_groups)
        check_lrs("max_lrs", state["max_lrs"], n)
        check_positive("total_size", state["total_size"])
        check_number("step_ratio", state["step_ratio"])
        if not 0 < state["step_ratio"] <= 1:
            raise ValueError(f"invalid step_ratio {state['step_ratio']!r} (must be in (0, 1])")
        if state["scale_mode"] not in ("cycle", "iterations"):
            raise ValueError(f"scale_mode must be 'cycle' or 'iterations', got "
                             f"{state['scale_mode']!r}")
        check_number("gamma", state["gamma"])
        check_flag("cycle_momentum", state["cycle_momentum"])
        if state["cycle_momentum"]:
            if state["use_beta1"] is not ("betas" in self.optimizer.defaults):
                raise ValueError(f"use_beta1={state['use_beta1']!r} does not fit the optimizer")
            below = 1 if state["use_beta1"] else None   # beta1 must stay below 1
            for name in ("base_momentums", "max_momentums"):
                check_lrs(name, state[name], n)
                for i, m in enumerate(state[name]):
                    check_number(f"{name}[{i}]", m, below=below)

    def check_settings(self, state):
        super().check_settings(state)
        self._check_cycle(state)
        saved, fn = state["_scale_fn_custom"], self._scale_fn_custom
        if saved is not None and saved is not fn:
            if fn is None or _is_function(fn) or not isinstance(saved, dict):
                raise TypeError(f"_scale_fn_custom must be None (no scale_fn, or a function) "
                                f"or a dict of a callable object's attributes; got {saved!r}")
            for k in saved:
                if not (isinstance(k, str) and k in vars(fn)):
                    raise ValueError(f"_scale_fn_custom: {k!r} is not an attribute of "
                                     f"{type(fn).__name__}")

    def state_dict(self):
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or _is_function(fn) else dict(vars(fn))
        return state

    def _restored(self, state):
        state = dict(state)
        saved = state.pop("_scale_fn_custom")
        if saved is not None:
            vars(self._scale_fn_custom).update(saved)
        return state

    def scale_fn(self, x):
        """The height factor of the cycle at x (the cycle number or the step)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base_lr + (max_lr - base_lr) * scale_factor * scale
               for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums,
                                        self.max_momentums):
                set_momentum(group, self.use_beta1, high - (high - low) * scale_factor * scale)
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): a cosine from initial_lr down towards eta_min over
    T_i epochs, then a restart at initial_lr; the first period is T_0, each next one T_mult
    times longer:

        lr = eta_min + (initial_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2

    T_cur counts the epochs since the last restart. step(epoch) may be given a fractional
    epoch (e.g. epoch + batch / batches, to anneal within an epoch), as PyTorch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def check_settings(self, state):
        super().check_settings(state)
        check_integer("T_0", state["T_0"], minimum=1)
        check_integer("T_mult", state["T_mult"], minimum=1)
        check_integer("T_i", state["T_i"], minimum=1)
        check_number("T_cur", state["T_cur"], minimum=-1)
        check_number("eta_min", state["eta_min"])

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """One more epoch, or jump to `epoch` (a number >= 0, fractional allowed)."""
        not_in_a_compiled_step(self)
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        T_cur, T_i, T_0, T_mult = self.T_cur, self.T_i, self.T_0, self.T_mult
        if epoch is None:
            epoch = self.last_epoch + 1
            T_cur = T_cur + 1
            if T_cur >= T_i:
                T_cur, T_i = T_cur % T_i, T_i * T_mult
        else:
            try:
                check_number("epoch", epoch)
            except (TypeError, ValueError) as e:
                raise type(e)(f"CosineAnnealingWarmRestarts.step: {e}") from None
            if epoch >= T_0 and T_mult == 1:
                T_cur, T_i = epoch % T_0, T_0
            elif epoch >= T_0:
                n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
                T_cur = epoch - T_0 * (T_mult ** n - 1) / (T_mult - 1)
                T_i = T_0 * T_mult ** n
            else:
                T_cur, T_i = epoch, T_0
        was = self.T_cur, self.T_i, self.last_epoch
        self.T_cur, self.T_i, self.last_epoch = T_cur, T_i, math.floor(epoch)
        groups = self.optimizer.param_groups
        lrs = self.get_lr()
        if len(lrs) != len(groups):
            self.T_cur, self.T_i, self.last_epoch = was   # a refused step changes nothing
            raise RuntimeError(f"CosineAnnealingWarmRestarts: the optimizer has {len(groups)} "
                               f"parameter groups, {len(lrs)} when the scheduler was made "
                               f"(add_param_group after it?)")
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in groups]


def check_schedulers(who, schedulers, optimizer):
    """The schedulers SequentialLR and ChainedScheduler combine: LRSchedulers of `optimizer`."""
    if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, (list, tuple)):
        raise TypeError(f"{who}: schedulers must be a list of schedulers, got "
                        f"{type(schedulers).__name__}")
    if not schedulers:
        raise ValueError(f"{who} expects at least one scheduler, but got no scheduler.")
    for i, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"{who}: schedulers[{i}] is a {type(scheduler).__name__}, not a "
                            f"scheduler")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{who} does not support ReduceLROnPlateau (its step() needs the "
                             f"metric), got one at index {i}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{who} expects all schedulers to belong to the same optimizer, "
                             f"but schedulers[{i}] ({type(scheduler).__name__}) has another")
    return list(schedulers)


class _Combined(LRScheduler):
    """state_dict()/load_state_dict() of SequentialLR and ChainedScheduler: their own
    entries, and the state dict of each scheduler under "_schedulers"."""

    def state_dict(self):
        state = {k: (list(v) if isinstance(v, list) else v) for k, v in vars(self).items()
                 if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def check_settings(self, state):
        check_lrs("_last_lr", state["_last_lr"], len(self.optimizer.param_groups))
        saved = state["_schedulers"]
        if not (isinstance(saved, list) and len(saved) == len(self._schedulers)):
            raise ValueError(f"_schedulers must be a list of {len(self._schedulers)} state "
                             f"dicts, got {type(saved).__name__}")

    def load_state_dict(self, state_dict):
        """Restore what state_dict() saved, for this scheduler and each one it combines;
        everything is checked before anything changes."""
        own = self._validated(state_dict)
        inner = [s._validated(d) for s, d in zip(self._schedulers, own.pop("_schedulers"))]
        for s, d in zip(self._schedulers, inner):
            vars(s).update(s._restored(d))
        vars(self).update(own)


class SequentialLR(_Combined):
    """schedulers[0] until epoch milestones[0], then schedulers[1] (starting again from its
    epoch 0, at initial_lr), ... as torch.optim.lr_scheduler.SequentialLR."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        who = "SequentialLR"
        schedulers = check_schedulers(who, schedulers, optimizer)
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__len__"):
            raise TypeError(f"{who}: milestones must be a list of epochs, got {milestones!r}")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{who} expects number of schedulers provided to be one more than "
                             f"the number of milestone points, but got number of schedulers "
                             f"{len(schedulers)} and the number of milestones to be equal to "
                             f"{len(milestones)}")
        missing = [i for i, g in enumerate(optimizer.param_groups) if "initial_lr" not in g]
        if missing:
            raise KeyError(f"{who}: param_groups[{missing[0]}] has no 'initial_lr' (made by "
                           f"the schedulers' constructors)")
        self._schedulers, self._milestones = schedulers, list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()
        self._check(self.state_dict(), who)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo(self)   # the schedulers' constructors each took a first step: undo them
        idx = bisect.bisect_right(self._milestones, 0)
        schedulers[idx]._initial_step()
        self._last_lr = schedulers[idx].get_last_lr()

    def _undo(self, scheduler):
        if isinstance(scheduler, _Combined):
            for s in scheduler._schedulers:
                self._undo(s)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def check_settings(self, state):
        super().check_settings(state)
        check_integer("last_epoch", state["last_epoch"], minimum=0)
        milestones = state["_milestones"]
        if not (isinstance(milestones, list) and len(milestones) == len(self._schedulers) - 1):
            raise ValueError(f"_milestones must be a list of {len(self._schedulers) - 1} "
                             f"epochs, got {milestones!r}")
        for i, m in enumerate(milestones):
            check_integer(f"milestones[{i}]", m)
        # PyTorch bisects them: unsorted ones would pick schedules in no meaningful order
        if milestones != sorted(milestones):
            raise ValueError(f"milestones must be in increasing order, got {milestones}")

    def step(self):
        not_in_a_compiled_step(self)
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        try:
            if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
                scheduler._update_lr(0)
            else:
                scheduler.step()
        except BaseException:
            self.last_epoch -= 1
            raise
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Combined):
    """Every scheduler's step() in turn at each step(), so their changes multiply (the
    chainable ones) or the last one wins, as torch.optim.lr_scheduler.ChainedScheduler."""

    def __init__(self, schedulers, optimizer=None):
        who = "ChainedScheduler"
        if isinstance(schedulers, (list, tuple)) and schedulers and optimizer is None:
            optimizer = getattr(schedulers[0], "optimizer", None)
        self._schedulers = check_schedulers(who, schedulers, optimizer)
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self):
        not_in_a_compiled_step(self)
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()
