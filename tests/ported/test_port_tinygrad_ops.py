"""Port of the idea of tinygrad's 2021 test/test_ops.py: for each op, one helper runs
the same function on PyTorch (float64) and on tinygrad_edu with the same inputs and
compares the forward values and the gradients of every input.

Each case is `fn(m, *xs)` where `m` is the library (torch or tinygrad_edu), so the
code under test is written exactly as PyTorch code is: `m.nn.functional.gelu(x)`,
`x.max(dim=1).values`, `m.cat([x, y], dim=1)`.
"""
import numpy as np
import pytest

import tinygrad_edu

torch = pytest.importorskip("torch")


def helper_test_op(shapes, fn, low=-2.0, high=2.0, atol=1e-9, grad_atol=1e-9,
                   forward_only=False, seed=0):
    """Random inputs in [low, high) of `shapes`; fn on both libraries; values and grads.

    The backward pass uses a fixed random cotangent (not .sum()), so that a wrong
    gradient cannot hide behind a constant upstream gradient.
    """
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(low, high, s) for s in shapes]
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    ours_in = [tinygrad_edu.tensor(a, requires_grad=True) for a in arrays]
    theirs = fn(torch, *theirs_in)
    ours = fn(tinygrad_edu, *ours_in)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                               atol=atol, rtol=1e-7)
    if forward_only:
        return
    cotangent = rng.standard_normal(tuple(theirs.shape))
    (theirs * torch.tensor(cotangent)).sum().backward()
    (ours * tinygrad_edu.tensor(cotangent)).sum().backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        if t.grad is None:
            assert o.grad is None or np.all(o.grad.numpy() == 0), f"input {i}"
            continue
        assert o.grad is not None, f"input {i} got no gradient"
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), atol=grad_atol, rtol=1e-7,
                                   err_msg=f"gradient of input {i}")


def F(m):
    return m.nn.functional


