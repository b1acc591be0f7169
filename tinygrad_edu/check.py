"""Checking gradients: finite differences (gradcheck, gradgradcheck).

gradcheck builds the full Jacobian two ways and compares them element by element:
  numerical  column j = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), in float64
  analytic   row i = the VJP of the output's i-th unit vector, from autograd.grad
A failure names the input, the output and input element, and both values.
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
            prepared.append(Tensor(np.array(x.data, dtype=np.float64, order="C"),
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
        flat = x.data.reshape(-1)   # a view: perturbing it perturbs x
        jac = [np.zeros((o.numel(), x.numel())) for o in base]
        for j in range(x.numel()):
            orig = flat[j]
            flat[j] = orig + eps
            plus = [o.data.astype(np.float64).reshape(-1) for o in as_outputs(fn(*inputs))]
            flat[j] = orig - eps
            minus = [o.data.astype(np.float64).reshape(-1) for o in as_outputs(fn(*inputs))]
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
                    jacs[n][k][i, :] = g.data.reshape(-1)
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
        grad_outputs = [Tensor(np.asarray(g.data if isinstance(g, Tensor) else g, np.float64),
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
    """One gradient compared: name, shapes, errors, verdict and the worst element."""

    def __init__(self, name, shape, other_shape, max_abs, max_rel, passed, worst, values, note=""):
        self.name, self.shape, self.other_shape = name, shape, other_shape
        self.shape_match = shape == other_shape
        self.max_abs, self.max_rel, self.passed = max_abs, max_rel, passed
        self.worst_index, self.worst_values, self.note = worst, values, note

    def describe_failure(self):
        if self.note:
            return f"{self.name}: {self.note}"
        if not self.shape_match:
            return f"{self.name}: shape {self.shape} (autograd) vs {self.other_shape} (manual)"
        a, m = self.worst_values
        return (f"{self.name}: worst element {self.worst_index}: autograd {a:.6g}, manual {m:.6g} "
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
        g = g.data
    return np.asarray(g, dtype=np.float64)


def gradients_of(source):
    """name -> gradient from a dict, or from a Module's parameters' .grad."""
    if isinstance(source, dict):
        return dict(source)
    if hasattr(source, "named_parameters"):
        return {name: p.grad for name, p in source.named_parameters()}
    raise TypeError(f"compare_gradients: expected a dict name -> gradient or a Module, "
                    f"got {type(source).__name__}")


def compare_one(name, a, m, atol, rtol):
    if a is None or m is None:
        missing = "autograd" if a is None else "manual"
        return ComparisonRow(name, None if a is None else a.shape, None if m is None else m.shape,
                             None, None, False, None, None, note=f"no {missing} gradient")
    if a.shape != m.shape:
        return ComparisonRow(name, a.shape, m.shape, None, None, False, None, None)
    diff = np.abs(a - m)
    # relative to the larger magnitude, floored at atol: two round-off-sized values
    # (a bias before BatchNorm has a zero gradient) are not "200% apart"
    rel = diff / np.maximum(np.maximum(np.abs(a), np.abs(m)), max(atol, 1e-300))
    excess = diff - (atol + rtol * np.abs(m))   # > 0 (or nan) where the element fails
    ok = bool((excess <= 0).all())
    if a.size == 0:
        return ComparisonRow(name, a.shape, m.shape, 0.0, 0.0, True, None, None)
    flat = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
    worst = tuple(int(i) for i in np.unravel_index(flat, a.shape))
    return ComparisonRow(name, a.shape, m.shape, float(diff.max()), float(rel.max()), bool(ok),
                         worst, (float(a.flat[flat]), float(m.flat[flat])))


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
    """
    if callable(manual):
        manual = manual(autograd)   # your backward, run on the same model
    ours = {k: as_array(v) for k, v in gradients_of(autograd).items()}
    theirs = {(rename or {}).get(k, k): as_array(v) for k, v in gradients_of(manual).items()}
    names = list(ours) + [k for k in theirs if k not in ours]
    rows = [compare_one(n, ours.get(n), theirs.get(n), atol, rtol) for n in names]
    result = GradientComparison(rows, atol, rtol, labels)
    if verbose:
        print(result.table())
    return result


