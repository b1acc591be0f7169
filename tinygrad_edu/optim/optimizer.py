"""Optimizer: the base class of SGD, Adam, AdamW and RMSprop.

An optimizer holds parameter groups (lists of Parameters with their own
hyperparameters, such as lr) and per-parameter state (momentum buffers,
moment estimates). step() reads each parameter's .grad and updates its .data
with NumPy, in place: optimizer steps are not recorded in any graph.

The constructor and load_state_dict() check hyperparameters with the same
check_hyperparameters(), so a saved state dict can set nothing that
SGD(lr=...) would refuse.
"""
import math
import numbers

import numpy as np

from ..autograd import enable_grad, bump_version, state as autograd_state
from ..nn.module import Parameter
from ..tensor import Tensor, computed


class Optimizer:
    """Subclasses define `update(p, grad, group, state)` for one parameter.

    `params` is an iterable of Parameters, or of dicts {"params": [...], "lr": ...}
    (parameter groups, each overriding some of `defaults`).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}   # Parameter -> dict (tensors hash by identity)
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors "
                            f"(e.g. model.parameters()), got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        who = type(self).__name__
        if not (isinstance(group, dict) and "params" in group):
            raise TypeError(f"{who}: a parameter group must be a dict with 'params', got "
                            f"{type(group).__name__}")
        group = dict(group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            # a set's order changes from run to run, and state_dict() numbers parameters
            # in group order: a saved state would go to the wrong parameters
            raise TypeError(f"{who}: parameters must be in an ordered collection (a list), "
                            f"not a set, whose order varies between runs")
        params = [params] if isinstance(params, Tensor) else list(params)
        group_of = {id(p): k for k, g in enumerate(self.param_groups) for p in g["params"]}
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{who}: parameter {i} (shape {p.shape}) is computed from "
                                 f"other tensors; only leaf tensors can be optimized")
            # A frozen nn.Parameter (requires_grad_(False)) is allowed, as in PyTorch:
            # it never gets a .grad, so step() leaves it alone. A plain tensor without
            # requires_grad is more likely a forgotten requires_grad=True.
            if not p.requires_grad and not isinstance(p, Parameter):
                raise ValueError(f"{who}: parameter {i} (shape {p.shape}) must have "
                                 f"requires_grad=True")
            if id(p) in group_of:
                raise ValueError(f"{who}: parameter {i} (shape {p.shape}) is already in "
                                 f"parameter group {group_of[id(p)]}; a parameter appears in "
                                 f"more than one group")
            if id(p) in seen:   # it would be updated twice per step
                raise ValueError(f"{who}: parameter {i} (shape {p.shape}) appears in more "
                                 f"than one place in its group")
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_group(group, who)
        self.param_groups.append(group)

    def check_hyperparameters(self, group):
        """Raise a TypeError or ValueError for an invalid hyperparameter of `group`
        (subclasses extend this); the message is prefixed by the caller."""
        check_number("lr", group["lr"])
        if "weight_decay" in group:
            check_number("weight_decay", group["weight_decay"])
        if "maximize" in group:
            check_flag("maximize", group["maximize"])
        # Entries a scheduler keeps in the groups (LRScheduler's initial_lr, OneCycleLR's
        # bounds): a saved state dict brings them back, so they are checked too.
        for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            if key in group:
                check_number(key, group[key])

    def _check_group(self, group, where):
        try:
            self.check_hyperparameters(group)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{where}: {e}") from None

    def zero_grad(self):
        """Set every parameter's .grad to None (the next backward starts afresh)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None
                if autograd_state.recorder is not None:
                    autograd_state.recorder.clear_grad(p)

    def step(self, closure=None):
        """Update every parameter that has a .grad (parameters without one are skipped).

        `closure`, if given, re-evaluates the model and returns the loss
        (as in PyTorch); step() returns that loss.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad._data
                if group.get("maximize"):
                    # as PyTorch: ascend by descending on -grad (computed: a compiled
                    # step negates each call's gradient, not the first call's)
                    grad = computed("-{0}", grad)
                if grad.shape != p.shape:
                    raise RuntimeError(f"{type(self).__name__}: .grad of shape {grad.shape} "
                                       f"for a parameter of shape {p.shape}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self.init_state(p, group)
                if autograd_state.recorder is not None:   # tg.compile replays this call
                    autograd_state.recorder.update(self, p, grad, group, state)
                self.update(p._data, grad, group, state)
                # The math above changed p.data in place, bypassing the .data setter:
                # count the change so a backward through a graph that saved the old
                # values raises instead of using them.
                bump_version(p)
        return loss

    def init_state(self, p, group):
        """Per-parameter state, allocated once on the first step."""
        return {}

    def update(self, param, grad, group, state):
        """Change the array `param` in place, given the array `grad`."""
        raise NotImplementedError

    # --- saving and restoring --------------------------------------------------

    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [{..., "params": [indices]}]}.

        Parameters are numbered in the order of the groups, as in PyTorch;
        arrays are copies. Work buffers (names starting with "_") are left out.
        """
        index, groups, state = {}, [], {}
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[p] = len(index)
                ids.append(index[p])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        for p, s in self.state.items():
            state[index[p]] = {k: (v.copy() if isinstance(v, np.ndarray) else v)
                               for k, v in s.items() if not k.startswith("_")}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by state_dict(), checking all of it first.

        Every hyperparameter passes check_hyperparameters(), as in the constructor;
        every state entry must be one this optimizer keeps: arrays of exactly the
        parameter's shape with finite values, counters non-negative integers.
        Anything refused raises, and then nothing has changed.
        """
        who = f"{type(self).__name__}.load_state_dict"
        if not (isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict)
                and isinstance(state_dict.get("param_groups"), (list, tuple))):
            raise TypeError(f"{who}: expected a dict with 'state' and 'param_groups' (a "
                            f"dict and a list), as state_dict() returns")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{who}: {len(groups)} parameter groups saved, "
                             f"{len(self.param_groups)} in this optimizer")
        merged, by_index = [], {}   # each group as it will be; saved index -> (param, group)
        for g, (saved, group) in enumerate(zip(groups, self.param_groups)):
            ids = saved.get("params") if isinstance(saved, dict) else None
            if not (isinstance(ids, (list, tuple)) and all(_is_index(i) for i in ids)):
                raise TypeError(f"{who}: saved param group {g} is not a dict whose "
                                f"'params' is a list of parameter numbers")
            if len(ids) != len(group["params"]):
                raise ValueError(f"{who}: saved param group {g} has {len(ids)} parameters, "
                                 f"this one {len(group['params'])}")
            absent = [k for k in self.defaults if k not in saved]
            if absent:
                raise ValueError(f"{who}: saved param group {g} has no {absent[0]!r}; was it "
                                 f"saved by another kind of optimizer?")
            hyper = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self._check_group(hyper, f"{who}: saved param group {g}")
            merged.append(hyper)
            for i, p in zip(ids, group["params"]):
                if int(i) in by_index:
                    raise ValueError(f"{who}: parameter number {i} is saved twice")
                by_index[int(i)] = (p, hyper)
        new_state = {}
        for i, saved in state_dict["state"].items():
            if not _is_index(i) or int(i) not in by_index:
                raise ValueError(f"{who}: state for parameter {i!r}, but the saved groups "
                                 f"number their parameters {sorted(by_index)}")
            p, hyper = by_index[int(i)]
            new_state[p] = self._checked_state(p, hyper, saved, f"{who}: state", i)
        # everything checked: now change
        for hyper, group in zip(merged, self.param_groups):
            group.update(hyper)
        self.state = new_state

    def _checked_state(self, p, group, saved, who, i):
        """A fresh init_state() entry for `p`, filled from `saved` once each value has
        the type and shape of the one it replaces."""
        entry = self.init_state(p, group)
        names = sorted(k for k in entry if not k.startswith("_"))   # "_" ones are scratch
        if not isinstance(saved, dict):
            raise TypeError(f"{who} of parameter {i} is a {type(saved).__name__}, not a "
                            f"dict of {names}")
        for k in saved:
            if k not in names:   # e.g. SGD's momentum_buffer offered to Adam
                raise ValueError(f"{who} {k!r} of parameter {i} is not "
                                 f"{type(self).__name__} state (expected {names})")
        for k in names:
            if k not in saved:
                raise ValueError(f"{who} of parameter {i} lacks {k!r} (expected {names})")
            value, template = saved[k], entry[k]
            if isinstance(template, np.ndarray) or (template is None and value is not None):
                entry[k] = _state_array(value, p, f"{who} {k!r} of parameter {i}")
            elif isinstance(template, int):
                entry[k] = _state_count(value, f"{who} {k!r} of parameter {i}")
            elif template is not None:
                raise TypeError(f"{who} {k!r}: init_state() made a "
                                f"{type(template).__name__}, which load_state_dict can't check")
        return entry

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


# --- checks shared by the constructors and load_state_dict ------------------------------

def check_number(name, value, minimum=0.0, below=None):
    """Raise unless `value` is a finite real number >= minimum (if given) and < below
    (if given). Bools and strings are refused: "0.1" or True as a learning rate is a bug."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value) or (minimum is not None and value < minimum) or \
            (below is not None and value >= below):
        bounds = [f">= {minimum}"] * (minimum is not None) + [f"< {below}"] * (below is not None)
        raise ValueError(f"invalid {name} {value!r} (must be finite"
                         + "".join(f", {b}" for b in bounds) + ")")


