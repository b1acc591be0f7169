"""Our own port of the "Neural Networks: Zero to Hero" makemore lectures, parts 2-5, on a
subset of examples/data/names.txt, small sizes.

Each lecture's code is written as a learner writes it for PyTorch, in a function that is
given the library as `torch` and its functional module as `F` (only the import rebound).
Each function runs on tinygrad_edu; where PyTorch is installed the same function runs on
it too and the losses and gradients are compared (float64). The random-number streams of
the two libraries differ, so those comparisons draw the weights and the minibatch indices
from one shared NumPy stream (`draw`); the learner's own `torch.Generator` stream is
exercised where nothing is compared (the lr search, the splits, sampling names).
"""
import pathlib
import random

import numpy as np
import pytest

import tinygrad_edu
import tinygrad_edu.nn.functional as tg_F

try:
    import torch as real_torch
    import torch.nn.functional as real_F
except ImportError:
    real_torch = real_F = None

needs_torch = pytest.mark.skipif(real_torch is None, reason="PyTorch not installed")

NAMES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "data" / "names.txt"


def load_words(count=600):
    words = NAMES.read_text().splitlines()[:count]
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    return words, stoi, itos


def build_dataset(torch, words, stoi, block_size=3):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


class Draw:
    """One NumPy stream shared by both libraries: weights and minibatch indices."""

    def __init__(self, torch, seed=0):
        self.torch, self.rng = torch, np.random.default_rng(seed)

    def randn(self, *shape):
        return self.torch.tensor(self.rng.standard_normal(shape))

    def randint(self, high, size):
        return self.torch.tensor(self.rng.integers(0, high, size))


def on_both(lecture, *args):
    """The lecture's results on tinygrad_edu and, when installed, on PyTorch."""
    ours = lecture(tinygrad_edu, tg_F, Draw(tinygrad_edu), *args)
    theirs = None
    if real_torch is not None:
        # PyTorch's default float32 would make torch.tensor(lossi) and .float() differ
        default = real_torch.get_default_dtype()
        real_torch.set_default_dtype(real_torch.float64)
        try:
            theirs = lecture(real_torch, real_F, Draw(real_torch), *args)
        finally:
            real_torch.set_default_dtype(default)
    return ours, theirs


def values(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


# --- part 2: the MLP ----------------------------------------------------------------------

def mlp_training(torch, F, draw, steps=30):
    words, stoi, _ = load_words()
    Xtr, Ytr = build_dataset(torch, words, stoi)
    C = draw.randn(27, 10)
    W1 = draw.randn(30, 64) * 0.2
    b1 = draw.randn(64) * 0.01
    W2 = draw.randn(64, 27) * 0.01
    b2 = draw.randn(27) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    print(sum(p.nelement() for p in parameters))
    lossi = []
    for i in range(steps):
        ix = draw.randint(Xtr.shape[0], (32,))
        emb = C[Xtr[ix]]                                   # (32, 3, 10)
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)          # (32, 64)
        logits = h @ W2 + b2                               # (32, 27)
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 20 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.item())
    emb = C[Xtr]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    full = F.cross_entropy(h @ W2 + b2, Ytr)
    return lossi, full.item(), [values(p) for p in parameters]


def test_mlp_trains_and_the_loss_drops():
    lossi, full, _ = mlp_training(tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert full < lossi[0]
    assert np.isfinite(lossi).all()


@needs_torch
def test_mlp_losses_and_weights_match_torch():
    (ours, theirs) = on_both(mlp_training)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def embedding_views(torch, F, draw):
    words, stoi, _ = load_words(20)
    X, Y = build_dataset(torch, words, stoi)
    C = draw.randn(27, 2)
    emb = C[X]
    same = [torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], 1),
            torch.cat(torch.unbind(emb, 1), 1), emb.view(emb.shape[0], 6)]
    # one-hot times C picks the same rows as indexing
    onehot = F.one_hot(torch.tensor(5), num_classes=27).double() @ C
    logits = draw.randn(X.shape[0], 27)
    counts = logits.exp()
    prob = counts / counts.sum(1, keepdims=True)
    by_hand = -prob[torch.arange(X.shape[0]), Y].log().mean()
    return ([values(s) for s in same], values(onehot), values(C[5]), by_hand.item(),
            F.cross_entropy(logits, Y).item(), emb.shape, X.dtype)


