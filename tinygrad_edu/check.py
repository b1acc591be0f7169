"""Checking gradients: finite differences (gradcheck, gradgradcheck) and compare_gradients.

gradcheck builds the full Jacobian two ways and compares them element by element:
  numerical  column j = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), in float64
  analytic   row i = the VJP of the output's i-th unit vector, from autograd.grad
A failure names the input, the output and input element, and both values.
compare_gradients puts two sets of named gradients side by side (autograd's and a
hand derivation's). The shipped suite of hand derivations, `tinygrad-edu check`,
is derivations.py.
"""
import numpy as np

from .autograd import grad
from .formatting import fmt_shape, format_table, html_table, in_notebook
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree (the message says where; `report` has the
    table of every Jacobian block)."""

    def __init__(self, message, report=None):
        super().__init__(message)
        self.report = report


def as_outputs(out):
    outs = (out,) if isinstance(out, Tensor) else tuple(out) if isinstance(out, (tuple, list)) \
        else None
    if outs is None or not all(isinstance(o, Tensor) for o in outs):
        bad = out if outs is None else next(o for o in outs if not isinstance(o, Tensor))
        raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got "
                        f"{type(bad).__name__} (return the Tensor, not .item() or .numpy())")
    return outs


def prepare_inputs(inputs):
    """float64 copies of the inputs; those that require grad are the ones checked."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            # A float64 copy: finite differences in float32 are too coarse to tell
            # anything. C order, so that numerical_jacobians' reshape(-1) is a view
            # (of a transposed input it would be a copy, and perturbing it a no-op).
            prepared.append(Tensor(np.array(x._data, dtype=np.float64, order="C"),
                                   requires_grad=x.requires_grad, name=x.name))
        else:
            prepared.append(x)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in prepared):
        raise ValueError("gradcheck: no input requires grad; pass tensors made with "
                         "requires_grad=True")
    return prepared


def numerical_jacobians(fn, inputs, eps):
    """For each input that requires grad: a list over outputs of (out.numel(), x.numel()) arrays."""
    # not under no_grad: fn may itself call grad() (gradgradcheck does)
    base = as_outputs(fn(*inputs))
    result = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        flat = x._data.reshape(-1)   # a view: perturbing it perturbs x
        jac = [np.zeros((o.numel(), x.numel())) for o in base]
        for j in range(x.numel()):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1) for o in as_outputs(fn(*inputs))]
            flat[j] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1) for o in as_outputs(fn(*inputs))]
            flat[j] = orig
            for k in range(len(base)):
                jac[k][:, j] = (plus[k] - minus[k]) / (2 * eps)
        result.append(jac)
    return result