def check_positive(name, value):
    """check_number, and refuse 0 too (a divisor, a period)."""
    check_number(name, value)
    if value == 0:
        raise ValueError(f"invalid {name} {value!r} (must be > 0)")


def check_integer(name, value, minimum=0):
    """Raise unless `value` is an integer (not a bool, not 2.0) >= minimum."""
    if not _is_index(value):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"invalid {name} {value!r} (must be an integer >= {minimum})")


def check_betas(group):
    """Adam's and Adamax's `betas`: a pair of numbers in [0, 1)."""
    betas = group["betas"]
    if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_number("betas[0]", betas[0], below=1)
    check_number("betas[1]", betas[1], below=1)


def check_flag(name, value):
    """Raise unless `value` is a bool: the string "False" would switch an option on."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")


def _is_index(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _state_array(value, p, what):
    """`value` as a copy of p's dtype; it must already have p's exact shape (a scalar
    would broadcast in the update but never change, freezing the state)."""
    if not isinstance(value, (np.ndarray, Tensor)):
        raise TypeError(f"{what} must be an array of shape {p.shape}, got "
                        f"{type(value).__name__}")
    array = value._data if isinstance(value, Tensor) else value
    if array.shape != p.shape:
        raise ValueError(f"{what} has shape {array.shape}, the parameter {p.shape}")
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{what} has dtype {array.dtype}, not a real number type")
    with np.errstate(all="ignore"):   # an overflowing cast shows up as inf just below
        array = array.astype(p.dtype, copy=True)
    if not np.isfinite(array).all():
        raise ValueError(f"{what} has values that are not finite in {p.dtype}")
    return array


def _state_count(value, what):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not _is_index(value):
        raise TypeError(f"{what} must be a non-negative integer, got {value!r} "
                        f"({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)
