"""The shipped derivation suite behind `tinygrad-edu check`, and the nn.MLP adapter.

check_derivations checks every hand derivation in manual.py twice, on random
float64 inputs: against autograd, and against central finite differences of a
plain NumPy forward (which shares no code with either backward). Each case is a
`Case`:

    inputs      {name: ndarray}  the arrays differentiated
    numpy_loss  (**inputs) -> float L, in NumPy only: finite differences use it
    autograd    (**inputs) -> {name: dL/d input}, from tinygrad's backward
    hand        (**inputs) -> {name: dL/d input}, from manual.py

A layer y = f(x) is checked through the scalar L = sum(f(x) * G) with a fixed
random G, so that dL/dy = G is the upstream gradient its `*_backward` receives.

manual.mlp_backprop numbers its parameters like a textbook (W1, b1, gamma1, ...);
an nn.MLP names them fc1.weight, fc1.bias, bn1.weight, ... `mlp_layers` is the one
adapter between the two, used both by the suite's MLP cases and by
check_model_gradients (`tinygrad-edu demo` checking the model it trained).
"""
import textwrap
from collections import namedtuple

import numpy as np

from . import functional as F
from . import manual, nn
from .autograd import grad
from .check import compare_gradients, numerical_jacobians
from .formatting import WIDTH, fmt_shape, format_table, html_table
from .optim import Adam
from .tensor import Tensor

Case = namedtuple("Case", "name inputs numpy_loss autograd hand")


# --- an nn.MLP as manual.mlp_backprop sees it ---------------------------------------------------

def mlp_layers(mlp):
    """An nn.MLP's parameters as manual.mlp_backprop takes them, and how the names map.

    mlp: an nn.MLP with ReLU activations (fc1, [bn1], relu1, fc2, ...), or its
    parameters by name ({"fc1.weight": (H1, D), "fc1.bias": (H1,),
    "bn1.weight": (H1,), "bn1.bias": (H1,), "fc2.weight": (H2, H1), ...}).
    Returns (layers, rename):
        layers  [{"W": fc1.weight, "b": fc1.bias, "gamma": bn1.weight, "beta": bn1.bias},
                 {"W": fc2.weight, "b": fc2.bias}, ...]   (arrays, not copies)
        rename  {"W1": "fc1.weight", "b1": "fc1.bias", "gamma1": "bn1.weight", ...}
    """
    params = mlp if isinstance(mlp, dict) else mlp_parameters(mlp)
    layers, rename, k = [], {}, 1
    while f"fc{k}.weight" in params:
        names = {"W": f"fc{k}.weight", "b": f"fc{k}.bias"}
        if f"bn{k}.weight" in params:
            names.update(gamma=f"bn{k}.weight", beta=f"bn{k}.bias")
        layers.append({key: params[name] for key, name in names.items()})
        rename.update({f"{key}{k}": name for key, name in names.items()})
        k += 1
    unused = [name for name in params if name not in rename.values()]
    if unused or not layers:
        found = f"{', '.join(unused)} do not fit" if unused else "got no parameters"
        raise ValueError(f"mlp_layers: expected the parameters of an nn.MLP (fc1.weight, "
                         f"fc1.bias, bn1.weight, ...); {found}")
    return layers, rename


def mlp_parameters(model):
    """{name: ndarray} of an nn.MLP, refusing layers that manual.mlp_backprop does not compute."""
    for name, module in model.named_children():
        plain_bn = isinstance(module, nn.BatchNorm1d) and module.affine
        if not (isinstance(module, (nn.Linear, nn.ReLU)) or plain_bn):
            raise ValueError(f"mlp_layers: manual.mlp_backprop computes Linear -> "
                             f"[BatchNorm1d with affine=True] -> ReLU layers only; layer {name} "
                             f"is {module!r}")
    return {name: p._data for name, p in model.named_parameters()}


