"""Module and Parameter: how models hold their weights.

A Module finds its Parameters, buffers and sub-Modules from its attributes:
`self.fc = Linear(2, 3)` registers a sub-Module called "fc", whose weight is
then known as "fc.weight" to `named_parameters()`, `state_dict()` and the
graph drawer. Nothing here computes gradients: a Module's forward is an
ordinary composition of Tensor operations.
"""
import html
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ..autograd import state, version_owner
from ..tensor import Tensor, check_device, init, to_arguments


class Parameter(Tensor):
    """A leaf Tensor that a Module registers as one of its weights (requires_grad=True).

    As torch.nn.Parameter, `Parameter(t)` (or `Parameter(t.data)`) shares t's memory: a
    change through either shows in both. It also shares t's version counter (as PyTorch,
    whose Parameter is a detached alias of t), so an in-place change through either counts
    as a change of both, and a backward that saved the old values raises. `Parameter()` is
    an empty one; an ndarray or Python data is copied, as by Tensor(...).
    """
    __slots__ = ()   # no per-instance __dict__: a Parameter is as cheap as a Tensor

    def __init__(self, data=None, requires_grad=True, name=None):
        if not isinstance(data, Tensor):
            super().__init__(np.empty(0) if data is None else data,
                             requires_grad=requires_grad, name=name)
            return
        init(self, data._data)   # no copy: the same array as data's
        # One counter for both: the one of the tensor that owns the memory, as for a view
        # or t.detach(), so saved-tensor checks see a change made through either.
        self._base = version_owner(data)
        self.name = name
        if requires_grad:
            self.requires_grad_()

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of layers and models. Subclasses call super().__init__() and define forward()."""

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these registries to exist.
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        # Graph nodes created during forward record which module made them
        # (node._module), so a drawing can group them. Nested calls restore
        # the outer module afterwards, even if forward raises.
        prev = state.module
        state.module = self
        if state.recorder is not None:   # tg.compile notes model.training to detect a change
            state.recorder.module_called(self)
        try:
            return self.forward(*args, **kwargs)
        finally:
            state.module = prev

    # --- registration ---------------------------------------------------------

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (assigning {name!r})")
        # Replacing a parameter by a parameter (or a module by a module) keeps its
        # place in the order; anything else first removes the old registration.
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: buffer {name!r} must be a Tensor "
                                f"or None, got {type(value).__name__}")
            self._buffers[name] = value
        elif name in self._parameters:
            # As PyTorch: a plain Tensor here would silently drop the weight from
            # parameters(), so the optimizer would never update it.
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign a "
                                f"{type(value).__name__} to parameter {name!r} (wrap it in "
                                f"nn.Parameter, or assign None)")
            self._parameters[name] = None
        elif name in self._modules and value is not None:
            raise TypeError(f"{type(self).__name__}: cannot assign a {type(value).__name__} "
                            f"to sub-module {name!r} (a Module or None expected)")
        else:
            self._forget(name)
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
            self._non_persistent_buffers.discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        # Called only when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None for an absent one such as bias=False)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, "
                            f"got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a Tensor that is state but not a Parameter (e.g. BatchNorm's running mean).

        Optimizers never see buffers; state_dict() saves them unless persistent=False
        (a cached mask, say, that can be rebuilt).
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: name must be a non-empty string without '.', "
                           f"got {name!r}")
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    # --- walking the tree -----------------------------------------------------

    def named_modules(self, prefix=""):
        """(path, module) for this module and every descendant, each once, depth first."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield path, module
            children = [(f"{path}.{n}" if path else n, m)
                        for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self):
        return (m for _, m in self.named_children())

    def named_parameters(self, prefix="", recurse=True):
        """(dotted name, Parameter) pairs, e.g. ("fc1.weight", ...); shared ones once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{path}.{name}" if path else name), p

    def parameters(self, recurse=True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{path}.{name}" if path else name), b

    def buffers(self, recurse=True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn):
        """Call fn(module) on every sub-module, children before their parent, then on
        self; returns self. E.g. model.apply(init_weights)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ----------------------------------------------------

    def train(self, mode=True):
        """Training mode (dropout active, BatchNorm uses batch statistics) for the whole tree."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    def zero_grad(self):
        """Set every parameter's .grad to None (the next backward starts afresh)."""
        for p in self.parameters():
            p.grad = None
            if state.recorder is not None:
                state.recorder.clear_grad(p)

    def requires_grad_(self, requires_grad=True):
        """Switch requires_grad on (or off: frozen weights) for every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """PyTorch's Module.to(dtype), to(device), to(device, dtype), to(tensor): every
        floating-point parameter and buffer (and .grad) cast to dtype, in place: the same
        Parameter objects, so an optimizer made before holds them still (its state keeps
        its dtype, as in PyTorch: make the optimizer after). Integer buffers
        (num_batches_tracked) stay as they are. Returns self. The only device is "cpu"."""
        dtype = to_arguments(args, dtype, device, "Module.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired "
                            f"dtype={dtype}")
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad.data = t.grad._data.astype(dtype)
        return self

    def double(self):
        """Floating-point parameters and buffers as float64 (in place); returns self."""
        return self.to(np.float64)

    def float(self):
        """Floating-point parameters and buffers as float32 (in place); returns self."""
        return self.to(np.float32)

    def half(self):
        """Floating-point parameters and buffers as float16 (in place); returns self."""
        return self.to(np.float16)

    def cpu(self):
        """self: parameters already live on the CPU."""
        return self

    def cuda(self, device=None):
        """Refused: tinygrad_edu computes with NumPy on the CPU only."""
        check_device("cuda" if device is None else device, "Module.cuda")

    # --- state ---------------------------------------------------------------------

    def _state_tensors(self):
        """Every parameter and buffer by its dotted name (what a state dict holds)."""
        entries = OrderedDict()
        for path, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None and not (registry is module._buffers
                                              and name in module._non_persistent_buffers):
                        entries[f"{path}.{name}" if path else name] = t
        return entries

    def state_dict(self):
        """{dotted name: Tensor} for every parameter and buffer, as PyTorch.

        The tensors are detached but share memory with the module: a later
        training step changes them, and changing one in place changes the model.
        To keep a snapshot ("the best weights so far"), copy it:
        {k: v.clone() for k, v in model.state_dict().items()} or copy.deepcopy.
        """
        return OrderedDict((k, t.detach()) for k, t in self._state_tensors().items())

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` into this module's parameters and buffers.

        Everything is checked and cast first (missing and unexpected keys when
        strict, shapes, dtypes that can't be cast safely, values the model's dtype
        can't hold, such as 1e300 in float32); a problem raises one error naming
        every bad key and leaves the module exactly as it was.
        Returns (missing_keys, unexpected_keys).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict "
                            f"{{name: array}} such as state_dict() or load(path) returns, "
                            f"got {type(state_dict).__name__}")
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict:
            problems += [f"missing key {k!r}" for k in missing]
            problems += [f"unexpected key {k!r}" for k in unexpected]
        new_values = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                problems.append(f"{key!r}: shape {array.shape} in the state dict, "
                                f"{target.shape} in the model")
            elif not np.can_cast(array.dtype, target.dtype, casting="same_kind"):
                problems.append(f"{key!r}: dtype {array.dtype} can't be cast to the "
                                f"model's {target.dtype}")
            else:
                # Cast now, so that nothing can fail once the model starts changing.
                # NumPy turns a float too large for the dtype into inf (or raises,
                # under the user's np.errstate) and wraps an integer out of range:
                # check for both explicitly. Rounding to a shorter float is fine.
                with np.errstate(all="ignore"):
                    cast = array.astype(target.dtype, copy=True)
                if cast.dtype.kind in "iu":
                    fits = np.array_equal(cast, array)
                else:
                    fits = np.array_equal(np.isfinite(cast), np.isfinite(array))
                if fits:
                    new_values[key] = cast
                else:
                    problems.append(f"{key!r}: values in the state dict ({array.dtype}) "
                                    f"overflow the model's {target.dtype}")
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: "
                               + "; ".join(problems) + " (nothing was changed)")
        for key, array in new_values.items():
            own[key].data = array   # bumps the version
        return IncompatibleKeys(missing, unexpected)

    # --- printing ----------------------------------------------------------------------

    def extra_repr(self):
        """The text inside the parentheses of this module's repr (override in layers)."""
        return ""

    def _repr_html_(self):
        """A notebook table of the parameters: name, shape, count, and the total."""
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{tuple(p.shape)}</td>"
                       f"<td>{p.numel():,}</td></tr>"
                       for name, p in self.named_parameters())
        total = sum(p.numel() for p in self.parameters())
        return (f"<table><caption>{html.escape(type(self).__name__)}</caption>"
                f"<thead><tr><th>parameter</th><th>shape</th><th>count</th></tr></thead>"
                f"<tbody>{rows}</tbody><tfoot><tr><td><b>total</b></td><td></td>"
                f"<td><b>{total:,}</b></td></tr></tfoot></table>")

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ")
                 for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"
