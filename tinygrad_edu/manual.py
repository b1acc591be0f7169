"""Gradients derived by hand, in plain NumPy: the third oracle.

These are the closed-form backward passes you would write on paper (or in a
first deep-learning course) for the classic layers. Nothing here uses Tensor
or autograd: every function takes and returns ndarrays. `check.compare_gradients`
and `tinygrad-edu check` compare them with autograd and finite differences.

Conventions (shapes use N = batch size, D = input features, H = output
features, C = classes):

    x  (N, D)    inputs, one example per row
    W  (H, D)    weights stored as PyTorch's nn.Linear does: y = x W^T + b
    dy           the gradient of a scalar loss L with respect to y (same shape as y)

A `*_backward` function maps the upstream gradient dL/dy to the gradients of
its inputs (and parameters): the chain rule, one layer at a time.
"""
import math

import numpy as np


# --- affine layer -----------------------------------------------------------------

def linear_forward(x, W, b=None):
    """y = x W^T + b.   x (N, D), W (H, D), b (H,) -> y (N, H)."""
    y = x @ W.T
    return y if b is None else y + b


def linear_backward(dy, x, W):
    """Gradients of y = x W^T + b.

    y_nh = sum_d x_nd W_hd + b_h, so

        dL/dx = dy W          (N, H) @ (H, D) -> (N, D)
        dL/dW = dy^T x        (H, N) @ (N, D) -> (H, D)
        dL/db = sum_n dy_n    (H,)   (b was added to every row)

    Returns (dx, dW, db).
    """
    return dy @ W, dy.T @ x, dy.sum(axis=0)


# --- activations (elementwise: dL/dx = dL/dy * f'(x)) ------------------------------------

def relu(x):
    """y = max(x, 0), elementwise."""
    return np.maximum(x, 0)


def relu_backward(dy, x):
    """y = max(x, 0);  f'(x) = 1 if x > 0 else 0 (we take f'(0) = 0, like PyTorch)."""
    return dy * (x > 0)


def sigmoid(x):
    """1 / (1 + e^-x), written so that neither branch overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dy, x):
    """y = sigmoid(x);  f'(x) = y (1 - y)   (from d/dx (1 + e^-x)^-1 = e^-x / (1 + e^-x)^2)."""
    y = sigmoid(x)
    return dy * y * (1 - y)


def tanh_backward(dy, x):
    """y = tanh(x);  f'(x) = 1 - tanh(x)^2   (since tanh = (e^x - e^-x) / (e^x + e^-x))."""
    y = np.tanh(x)
    return dy * (1 - y * y)


# --- softmax ------------------------------------------------------------------------