# (id, shapes, fn, extra helper arguments)
CASES = [
    # arithmetic, with and without broadcasting
    ("add", [(45, 65), (45, 65)], lambda m, x, y: x + y, {}),
    ("add_broadcast", [(45, 65), (65,)], lambda m, x, y: x + y, {}),
    ("add_scalar", [(45, 65)], lambda m, x: x + 2, {}),
    ("sub", [(45, 65), (45, 65)], lambda m, x, y: x - y, {}),
    ("rsub_scalar", [(45, 65)], lambda m, x: 2 - x, {}),
    ("mul", [(45, 65), (45, 65)], lambda m, x, y: x * y, {}),
    ("mul_broadcast", [(4, 1, 6), (5, 1)], lambda m, x, y: x * y, {}),
    ("div", [(45, 65), (45, 65)], lambda m, x, y: x / y, {"low": 0.5}),
    ("rdiv_scalar", [(45, 65)], lambda m, x: 3 / x, {"low": 0.5}),
    ("pow", [(45, 65), (45, 65)], lambda m, x, y: x ** y, {"low": 0.3}),
    ("pow_scalar_exponent", [(45, 65)], lambda m, x: x ** 3, {}),
    ("pow_scalar_base", [(45, 65)], lambda m, x: 2 ** x, {}),
    ("pow_method", [(45, 65)], lambda m, x: x.pow(0.5), {"low": 0.3}),
    ("neg", [(45, 65)], lambda m, x: -x, {}),
    # unary
    ("sqrt", [(45, 65)], lambda m, x: x.sqrt(), {"low": 0.1}),
    ("sqrt_function", [(45, 65)], lambda m, x: m.sqrt(x), {"low": 0.1}),
    ("relu", [(45, 65)], lambda m, x: x.relu(), {}),
    ("relu_functional", [(45, 65)], lambda m, x: F(m).relu(x), {}),
    ("leaky_relu", [(45, 65)], lambda m, x: F(m).leaky_relu(x, 0.01), {}),
    ("leaky_relu_kwarg", [(45, 65)], lambda m, x: F(m).leaky_relu(x, negative_slope=0.2), {}),
    ("abs", [(45, 65)], lambda m, x: x.abs(), {}),
    ("abs_function", [(45, 65)], lambda m, x: m.abs(x), {}),
    ("log", [(45, 65)], lambda m, x: x.log(), {"low": 0.1}),
    ("exp", [(45, 65)], lambda m, x: x.exp(), {}),
    ("sign", [(45, 65)], lambda m, x: x.sign(), {}),
    ("sign_times_x", [(45, 65)], lambda m, x: x.sign() * x, {}),
    ("sigmoid", [(45, 65)], lambda m, x: x.sigmoid(), {}),
    ("sigmoid_function", [(45, 65)], lambda m, x: m.sigmoid(x), {}),
    ("tanh", [(45, 65)], lambda m, x: x.tanh(), {}),
    ("softplus", [(45, 65)], lambda m, x: F(m).softplus(x), {}),
    ("softplus_beta", [(45, 65)], lambda m, x: F(m).softplus(x, beta=2.0), {}),
    ("gelu", [(45, 65)], lambda m, x: F(m).gelu(x), {}),
    ("gelu_tanh", [(45, 65)], lambda m, x: F(m).gelu(x, approximate="tanh"), {}),
    ("elu", [(45, 65)], lambda m, x: F(m).elu(x), {}),
    ("elu_alpha", [(45, 65)], lambda m, x: F(m).elu(x, alpha=0.5), {}),
    ("relu6", [(45, 65)], lambda m, x: F(m).relu6(x), {"low": -8, "high": 8}),
    ("hardswish", [(45, 65)], lambda m, x: F(m).hardswish(x), {"low": -5, "high": 5}),
    ("mish", [(45, 65)], lambda m, x: F(m).mish(x), {}),
    ("silu", [(45, 65)], lambda m, x: F(m).silu(x), {}),
    ("hardtanh", [(45, 65)], lambda m, x: F(m).hardtanh(x), {}),
    # reductions
    ("sum", [(45, 3)], lambda m, x: x.sum(), {}),
    ("sum_dim", [(3, 4, 5, 6)], lambda m, x: x.sum(dim=1), {}),
    ("sum_dims", [(3, 4, 5, 6)], lambda m, x: x.sum(dim=(1, 2)), {}),
    ("sum_keepdim", [(3, 4, 5, 6)], lambda m, x: x.sum(dim=(0, 2), keepdim=True), {}),
    ("sum_axis_positional", [(3, 4, 5, 6)], lambda m, x: x.sum(1), {}),
    ("sum_function", [(3, 4, 5)], lambda m, x: m.sum(x, dim=-1), {}),
    ("mean", [(45, 3)], lambda m, x: x.mean(), {}),
    ("mean_dims", [(3, 4, 5, 6)], lambda m, x: x.mean(dim=(1, 2)), {}),
    ("mean_keepdim", [(3, 4, 5, 6)], lambda m, x: x.mean(dim=-1, keepdim=True), {}),
    ("max", [(45, 3)], lambda m, x: x.max(), {}),
    ("max_dim_values", [(3, 4, 5, 6)], lambda m, x: x.max(dim=1).values, {}),
    ("max_dim_index0", [(3, 4, 5, 6)], lambda m, x: x.max(dim=1)[0], {}),
    ("max_keepdim", [(3, 4, 5, 6)], lambda m, x: x.max(dim=2, keepdim=True)[0], {}),
    ("amax_dims", [(3, 4, 5, 6)], lambda m, x: x.amax(dim=(1, 2)), {}),
    ("max_binary", [(45, 3), (45, 3)], lambda m, x, y: m.max(x, y), {}),
    ("maximum", [(45, 3), (45, 3)], lambda m, x, y: m.maximum(x, y), {}),
    ("min", [(45, 3)], lambda m, x: x.min(), {}),
    ("min_dim_values", [(3, 4, 5, 6)], lambda m, x: x.min(dim=0).values, {}),
    ("amin_dims", [(3, 4, 5, 6)], lambda m, x: x.amin(dim=(0, 3)), {}),
    ("logsumexp", [(45, 65)], lambda m, x: x.logsumexp(dim=1), {}),
    ("logsumexp_keepdim", [(45, 65)], lambda m, x: m.logsumexp(x, dim=0, keepdim=True), {}),
    ("logsumexp_large", [(4, 5)], lambda m, x: (x * 1000).logsumexp(dim=-1), {}),
    # matrix products
    ("matmul", [(65, 45), (45, 65)], lambda m, x, y: x.matmul(y), {}),
    ("matmul_operator", [(65, 45), (45, 65)], lambda m, x, y: x @ y, {}),
    ("dot_2d", [(45, 65), (65, 100)], lambda m, x, y: x.mm(y), {}),
    ("dot_1d", [(45,), (45,)], lambda m, x, y: x.dot(y), {}),
    ("matvec", [(10, 45), (45,)], lambda m, x, y: x @ y, {}),
    ("vecmat", [(45,), (45, 10)], lambda m, x, y: x @ y, {}),
    ("broadcast_dot", [(10, 45, 65), (65, 45)], lambda m, x, y: x @ y, {}),
    ("batched_matmul", [(3, 4, 5), (3, 5, 6)], lambda m, x, y: m.bmm(x, y), {}),
    ("broadcast_batched_matmul", [(2, 1, 4, 5), (3, 5, 6)], lambda m, x, y: x @ y, {}),
    ("linear", [(4, 5), (3, 5), (3,)], lambda m, x, w, b: F(m).linear(x, w, b), {}),
    # convolutions and pooling
    ("conv2d", [(2, 3, 9, 9), (4, 3, 3, 3)], lambda m, x, w: F(m).conv2d(x, w), {}),
    ("conv2d_bias_stride_padding", [(2, 3, 9, 9), (4, 3, 3, 3), (4,)],
     lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1), {}),
    ("conv1d", [(2, 3, 9), (4, 3, 3)], lambda m, x, w: F(m).conv1d(x, w), {}),
    ("max_pool2d", [(2, 3, 8, 8)], lambda m, x: F(m).max_pool2d(x, kernel_size=(2, 2)), {}),
    ("max_pool2d_stride", [(2, 3, 9, 9)], lambda m, x: F(m).max_pool2d(x, 3, stride=2), {}),
    ("avg_pool2d", [(2, 3, 8, 8)], lambda m, x: F(m).avg_pool2d(x, kernel_size=(2, 2)), {}),
    ("adaptive_avg_pool2d", [(2, 3, 8, 8)], lambda m, x: F(m).adaptive_avg_pool2d(x, 1), {}),
    # movement
    ("pad", [(3, 3)], lambda m, x: F(m).pad(x, (1, 2, 3, 4)), {}),
    ("pad_value", [(2, 3, 3)], lambda m, x: F(m).pad(x, (1, 1), value=5.0), {}),
    ("transpose", [(3, 4, 5)], lambda m, x: x.transpose(1, 2), {}),
    ("transpose_t", [(3, 4)], lambda m, x: x.t(), {}),
    ("transpose_T", [(3, 4)], lambda m, x: x.T, {}),
    ("permute", [(3, 4, 5, 6)], lambda m, x: x.permute(3, 0, 2, 1), {}),
    ("permute_tuple", [(3, 4, 5, 6)], lambda m, x: x.permute((2, 0, 1, 3)), {}),
    ("reshape", [(4, 3, 6, 6)], lambda m, x: x.reshape(-1, 3, 6, 6), {}),
    ("reshape_tuple", [(4, 3, 6, 6)], lambda m, x: x.reshape((12, 36)), {}),
    ("view", [(4, 3, 6, 6)], lambda m, x: x.view(4, -1), {}),
    ("flatten", [(4, 3, 6, 6)], lambda m, x: x.flatten(1), {}),
    ("flatten_function", [(4, 3, 6, 6)], lambda m, x: m.flatten(x, start_dim=1, end_dim=2), {}),
    ("expand", [(4, 1, 6)], lambda m, x: x.expand(4, 3, 6), {}),
    ("expand_minus_one", [(4, 1, 6)], lambda m, x: x.expand(2, -1, 5, -1), {}),
    ("unsqueeze_squeeze", [(4, 1, 6)], lambda m, x: x.squeeze(1).unsqueeze(0), {}),
    ("slice", [(3, 4, 5)], lambda m, x: x[1:3, ::2, -2:], {}),
    ("slice_ellipsis_int", [(3, 4, 5)], lambda m, x: x[..., 1], {}),
    ("slice_none", [(3, 4)], lambda m, x: x[:, None, 1:], {}),
    ("fancy_index", [(5, 4)], lambda m, x: x[m.tensor([0, 2, 2, 4])], {}),
    ("cat", [(2, 3), (2, 5)], lambda m, x, y: m.cat([x, y], dim=1), {}),
    ("cat_three", [(2, 3), (1, 3), (4, 3)], lambda m, x, y, z: m.cat((x, y, z)), {}),
    ("stack", [(2, 3), (2, 3)], lambda m, x, y: m.stack([x, y], dim=1), {}),
    ("split", [(6, 3)], lambda m, x: x.split(2)[1], {}),
    ("chunk", [(6, 3)], lambda m, x: x.chunk(3, dim=0)[2], {}),
    # normalisations, clipping, selection
    ("softmax", [(45, 65)], lambda m, x: x.softmax(dim=-1), {}),
    ("softmax_functional", [(4, 5, 6)], lambda m, x: F(m).softmax(x, dim=1), {}),
    ("log_softmax", [(45, 65)], lambda m, x: x.log_softmax(dim=1), {}),
    ("log_softmax_functional", [(4, 5, 6)], lambda m, x: F(m).log_softmax(x, dim=0), {}),
    ("clip", [(45, 65)], lambda m, x: x.clip(-0.5, 0.5), {}),
    ("clamp_kwargs", [(45, 65)], lambda m, x: x.clamp(min=-0.5, max=0.5), {}),
    ("clamp_min_only", [(45, 65)], lambda m, x: m.clamp(x, min=0.25), {}),
    ("where", [(45, 65), (45, 65)], lambda m, x, y: m.where(x > 0, x, y), {}),
    ("where_scalar", [(45, 65)], lambda m, x: m.where(x > 0, x, 0.0), {}),
    ("where_method", [(45, 65), (65,)], lambda m, x, y: x.where(x > 0, y), {}),
    ("masked_fill", [(4, 5)], lambda m, x: x.masked_fill(x < 0, 0.5), {}),
    ("layer_norm", [(4, 5, 6)], lambda m, x: F(m).layer_norm(x, (6,)), {}),
    ("dropout_eval", [(4, 5)], lambda m, x: F(m).dropout(x, 0.5, training=False), {}),
]


@pytest.mark.parametrize("shapes, fn, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_op(shapes, fn, kwargs):
    helper_test_op(shapes, fn, **kwargs)


def test_float32_inputs_stay_float32():
    """tinygrad's tests ran in float32: our result dtypes follow PyTorch's there too."""
    x32 = np.random.default_rng(0).uniform(-1, 1, (3, 4)).astype(np.float32)
    ours = tinygrad_edu.tensor(x32, requires_grad=True)
    theirs = torch.tensor(x32, requires_grad=True)
    for fn in (lambda m, x: x.exp() * 2.0, lambda m, x: (x @ x.T).sum(),
               lambda m, x: F(m).gelu(x), lambda m, x: x.mean(dim=0)):
        assert str(fn(tinygrad_edu, ours).dtype).replace("torch.", "") == \
            str(fn(torch, theirs).dtype).replace("torch.", "")


OUT_OF_SCOPE = [
    "CUDA device tests (no accelerator backend)",
]


@pytest.mark.parametrize("feature", OUT_OF_SCOPE)
def test_out_of_scope(feature):
    pytest.skip(f"out of scope: {feature}")
