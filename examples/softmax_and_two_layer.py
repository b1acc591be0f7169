"""Softmax regression, then 2-layer ReLU and tanh networks, on blobs and moons.

The classic NumPy lab this rebuilds asks students to derive, for z = W x + b,
q = softmax(z) and the loss -log q_y, the gradients dL/dW = (q - p) x^T and
dL/db = q - p (p the one-hot target; averaged over a batch), and then to redo
the derivation for a hidden layer h = relu(W x + b1) or tanh(W x + b1). Here
autograd computes them from the forward pass alone, and the script checks the
softmax-regression gradient against that formula.

1. Softmax regression (nn.Linear(2, 3) + cross_entropy) on three blobs: linear
   boundaries are enough.
2. The same linear model on two moons: it can't bend, so it stalls below 90 %.
3. A hidden layer of 2, 4, 8, 16 ReLU units, then tanh units: the boundary
   bends more as the layer widens.
Weights and biases start at N(0, 1) as in the lab; plain SGD, batches of 10.

    python examples/softmax_and_two_layer.py [--quick] [--plot] [--out DIR]
"""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim, data
from tinygrad_edu.functional import cross_entropy

from example_utils import parse_args, pyplot, save, accuracy, decision_regions

HIDDEN_SIZES = (2, 4, 8, 16)


def two_layer(n_hidden, activation):
    """Linear(2, n_hidden) -> activation -> Linear(n_hidden, 2)."""
    return nn.Sequential(nn.Linear(2, n_hidden), activation(), nn.Linear(n_hidden, 2))


def standard_normal_init(model, seed=42):
    """Every weight and bias ~ N(0, 1), the lab's (deliberately rough) starting point."""
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        nn.init.normal_(p, 0.0, 1.0, generator=rng)
    return model


def fit(model, split, lr, epochs, batch_size=10, seed=42):
    """Minibatch SGD on cross-entropy; returns per-epoch (mean loss, train acc, test acc)."""
    Xtr, Xte, ytr, yte = split
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = data.DataLoader(Xtr, ytr, batch_size=batch_size, shuffle=True, seed=seed)
    history = []
    for _ in range(epochs):
        losses = []
        for xb, yb in loader:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with tg.no_grad():
            history.append((float(np.mean(losses)), accuracy(model(tg.Tensor(Xtr)), ytr),
                            accuracy(model(tg.Tensor(Xte)), yte)))
    return history


def check_softmax_regression_gradient(model, X, y):
    """Autograd's dL/dW, dL/db against the derived (q - p)^T x / B and mean(q - p)."""
    model.zero_grad()
    logits = model(tg.Tensor(X))
    cross_entropy(logits, y).backward()
    q = logits.softmax(1).numpy()
    residual = (q - data.one_hot(y, q.shape[1])) / len(y)
    return max(np.abs(model.weight.grad.numpy() - residual.T @ X).max(),
               np.abs(model.bias.grad.numpy() - residual.sum(0)).max())


def predictor(model):
    def predict(points):
        with tg.no_grad():
            return model(tg.Tensor(points)).argmax(1).numpy()
    return predict


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    quick = args.quick
    results = {}

    X, y = data.make_blobs(500, centers=3, seed=42)
    blobs = data.train_test_split(X, y, test_size=0.4, seed=42)
    print("1) softmax regression on three blobs (lr 0.01, 10 epochs)")
    linear = standard_normal_init(nn.Linear(2, 3))
    gap = check_softmax_regression_gradient(linear, blobs[0][:10], blobs[2][:10])
    print(f"   autograd vs the derived gradient (q - p)^T x / B on one batch: max |diff| {gap:.1e}")
    hist = fit(linear, blobs, lr=0.01, epochs=10)
    print(f"   loss {hist[0][0]:.3f} -> {hist[-1][0]:.3f}, test accuracy {hist[-1][2]:.3f}")
    results.update(blobs_gradient_gap=gap, blobs_test_acc=hist[-1][2], blobs_history=hist)

    X, y = data.make_moons(500, noise=0.2, seed=0)
    moons = data.train_test_split(X, y, test_size=0.4, seed=42)
    print("2) the same linear model on two moons (lr 0.1, 20 epochs)")
    moon_linear = standard_normal_init(nn.Linear(2, 2))
    hist = fit(moon_linear, moons, lr=0.1, epochs=20)
    print(f"   test accuracy {hist[-1][2]:.3f}: a straight line can't follow the moons")
    results["moons_linear_test_acc"] = hist[-1][2]

    epochs = 25 if quick else 100
    print(f"3) one hidden layer on the moons (lr 0.1, {epochs} epochs): test accuracy")
    nets, curves = {}, {}
    for name, activation in (("relu", nn.ReLU), ("tanh", nn.Tanh)):
        accs = []
        for n_hidden in HIDDEN_SIZES:
            net = standard_normal_init(two_layer(n_hidden, activation))
            hist = fit(net, moons, lr=0.1, epochs=epochs)
            nets[name, n_hidden], curves[name, n_hidden] = net, hist
            accs.append(hist[-1][2])
            results[f"moons_{name}{n_hidden}_test_acc"] = hist[-1][2]
        cells = [f"{h:2d} units {a:.3f}" for h, a in zip(HIDDEN_SIZES, accs)]
        print(f"   {name}: " + "  ".join(cells))

    plt = pyplot(args)
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        decision_regions(axes[0], predictor(linear), blobs[1], blobs[3],
                         "softmax regression, blobs")
        decision_regions(axes[1], predictor(moon_linear), moons[1], moons[3],
                         "softmax regression, moons")
        save(fig, args, "softmax_regression")
        fig, axes = plt.subplots(2, len(HIDDEN_SIZES), figsize=(16, 8))
        for row, name in enumerate(("relu", "tanh")):
            for col, n_hidden in enumerate(HIDDEN_SIZES):
                decision_regions(axes[row, col], predictor(nets[name, n_hidden]), moons[1],
                                 moons[3], f"{name}, {n_hidden} hidden units")
        save(fig, args, "hidden_sizes")
        fig, ax = plt.subplots(figsize=(6, 4))
        for (name, n_hidden), hist in curves.items():
            ax.plot([h[0] for h in hist], label=f"{name} {n_hidden}")
        ax.set(title="mean training loss per epoch", xlabel="epoch", yscale="log")
        ax.legend(ncol=2)
        save(fig, args, "two_layer_losses")
    return results


if __name__ == "__main__":
    main()