def softmax(z):
    """p_i = e^{z_i} / sum_j e^{z_j} along the last axis (shifted by the max: no overflow)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jacobian(z):
    """The full Jacobian dp/dz of softmax, one (C, C) matrix per row.

    Differentiating p_i = e^{z_i} / S with S = sum_k e^{z_k}:

        dp_i/dz_j = p_i [i == j] - p_i p_j,   i.e.  J = diag(p) - p p^T

    z (C,) -> J (C, C);  z (N, C) -> J (N, C, C).  J is symmetric.
    """
    p = softmax(z)
    eye = np.eye(p.shape[-1])
    return p[..., :, None] * eye - p[..., :, None] * p[..., None, :]


def softmax_backward(dp, z):
    """Vector-Jacobian product of softmax without building J.

    dL/dz = J^T dp = p * dp - p (p . dp)   per row, i.e.  p * (dp - sum_i p_i dp_i).
    z, dp (N, C) -> dz (N, C).
    """
    p = softmax(z)
    return p * (dp - (p * dp).sum(axis=-1, keepdims=True))


# --- losses: each returns (loss, gradient with respect to its first argument) -------------------

def one_hot(y, num_classes):
    """Integer labels (N,) -> rows of the identity (N, C)."""
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


def softmax_cross_entropy(z, y):
    """Mean cross-entropy of softmax(z) against integer labels, and its shortcut gradient.

        L = -(1/N) sum_n log p_{n, y_n},   p = softmax(z)

    Chaining the softmax Jacobian with dL/dp_{n,i} = -[i == y_n] / (N p_{n,i})
    collapses to the famous shortcut

        dL/dz = (p - Y) / N     with Y = one_hot(y).

    z (N, C), y (N,) ints -> (L, dz (N, C)).
    """
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean()
    return loss, (np.exp(log_p) - one_hot(y, z.shape[1])) / n


def mse(pred, target):
    """Mean squared error over all elements and its gradient.

        L = (1/M) sum (pred - target)^2   (M = pred.size),   dL/dpred = 2 (pred - target) / M
    """
    diff = pred - target
    return (diff * diff).mean(), 2 * diff / diff.size


def multi_margin(s, y, margin=1.0):
    """Multiclass SVM hinge loss (PyTorch's multi_margin_loss) and its gradient.

        L = (1/N) sum_n (1/C) sum_{j != y_n} max(0, margin - s_{n,y_n} + s_{n,j})

    Each active term (margin violated, hinge > 0) pushes s_{n,j} up by
    1/(N C) and the true score s_{n,y_n} down by the same amount:

        dL/ds_{n,j}   = [hinge_{n,j} > 0] / (N C)             for j != y_n
        dL/ds_{n,y_n} = -(number of active j) / (N C)

    s (N, C), y (N,) ints -> (L, ds (N, C)).
    """
    n, c = s.shape
    rows = np.arange(n)
    hinge = margin - s[rows, y][:, None] + s
    hinge[rows, y] = 0.0                   # the j = y_n term is not part of the sum
    active = (hinge > 0).astype(s.dtype)
    ds = active.copy()
    ds[rows, y] = -active.sum(axis=1)
    return np.maximum(hinge, 0).sum() / (n * c), ds / (n * c)


# --- batch normalisation (training mode) --------------------------------------------------

def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Normalize each column with the batch statistics, then scale and shift.

        mu = mean_n x,   var = mean_n (x - mu)^2   (biased, as used in training)
        xhat = (x - mu) / sqrt(var + eps),   y = gamma * xhat + beta

    x (N, D), gamma, beta (D,) -> (y, cache) with cache = (xhat, 1/sqrt(var + eps), gamma).
    """
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def batchnorm_backward(dy, cache):
    """Training-mode BatchNorm backward, in its compact form.

    dgamma = sum_n dy * xhat,   dbeta = sum_n dy.  For x, every x_n moves mu and
    var too; collecting the three paths (direct, through mu, through var) gives

        dx = gamma / (N sqrt(var + eps)) * (N dy - sum_n dy - xhat * sum_n (dy * xhat))

    i.e. the upstream gradient with its mean removed, and with its component
    along xhat removed (a normalized input can't change its mean or scale).
    Returns (dx, dgamma, dbeta).
    """
    xhat, inv_std, gamma = cache
    n = dy.shape[0]
    dbeta = dy.sum(axis=0)
    dgamma = (dy * xhat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dy - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


# --- layer normalisation ----------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Normalize each row over its D features, then scale and shift (BatchNorm transposed:
    the statistics are per example, not per feature).

        mu_n = mean_d x_nd,   var_n = mean_d (x_nd - mu_n)^2,   xhat = (x - mu) / sqrt(var + eps)
        y = gamma * xhat + beta

    x (N, D), gamma, beta (D,) -> (y, cache) with cache = (xhat, 1/sqrt(var + eps) (N, 1), gamma).
    """
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    return gamma * xhat + beta, (xhat, inv_std, gamma)


def layernorm_backward(dy, cache):
    """LayerNorm backward: BatchNorm's formula along the other axis.

    dgamma = sum_n dy * xhat, dbeta = sum_n dy. With dxhat = dy * gamma, each row's
    x moves its own mu and var, so (D = features)

        dx = 1 / (D sqrt(var + eps)) * (D dxhat - sum_d dxhat - xhat * sum_d (dxhat * xhat))

    Returns (dx, dgamma, dbeta).
    """
    xhat, inv_std, gamma = cache
    d = dy.shape[1]
    dxhat = dy * gamma
    dx = inv_std / d * (d * dxhat - dxhat.sum(axis=1, keepdims=True)
                        - xhat * (dxhat * xhat).sum(axis=1, keepdims=True))
    return dx, (dy * xhat).sum(axis=0), dy.sum(axis=0)


# --- GELU ---------------------------------------------------------------------------------

def gelu_backward(dy, x):
    """y = x Phi(x) with Phi the standard normal CDF;  f'(x) = Phi(x) + x phi(x), where
    phi(x) = e^(-x^2/2) / sqrt(2 pi) is its density (the product rule, Phi' = phi)."""
    Phi = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    phi = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return dy * (Phi + x * phi)


# --- scaled dot-product attention -----------------------------------------------------------

def attention_forward(q, k, v, mask=None):
    """out = A v with A = softmax(q k^T * s + M), s = 1/sqrt(E), along the last axis.

    q (..., L, E), k (..., S, E), v (..., S, Ev), mask: an additive (..., L, S) array
    (0 where allowed, -inf where not) or None -> (out (..., L, Ev), cache = (A, s)).
    """
    s = 1.0 / math.sqrt(q.shape[-1])
    z = q @ np.swapaxes(k, -1, -2) * s
    A = softmax(z if mask is None else z + mask)
    return A @ v, (A, s)


def attention_backward(dout, q, k, v, cache):
    """Attention's backward: two matmuls around the softmax VJP.

    out = A v gives, as for any product,  dA = dout v^T  and  dv = A^T dout.
    The softmax row by row (softmax_backward): dZ = A * (dA - sum_j A_ij dA_ij).
    Z = q k^T s (the mask is a constant added to Z, so it passes dZ through):

        dq = dZ k s        dk = dZ^T q s

    Shapes: dA, dZ (..., L, S); dq like q, dk like k, dv like v. Returns (dq, dk, dv).
    """
    A, s = cache
    dA = dout @ np.swapaxes(v, -1, -2)
    dv = np.swapaxes(A, -1, -2) @ dout
    dZ = A * (dA - (A * dA).sum(axis=-1, keepdims=True))
    return dZ @ k * s, np.swapaxes(dZ, -1, -2) @ q * s, dv


# --- convolution and max pooling: im2col -------------------------------------------------

def pair(v):
    """An int or a pair of ints as a pair (one value for both spatial axes)."""
    return (v, v) if np.isscalar(v) else tuple(v)


def out_size(n, k, s, dl):
    """How many windows of size k (dilation dl, so spanning dl (k - 1) + 1) fit in n at stride s."""
    return (n - dl * (k - 1) - 1) // s + 1


def im2col(xp, kernel, stride, dilation):
    """Every window of a (padded) image laid out as columns.

    xp (N, C, H, W) -> cols (N, C, kh, kw, OH, OW) with

        cols[n, c, i, j, p, q] = xp[n, c, p sh + i dh, q sw + j dw]

    One strided slice per kernel offset (i, j): kh * kw copies, no per-window loop.
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    n, c, h, w = xp.shape
    oh, ow = out_size(h, kh, sh, dh), out_size(w, kw, sw, dw)
    cols = np.empty((n, c, kh, kw, oh, ow), dtype=xp.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                  j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return cols


def col2im(dcols, padded_shape, stride, dilation):
    """The adjoint of im2col: add each column's gradient back where it was read from.

    dcols (N, C, kh, kw, OH, OW) -> dxp (N, C, H, W). A pixel covered by several
    windows (overlapping: stride < kernel) gets the sum of their gradients, which is
    why this is += and not =.
    """
    n, c, kh, kw, oh, ow = dcols.shape
    (sh, sw), (dh, dw) = stride, dilation
    dxp = np.zeros(padded_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                j * dw:j * dw + sw * (ow - 1) + 1:sw] += dcols[:, :, i, j]
    return dxp


def unpad(xp, padding):
    (ph, pw), (h, w) = padding, xp.shape[2:]
    return xp[:, :, ph:h - ph, pw:w - pw]


def conv2d_forward(x, W, b=None, stride=1, padding=0, dilation=1):
    """2-D convolution (cross-correlation, as F.conv2d with groups=1) as im2col + one matmul.

        y[n, f, p, q] = b[f] + sum_{c, i, j} W[f, c, i, j] xp[n, c, p sh + i dh, q sw + j dw]

    xp is x zero-padded by `padding` on each side. Written with X = the im2col
    matrix (N OH OW, C kh kw) and Wm = W as an (F, C kh kw) matrix, this is a
    linear layer applied to every window:  Y = X Wm^T + b.

    x (N, C, H, W), W (F, C, kh, kw), b (F,) or None; stride, padding, dilation an
    int or a pair -> (y (N, F, OH, OW), cache), OH = (H + 2 ph - dh (kh - 1) - 1) // sh + 1.
    Groups are not covered (groups=1 only).
    """
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    (ph, pw), f = padding, W.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = im2col(xp, W.shape[2:], stride, dilation)
    n, oh, ow = x.shape[0], cols.shape[4], cols.shape[5]
    X = cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)
    Y = linear_forward(X, W.reshape(f, -1), b)
    y = Y.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)
    return y, (X, cols.shape, xp.shape, W, stride, padding, dilation)


def conv2d_backward(dy, cache):
    """Convolution's backward: the linear layer's, then col2im.

    With dY = dy as an (N OH OW, F) matrix, linear_backward gives

        dX = dY Wm      dWm = dY^T X      db = sum over rows of dY

    dW is dWm reshaped to (F, C, kh, kw). dX holds a gradient for every copy that
    im2col made; col2im adds the copies of each pixel together, and cutting the
    padding off gives dx (N, C, H, W). Returns (dx, dW, db).
    """
    X, cols_shape, padded_shape, W, stride, padding, dilation = cache
    n, c, kh, kw, oh, ow = cols_shape
    dY = dy.transpose(0, 2, 3, 1).reshape(n * oh * ow, -1)
    dX, dWm, db = linear_backward(dY, X, W.reshape(W.shape[0], -1))
    dcols = dX.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)
    dx = unpad(col2im(dcols, padded_shape, stride, dilation), padding)
    return dx, dWm.reshape(W.shape), db


def maxpool2d_forward(x, kernel_size, stride=None, padding=0):
    """2-D max pooling (F.max_pool2d, dilation 1, floor mode): the largest value per window.

    x (N, C, H, W) -> (y (N, C, OH, OW), cache); stride defaults to kernel_size;
    padding counts as -inf (it never wins). The argmax of each window is kept for
    backward: np.argmax returns the first maximum, PyTorch's rule for ties.
    """
    kernel = pair(kernel_size)
    stride = kernel if stride is None else pair(stride)
    ph, pw = padding = pair(padding)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-np.inf)
    cols = im2col(xp, kernel, stride, (1, 1))
    n, c, kh, kw, oh, ow = cols.shape
    flat = cols.reshape(n, c, kh * kw, oh, ow)
    where = flat.argmax(axis=2)
    y = np.take_along_axis(flat, where[:, :, None], axis=2)[:, :, 0]
    return y, (where, cols.shape, xp.shape, stride, padding)


def maxpool2d_backward(dy, cache):
    """Max pooling's backward: y = x at the window's argmax, so dy goes there and nowhere else.

        dx[argmax of window (p, q)] += dy[p, q]    (0 for every other pixel of the window)

    As a column per window, a one-hot of the argmax scaled by dy; col2im adds the
    columns up (a pixel that wins in several overlapping windows gets each of
    their gradients). dy (N, C, OH, OW) -> dx (N, C, H, W).
    """
    where, cols_shape, padded_shape, stride, padding = cache
    n, c, kh, kw, oh, ow = cols_shape
    dflat = np.zeros((n, c, kh * kw, oh, ow), dtype=dy.dtype)
    np.put_along_axis(dflat, where[:, :, None], dy[:, :, None], axis=2)
    return unpad(col2im(dflat.reshape(cols_shape), padded_shape, stride, (1, 1)), padding)


# --- a whole network ------------------------------------------------------------------------

def mlp_backprop(x, y, layers, eps=1e-5):
    """Forward and backward pass of an MLP, by hand.

    `layers` is a list of dicts, one per Linear layer: {"W": (H, D), "b": (H,)}
    and, for hidden layers with BatchNorm, also {"gamma": (H,), "beta": (H,)}.
    Hidden layer l computes

        z_l = a_{l-1} W_l^T + b_l,   u_l = BN(z_l) (if it has gamma/beta) else z_l,
        a_l = relu(u_l)

    and the last layer gives logits z_L; the loss is softmax cross-entropy with
    integer labels y. Backward runs the same steps in reverse:

        dz_L = (p - Y) / N
        da_{l-1} = dz_l W_l,   dW_l = dz_l^T a_{l-1},   db_l = sum_n dz_l
        du_l = da_l * [u_l > 0],   dz_l = BN backward of du_l (or du_l itself)

    Returns (loss, grads) where grads has keys "W1", "b1", "gamma1", "beta1",
    ..., numbered from 1 like the layers in a textbook.
    """
    a, caches = x, []
    for i, layer in enumerate(layers):
        z = linear_forward(a, layer["W"], layer["b"])
        cache = {"a_in": a}
        if i < len(layers) - 1:
            if "gamma" in layer:
                z, cache["bn"] = batchnorm_forward(z, layer["gamma"], layer["beta"], eps)
            cache["u"] = z
            z = relu(z)
        caches.append(cache)
        a = z
    loss, dz = softmax_cross_entropy(a, y)

    grads = {}
    for i in range(len(layers) - 1, -1, -1):
        layer, cache, k = layers[i], caches[i], i + 1
        if i < len(layers) - 1:
            dz = relu_backward(dz, cache["u"])
            if "bn" in cache:
                dz, grads[f"gamma{k}"], grads[f"beta{k}"] = batchnorm_backward(dz, cache["bn"])
        dz, grads[f"W{k}"], grads[f"b{k}"] = linear_backward(dz, cache["a_in"], layer["W"])
    return loss, grads


# --- one optimizer step ---------------------------------------------------------------------

def adam_step(param, grad, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One Adam update (PyTorch's torch.optim.Adam formula), step number t >= 1.

        g = grad + weight_decay * param        (L2 penalty, as in Adam, not AdamW)
        m = b1 m + (1 - b1) g                   running mean of gradients
        v = b2 v + (1 - b2) g^2                 running mean of squared gradients
        m_hat = m / (1 - b1^t),  v_hat = v / (1 - b2^t)     (bias correction: m, v start at 0)
        param = param - lr * m_hat / (sqrt(v_hat) + eps)

    Returns new arrays (param, m, v); the inputs are not modified.
    """
    b1, b2 = betas
    g = grad + weight_decay * param if weight_decay else grad
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