def analytic_jacobians(fn, inputs):
    wrt = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    outputs = as_outputs(fn(*inputs))
    jacs = [[np.zeros((o.numel(), x.numel())) for o in outputs] for x in wrt]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for i in range(out.numel()):
            seed = np.zeros(out.numel())
            seed[i] = 1.0
            gs = grad(out, wrt, Tensor(seed.reshape(out.shape).astype(out.dtype)),
                      retain_graph=True, allow_unused=True)
            for n, g in enumerate(gs):
                if g is not None:
                    jacs[n][k][i, :] = g._data.reshape(-1)
    return jacs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd's Jacobian of `fn(*inputs)` with central differences.

    Passes when |analytic - numerical| <= atol + rtol |numerical| everywhere.
    On failure raises GradcheckError naming the input, the element and both
    values, with the table of every Jacobian block (`error.report`), or
    returns False when raise_exception=False. gradcheck_report gives that
    table without raising.

    Floating-point inputs are checked through float64 copies (so float32
    tensors work, and yours are never perturbed); `fn` must then compute in
    float64 too. Inputs that don't require grad (integer labels, constants)
    are passed through unchanged. Outputs that don't require grad (a
    comparison, argmax) count as having a zero Jacobian, as in PyTorch.
    """
    report = gradcheck_report(fn, inputs, eps, atol, rtol)
    if report:
        return True
    if raise_exception:
        raise GradcheckError(report.first_failure() + "\n" + report.table(), report)
    return False


def gradcheck_report(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """gradcheck's comparison as a report: one row per (output, input) Jacobian block.

    Truthy when every block passes; prints as a table and shows as an HTML
    table in a notebook.
    """
    inputs = prepare_inputs(inputs)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    names = [f"input {i}" + (f" ({x.name})" if x.name else "")
             for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    numerical = numerical_jacobians(fn, inputs, eps)
    analytic = analytic_jacobians(fn, inputs)
    outputs = as_outputs(fn(*inputs))
    rows = [jacobian_block(k, o, names[n], x.shape, num, ana, atol, rtol)
            for n, (x, num_x, ana_x) in enumerate(zip(checked, numerical, analytic))
            for k, (o, num, ana) in enumerate(zip(outputs, num_x, ana_x))]
    return GradcheckReport(rows, atol, rtol)


class JacobianBlock:
    """d output k / d one input: how many elements differ and the worst of them."""

    def __init__(self, output, out_shape, out_dtype, input, in_shape, max_abs, n_bad, size,
                 worst):
        self.output, self.out_shape, self.out_dtype = output, out_shape, out_dtype
        self.input, self.in_shape = input, in_shape
        self.max_abs, self.n_bad, self.size = max_abs, n_bad, size
        self.worst = worst   # (output element, input element, analytic, numerical) or None
        self.passed = n_bad == 0


def jacobian_block(k, out, name, in_shape, num, ana, atol, rtol):
    diff = np.abs(ana - num)
    bad = ~(diff <= atol + rtol * np.abs(num))   # nan counts as bad
    worst = None
    if bad.any():
        i, j = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1)),
                                bad.shape)
        worst = ([int(v) for v in np.unravel_index(i, out.shape)],
                 [int(v) for v in np.unravel_index(j, in_shape)],
                 float(ana[i, j]), float(num[i, j]))
    return JacobianBlock(k, out.shape, out.dtype, name, in_shape,
                         float(diff.max()) if diff.size else 0.0, int(bad.sum()), bad.size, worst)


class GradcheckReport:
    """gradcheck_report's rows; truthy when autograd and finite differences agree."""

    def __init__(self, rows, atol, rtol):
        self.rows, self.atol, self.rtol = rows, atol, rtol

    passed = property(lambda self: all(r.passed for r in self.rows))
    failures = property(lambda self: [r for r in self.rows if not r.passed])

    def __bool__(self):
        return self.passed

    def first_failure(self):
        """The first failing block, in words (gradcheck's error message)."""
        r = self.failures[0]
        out_el, in_el, ana, num = r.worst
        msg = (f"gradcheck: Jacobian mismatch for output {r.output} with respect to "
               f"{r.input} (shape {r.in_shape}): d out{out_el} / d x{in_el}: analytic {ana!r}, "
               f"numerical {num!r} (|diff| {abs(ana - num):.3g} > atol {self.atol} + rtol "
               f"{self.rtol} * |numerical|; {r.n_bad} of {r.size} elements differ)")
        if r.out_dtype != np.float64:
            msg += (f"; note: output {r.output} is {r.out_dtype}, so its finite differences "
                    f"are only {r.out_dtype}-accurate: compute it in float64")
        return msg

    def cells(self):
        head = ["d output", "/ d input", "max abs err", "elements differ", "worst: analytic",
                "numerical", "result"]
        body = [[f"out {r.output} {fmt_shape(r.out_shape)}", f"{r.input} {fmt_shape(r.in_shape)}",
                 f"{r.max_abs:.2e}", f"{r.n_bad} of {r.size}",
                 "" if r.worst is None else f"{r.worst[2]:.6g} at {r.worst[0]}/{r.worst[1]}",
                 "" if r.worst is None else f"{r.worst[3]:.6g}", "ok" if r.passed else "FAIL"]
                for r in self.rows]
        verdict = ("the Jacobians agree" if self.passed
                   else f"{len(self.failures)} of {len(self.rows)} Jacobian blocks differ")
        notes = [f"autograd vs finite differences (atol {self.atol:g}, rtol {self.rtol:g}): "
                 f"{verdict}"]
        return head, body, notes

    def table(self):
        head, body, notes = self.cells()
        return "\n".join(format_table(head, body) + notes)

    __str__ = table

    def _repr_html_(self):
        head, body, notes = self.cells()
        return html_table(head, body, notes, [i for i, r in enumerate(self.rows) if not r.passed])

    def __repr__(self):
        return f"<GradcheckReport {len(self.rows)} blocks, {'passed' if self else 'FAILED'}>"


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, seed=0):
    """gradcheck of the gradient: checks second derivatives of `fn`.

    The function checked is (inputs, v) -> VJP of fn at inputs with v, built
    with create_graph=True; v is random (or `grad_outputs`) and is itself
    differentiated, as in PyTorch's gradgradcheck.
    """
    inputs = prepare_inputs(inputs)
    outputs = as_outputs(fn(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outputs]
    else:
        grad_outputs = [Tensor(np.asarray(g._data if isinstance(g, Tensor) else g, np.float64),
                               requires_grad=True)
                        for g in (grad_outputs if isinstance(grad_outputs, (list, tuple))
                                  else [grad_outputs])]
    n_in = len(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args):
        xs, vs = args[:n_in], args[n_in:]
        outs = [o for o in as_outputs(fn(*xs))]
        keep = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
        gs = grad([o for o, _ in keep], [xs[i] for i in checked], [v for _, v in keep],
                  create_graph=True, allow_unused=True)
        # an unused input has a zero gradient; keep it on the graph via its input
        return tuple(g if g is not None else xs[i] * 0 for g, i in zip(gs, checked))

    return gradcheck(first_derivatives, list(inputs) + list(grad_outputs), eps, atol, rtol,
                     raise_exception)


# --- autograd versus hand-derived gradients -------------------------------------------------
#
# compare_gradients puts two sets of named gradients side by side, usually
# autograd's (.grad of each parameter) and a hand derivation's (manual.py), and
# reports, per name: do the shapes match, the largest absolute and relative
# error, pass/fail, and the element where the two disagree most.

class ComparisonRow:
    """One gradient compared: name, shapes, errors, verdict and the worst element.

    labels name the two sides in messages: ("autograd", "manual") unless
    compare_gradients was given others.
    """

    def __init__(self, name, shape, other_shape, max_abs, max_rel, passed, worst, values,
                 labels=("autograd", "manual")):
        self.name, self.shape, self.other_shape = name, shape, other_shape
        self.shape_match = shape == other_shape
        self.max_abs, self.max_rel, self.passed = max_abs, max_rel, passed
        self.worst_index, self.worst_values, self.labels = worst, values, labels

    def __repr__(self):
        return (f"<ComparisonRow {self.name}: "
                f"{'ok' if self.passed else 'FAIL ' + self.describe_failure()}>")

    def describe_failure(self):
        ours, theirs = self.labels
        if self.shape is None or self.other_shape is None:
            return f"{self.name}: no {ours if self.shape is None else theirs} gradient"
        if not self.shape_match:
            return f"{self.name}: shape {self.shape} ({ours}) vs {self.other_shape} ({theirs})"
        a, m = self.worst_values
        return (f"{self.name}: worst element {self.worst_index}: {ours} {a:.6g}, {theirs} {m:.6g} "
                f"(|diff| {self.max_abs:.3g})")


class GradientComparison:
    """The result of compare_gradients: rows you can inspect, a table when printed.

    `bool(result)` is True when every row passed; `result.failures` lists the rows
    that did not; `result.table()` (or print(result)) shows all of them.
    """

    def __init__(self, rows, atol, rtol, labels=("autograd", "manual")):
        self.rows, self.atol, self.rtol, self.labels = rows, atol, rtol, labels

    passed = property(lambda self: all(r.passed for r in self.rows))
    failures = property(lambda self: [r for r in self.rows if not r.passed])

    def __bool__(self):
        return self.passed

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"compare_gradients: no gradient named {name!r}")

    def cells(self):
        """(head, body, notes): the table's columns, its rows, and the lines under it."""
        head = ["gradient", "shape", "shapes match", "max abs err", "max rel err", "result",
                "worst element"]
        body = [[r.name, fmt_shape(r.shape), "yes" if r.shape_match else "NO",
                 fmt_err(r.max_abs), fmt_err(r.max_rel), "ok" if r.passed else "FAIL",
                 "" if r.worst_index is None else str(r.worst_index)] for r in self.rows]
        verdict = ("all gradients match" if self.passed
                   else f"{len(self.failures)} of {len(self.rows)} differ")
        notes = [f"{self.labels[0]} vs {self.labels[1]} "
                 f"(atol {self.atol:g}, rtol {self.rtol:g}): {verdict}"]
        notes += ["  FAIL " + r.describe_failure() for r in self.failures]
        return head, body, notes

    def table(self):
        """The comparison as text that fits 100 columns."""
        head, body, notes = self.cells()
        return "\n".join(format_table(head, body) + notes)

    __str__ = table

    def _repr_html_(self):   # a notebook shows the table (failing rows marked), not the repr
        head, body, notes = self.cells()
        return html_table(head, body, notes, [i for i, r in enumerate(self.rows) if not r.passed])

    def __repr__(self):
        return f"<GradientComparison {len(self.rows)} gradients, {'passed' if self else 'FAILED'}>"