def test_embedding_table_views_and_cross_entropy_by_hand():
    same, onehot, row, by_hand, fast, shape, dtype = embedding_views(
        tinygrad_edu, tg_F, Draw(tinygrad_edu))
    for s in same[1:]:
        np.testing.assert_array_equal(s, same[0])
    np.testing.assert_allclose(onehot, row)
    assert by_hand == pytest.approx(fast, rel=1e-12)
    assert tuple(shape) == (same[0].shape[0], 3, 2) and dtype == tinygrad_edu.int64


@needs_torch
def test_embedding_views_match_torch():
    ours, theirs = on_both(embedding_views)
    np.testing.assert_array_equal(ours[0][0], theirs[0][0])
    assert ours[3] == pytest.approx(theirs[3], rel=1e-12)


def test_learning_rate_search_and_splits_with_a_generator():
    torch, F = tinygrad_edu, tg_F
    words, stoi, itos = load_words(400)
    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    Xtr, Ytr = build_dataset(torch, words[:n1], stoi)
    Xdev, Ydev = build_dataset(torch, words[n1:n2], stoi)
    Xte, Yte = build_dataset(torch, words[n2:], stoi)
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 50), generator=g) * 0.2
    b1 = torch.randn(50, generator=g) * 0.01
    W2 = torch.randn((50, 27), generator=g) * 0.01
    b2 = torch.randn(27, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    lre = torch.linspace(-3, 0, 40)
    lrs = 10 ** lre
    lri, lossi = [], []
    for i in range(40):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        emb = C[Xtr[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[i]
        for p in parameters:
            p.data += -lr * p.grad
        lri.append(lre[i].item())
        lossi.append(loss.log10().item())
    assert len(lri) == 40 and np.isfinite(lossi).all()

    @torch.no_grad()
    def split_loss(X, Y):
        emb = C[X]
        h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
        return F.cross_entropy(h @ W2 + b2, Y).item()

    losses = [split_loss(Xtr, Ytr), split_loss(Xdev, Ydev), split_loss(Xte, Yte)]
    assert all(2.0 < v < 3.6 for v in losses)

    # sampling from the model
    g = torch.Generator().manual_seed(2147483647 + 10)
    names = []
    for _ in range(5):
        out, context = [], [0] * 3
        while len(out) < 30:
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            probs = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append("".join(itos[i] for i in out))
    assert all(isinstance(n, str) and n for n in names)


# --- part 3: activations, gradients, BatchNorm -------------------------------------------

def batchnorm_by_hand(torch, F, draw, steps=20):
    words, stoi, _ = load_words()
    Xtr, Ytr = build_dataset(torch, words, stoi)
    n_embd, n_hidden, block_size = 10, 64, 3
    C = draw.randn(27, n_embd)
    W1 = draw.randn(n_embd * block_size, n_hidden) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    W2 = draw.randn(n_hidden, 27) * 0.01
    b2 = draw.randn(27) * 0
    bngain = torch.ones((1, n_hidden), dtype=torch.float64)
    bnbias = torch.zeros((1, n_hidden), dtype=torch.float64)
    bnmean_running = torch.zeros((1, n_hidden), dtype=torch.float64)
    bnstd_running = torch.ones((1, n_hidden), dtype=torch.float64)
    parameters = [C, W1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    lossi, saturated, ud = [], [], []
    for i in range(steps):
        ix = draw.randint(Xtr.shape[0], (32,))
        emb = C[Xtr[ix]]
        embcat = emb.view(emb.shape[0], -1)
        hpreact = embcat @ W1
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
        with torch.no_grad():
            bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani
            bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.log10().item())
        saturated.append((h.abs() > 0.99).float().mean().item())
        with torch.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])
    # calibrate the batch norm at the end of training
    with torch.no_grad():
        hpreact = C[Xtr].view(Xtr.shape[0], -1) @ W1
        bnmean = hpreact.mean(0, keepdim=True)
        bnstd = hpreact.std(0, keepdim=True)
        h = torch.tanh(bngain * (hpreact - bnmean_running) / bnstd_running + bnbias)
        eval_loss = F.cross_entropy(h @ W2 + b2, Ytr).item()
    hy, hx = torch.histogram(h.flatten(), 20, density=True) if hasattr(h, "flatten") else (None, None)
    return (lossi, saturated, ud, eval_loss, values(bnmean), values(bnstd),
            values(bnmean_running), values(hy))


def test_batchnorm_by_hand_and_the_statistics():
    lossi, saturated, ud, eval_loss, bnmean, bnstd, running, hy = batchnorm_by_hand(
        tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert np.isfinite(lossi).all() and np.isfinite(eval_loss)
    assert all(0 <= s <= 1 for s in saturated)
    assert np.asarray(ud).shape == (20, 6)
    assert hy.shape == (20,) and (hy >= 0).all()


@needs_torch
def test_batchnorm_by_hand_matches_torch():
    ours, theirs = on_both(batchnorm_by_hand)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                   rtol=1e-9, atol=1e-12)


class Linear:
    def __init__(self, fan_in, fan_out, draw, bias=True):
        self.weight = draw.randn(fan_in, fan_out) / fan_in ** 0.5
        self.bias = draw.randn(fan_out) * 0 if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, torch, dim, eps=1e-5, momentum=0.1):
        self.torch, self.eps, self.momentum = torch, eps, momentum
        self.training = True
        self.gamma = torch.ones(dim, dtype=torch.float64)
        self.beta = torch.zeros(dim, dtype=torch.float64)
        self.running_mean = torch.zeros(dim, dtype=torch.float64)
        self.running_var = torch.ones(dim, dtype=torch.float64)

    def __call__(self, x):
        torch = self.torch
        if self.training:
            dim = 0 if x.ndim == 2 else (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __init__(self, torch):
        self.torch = torch

    def __call__(self, x):
        self.out = self.torch.tanh(x)
        return self.out

    def parameters(self):
        return []


def deep_network_statistics(torch, F, draw, steps=5):
    words, stoi, _ = load_words()
    Xtr, Ytr = build_dataset(torch, words, stoi)
    n_embd, n_hidden = 10, 32
    C = draw.randn(27, n_embd)
    layers = [Linear(n_embd * 3, n_hidden, draw, bias=False), BatchNorm1d(torch, n_hidden), Tanh(torch),
              Linear(n_hidden, n_hidden, draw, bias=False), BatchNorm1d(torch, n_hidden), Tanh(torch),
              Linear(n_hidden, 27, draw, bias=False), BatchNorm1d(torch, 27)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= 5 / 3
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    stats = []
    for i in range(steps):
        ix = draw.randint(Xtr.shape[0], (32,))
        x = C[Xtr[ix]].view(32, -1)
        for layer in layers:
            x = layer(x)
        loss = F.cross_entropy(x, Ytr[ix])
        for layer in layers:
            layer.out.retain_grad()
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
    for layer in layers[:-1]:
        if isinstance(layer, Tanh):
            t = layer.out
            stats.append([t.mean().item(), t.std().item(), (t.abs() > 0.97).float().mean().item(),
                          t.grad.mean().item(), t.grad.std().item()])
    for p in parameters:
        if p.ndim == 2:
            stats.append([p.grad.mean().item(), p.grad.std().item(), (p.grad.std() / p.std()).item()])
    return loss.item(), stats


def test_deep_network_activation_and_gradient_statistics():
    loss, stats = deep_network_statistics(tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert np.isfinite(loss) and len(stats) == 2 + 4


@needs_torch
def test_deep_network_statistics_match_torch():
    ours, theirs = on_both(deep_network_statistics)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-10)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-14)


# --- part 4: backprop ninja ---------------------------------------------------------------

def cmp(torch, s, dt, t):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    return s, bool(ex), bool(app), maxdiff


def backprop_ninja(torch, F, draw):
    words, stoi, _ = load_words()
    Xtr, Ytr = build_dataset(torch, words, stoi)
    n_embd, n_hidden, block_size, vocab_size = 10, 64, 3, 27
    C = draw.randn(vocab_size, n_embd)
    W1 = draw.randn(n_embd * block_size, n_hidden) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    b1 = draw.randn(n_hidden) * 0.1
    W2 = draw.randn(n_hidden, vocab_size) * 0.1
    b2 = draw.randn(vocab_size) * 0.1
    bngain = draw.randn(1, n_hidden) * 0.1 + 1.0
    bnbias = draw.randn(1, n_hidden) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    n = 32
    ix = draw.randint(Xtr.shape[0], (n,))
    Xb, Yb = Xtr[ix], Ytr[ix]

    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    for p in parameters:
        p.grad = None
    for t in [logprobs, probs, counts, counts_sum, counts_sum_inv, norm_logits, logit_maxes,
              logits, h, hpreact, bnraw, bnvar_inv, bnvar, bndiff2, bndiff, hprebn, bnmeani,
              embcat, emb]:
        t.retain_grad()
    loss.backward()

    # exercise 1: backprop through every line by hand
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-counts_sum ** -2) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h ** 2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(bndiff2) * dbnvar
    dbndiff += (2 * bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (torch.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            dC[ix] += demb[k, j]
    rows = [cmp(torch, s, d, t) for s, d, t in [
        ("logprobs", dlogprobs, logprobs), ("probs", dprobs, probs),
        ("counts_sum_inv", dcounts_sum_inv, counts_sum_inv), ("counts_sum", dcounts_sum, counts_sum),
        ("counts", dcounts, counts), ("norm_logits", dnorm_logits, norm_logits),
        ("logit_maxes", dlogit_maxes, logit_maxes), ("logits", dlogits, logits), ("h", dh, h),
        ("W2", dW2, W2), ("b2", db2, b2), ("hpreact", dhpreact, hpreact),
        ("bngain", dbngain, bngain), ("bnbias", dbnbias, bnbias), ("bnraw", dbnraw, bnraw),
        ("bnvar_inv", dbnvar_inv, bnvar_inv), ("bnvar", dbnvar, bnvar),
        ("bndiff2", dbndiff2, bndiff2), ("bndiff", dbndiff, bndiff), ("bnmeani", dbnmeani, bnmeani),
        ("hprebn", dhprebn, hprebn), ("embcat", dembcat, embcat), ("W1", dW1, W1),
        ("b1", db1, b1), ("emb", demb, emb), ("C", dC, C)]]

    # exercise 2: cross-entropy's backward in one go
    loss_fast = F.cross_entropy(logits, Yb)
    dlogits2 = F.softmax(logits, 1)
    dlogits2[range(n), Yb] -= 1
    dlogits2 /= n
    rows.append(cmp(torch, "logits (fast)", dlogits2, logits))
    # exercise 3: batch norm's backward in one go
    dhprebn2 = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                         - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    rows.append(cmp(torch, "hprebn (fast)", dhprebn2, hprebn))
    return loss.item(), loss_fast.item(), rows


def test_backprop_ninja_every_intermediate_matches_autograd():
    loss, loss_fast, rows = backprop_ninja(tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert loss == pytest.approx(loss_fast, rel=1e-12)
    assert len(rows) == 28
    for name, exact, approx, maxdiff in rows:
        assert approx and maxdiff < 1e-12, (name, maxdiff)
    assert sum(exact for _, exact, _, _ in rows[:26]) >= 20   # most are bit-exact


@needs_torch
def test_backprop_ninja_matches_torch():
    ours, theirs = on_both(backprop_ninja)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-13)
    assert [r[2] for r in ours[2]] == [r[2] for r in theirs[2]]


def manual_training(torch, F, draw, steps=10):
    """Exercise 4: train with the hand-written backward only, under no_grad."""
    words, stoi, _ = load_words()
    Xtr, Ytr = build_dataset(torch, words, stoi)
    n = 32
    C = draw.randn(27, 10)
    W1 = draw.randn(30, 64) * (5 / 3) / 30 ** 0.5
    b1 = draw.randn(64) * 0.1
    W2 = draw.randn(64, 27) * 0.1
    b2 = draw.randn(27) * 0.1
    bngain = draw.randn(1, 64) * 0.1 + 1.0
    bnbias = draw.randn(1, 64) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    losses = []
    with torch.no_grad():
        for i in range(steps):
            ix = draw.randint(Xtr.shape[0], (n,))
            Xb, Yb = Xtr[ix], Ytr[ix]
            emb = C[Xb]
            embcat = emb.view(emb.shape[0], -1)
            hprebn = embcat @ W1 + b1
            bnmean = hprebn.mean(0, keepdim=True)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)
            bnvar_inv = (bnvar + 1e-5) ** -0.5
            bnraw = (hprebn - bnmean) * bnvar_inv
            hpreact = bngain * bnraw + bnbias
            h = torch.tanh(hpreact)
            logits = h @ W2 + b2
            loss = F.cross_entropy(logits, Yb)
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ W2.T
            dW2 = h.T @ dlogits
            db2 = dlogits.sum(0)
            dhpreact = (1.0 - h ** 2) * dh
            dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
            dbnbias = dhpreact.sum(0, keepdim=True)
            dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                                - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
            dembcat = dhprebn @ W1.T
            dW1 = embcat.T @ dhprebn
            db1 = dhprebn.sum(0)
            demb = dembcat.view(emb.shape)
            dC = torch.zeros_like(C)
            for k in range(Xb.shape[0]):
                for j in range(Xb.shape[1]):
                    dC[Xb[k, j]] += demb[k, j]
            grads = [dC, dW1, db1, dW2, db2, dbngain, dbnbias]
            for p, grad in zip(parameters, grads):
                p.data += -0.1 * grad
            losses.append(loss.item())
    return losses


def test_training_with_the_manual_backward():
    losses = manual_training(tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert np.isfinite(losses).all() and losses[-1] < losses[0] + 0.5


@needs_torch
def test_training_with_the_manual_backward_matches_torch():
    ours, theirs = on_both(manual_training)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11)


# --- part 5: WaveNet ----------------------------------------------------------------------

class Embedding:
    def __init__(self, num_embeddings, embedding_dim, draw):
        self.weight = draw.randn(num_embeddings, embedding_dim)

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def wavenet(torch, F, draw, steps=12):
    words, stoi, _ = load_words()
    block_size = 8
    Xtr, Ytr = build_dataset(torch, words, stoi, block_size)
    n_embd, n_hidden = 10, 32
    model = Sequential([
        Embedding(27, n_embd, draw),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, draw, bias=False),
        BatchNorm1d(torch, n_hidden), Tanh(torch),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, draw, bias=False),
        BatchNorm1d(torch, n_hidden), Tanh(torch),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, draw, bias=False),
        BatchNorm1d(torch, n_hidden), Tanh(torch),
        Linear(n_hidden, 27, draw),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    shapes = []
    lossi = []
    for i in range(steps):
        ix = draw.randint(Xtr.shape[0], (32,))
        Xb, Yb = Xtr[ix], Ytr[ix]
        logits = model(Xb)
        if i == 0:
            shapes = [tuple(layer.out.shape) for layer in model.layers]
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1
        for p in parameters:
            p.data += -lr * p.grad
        lossi.append(loss.item())
    # the lecture's smoothed loss curve: the mean of each run of 4 steps
    smooth = torch.tensor(lossi).view(-1, 4).mean(1)
    for layer in model.layers:
        layer.training = False
    with torch.no_grad():
        eval_loss = F.cross_entropy(model(Xtr[:200]), Ytr[:200]).item()
    return lossi, values(smooth), eval_loss, shapes, [values(p.grad) for p in parameters]


def test_wavenet_shapes_and_training():
    lossi, smooth, eval_loss, shapes, _ = wavenet(tinygrad_edu, tg_F, Draw(tinygrad_edu))
    assert shapes[:4] == [(32, 8, 10), (32, 4, 20), (32, 4, 32), (32, 4, 32)]
    assert shapes[-1] == (32, 27) and shapes[-5] == (32, 64)
    assert smooth.shape == (3,) and np.isfinite(eval_loss)


@needs_torch
def test_wavenet_matches_torch():
    ours, theirs = on_both(wavenet)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
    assert ours[2] == pytest.approx(theirs[2], rel=1e-10)
    for a, b in zip(ours[4], theirs[4]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)