def hand_mlp_gradients(mlp, X, y, eps=1e-5):
    """manual.mlp_backprop on an nn.MLP (or its parameters by name), on inputs X (N, D)
    with integer labels y (N,): (loss, {parameter name as in the MLP: gradient})."""
    layers, rename = mlp_layers(mlp)
    loss, grads = manual.mlp_backprop(X, y, layers, eps)
    return loss, {rename[k]: g for k, g in grads.items()}


def mlp_backward(model, X, y):
    """cross_entropy(model(X), y).backward() in training mode; returns the loss.

    The gradients land in the parameters' .grad (zeroed first); the loss keeps
    its graph (retain_graph), so it can still be drawn. BatchNorm's running
    statistics are left as they were.
    """
    model.train()
    model.zero_grad()
    # A training-mode forward updates BatchNorm's running statistics: put them back
    # afterwards, so checking the gradients leaves a trained model as it was.
    buffers = [(b, b._data.copy()) for _, b in model.named_buffers()]
    loss = F.cross_entropy(model(Tensor(X)), y)
    for b, saved in buffers:
        b.data = saved
    loss.backward(retain_graph=True)
    return loss


def check_model_gradients(model, X, y, verbose=True):
    """Autograd vs backprop by hand (manual.mlp_backprop) for an nn.MLP on one batch.

    X (N, D), y (N,) integer labels, training mode (BatchNorm uses the batch's
    statistics). Returns (loss tensor with its graph kept, GradientComparison).
    """
    loss = mlp_backward(model, X, y)
    eps = next((m.eps for m in model.modules() if isinstance(m, nn.BatchNorm1d)), 1e-5)
    _, hand = hand_mlp_gradients(model, X, y, eps)
    return loss, compare_gradients(model, hand, verbose=verbose,
                                   labels=("autograd", "manual.mlp_backprop"))


# --- the cases ---------------------------------------------------------------------------------

def numerical_gradients(f, arrays, eps=1e-6):
    """Central differences of a scalar NumPy function f(**arrays), for every array.

    d f / d a[i] ~ (f(a[i] + eps) - f(a[i] - eps)) / (2 eps), in float64, by
    check.numerical_jacobians (the package's one finite-difference loop) on
    copies: the arrays passed in are left alone. Returns {name: array of a's
    shape}. Two calls of f per element: for small inputs only.
    """
    names = list(arrays)
    # C order: numerical_jacobians perturbs each copy through a flat view of it
    copies = [Tensor(np.array(arrays[k], dtype=np.float64, order="C"), requires_grad=True)
              for k in names]

    def loss(*tensors):
        return Tensor(np.float64(f(**{k: t._data for k, t in zip(names, tensors)})))
    jacobians = numerical_jacobians(loss, copies, eps)
    return {k: jac[0].reshape(t.shape) for k, t, jac in zip(names, copies, jacobians)}


def autograd_of(tensor_loss):
    """(**inputs) -> autograd's gradients of the scalar tensor_loss(**tensors)."""
    def gradients(**inputs):
        tensors = {k: Tensor(v, requires_grad=True, name=k) for k, v in inputs.items()}
        return dict(zip(tensors, grad(tensor_loss(**tensors), list(tensors.values()))))
    return gradients


def layer_case(name, inputs, numpy_forward, tensor_forward, backward, upstream):
    """A layer y = f(*inputs) checked through L = sum(y * upstream), so dL/dy = upstream.

    The forwards take the inputs positionally, in the dict's order;
    backward(upstream, *inputs) returns their gradients in that order (one
    array for a one-input layer).
    """
    names = list(inputs)

    def hand(**a):
        grads = backward(upstream, *(a[k] for k in names))
        return dict(zip(names, grads if isinstance(grads, tuple) else (grads,)))
    return Case(name, inputs,
                lambda **a: float((numpy_forward(*(a[k] for k in names)) * upstream).sum()),
                autograd_of(lambda **t: (tensor_forward(*(t[k] for k in names)) * upstream).sum()),
                hand)


def loss_case(name, arg, value, manual_loss, tensor_loss):
    """A loss of one input `arg`; manual_loss(value) returns (L, dL/dvalue) as manual.py does."""
    return Case(name, {arg: value},
                lambda **a: manual_loss(a[arg])[0],
                autograd_of(lambda **t: tensor_loss(t[arg])),
                lambda **a: {arg: manual_loss(a[arg])[1]})