def fmt_err(x):
    return "-" if x is None else f"{x:.2e}"


def as_array(g):
    """A gradient given as Tensor, ndarray, number or None, as a float64 ndarray (or None)."""
    if g is None:
        return None
    if isinstance(g, Tensor):
        g = g._data
    return np.asarray(g, dtype=np.float64)


def gradients_of(source):
    """name -> gradient from a dict, or from a Module's parameters' .grad."""
    if isinstance(source, dict):
        return dict(source)
    if hasattr(source, "named_parameters"):
        return {name: p.grad for name, p in source.named_parameters()}
    raise TypeError(f"compare_gradients: expected a dict name -> gradient or a Module, "
                    f"got {type(source).__name__}")


def compare_one(name, a, m, atol, rtol, labels):
    if a is None or m is None:
        return ComparisonRow(name, None if a is None else a.shape, None if m is None else m.shape,
                             None, None, False, None, None, labels)
    if a.shape != m.shape:
        return ComparisonRow(name, a.shape, m.shape, None, None, False, None, None, labels)
    if a.size == 0:
        return ComparisonRow(name, a.shape, m.shape, 0.0, 0.0, True, None, None, labels)
    diff = np.abs(a - m)
    # relative to the larger magnitude, floored at atol: two round-off-sized values
    # (a bias before BatchNorm has a zero gradient) are not "200% apart"
    rel = diff / np.maximum(np.maximum(np.abs(a), np.abs(m)), max(atol, 1e-300))
    excess = diff - (atol + rtol * np.abs(m))   # > 0 (or nan) where the element fails
    flat = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return ComparisonRow(name, a.shape, m.shape, float(diff.max()), float(rel.max()),
                         bool((excess <= 0).all()), worst,
                         (float(a.flat[flat]), float(m.flat[flat])), labels)


