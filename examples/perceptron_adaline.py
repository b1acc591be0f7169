"""The perceptron and Adaline, written as autograd losses.

The classic single-neuron learning rules are gradient steps on small losses:

* Perceptron. With z = x.w + b and the hard prediction yhat = [z >= 0] held
  fixed, the "loss" (yhat - y) * z has gradient (yhat - y) * x with respect to
  w, so `w -= lr * grad` is Rosenblatt's rule  w += lr * (y - yhat) * x.
  (The comparison makes yhat a non-differentiable bool tensor, which is
  exactly "hold it fixed".)
* Adaline. The loss is the mean squared error between y and the *linear*
  output z; autograd gives dL/dw = -2/n X^T (y - z), the Widrow-Hoff rule.
  Full-batch gradient descent uses all n samples per step, stochastic
  gradient descent one shuffled sample at a time.

The script checks each autograd gradient against that hand formula.

    python examples/perceptron_adaline.py [--quick] [--plot] [--out DIR]
"""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.functional import mse_loss

from example_utils import parse_args, pyplot, save, decision_regions


def two_blobs(n_per_class=250, spread=0.4, seed=1):
    """Two round Gaussian clouds at (1, 1) (label 0) and (3, 3) (label 1).

    Off the origin on purpose: the boundary x1 + x2 = 4 needs the bias.
    """
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(1.0, spread, (n_per_class, 2)),
                        rng.normal(3.0, spread, (n_per_class, 2))])
    y = np.repeat([0.0, 1.0], n_per_class)
    order = rng.permutation(len(y))
    return X[order], y[order]


def linear_unit(seed=1):
    """w ~ N(0, 0.01^2) (small, so the learning rate changes the direction too), b = 0."""
    rng = np.random.default_rng(seed)
    w = tg.Tensor(rng.normal(0.0, 0.01, 2), requires_grad=True, name="w")
    b = tg.zeros((), requires_grad=True)
    b.name = "b"
    return w, b


def sgd_step(params, lr):
    for p in params:
        p.data -= lr * p.grad.data
        p.grad = None


def train_perceptron(X, y, lr, epochs):
    """One update per sample; returns the parameters and the mistakes made in each epoch."""
    w, b = linear_unit()
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for xi, yi in zip(X, y):
            z = tg.Tensor(xi) @ w + b
            y_hat = (z >= 0).to(tg.float64)          # a constant: comparisons have no gradient
            ((y_hat - yi) * z).backward()
            assert np.allclose(w.grad.numpy(), (y_hat.item() - yi) * xi)   # the hand rule
            wrong += int(y_hat.item() != yi)
            sgd_step([w, b], lr)
        mistakes.append(wrong)
    return w, b, mistakes


def train_adaline_full_batch(X, y, lr, epochs):
    """Gradient descent on mean((y - z)^2) over the whole set; returns the loss per epoch."""
    w, b = linear_unit()
    Xt, losses = tg.Tensor(X), []
    for _ in range(epochs):
        z = Xt @ w + b
        loss = mse_loss(z, tg.Tensor(y))
        loss.backward()
        by_hand = -2.0 * X.T @ (y - z.numpy()) / len(y)
        assert np.allclose(w.grad.numpy(), by_hand), "autograd and the Widrow-Hoff formula disagree"
        losses.append(loss.item())
        sgd_step([w, b], lr)
    return w, b, losses


def train_adaline_sgd(X, y, lr, epochs, seed=69):
    """One update per (shuffled) sample on (y - z)^2; returns the mean loss per epoch."""
    w, b = linear_unit()
    rng, losses = np.random.default_rng(seed), []
    for _ in range(epochs):
        epoch_losses = []
        for i in rng.permutation(len(y)):
            z = tg.Tensor(X[i]) @ w + b
            loss = (y[i] - z) ** 2
            loss.backward()
            epoch_losses.append(loss.item())
            sgd_step([w, b], lr)
        losses.append(float(np.mean(epoch_losses)))
    return w, b, losses


def predict(w, b, X, threshold):
    return ((tg.Tensor(X) @ w + b).numpy() >= threshold).astype(int)


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    X, y = two_blobs(n_per_class=100 if args.quick else 250)
    epochs = 3 if args.quick else 10
    results = {}

    print(f"Perceptron on two separable blobs ({len(y)} points), lr = 0.1")
    w, b, mistakes = train_perceptron(X, y, lr=0.1, epochs=epochs)
    acc = float(np.mean(predict(w, b, X, 0.0) == y))
    print(f"  mistakes per epoch: {mistakes}   final accuracy {acc:.3f}")
    results.update(perceptron_mistakes=mistakes, perceptron_acc=acc)

    print("Adaline, full-batch gradient descent on mean((y - z)^2):")
    ada = {}
    for lr in (0.1, 0.02, 0.0001):          # too large, about right, too small
        w_a, b_a, losses = train_adaline_full_batch(X, y, lr, epochs=5 * epochs)
        ada[lr] = (w_a, b_a, losses)
        print(f"  lr {lr:<6}  loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    acc_gd = float(np.mean(predict(*ada[0.02][:2], X, 0.5) == y))
    print(f"  lr 0.1 overshoots and diverges, lr 0.0001 crawls; lr 0.02 accuracy "
          f"(predict 1 when z >= 0.5) {acc_gd:.3f}")
    results.update(adaline_losses={lr: v[2] for lr, v in ada.items()}, adaline_acc=acc_gd)

    print("Adaline, stochastic gradient descent (one shuffled sample per step), lr = 0.01:")
    w_s, b_s, sgd_losses = train_adaline_sgd(X, y, lr=0.01, epochs=epochs)
    acc_sgd = float(np.mean(predict(w_s, b_s, X, 0.5) == y))
    print("  mean loss per epoch: " + " ".join(f"{v:.4f}" for v in sgd_losses)
          + f"   accuracy {acc_sgd:.3f}")
    results.update(adaline_sgd_losses=sgd_losses, adaline_sgd_acc=acc_sgd)

    plt = pyplot(args)
    if plt is not None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        axes[0].plot(range(1, epochs + 1), mistakes, marker="o")
        axes[0].set(title="Perceptron: mistakes per epoch", xlabel="epoch")
        for lr, (_, _, losses) in list(ada.items())[1:]:
            axes[1].plot(losses, label=f"lr {lr}")
        axes[1].plot(sgd_losses, marker="o", label="SGD, lr 0.01")
        axes[1].set(title="Adaline: mean squared error", xlabel="epoch", yscale="log")
        axes[1].legend()
        decision_regions(axes[2], lambda P: predict(w_s, b_s, P, 0.5), X, y, "Adaline (SGD)")
        save(fig, args, "perceptron_adaline")
    return results


if __name__ == "__main__":
    main()