def layer_cases(rng, n=5, d=4, h=3, c=4):
    """Affine, ReLU, sigmoid, tanh, softmax (Jacobian and VJP) and BatchNorm layers."""
    def draw(*shape):
        return rng.standard_normal(shape)

    def softmax_jacobian_vjp(dp, z):   # J^T dp with the full (N, C, C) Jacobian
        return np.einsum("nij,ni->nj", manual.softmax_jacobian(z), dp)

    def softmax_rows(z):
        return z.softmax(1)
    cases = [layer_case("linear", {"x": draw(n, d), "W": draw(h, d), "b": draw(h)},
                        manual.linear_forward, F.linear,
                        lambda dy, x, W, b: manual.linear_backward(dy, x, W), draw(n, h))]
    for name, forward, tensor_forward, backward, arg, width, scale in [
            ("relu", manual.relu, F.relu, manual.relu_backward, "x", d, 1),
            ("sigmoid", manual.sigmoid, F.sigmoid, manual.sigmoid_backward, "x", d, 3),
            ("tanh", np.tanh, F.tanh, manual.tanh_backward, "x", d, 1),
            ("softmax_jacobian", manual.softmax, softmax_rows, softmax_jacobian_vjp, "z", c, 1),
            ("softmax_backward", manual.softmax, softmax_rows, manual.softmax_backward, "z", c, 1)]:
        cases.append(layer_case(name, {arg: scale * draw(n, width)}, forward, tensor_forward,
                                backward, draw(n, width)))
    cases.append(layer_case(
        "batchnorm", {"x": 2 * draw(n, h) + 1, "gamma": draw(h), "beta": draw(h)},
        lambda x, gamma, beta: manual.batchnorm_forward(x, gamma, beta)[0],
        lambda x, gamma, beta: F.batch_norm(x, None, None, gamma, beta, training=True),
        lambda dy, x, gamma, beta: manual.batchnorm_backward(
            dy, manual.batchnorm_forward(x, gamma, beta)[1]),
        draw(n, h)))
    return cases


def conv_case(name, rng, x_shape, w_shape, stride=1, padding=0, dilation=1):
    """manual.conv2d_forward/backward (im2col + matmul) against F.conv2d."""
    def draw(*shape):
        return rng.standard_normal(shape)
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    inputs = {"x": draw(*x_shape), "W": draw(*w_shape), "b": draw(w_shape[0])}
    y, _ = manual.conv2d_forward(**inputs, **geometry)
    return layer_case(
        name, inputs,
        lambda x, W, b: manual.conv2d_forward(x, W, b, **geometry)[0],
        lambda x, W, b: F.conv2d(x, W, b, **geometry),
        lambda dy, x, W, b: manual.conv2d_backward(
            dy, manual.conv2d_forward(x, W, b, **geometry)[1]),
        draw(*y.shape))


def maxpool_case(name, rng, x_shape, kernel_size, stride=None, padding=0):
    """manual.maxpool2d_forward/backward against F.max_pool2d (random inputs: no ties, so
    finite differences see a smooth function)."""
    def forward(x):
        return manual.maxpool2d_forward(x, kernel_size, stride, padding)
    x = rng.standard_normal(x_shape)
    return layer_case(name, {"x": x}, lambda x: forward(x)[0],
                      lambda x: F.max_pool2d(x, kernel_size, stride, padding),
                      lambda dy, x: manual.maxpool2d_backward(dy, forward(x)[1]),
                      rng.standard_normal(forward(x)[0].shape))


def conv_cases(rng):
    """Convolution (several strides, paddings, a dilation) and max pooling, by im2col."""
    return [
        conv_case("conv2d", rng, (2, 2, 5, 5), (3, 2, 3, 3)),
        conv_case("conv2d (stride 2, pad 1)", rng, (2, 2, 6, 5), (3, 2, 3, 2), 2, 1),
        conv_case("conv2d (dilation 2)", rng, (1, 2, 7, 6), (2, 2, 2, 3), (1, 2), (1, 0), 2),
        maxpool_case("max_pool2d (2x2)", rng, (2, 2, 4, 6), 2),
        maxpool_case("max_pool2d (3x3, stride 1, pad 1)", rng, (1, 2, 4, 5), 3, 1, 1),
    ]


