"""Checking gradients: finite differences (gradcheck, gradgradcheck).

gradcheck builds the full Jacobian two ways and compares them element by element:
  numerical  column j = (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), in float64
  analytic   row i = the VJP of the output's i-th unit vector, from autograd.grad
A failure names the input, the output and input element, and both values.
"""
import numpy as np

from .autograd import grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autograd and finite differences disagree (the message says where)."""


def as_outputs(out):
    return (out,) if isinstance(out, Tensor) else tuple(out)


def prepare_inputs(inputs):
    """float64 copies of the inputs; those that require grad are the ones checked."""
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            # finite differences in float32 are too coarse to tell anything
            prepared.append(Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad,
                                   name=x.name))
        else:
            prepared.append(x)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in prepared):
        raise ValueError("gradcheck: no input requires grad; pass tensors made with "
                         "requires_grad=True")
    return prepared


def numerical_jacobians(fn, inputs, eps):
    """For each input that requires grad: a list over outputs of (out.size, x.size) arrays."""
    # not under no_grad: fn may itself call grad() (gradgradcheck does)
    base = as_outputs(fn(*inputs))
    result = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        flat = x.data.reshape(-1)   # a view: perturbing it perturbs x
        jac = [np.zeros((o.size, x.size)) for o in base]
        for j in range(x.size):
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
    jacs = [[np.zeros((o.size, x.size)) for o in outputs] for x in wrt]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for i in range(out.size):
            seed = np.zeros(out.size)
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
    """
    inputs = prepare_inputs(inputs)
    names = [f"input {i}" + (f" ({x.name})" if x.name else "")
             for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    shapes = [x.shape for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    numerical = numerical_jacobians(fn, inputs, eps)
    analytic = analytic_jacobians(fn, inputs)
    out_shapes = [o.shape for o in as_outputs(fn(*inputs))]
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
                               requires_grad=True) for g in as_outputs(grad_outputs)]
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