def numerical_gradients(f, arrays, eps=1e-6):
    """Central differences of a scalar NumPy function f(**arrays), for every array.

    d f / d a[i] ~ (f(a[i] + eps) - f(a[i] - eps)) / (2 eps), in float64.
    Returns a dict name -> array of a's shape. Slow (two calls per element):
    for small inputs only.
    """
    arrays = {k: np.array(v, dtype=np.float64) for k, v in arrays.items()}
    grads = {}
    for name, a in arrays.items():
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for i in range(a.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = f(**arrays)
            flat[i] = orig - eps
            minus = f(**arrays)
            flat[i] = orig
            gflat[i] = (plus - minus) / (2 * eps)
        grads[name] = g
    return grads


# --- every hand derivation against autograd and finite differences (`tinygrad-edu check`) -------

def derivation_cases(rng):
    """(name, inputs, numpy_loss, tensor_loss, hand_gradients) for each derivation in manual.py.

    Derivations of a layer y = f(x) are checked through the scalar
    L = sum(f(x) * G) with a fixed random G, so that dL/dy = G is the upstream
    gradient handed to the `*_backward` function. numpy_loss(**inputs) feeds
    finite differences; tensor_loss(**tensors) feeds autograd.
    """
    from . import manual
    from . import functional as F

    n, d, h, c = 5, 4, 3, 4
    labels = rng.integers(0, c, n)
    G = {shape: rng.standard_normal(shape) for shape in [(n, h), (n, d), (n, c)]}

    def layer_sum(f, shape):
        return lambda **a: float((f(**a) * G[shape]).sum())

    def tensor_sum(f, shape):
        return lambda **t: (f(**t) * G[shape]).sum()

    cases = [
        ("linear", {"x": rng.standard_normal((n, d)), "W": rng.standard_normal((h, d)),
                    "b": rng.standard_normal(h)},
         layer_sum(manual.linear_forward, (n, h)),
         tensor_sum(lambda x, W, b: F.linear(x, W, b), (n, h)),
         lambda x, W, b: dict(zip(("x", "W", "b"), manual.linear_backward(G[(n, h)], x, W)))),
        ("relu", {"x": rng.standard_normal((n, d))},
         layer_sum(manual.relu, (n, d)), tensor_sum(F.relu, (n, d)),
         lambda x: {"x": manual.relu_backward(G[(n, d)], x)}),
        ("sigmoid", {"x": 3 * rng.standard_normal((n, d))},
         layer_sum(manual.sigmoid, (n, d)), tensor_sum(F.sigmoid, (n, d)),
         lambda x: {"x": manual.sigmoid_backward(G[(n, d)], x)}),
        ("tanh", {"x": rng.standard_normal((n, d))},
         layer_sum(lambda x: np.tanh(x), (n, d)), tensor_sum(F.tanh, (n, d)),
         lambda x: {"x": manual.tanh_backward(G[(n, d)], x)}),
        ("softmax_jacobian", {"z": rng.standard_normal((n, c))},
         layer_sum(manual.softmax, (n, c)), tensor_sum(lambda z: z.softmax(1), (n, c)),
         lambda z: {"z": np.einsum("nij,ni->nj", manual.softmax_jacobian(z), G[(n, c)])}),
        ("softmax_backward", {"z": rng.standard_normal((n, c))},
         layer_sum(manual.softmax, (n, c)), tensor_sum(lambda z: z.softmax(1), (n, c)),
         lambda z: {"z": manual.softmax_backward(G[(n, c)], z)}),
        ("softmax_cross_entropy", {"z": 2 * rng.standard_normal((n, c))},
         lambda z: manual.softmax_cross_entropy(z, labels)[0],
         lambda z: F.cross_entropy(z, labels),
         lambda z: {"z": manual.softmax_cross_entropy(z, labels)[1]}),
        ("mse", {"pred": rng.standard_normal((n, d))},
         lambda pred: manual.mse(pred, G[(n, d)])[0],
         lambda pred: F.mse_loss(pred, G[(n, d)]),
         lambda pred: {"pred": manual.mse(pred, G[(n, d)])[1]}),
        ("multi_margin", {"s": rng.standard_normal((n, c))},
         lambda s: manual.multi_margin(s, labels)[0],
         lambda s: F.multi_margin_loss(s, labels),
         lambda s: {"s": manual.multi_margin(s, labels)[1]}),
        ("batchnorm", {"x": rng.standard_normal((n, h)) * 2 + 1,
                       "gamma": rng.standard_normal(h), "beta": rng.standard_normal(h)},
         layer_sum(lambda x, gamma, beta: manual.batchnorm_forward(x, gamma, beta)[0], (n, h)),
         tensor_sum(lambda x, gamma, beta: F.batch_norm(x, None, None, gamma, beta,
                                                        training=True), (n, h)),
         lambda x, gamma, beta: dict(zip(("x", "gamma", "beta"), manual.batchnorm_backward(
             G[(n, h)], manual.batchnorm_forward(x, gamma, beta)[1])))),
    ]
    x = rng.standard_normal((n + 3, 3))
    mlp_labels = rng.integers(0, 3, n + 3)
    for batchnorm in (False, True):
        params = mlp_params(rng, (3, 5, 4, 3), batchnorm)
        cases.append((
            "mlp_backprop" + (" (batchnorm)" if batchnorm else ""), params,
            lambda **p: manual.mlp_backprop(x, mlp_labels, mlp_layers(p))[0],
            lambda **p: tensor_mlp_loss(x, mlp_labels, mlp_layers(p)),
            lambda **p: manual.mlp_backprop(x, mlp_labels, mlp_layers(p))[1]))
    return cases


def mlp_params(rng, dims, batchnorm):
    """Random parameters for manual.mlp_backprop, flat: W1, b1, (gamma1, beta1,) W2, ..."""
    params = {}
    for k, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:]), start=1):
        params[f"W{k}"] = rng.standard_normal((d_out, d_in)) / np.sqrt(d_in)
        params[f"b{k}"] = 0.1 * rng.standard_normal(d_out)
        if batchnorm and k < len(dims) - 1:
            params[f"gamma{k}"] = 1 + 0.1 * rng.standard_normal(d_out)
            params[f"beta{k}"] = 0.1 * rng.standard_normal(d_out)
    return params


