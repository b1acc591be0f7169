"""A 2-32-2 ReLU MLP, minibatch SGD with weight decay, side by side with PyTorch.

The classic lab this rebuilds writes the network twice, once in NumPy with a
hand-written backward and once in PyTorch. Here it is written once with
tinygrad_edu (nn.Linear, optim.SGD, cross_entropy) and, when torch is
installed, run again in PyTorch from the *same* initial weights on the *same*
shuffled minibatches, in float64. The two per-epoch logs then agree to
~1e-12: same math, same order.

Setup as in the lab: two Gaussian clouds around (-2, -2) and (2, 2) (400
points each), 80/20 split, weights ~ N(0, 0.02^2), zero biases, lr 0.1,
batch 64, L2 weight decay 1e-4 on the weights only (the lab adds
wd * W to dW but leaves the biases alone: two parameter groups here).

    python examples/mlp_sgd_weight_decay.py [--quick] [--plot] [--out DIR]
"""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.functional import cross_entropy

from example_utils import parse_args, pyplot, save, accuracy

LR, WEIGHT_DECAY, BATCH = 0.1, 1e-4, 64


def two_clouds(n_per_class=400, offset=2.0, seed=42):
    """Label 0 around (-offset, -offset), label 1 around (+offset, +offset), unit variance."""
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(-offset, 1.0, (n_per_class, 2)),
                        rng.normal(+offset, 1.0, (n_per_class, 2))])
    y = np.repeat([0, 1], n_per_class)
    order = rng.permutation(len(y))
    return X[order], y[order]


class TwoLayerMLP(nn.Module):
    def __init__(self, d_in=2, hidden=32, d_out=2):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


def initial_weights(d_in=2, hidden=32, d_out=2, seed=1):
    """N(0, 0.02^2) weights in nn.Linear's (out, in) layout and zero biases, as a state dict."""
    rng = np.random.default_rng(seed)
    return {"fc1.weight": rng.normal(0, 0.02, (hidden, d_in)), "fc1.bias": np.zeros(hidden),
            "fc2.weight": rng.normal(0, 0.02, (d_out, hidden)), "fc2.bias": np.zeros(d_out)}


def epoch_orders(n, epochs, seed=0):
    """One shuffled index order per epoch, shared by both frameworks."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n) for _ in range(epochs)]


def train_tinygrad(data, orders):
    """Returns rows (epoch, train loss, train acc, val loss, val acc), one per epoch."""
    Xtr, ytr, Xva, yva = data
    model = TwoLayerMLP()
    model.load_state_dict(initial_weights())
    weights = [model.fc1.weight, model.fc2.weight]
    biases = [model.fc1.bias, model.fc2.bias]
    opt = optim.SGD([{"params": weights, "weight_decay": WEIGHT_DECAY},
                     {"params": biases}], lr=LR)
    rows = []
    for epoch, order in enumerate(orders, 1):
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            opt.zero_grad()
            cross_entropy(model(tg.Tensor(Xtr[idx])), ytr[idx]).backward()
            opt.step()
        with tg.no_grad():
            tr, va = model(tg.Tensor(Xtr)), model(tg.Tensor(Xva))
            rows.append((epoch, cross_entropy(tr, ytr).item(), accuracy(tr, ytr),
                         cross_entropy(va, yva).item(), accuracy(va, yva)))
    return rows


def train_torch(data, orders):
    """The same run in PyTorch (float64), or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    import torch.nn.functional as TF
    Xtr, ytr, Xva, yva = (torch.from_numpy(np.asarray(a)) for a in data)
    w = {k: torch.tensor(v, requires_grad=True) for k, v in initial_weights().items()}

    def model(x):
        return TF.linear(TF.linear(x, w["fc1.weight"], w["fc1.bias"]).relu(),
                         w["fc2.weight"], w["fc2.bias"])

    opt = torch.optim.SGD([{"params": [w["fc1.weight"], w["fc2.weight"]],
                            "weight_decay": WEIGHT_DECAY},
                           {"params": [w["fc1.bias"], w["fc2.bias"]]}], lr=LR)
    rows = []
    for epoch, order in enumerate(orders, 1):
        for start in range(0, len(order), BATCH):
            idx = torch.from_numpy(order[start:start + BATCH])
            opt.zero_grad()
            TF.cross_entropy(model(Xtr[idx]), ytr[idx]).backward()
            opt.step()
        with torch.no_grad():
            tr, va = model(Xtr), model(Xva)
            rows.append((epoch, TF.cross_entropy(tr, ytr).item(), accuracy(tr, ytr),
                         TF.cross_entropy(va, yva).item(), accuracy(va, yva)))
    return rows


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    X, y = two_clouds()
    split = int(0.8 * len(y))
    data = (X[:split], y[:split], X[split:], y[split:])
    epochs = 10 if args.quick else 50
    orders = epoch_orders(split, epochs)

    ours = train_tinygrad(data, orders)
    theirs = train_torch(data, orders)
    print("epoch | tinygrad_edu: train loss  acc | val loss  acc"
          + ("  || torch: train loss  val loss" if theirs else ""))
    for k, row in enumerate(ours):
        if row[0] % 5 == 0 or row[0] == 1:
            line = f"  {row[0]:3d} | {row[1]:.10f} {row[2]:.3f} | {row[3]:.10f} {row[4]:.3f}"
            if theirs:
                line += f"  || {theirs[k][1]:.10f} {theirs[k][3]:.10f}"
            print(line)
    results = {"rows": ours, "torch_rows": theirs}
    if theirs is None:
        print("(torch is not installed: skipping the side-by-side run)")
    else:
        gap = max(abs(a - b) for r, s in zip(ours, theirs) for a, b in zip(r[1:], s[1:]))
        print(f"largest difference between the two logs over all {epochs} epochs: {gap:.1e}")
        results["max_torch_diff"] = gap

    plt = pyplot(args)
    if plt is not None:
        rows = np.array(ours)
        fig, ax = plt.subplots(figsize=(5, 4))
        ax.plot(rows[:, 0], rows[:, 1], label="train")
        ax.plot(rows[:, 0], rows[:, 3], label="validation")
        if theirs:
            ax.plot(rows[:, 0], np.array(theirs)[:, 1], "k:", label="train (torch)")
        ax.set(title="cross-entropy", xlabel="epoch", yscale="log")
        ax.legend()
        save(fig, args, "mlp_sgd_weight_decay")
    return results


if __name__ == "__main__":
    main()
