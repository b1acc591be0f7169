"""The floor: the same models trained with hand-written NumPy, no autograd.

This is what users of tinygrad_edu come from (hand-derived backprop), written
to be reasonably fast rather than pretty: weights in PyTorch's layout
(W of shape (out, in), y = x W^T + b), in-place Adam with scratch buffers, and
no work an autograd engine could skip. The benchmarks report how far the
engines are from it.
"""
import numpy as np


class MLP:
    """Linear -> [BatchNorm1d (train mode)] -> ReLU per hidden layer, a final Linear,
    softmax cross-entropy on integer labels, Adam with PyTorch's update rule.

    `weights` is a list of (W, b) per layer; `bn` (if given) a list of
    (gamma, beta) per hidden layer. Arrays are copied, so several engines can
    start from the same values.
    """

    def __init__(self, weights, bn=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 bn_eps=1e-5, momentum=0.1):
        self.weights = [(W.copy(), b.copy()) for W, b in weights]
        self.bn = None if bn is None else [(g.copy(), b.copy()) for g, b in bn]
        self.running = None if bn is None else [
            (np.zeros_like(g), np.ones_like(g)) for g, _ in bn]
        self.lr, (self.b1, self.b2), self.eps = lr, betas, eps
        self.bn_eps, self.momentum = bn_eps, momentum
        self.params = [p for pair in self.weights for p in pair]
        if self.bn is not None:
            self.params += [p for pair in self.bn for p in pair]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.t = 0

    def loss_and_grads(self, X, y):
        """Cross-entropy of the batch and its gradient for every parameter (self.params order)."""
        loss, h, cache, d = self.forward(X, y)
        return loss, self.backward(d, h, cache)

    def forward(self, X, y):
        """(loss, last hidden activation, per-layer cache, dL/dlogits).

        BatchNorm in training mode updates the running statistics as it goes;
        the cache keeps (layer input, zhat, 1/std, pre-ReLU output) per hidden layer.
        """
        n = X.shape[0]
        cache, h = [], X
        for i, (W, b) in enumerate(self.weights[:-1]):
            z = h @ W.T + b
            if self.bn is not None:
                gamma, beta = self.bn[i]
                mu = z.mean(axis=0)
                zc = z - mu
                var = (zc * zc).mean(axis=0)
                inv = 1.0 / np.sqrt(var + self.bn_eps)
                zhat = zc * inv
                out = zhat * gamma + beta
                rm, rv = self.running[i]
                rm *= 1 - self.momentum
                rm += self.momentum * mu
                rv *= 1 - self.momentum
                rv += self.momentum * var * (n / (n - 1))   # running var is unbiased
                cache.append((h, zhat, inv, out))
            else:
                out = z
                cache.append((h, None, None, out))
            h = np.maximum(out, 0)
        W, b = self.weights[-1]
        logits = h @ W.T + b
        shifted = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(n)
        loss = np.log(s[:, 0]).sum() / n - shifted[rows, y].sum() / n
        # dL/dlogits = (softmax - onehot) / n
        d = e / s
        d[rows, y] -= 1
        d /= n
        return loss, h, cache, d

    def backward(self, d, h, cache):
        """Every parameter's gradient (self.params order), from d = dL/dlogits, the last
        hidden activation h and the cache that forward() returned."""
        n, last = d.shape[0], len(self.weights) - 1
        gW = [None] * len(self.weights)
        gb = [None] * len(self.weights)
        gbn = [None] * last
        gW[last], gb[last] = d.T @ h, d.sum(axis=0)
        dh = d @ self.weights[last][0]
        for i in range(last - 1, -1, -1):
            x_in, zhat, inv, out = cache[i]
            dout = dh * (out > 0)                       # relu'(0) = 0
            if self.bn is not None:
                gamma = self.bn[i][0]
                gbn[i] = ((dout * zhat).sum(axis=0), dout.sum(axis=0))
                dzhat = dout * gamma
                # d/dz of BN: (1/n) inv (n dzhat - sum dzhat - zhat sum(dzhat zhat))
                dz = (inv / n) * (n * dzhat - dzhat.sum(axis=0)
                                  - zhat * (dzhat * zhat).sum(axis=0))
            else:
                dz = dout
            gW[i], gb[i] = dz.T @ x_in, dz.sum(axis=0)
            if i:
                dh = dz @ self.weights[i][0]
        grads = [g for pair in zip(gW, gb) for g in pair]
        if self.bn is not None:
            grads += [g for pair in gbn for g in pair]
        return grads

    def adam(self, grads):
        """One Adam step in place, the order of operations as torch.optim.Adam (single-tensor)."""
        self.t += 1
        b1, b2 = self.b1, self.b2
        step_size = self.lr / (1 - b1 ** self.t)
        sqrt_bc2 = (1 - b2 ** self.t) ** 0.5
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= b1
            np.multiply(g, 1 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= sqrt_bc2
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp

    def step(self, X, y):
        """zero_grad, forward, loss, backward, Adam step; returns the loss (a float)."""
        loss, grads = self.loss_and_grads(X, y)
        self.adam(grads)
        return loss


# --- W3: an elementwise chain ---------------------------------------------------

def chain_forward(x, ops, scale, shift, saved=None):
    """Apply `ops` ("mul", "add", "tanh") in order; returns the result. With a list
    `saved`, the tanh outputs (what the backward needs) are appended to it."""
    for op in ops:
        if op == "mul":
            x = x * scale
        elif op == "add":
            x = x + shift
        else:
            x = np.tanh(x)
            if saved is not None:
                saved.append(x)
    return x


def chain_forward_backward(x, ops, scale, shift):
    """(chain(x), d sum(chain(x)) / dx) by hand: the forward keeps the tanh outputs
    the backward needs."""
    saved = []
    x = chain_forward(x, ops, scale, shift, saved)
    g = np.ones_like(x)
    for op in reversed(ops):
        if op == "mul":
            g = g * scale
        elif op == "tanh":
            y = saved.pop()
            g = g * (1 - y * y)
        # add: the gradient passes through unchanged
    return x, g