def mlp_layers(params):
    """Flat names (W1, b1, gamma1, ...) -> the list of per-layer dicts mlp_backprop takes."""
    layers = []
    k = 1
    while f"W{k}" in params:
        layer = {"W": params[f"W{k}"], "b": params[f"b{k}"]}
        if f"gamma{k}" in params:
            layer["gamma"], layer["beta"] = params[f"gamma{k}"], params[f"beta{k}"]
        layers.append(layer)
        k += 1
    return layers


def tensor_mlp_loss(x, labels, layers):
    """The network of manual.mlp_backprop as tensor expressions (autograd's side)."""
    from . import functional as F
    a = Tensor(x)
    for i, layer in enumerate(layers):
        a = F.linear(a, layer["W"], layer["b"])
        if i < len(layers) - 1:
            if "gamma" in layer:
                a = F.batch_norm(a, None, None, layer["gamma"], layer["beta"], training=True)
            a = a.relu()
    return F.cross_entropy(a, labels)


def adam_case(rng, steps=3):
    """manual.adam_step against optim.Adam over a few steps: (name, {name: (ours, theirs)})."""
    from . import manual
    from .optim import Adam
    p0, grads = rng.standard_normal((3, 2)), [rng.standard_normal((3, 2)) for _ in range(steps)]
    settings = dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    p = Tensor(p0.copy(), requires_grad=True)
    opt = Adam([p], **settings)
    ref, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        p.grad = Tensor(g.copy())
        opt.step()
        ref, m, v = manual.adam_step(ref, g, m, v, t, **settings)
    return p.data.copy(), ref


class DerivationReport:
    """Rows of `check_derivations`: each hand gradient vs autograd and vs finite differences."""

    def __init__(self, rows):
        self.rows = rows   # (derivation, gradient, shape, vs_autograd, vs_numeric)

    passed = property(lambda self: all(a.passed and (f is None or f.passed)
                                       for *_, a, f in self.rows))

    def __bool__(self):
        return self.passed

    def table(self):
        head = ["derivation", "gradient", "shape", "vs autograd", "vs finite diff", "result"]
        body, failures = [], []
        for case, grad_name, shape, a, f in self.rows:
            ok = a.passed and (f is None or f.passed)
            body.append([case, grad_name, fmt_shape(shape), verdict(a),
                         "n/a" if f is None else verdict(f), "ok" if ok else "FAIL"])
            failures += [f"  FAIL {case}: " + r.describe_failure().replace("manual", "hand")
                         .replace("autograd", ref) for r, ref in
                         [(a, "autograd"), (f, "finite diff")] if r is not None and not r.passed]
        lines = format_table(head, body)
        n_bad = sum(row[-1] == "FAIL" for row in body)
        lines.append("every hand derivation matches autograd and finite differences"
                     if not n_bad else f"{n_bad} of {len(body)} hand gradients are WRONG")
        return "\n".join(lines + failures)

    __str__ = table


def verdict(row):
    err = "" if row.max_abs is None else f"{row.max_abs:.1e}"
    return ("ok " if row.passed else "FAIL ") + err


def check_derivations(seed=0, atol=1e-6, rtol=1e-5, fd_atol=1e-5, fd_rtol=1e-4, verbose=True):
    """Check every derivation in manual.py against autograd and finite differences.

    Inputs are random (seeded). Returns a DerivationReport (truthy when all
    agree) and prints its table when verbose.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for case, arrays, numpy_loss, tensor_loss, hand in derivation_cases(rng):
        tensors = {k: Tensor(v, requires_grad=True, name=k) for k, v in arrays.items()}
        auto = dict(zip(tensors, grad(tensor_loss(**tensors), list(tensors.values()))))
        manual_grads = hand(**arrays)
        numeric = numerical_gradients(numpy_loss, arrays)
        vs_auto = compare_gradients(auto, manual_grads, atol, rtol, verbose=False)
        vs_num = compare_gradients(numeric, manual_grads, fd_atol, fd_rtol, verbose=False)
        for row in vs_auto.rows:
            rows.append((case, row.name, row.shape, row, vs_num[row.name]))
    try:
        ours, theirs = adam_case(rng)
    except ImportError:   # optim not available: nothing to compare adam_step with
        pass
    else:
        cmp = compare_gradients({"param": ours}, {"param": theirs}, atol, rtol, verbose=False)
        rows.append(("adam_step (vs optim.Adam)", "param", ours.shape, cmp["param"], None))
    report = DerivationReport(rows)
    if verbose:
        print(report.table())
    return report
