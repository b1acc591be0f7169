"""The backward pass, step by step: backward_trace runs backward() and lists what each VJP did.

    print(backward_trace(loss, model))

gives one row per op, in the order the engine runs them: the op, the output
whose gradient arrived, the inputs it sent gradient to, and the op's derivative
rule from its row in ops.py. It is the chain rule applied one op at a time.

The names a report gives tensors ("fc1.weight" from the model, "fc1.MatMul"
for what fc1 computed) are made here too; viz.draw_graph uses the same ones.
Nothing here needs graphviz.
"""
import numpy as np

from .autograd import walk, validate
from .formatting import fmt_shape, format_table, html_table
from .tensor import Tensor


# --- names ------------------------------------------------------------------------------------

def as_roots(root, who):
    """root as a list of Tensors (one Tensor, or a list or tuple of them)."""
    roots = [root] if not isinstance(root, (list, tuple)) else list(root)
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"{who}: expected a Tensor (or a list of Tensors), got "
                            f"{type(r).__name__}")
    return roots


def model_names(model, who):
    """tensor -> name, from a Module (its named_parameters), a dict name -> tensor, or None."""
    if model is None:
        return {}
    if hasattr(model, "named_parameters"):
        return {p: name for name, p in model.named_parameters()}
    if isinstance(model, dict):
        return {p: name for name, p in model.items()}
    raise TypeError(f"{who}: model must be a Module or a dict name -> Tensor, "
                    f"got {type(model).__name__}")


def module_paths(model):
    """module -> dotted path ("" for the model itself); empty unless model is a Module."""
    if model is None or not hasattr(model, "named_modules"):
        return {}
    return {m: path for path, m in model.named_modules()}


def tensor_names(order, names, paths):
    """A readable name for every tensor in `order` (inputs first).

    Parameters keep their module path, named tensors their name; results are
    called after the module that made them and their op ("fc1.MatMul"), with
    "#2", "#3" for repeats; other leaves are "input0", "input1", ...
    """
    result, counts, n_inputs = {}, {}, 0
    for t in order:
        if t in names:
            result[t] = names[t]
        elif t.name:
            result[t] = t.name
        elif t._op is None:
            result[t] = f"input{n_inputs}"
            n_inputs += 1
        else:
            path = paths.get(t._module, "")
            base = f"{path}.{t._op.name}" if path else t._op.name
            counts[base] = counts.get(base, 0) + 1
            result[t] = base if counts[base] == 1 else f"{base}#{counts[base]}"
    return result


# --- the table --------------------------------------------------------------------------------

class TraceRow:
    """One backward step: the op whose VJP ran, its output, and the inputs it sent gradient to."""

    def __init__(self, step, op, rule, output, shape, grad_norm, inputs):
        self.step, self.op, self.rule = step, op, rule
        self.output, self.shape, self.grad_norm = output, shape, grad_norm
        self.inputs = inputs   # list of (name, shape, gradient norm after backward)

    def __repr__(self):
        return f"<TraceRow {self.step} {self.op} -> {self.output}>"


class BackwardTrace:
    """The rows of backward_trace; prints as a table in execution order."""

    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def cells(self):
        head = ["step", "op", "d(output)", "|grad|", "sends gradient to", "rule"]
        body = [[r.step, r.op, f"d {r.output} {fmt_shape(r.shape)}", f"{r.grad_norm:.3g}",
                 "\n".join(f"d {n} {fmt_shape(s)} |{g:.3g}|" for n, s, g in r.inputs), r.rule]
                for r in self.rows]
        return head, body

    def table(self):
        """The trace as text lines that fit 100 columns (long cells wrap)."""
        return "\n".join(format_table(*self.cells()))

    __str__ = table

    def _repr_html_(self):   # a notebook shows the table, not the repr
        return html_table(*self.cells())

    def __repr__(self):
        return f"<BackwardTrace {len(self.rows)} steps>"


# --- running it -------------------------------------------------------------------------------

def backward_trace(loss, model=None):
    """Run loss.backward() and report what each step of it did, in execution order.

    model (a Module or a dict name -> Tensor) names the parameters. Like calling
    loss.backward(retain_graph=True) (leaves' .grad accumulate just the same),
    but it also returns a BackwardTrace: one row per op, in the order the engine
    ran the VJPs (the numbering draw_graph(loss, show="order") shows): the op,
    the output whose gradient arrived (named after its module and op,
    "fc1.MatMul"), that gradient's norm, each input receiving gradient with its
    shape and gradient norm, and the op's derivative rule. The gradient norms
    are what this backward gave each tensor in total (a tensor used twice shows
    the sum of both contributions; gradient a leaf had accumulated before is
    not counted).
    """
    roots = as_roots(loss, "backward_trace")
    order = list(walk(roots, grad_only=True))
    validate(order, "backward_trace")
    names = tensor_names(list(walk(roots)), model_names(model, "backward_trace"),
                         module_paths(model))
    names[loss] = loss.name or "loss"
    ops = [t for t in order if t._op is not None]
    before = {t: (t._retains_grad, t.grad) for t in ops}
    for t in ops:
        if not t._retains_grad:
            t._retains_grad, t.grad = True, None
    # .grad accumulates: keep what was there, to report only this backward's share
    earlier = {t: t.grad._data.copy() for t in order if t.grad is not None}
    try:
        loss.backward(retain_graph=True)
        return BackwardTrace([trace_row(step, t, names, earlier)
                              for step, t in enumerate(reversed(ops), start=1)])
    finally:
        for t, (retains, g) in before.items():
            if not retains:   # forget gradients the user didn't ask to keep
                t._retains_grad, t.grad = False, g


def trace_row(step, t, names, earlier):
    """The row of op-node t, once backward has run; `earlier` holds .grad from before it."""
    def received(x):
        if x.grad is None:
            return 0.0
        g = x.grad._data
        return float(np.linalg.norm(g - earlier[x] if x in earlier else g))

    inputs = [(names[x], x.shape, received(x)) for x in t._parents if x.requires_grad]
    return TraceRow(step, t._op.label(t._args or ()), t._op.rule, names[t], t.shape,
                    received(t), inputs)
