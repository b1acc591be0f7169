"""Optimizer: the base class of SGD, Adam, AdamW and RMSprop.

An optimizer holds parameter groups (lists of Parameters with their own
hyperparameters, such as lr) and per-parameter state (momentum buffers,
moment estimates). step() reads each parameter's .grad and updates its .data
with NumPy, in place: optimizer steps are not recorded in any graph.
"""
import numpy as np

from ..autograd import enable_grad
from ..nn.module import Parameter
from ..tensor import Tensor


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
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
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
            if id(p) in seen:
                raise ValueError(f"{who}: parameter {i} (shape {p.shape}) appears in more "
                                 f"than one place")
            seen.add(id(p))
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check_hyperparameters(group)
        self.param_groups.append(group)

    def check_hyperparameters(self, group):
        """Raise a clear error for an invalid hyperparameter (subclasses extend this)."""
        if group["lr"] < 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}")
        if group.get("weight_decay", 0) < 0:
            raise ValueError(f"{type(self).__name__}: invalid weight_decay "
                             f"{group['weight_decay']}")

    def zero_grad(self):
        """Set every parameter's .grad to None (the next backward starts afresh)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

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
                grad = p.grad.data
                if grad.shape != p.shape:
                    raise RuntimeError(f"{type(self).__name__}: .grad of shape {grad.shape} "
                                       f"for a parameter of shape {p.shape}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self.init_state(p, group)
                self.update(p.data, grad, group, state)
                # The math above changed p.data in place, bypassing the .data setter:
                # count the change so a backward through a graph that saved the old
                # values raises instead of using them.
                p._version += 1
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
        """Restore hyperparameters and state saved by state_dict(), checking all of it first."""
        who = type(self).__name__
        if not isinstance(state_dict, dict) or {"state", "param_groups"} - set(state_dict):
            raise TypeError(f"{who}.load_state_dict: expected a dict with 'state' and "
                            f"'param_groups', as state_dict() returns")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{who}.load_state_dict: {len(groups)} parameter groups saved, "
                             f"{len(self.param_groups)} in this optimizer")
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{who}.load_state_dict: a saved group has "
                                 f"{len(saved['params'])} parameters, this one "
                                 f"{len(group['params'])}")
        # each parameter with its group's hyperparameters as they will be after loading
        params = [(p, {**g, **{k: v for k, v in saved.items() if k != "params"}})
                  for saved, g in zip(groups, self.param_groups) for p in g["params"]]
        new_state = {}
        for i, s in state_dict["state"].items():
            i = int(i)
            if not 0 <= i < len(params):
                raise ValueError(f"{who}.load_state_dict: state for parameter {i}, but there "
                                 f"are only {len(params)}")
            p, group = params[i]
            entry = self.init_state(p, group)
            for k, v in s.items():
                if k not in entry:   # e.g. SGD's momentum_buffer offered to Adam
                    raise ValueError(f"{who}.load_state_dict: state {k!r} of parameter {i} "
                                     f"is not {who} state (expected "
                                     f"{sorted(n for n in entry if not n.startswith('_'))})")
                if isinstance(v, (np.ndarray, Tensor)):
                    v = np.array(v.data if isinstance(v, Tensor) else v, dtype=p.dtype)
                    if v.shape != p.shape:
                        raise ValueError(f"{who}.load_state_dict: state {k!r} of parameter "
                                         f"{i} has shape {v.shape}, the parameter {p.shape}")
                entry[k] = v
            new_state[p] = entry
        # everything checked: now change
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])