def compare_gradients(autograd, manual, atol=1e-6, rtol=1e-5, verbose=None, rename=None,
                      labels=("autograd", "manual")):
    """Compare two sets of named gradients, element by element.

    autograd: dict name -> Tensor/ndarray, or a Module (its parameters' .grad
              after backward(), named as in named_parameters()).
    manual:   dict name -> ndarray (e.g. from manual.mlp_backprop), or a function
              that takes `autograd` (your model) and returns such a dict.
    rename:   optional dict manual name -> autograd name ({"W1": "layers.0.weight"}).

    An element passes when |autograd - manual| <= atol + rtol * |manual|. The
    relative error column is |autograd - manual| / max(|autograd|, |manual|, atol).
    Returns a GradientComparison (truthy when all pass) and, with verbose=True,
    prints its table; a failing row names the parameter and its worst element.
    verbose=None (the default) prints except in a notebook, where the returned
    report shows itself as an HTML table (printing too would show it twice).
    labels name the two sides in the table and the messages. Comparing nothing
    (both sides empty) raises ValueError: it would pass without checking anything.
    """
    if callable(manual):
        manual = manual(autograd)   # your backward, run on the same model
    ours = {k: as_array(v) for k, v in gradients_of(autograd).items()}
    theirs = {(rename or {}).get(k, k): as_array(v) for k, v in gradients_of(manual).items()}
    names = list(ours) + [k for k in theirs if k not in ours]
    if not names:   # nothing compared is nothing checked: never report it as a match
        raise ValueError(f"compare_gradients: nothing to compare, both the {labels[0]} and the "
                         f"{labels[1]} side have no gradients (an empty dict, or a Module "
                         f"without parameters)")
    rows = [compare_one(n, ours.get(n), theirs.get(n), atol, rtol, labels) for n in names]
    result = GradientComparison(rows, atol, rtol, labels)
    if verbose or (verbose is None and not in_notebook()):
        print(result.table())
    return result