def normalization_attention_cases(rng, n=5, d=4, L=3, S=4, E=3):
    """LayerNorm, and scaled dot-product attention without and with a causal mask."""
    def draw(*shape):
        return rng.standard_normal(shape)
    causal = np.triu(np.full((L, S), -np.inf), 1)   # additive: -inf above the diagonal
    cases = [layer_case(
        "layernorm", {"x": 2 * draw(n, d) + 1, "gamma": draw(d), "beta": draw(d)},
        lambda x, gamma, beta: manual.layernorm_forward(x, gamma, beta)[0],
        lambda x, gamma, beta: F.layer_norm(x, (d,), gamma, beta),
        lambda dy, x, gamma, beta: manual.layernorm_backward(
            dy, manual.layernorm_forward(x, gamma, beta)[1]),
        draw(n, d))]
    for name, mask in [("attention", None), ("attention (causal mask)", causal)]:
        cases.append(layer_case(
            name, {"q": draw(2, L, E), "k": draw(2, S, E), "v": draw(2, S, E)},
            lambda q, k, v, mask=mask: manual.attention_forward(q, k, v, mask)[0],
            lambda q, k, v, mask=mask: F.scaled_dot_product_attention(q, k, v, mask),
            lambda dy, q, k, v, mask=mask: manual.attention_backward(
                dy, q, k, v, manual.attention_forward(q, k, v, mask)[1]),
            draw(2, L, E)))
    return cases


def loss_cases(rng, n=5, d=4, c=4):
    """Softmax cross-entropy (the (p - Y)/N shortcut), MSE and the multiclass hinge loss."""
    labels, target = rng.integers(0, c, n), rng.standard_normal((n, d))
    return [
        loss_case("softmax_cross_entropy", "z", 2 * rng.standard_normal((n, c)),
                  lambda z: manual.softmax_cross_entropy(z, labels),
                  lambda z: F.cross_entropy(z, labels)),
        loss_case("mse", "pred", rng.standard_normal((n, d)),
                  lambda pred: manual.mse(pred, target), lambda pred: F.mse_loss(pred, target)),
        loss_case("multi_margin", "s", rng.standard_normal((n, c)),
                  lambda s: manual.multi_margin(s, labels),
                  lambda s: F.multi_margin_loss(s, labels)),
    ]


def mlp_case(rng, x, labels, dims, batchnorm):
    """manual.mlp_backprop against an nn.MLP's autograd, through mlp_layers."""
    model = nn.MLP(dims, batchnorm=batchnorm, generator=rng)
    for bn in model.modules():
        if isinstance(bn, nn.BatchNorm1d):   # off gamma = 1, beta = 0, so both really count
            bn.weight.data = 1 + 0.1 * rng.standard_normal(bn.num_features)
            bn.bias.data = 0.1 * rng.standard_normal(bn.num_features)

    def autograd(**params):
        model.load_state_dict(params, strict=False)   # parameters only; buffers unchanged
        mlp_backward(model, x, labels)
        return {name: p.grad for name, p in model.named_parameters()}
    return Case("mlp_backprop" + (" (batchnorm)" if batchnorm else ""),
                {name: p._data.copy() for name, p in model.named_parameters()},
                lambda **p: hand_mlp_gradients(p, x, labels)[0], autograd,
                lambda **p: hand_mlp_gradients(p, x, labels)[1])


def mlp_cases(rng, dims=(3, 5, 4, 3), n=8):
    """A whole network by hand: manual.mlp_backprop without and with BatchNorm."""
    x, labels = rng.standard_normal((n, dims[0])), rng.integers(0, dims[-1], n)
    return [mlp_case(rng, x, labels, dims, batchnorm) for batchnorm in (False, True)]


