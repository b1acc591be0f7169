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
from .formatting import fmt_shape, format_table
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree (the message says where)."""


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
    values (or returns False when raise_exception=False).

    Floating-point inputs are checked through float64 copies (so float32
    tensors work, and yours are never perturbed); `fn` must then compute in
    float64 too. Inputs that don't require grad (integer labels, constants)
    are passed through unchanged. Outputs that don't require grad (a
    comparison, argmax) count as having a zero Jacobian, as in PyTorch.
    """
    inputs = prepare_inputs(inputs)
    names = [f"input {i}" + (f" ({x.name})" if x.name else "")
             for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    shapes = [x.shape for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    numerical = numerical_jacobians(fn, inputs, eps)
    analytic = analytic_jacobians(fn, inputs)
    outputs = as_outputs(fn(*inputs))
    out_shapes, out_dtypes = [o.shape for o in outputs], [o.dtype for o in outputs]
    for n, (num_x, ana_x) in enumerate(zip(numerical, analytic)):
        for k, (num, ana) in enumerate(zip(num_x, ana_x)):
            bad = ~(np.abs(ana - num) <= atol + rtol * np.abs(num))
            if bad.any():
                err = np.where(bad, np.abs(ana - num), -1)
                i, j = np.unravel_index(np.argmax(err), err.shape)
                out_el = [int(v) for v in np.unravel_index(i, out_shapes[k])]
                in_el = [int(v) for v in np.unravel_index(j, shapes[n])]
                msg = (f"gradcheck: Jacobian mismatch for output {k} with respect to "
                       f"{names[n]} (shape {shapes[n]}): d out{out_el} / "
                       f"d x{in_el}: analytic {float(ana[i, j])!r}, numerical {float(num[i, j])!r} "
                       f"(|diff| {abs(ana[i, j] - num[i, j]):.3g} > atol {atol} + rtol {rtol} "
                       f"* |numerical|; {int(bad.sum())} of {bad.size} elements differ)")
                if out_dtypes[k] != np.float64:
                    msg += (f"; note: output {k} is {out_dtypes[k]}, so its finite differences "
                            f"are only {out_dtypes[k]}-accurate: compute it in float64")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


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

    def table(self):
        head = ["gradient", "shape", "shapes match", "max abs err", "max rel err", "result",
                "worst element"]
        body = [[r.name, fmt_shape(r.shape), "yes" if r.shape_match else "NO",
                 fmt_err(r.max_abs), fmt_err(r.max_rel), "ok" if r.passed else "FAIL",
                 "" if r.worst_index is None else str(r.worst_index)] for r in self.rows]
        lines = format_table(head, body)
        verdict = ("all gradients match" if self.passed
                   else f"{len(self.failures)} of {len(self.rows)} differ")
        lines.append(f"{self.labels[0]} vs {self.labels[1]} "
                     f"(atol {self.atol:g}, rtol {self.rtol:g}): {verdict}")
        lines += ["  FAIL " + r.describe_failure() for r in self.failures]
        return "\n".join(lines)

    __str__ = table

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


def compare_gradients(autograd, manual, atol=1e-6, rtol=1e-5, verbose=True, rename=None,
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
    if verbose:
        print(result.table())
    return result
