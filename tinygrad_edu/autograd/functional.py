"""Jacobians, Hessians and their products with vectors, as torch.autograd.functional.

    jacobian(f, x)       J[i..., j...] = d f(x)[i...] / d x[j...]   shape f(x).shape + x.shape
    hessian(f, x)        H = d^2 f / dx dx (f scalar)                shape x.shape + x.shape
    vjp(f, x, v)         (f(x), v^T J)    one backward pass
    jvp(f, x, v)         (f(x), J v)      two backward passes (the double-vjp trick)
    vhp(f, x, v)         (f(x), v^T H)    grad of (grad f) . v
    hvp(f, x, v)         (f(x), H v)      the double-vjp trick again

Everything is built on grad(create_graph=True): there is no forward mode, and no
gradient written here. The double-vjp trick: u -> J^T u is linear in u, so its
own vjp with v, d(J^T u . v)/du, is J v, whatever value u has (zeros here).

Return structure exactly as PyTorch: `inputs` is a Tensor or a tuple of Tensors,
and so is what `func` returns; each result mirrors that (a Jacobian is a tuple over
outputs of tuples over inputs, each level dropped where it was a single Tensor).
func runs on fresh tensors that require grad: detached copies of the inputs, or,
with create_graph=True, differentiable views of them, so the results can be
differentiated again. Without create_graph the results are detached.
"""
import math

from ..tensor import Tensor, stack, zeros, zeros_like
from . import enable_grad, grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

OUTPUTS = "outputs of the user-provided function"


# --- argument handling ------------------------------------------------------------------

def as_tuple(x, what, fn):
    """(whether x was a tuple, x as a tuple of Tensors); anything else is refused."""
    is_tuple = isinstance(x, tuple)
    for i, el in enumerate(x if is_tuple else (x,)):
        if not isinstance(el, Tensor):
            found = f"the value at index {i} has" if is_tuple else f"the given {what} has"
            raise TypeError(f"{fn}: the {what} must be either a Tensor or a tuple of Tensors "
                            f"but {found} type {type(el).__name__}")
    return is_tuple, (x if is_tuple else (x,))


def unpack(res, is_tuple):
    return res if is_tuple else res[0]


def unpack2(res, outer_is_tuple, inner_is_tuple):
    if not inner_is_tuple:
        res = tuple(r[0] for r in res)
    return res if outer_is_tuple else res[0]


def fresh(tensors, create_graph, need_graph=True):
    """New tensor objects, so that the inputs func is given differ from tensors it captured:
    connected to the originals only with create_graph=True."""
    return tuple(t.reshape(t.shape) if create_graph and t.requires_grad
                 else (t.detach().requires_grad_() if need_graph else t.detach())
                 for t in tensors)


def finish(res, create_graph):
    """The results as the user gets them: detached unless create_graph=True."""
    if create_graph:
        return res
    return tuple(r.detach() if isinstance(r, Tensor) else finish(r, False) for r in res)


def vectors(v, like, like_is_tuple, fn, create_graph, what):
    """v as a tuple of tensors shaped like `like`; None only where `like` is one number."""
    if v is None:
        if len(like) != 1 or math.prod(like[0].shape) != 1:
            raise RuntimeError(f"{fn}: the vector v can only be None if {what} is a single "
                               f"Tensor with a single element")
        return None
    v = fresh(as_tuple(v, "v", fn)[1], create_graph, need_graph=False)
    if len(v) != len(like):
        raise RuntimeError(f"{fn}: v is a tuple of invalid length: should be {len(like)} but "
                           f"got {len(v)}" if like_is_tuple else
                           f"{fn}: the given v should contain a single Tensor")
    for i, (a, b) in enumerate(zip(v, like)):
        if a.shape != b.shape:
            entry = f"entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{fn}: {entry}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}")
    return v