def derivation_cases(rng):
    """Every derivation in manual.py as a Case, in the order the report lists them."""
    return (layer_cases(rng) + normalization_attention_cases(rng) + conv_cases(rng)
            + loss_cases(rng) + mlp_cases(rng))


def adam_case(rng, steps=3):
    """manual.adam_step against optim.Adam over a few steps: (optim's parameter, manual's)."""
    p0, grads = rng.standard_normal((3, 2)), [rng.standard_normal((3, 2)) for _ in range(steps)]
    settings = dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
    p = Tensor(p0.copy(), requires_grad=True)
    opt = Adam([p], **settings)
    ref, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        p.grad = Tensor(g.copy())
        opt.step()
        ref, m, v = manual.adam_step(ref, g, m, v, t, **settings)
    return p._data.copy(), ref


# --- the report --------------------------------------------------------------------------------

class DerivationReport:
    """Rows of `check_derivations`: each hand gradient vs autograd and vs finite differences."""

    def __init__(self, rows):
        self.rows = rows   # (derivation, gradient, shape, vs_autograd, vs_numeric)

    passed = property(lambda self: all(a.passed and (f is None or f.passed)
                                       for *_, a, f in self.rows))

    def __bool__(self):
        return self.passed

    def cells(self):
        """(head, body, notes, failing row indices)."""
        head = ["derivation", "gradient", "shape", "vs autograd", "vs finite diff", "result"]
        body, failures, bad = [], [], []
        for k, (case, grad_name, shape, a, f) in enumerate(self.rows):
            ok = a.passed and (f is None or f.passed)
            body.append([case, grad_name, fmt_shape(shape), verdict(a),
                         "n/a" if f is None else verdict(f), "ok" if ok else "FAIL"])
            bad += [] if ok else [k]
            failures += [f"  FAIL {case}: {r.describe_failure()}" for r in (a, f)
                         if r is not None and not r.passed]
        notes = ["every hand derivation matches autograd and finite differences" if not bad
                 else f"{len(bad)} of {len(body)} hand gradients are WRONG"]
        return head, body, notes + failures, bad

    def table(self):
        head, body, notes, _ = self.cells()
        wrapped = [part for note in notes   # the report keeps within WIDTH columns
                   for part in textwrap.wrap(note, WIDTH, subsequent_indent=" " * 6)]
        return "\n".join(format_table(head, body) + wrapped)

    __str__ = table

    def _repr_html_(self):   # `check_derivations(verbose=False)` as a cell's last line
        return html_table(*self.cells())


def verdict(row):
    err = "" if row.max_abs is None else f"{row.max_abs:.1e}"
    return ("ok " if row.passed else "FAIL ") + err


def check_derivations(seed=0, atol=1e-6, rtol=1e-5, fd_atol=1e-5, fd_rtol=1e-4, verbose=True):
    """Check every derivation in manual.py against autograd and finite differences.

    Inputs are random (seeded). A hand gradient passes when it is within
    atol + rtol |hand| of autograd's and fd_atol + fd_rtol |hand| of the
    finite differences'. Returns a DerivationReport (truthy when all agree)
    and prints its table when verbose.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for case in derivation_cases(rng):
        hand = case.hand(**case.inputs)
        vs_auto = compare_gradients(case.autograd(**case.inputs), hand, atol, rtol,
                                    verbose=False, labels=("autograd", "hand"))
        vs_num = compare_gradients(numerical_gradients(case.numpy_loss, case.inputs), hand,
                                   fd_atol, fd_rtol, verbose=False, labels=("finite diff", "hand"))
        rows += [(case.name, row.name, row.shape, row, vs_num[row.name]) for row in vs_auto.rows]
    ours, theirs = adam_case(rng)
    cmp = compare_gradients({"param": ours}, {"param": theirs}, atol, rtol, verbose=False,
                            labels=("optim.Adam", "hand"))
    rows.append(("adam_step (vs optim.Adam)", "param", ours.shape, cmp["param"], None))
    report = DerivationReport(rows)
    if verbose:
        print(report.table())
    return report