def require_grad(tensors, kind, strict):
    """strict=True: refuse results that don't depend on the inputs (PyTorch's messages)."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if not t.requires_grad:
            raise RuntimeError({
                "outputs": f"Output {i} of the user-provided function does not require "
                           f"gradients. The outputs must be computed in a differentiable "
                           f"manner from the input when running in strict mode.",
                "grad_inputs": f"The gradient with respect to input {i} is independent of the "
                               f"inputs of the user-provided function. This is not allowed in "
                               f"strict mode.",
                "jacobian": f"While computing the hessian, found that the jacobian of the "
                            f"user-provided function with respect to input {i} is independent "
                            f"of the input. This is not allowed in strict mode.",
                "hessian": f"The hessian of the user-provided function with respect to input "
                           f"{i} is independent of the input. This is not allowed in strict "
                           f"mode."}[kind])


def grads_of(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """grad() over the outputs that require grad (None among them allowed); None per
    input that no output depends on."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)


ZERO_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is "
            "not allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. "
                   "This is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry "
                         "{i} in the grad_jacobian. This is not allowed in strict mode as it "
                         "prevents from using the double backward trick to replace forward "
                         "mode AD.",
}


def fill_zeros(grads, refs, strict, create_graph, stage):
    """Zeros (shaped like refs[i]) where no gradient reached; strict=True refuses instead."""
    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(ZERO_MESSAGES[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               f"create_graph=True.")
        res.append(g)
    return tuple(res)


# --- products with vectors ------------------------------------------------------------------

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the gradient of (func(inputs) . v) with respect to inputs.

    v is shaped like func's outputs (None if func returns one number); the vjp is
    shaped like inputs.
    """
    with enable_grad():
        is_in_tuple, inputs = as_tuple(inputs, "inputs", "vjp")
        inputs = fresh(inputs, create_graph)
        is_out_tuple, outputs = as_tuple(func(*inputs), OUTPUTS, "vjp")
        require_grad(outputs, "outputs", strict)
        v = vectors(v, outputs, is_out_tuple, "vjp", create_graph,
                    "the user-provided function returns")
    res = fill_zeros(grads_of(outputs, inputs, v, create_graph), inputs, strict, create_graph,
                     "back")
    return (unpack(finish(outputs, create_graph), is_out_tuple),
            unpack(finish(res, create_graph), is_in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the directional derivative of func along v.

    v is shaped like inputs (None if the input is one number); the jvp is shaped
    like func's outputs. Two reverse passes: u -> J^T u is recorded for a dummy u,
    then differentiated with respect to u along v.
    """
    with enable_grad():
        is_in_tuple, inputs = as_tuple(inputs, "inputs", "jvp")
        inputs = fresh(inputs, create_graph)
        v = vectors(v, inputs, is_in_tuple, "jvp", create_graph,
                    "the input to the user-provided function")
        is_out_tuple, outputs = as_tuple(func(*inputs), OUTPUTS, "jvp")
        require_grad(outputs, "outputs", strict)
        # J^T u is linear in u: its value never shows in the result (zeros: no nan/inf)
        u = tuple(zeros_like(out).requires_grad_() for out in outputs)
        grad_inputs = grads_of(outputs, inputs, u, create_graph=True)
        require_grad(grad_inputs, "grad_inputs", strict)
    res = fill_zeros(grads_of(grad_inputs, u, v, create_graph), outputs, strict, create_graph,
                     "back_trick")
    return (unpack(finish(outputs, create_graph), is_out_tuple),
            unpack(finish(res, create_graph), is_out_tuple))


def scalar_function_gradient(func, inputs, v, create_graph, strict, fn):
    """What vhp and hvp share: fresh inputs, v checked, func's one-number output and its
    gradient recorded (create_graph=True) so it can be differentiated again."""
    with enable_grad():
        is_in_tuple, inputs = as_tuple(inputs, "inputs", fn)
        inputs = fresh(inputs, create_graph)
        v = vectors(v, inputs, is_in_tuple, fn, create_graph,
                    "the input to the user-provided function")
        is_out_tuple, outputs = as_tuple(func(*inputs), OUTPUTS, fn)
        require_grad(outputs, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError(f"{fn}: the function should return a single Tensor")
        if math.prod(outputs[0].shape) != 1:
            raise RuntimeError(f"{fn}: the Tensor returned by the function should contain a "
                               f"single element, got shape {outputs[0].shape}")
        jac = grads_of(outputs, inputs, create_graph=True)
        require_grad(jac, "jacobian", strict)
    return is_in_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a func returning one number: the gradient of (grad f . v)."""
    is_in_tuple, inputs, v, outputs, jac = scalar_function_gradient(
        func, inputs, v, create_graph, strict, "vhp")
    res = fill_zeros(grads_of(jac, inputs, v, create_graph), inputs, strict, create_graph,
                     "double_back")
    return finish(outputs, create_graph)[0], unpack(finish(res, create_graph), is_in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a func returning one number, by the double-vjp trick
    (equal to vhp's v^T H, H being symmetric, but computed the other way round)."""
    is_in_tuple, inputs, v, outputs, jac = scalar_function_gradient(
        func, inputs, v, create_graph, strict, "hvp")
    with enable_grad():
        u = tuple(zeros_like(x).requires_grad_() for x in inputs)
        double_back = grads_of(jac, inputs, u, create_graph=True)
        require_grad(jac, "hessian", strict)
    res = fill_zeros(grads_of(double_back, u, v, create_graph), inputs, strict, create_graph,
                     "double_back_trick")
    return finish(outputs, create_graph)[0], unpack(finish(res, create_graph), is_in_tuple)


# --- full matrices -----------------------------------------------------------------------

def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at inputs, one backward pass per output element.

    For one input x and one output y: a tensor of shape y.shape + x.shape. With
    tuples: result[i][j] = d outputs[i] / d inputs[j]. vectorize=True is accepted
    and gives the same result (PyTorch computes the rows at once with vmap; here
    they are computed one by one).
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise ValueError(f'jacobian: strategy must be "forward-mode" or "reverse-mode", got '
                         f'{strategy!r}')
    if strategy == "forward-mode":
        raise NotImplementedError('jacobian: strategy="forward-mode" is not supported (there '
                                  'is no forward-mode autograd here); "reverse-mode" gives the '
                                  'same Jacobian')
    with enable_grad():
        is_in_tuple, inputs = as_tuple(inputs, "inputs", "jacobian")
        inputs = fresh(inputs, create_graph)
        is_out_tuple, outputs = as_tuple(func(*inputs), OUTPUTS, "jacobian")
        require_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError("jacobian: `strict=True` and `vectorize=True` are not supported "
                               "together (as in PyTorch)")
        jac = tuple(jacobian_rows(i, out, inputs, create_graph, strict)
                    for i, out in enumerate(outputs))
    return unpack2(finish(jac, create_graph), is_out_tuple, is_in_tuple)


def jacobian_rows(i, out, inputs, create_graph, strict):
    """d out / d inputs[k] for every k: the gradient of each element of out, stacked."""
    rows = [[] for _ in inputs]
    flat = out.reshape(-1)
    for j in range(math.prod(out.shape)):
        vj = grads_of((flat[j],), inputs, retain_graph=True, create_graph=create_graph)
        for k, (row, g, x) in enumerate(zip(rows, vj, inputs)):
            if g is None:
                if strict:
                    raise RuntimeError(f"Output {i} of the user-provided function is "
                                       f"independent of input {k}. This is not allowed in "
                                       f"strict mode.")
                g = zeros_like(x)
            elif strict and create_graph and not g.requires_grad:
                raise RuntimeError(f"The jacobian of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode when "
                                   f"create_graph=True.")
            row.append(g)
    return tuple(stack(row).reshape(out.shape + x.shape) if row
                 else zeros(*(out.shape + x.shape), dtype=x.dtype)
                 for row, x in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a func returning one number: the Jacobian of its gradient.

    For one input x: a tensor of shape x.shape + x.shape. For a tuple of inputs:
    result[i][j] = d^2 f / d inputs[i] d inputs[j].
    """
    is_in_tuple, inputs = as_tuple(inputs, "inputs", "hessian")

    def one_number(*inp):
        out = func(*inp)
        is_out_tuple, outs = as_tuple(out, OUTPUTS, "hessian")
        require_grad(outs, "outputs", strict)
        if is_out_tuple:
            raise RuntimeError("hessian: the function should return a single Tensor")
        if math.prod(out.shape) != 1:
            raise RuntimeError(f"hessian: the Tensor returned by the function should contain "
                               f"a single element, got shape {out.shape}")
        return out.reshape(())

    def gradient(*inp):
        jac = jacobian(one_number, inp, create_graph=True)
        require_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return unpack2(res, is_in_tuple, is_in_tuple)
