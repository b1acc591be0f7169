"""A sigmoid MLP by hand-held gradient steps, then the PyTorch-style loop and checkpoints.

A. A classic NumPy lab's first multilayer network: Linear(2, 10) - sigmoid -
   Linear(10, 2) - sigmoid, trained on the mean squared error to one-hot
   targets. The backward the lab derives by hand (delta_out = dL/dA * A (1 - A), dW = delta^T
   A_prev, delta_hidden = delta_out W * A1 (1 - A1)) is checked against autograd
   on the first batch; the update is written out: p.data -= lr * p.grad.data.
B. The same kind of model as an nn.Module with nn.Linear layers, trained by the
   loop every PyTorch user knows: zero_grad, forward, loss, backward, step -
   with optim.Adam, data.DataLoader and cross_entropy. (The lab puts a sigmoid
   after the last layer *and* uses a cross-entropy loss, squashing twice; here
   the model returns logits and cross_entropy applies the softmax.)
C. Checkpoints: tg.save(model.state_dict(), path) writes an .npz file (no
   pickle); a freshly built model given tg.load(path) computes identical
   outputs, and a checkpoint that doesn't fit the model is refused, unchanged.
   A full checkpoint {"model": ..., "optimizer": ..., "epoch": ...} (still .npz,
   no pickle) lets training resume exactly where it stopped.

    python examples/mlp_module_checkpoint.py [--quick] [--plot] [--out DIR]
"""
import os
import tempfile

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim, data
from tinygrad_edu.functional import cross_entropy, mse_loss

from example_utils import parse_args, pyplot, save, accuracy, decision_regions


def blob_data(seed=1):
    """1,000 points in two overlapping Gaussian blobs, split 700 / 300."""
    X, y = data.make_blobs(1000, centers=[[0.0, 0.0], [2.5, 2.5]], cluster_std=0.9, seed=seed)
    return data.train_test_split(X, y, test_size=0.3, seed=seed)


# --- A. sigmoid + MSE, gradient steps written out ------------------------------------

def sigmoid_mlp(seed=1):
    """Linear(2, 10) - Sigmoid - Linear(10, 2) - Sigmoid, weights ~ N(0, 0.1^2), biases 0."""
    model = nn.Sequential(nn.Linear(2, 10), nn.Sigmoid(), nn.Linear(10, 2), nn.Sigmoid())
    rng = np.random.default_rng(seed)
    for layer in (model[0], model[2]):
        nn.init.normal_(layer.weight, 0.0, 0.1, generator=rng)
        nn.init.zeros_(layer.bias)
    return model


def hand_backward(model, X, Y):
    """dL/dW, dL/db of L = mean over all n*t entries of (A_out - Y)^2, by the chain rule."""
    W1, b1, W2, b2 = (p.numpy() for p in model.parameters())
    A1 = 1 / (1 + np.exp(-(X @ W1.T + b1)))
    A2 = 1 / (1 + np.exp(-(A1 @ W2.T + b2)))
    delta_out = 2 * (A2 - Y) / Y.size * A2 * (1 - A2)        # dL/dZ_out
    delta_hidden = delta_out @ W2 * A1 * (1 - A1)            # dL/dZ_1
    return [delta_hidden.T @ X, delta_hidden.sum(0), delta_out.T @ A1, delta_out.sum(0)]


def train_sigmoid_mse(split, epochs, lr=2.0, batch_size=100):
    Xtr, Xte, ytr, yte = split
    model = sigmoid_mlp()
    loader = data.DataLoader(Xtr, ytr, batch_size=batch_size, shuffle=True, seed=0)
    gap, log = None, []
    for epoch in range(1, epochs + 1):
        for xb, yb in loader:
            Y = data.one_hot(yb.numpy(), 2)
            model.zero_grad()
            mse_loss(model(xb), tg.Tensor(Y)).backward()
            if gap is None:       # first batch: compare with the hand derivation
                by_hand = hand_backward(model, xb.numpy(), Y)
                gap = max(float(np.abs(p.grad.numpy() - g).max())
                          for p, g in zip(model.parameters(), by_hand))
            for p in model.parameters():
                p.data -= lr * p.grad.data
        with tg.no_grad():
            out = model(tg.Tensor(Xtr))
            row = (epoch, mse_loss(out, tg.Tensor(data.one_hot(ytr, 2))).item(),
                   accuracy(out, ytr), accuracy(model(tg.Tensor(Xte)), yte))
        log.append(row)
        if epoch % 10 == 1 or epoch == epochs:
            print(f"   epoch {epoch:3d} | train MSE {row[1]:.4f} | train acc {row[2]:.4f} | "
                  f"test acc {row[3]:.4f}")
    return model, gap, log


# --- B. the PyTorch-style loop ------------------------------------------------------

class Classifier(nn.Module):
    def __init__(self, n_in=2, n_hidden=16, n_out=2):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_hidden)
        self.layer2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.layer2(self.layer1(x).sigmoid())     # logits


def train_classifier(split, epochs):
    Xtr, Xte, ytr, yte = split
    tg.manual_seed(1)
    model = Classifier()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    loader = data.DataLoader(Xtr, ytr, batch_size=32, shuffle=True, seed=0)
    for epoch in range(1, epochs + 1):
        model.train()
        losses = []
        for xb, yb in loader:
            optimizer.zero_grad()               # 1. forget the last batch's gradients
            loss = cross_entropy(model(xb), yb)  # 2. forward and 3. loss
            loss.backward()                     # 4. backpropagate
            optimizer.step()                    # 5. update the parameters
            losses.append(loss.item())
        model.eval()
        with tg.no_grad():
            scores = model(tg.Tensor(Xte))
            val_loss, val_acc = cross_entropy(scores, yte).item(), accuracy(scores, yte)
        if epoch % 10 == 1 or epoch == epochs:
            print(f"   epoch {epoch:3d} | mean train loss {np.mean(losses):.4f} | "
                  f"test loss {val_loss:.4f} | test acc {val_acc:.4f}")
    return model, optimizer, val_acc


# --- C. checkpoints -------------------------------------------------------------

def checkpoint_round_trip(model, X, folder):
    path = tg.save(model.state_dict(), os.path.join(folder, "classifier.npz"))
    print(f"   saved {sorted(model.state_dict())} to {os.path.basename(path)}")
    tg.manual_seed(99)
    fresh = Classifier()                         # different random weights ...
    x = tg.Tensor(X)
    with tg.no_grad():
        before = np.array_equal(fresh(x).numpy(), model(x).numpy())
        fresh.load_state_dict(tg.load(path))     # ... until the checkpoint is loaded
        identical = np.array_equal(fresh(x).numpy(), model(x).numpy())
    print(f"   fresh model, same outputs before loading: {before}; after loading: {identical}")
    wrong = Classifier(n_hidden=8)
    kept = wrong.layer1.weight.numpy().copy()
    try:
        wrong.load_state_dict(tg.load(path))
        refused = False
    except RuntimeError as error:
        refused = np.array_equal(kept, wrong.layer1.weight.numpy())
        print(f"   into a model with 8 hidden units, refused with RuntimeError:\n     {error}")
    return identical and not before, refused


def resume_from_full_checkpoint(model, optimizer, epoch, split, folder):
    """Save model + optimizer (Adam's moments) + epoch in one file, resume in a fresh
    model and optimizer, and check both continue with bit-identical parameters."""
    path = tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "epoch": epoch}, os.path.join(folder, "resume.npz"))
    checkpoint = tg.load(path)
    resumed = Classifier()
    resumed_opt = optim.Adam(resumed.parameters())
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["optimizer"])   # lr and moments come back too
    Xtr, ytr = split[0], split[2]
    for m, opt in ((model, optimizer), (resumed, resumed_opt)):
        m.train()
        for xb, yb in data.DataLoader(Xtr, ytr, batch_size=32, shuffle=True, seed=7):
            opt.zero_grad()
            cross_entropy(m(xb), yb).backward()
            opt.step()
    same = all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(),
                                                    resumed.state_dict().values()))
    print(f"   resumed from epoch {checkpoint['epoch']} (lr {resumed_opt.param_groups[0]['lr']}): "
          f"one more epoch gives identical parameters: {same}")
    return same


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    split = blob_data()
    results = {}

    epochs = 10 if args.quick else 50
    print(f"A) sigmoid MLP on MSE, minibatches of 100, hand-written update, {epochs} epochs")
    mse_model, gap, log = train_sigmoid_mse(split, epochs)
    print(f"   autograd vs the hand-derived backward on the first batch: max |diff| {gap:.1e}")
    results.update(mse_gradient_gap=gap, mse_test_acc=log[-1][3])

    epochs = 20 if args.quick else 100
    print(f"B) nn.Module + optim.Adam + DataLoader + cross_entropy, {epochs} epochs")
    model, optimizer, val_acc = train_classifier(split, epochs)
    results["module_test_acc"] = val_acc

    print("C) save, reload, compare")
    with tempfile.TemporaryDirectory() as folder:
        identical, refused = checkpoint_round_trip(model, split[1], folder)
        resumed = resume_from_full_checkpoint(model, optimizer, epochs, split, folder)
    results.update(reload_identical=identical, mismatch_refused=refused,
                   resume_identical=resumed)

    plt = pyplot(args)
    if plt is not None:
        fig, axes = plt.subplots(1, 3, figsize=(14, 4))
        rows = np.array(log)
        axes[0].plot(rows[:, 0], rows[:, 1])
        axes[0].set(title="A: training MSE", xlabel="epoch")

        def predict(m):
            return lambda P: m(tg.Tensor(P)).argmax(1).numpy()
        with tg.no_grad():
            decision_regions(axes[1], predict(mse_model), split[1], split[3], "A: sigmoid + MSE")
            decision_regions(axes[2], predict(model), split[1], split[3], "B: nn.Module + Adam")
        save(fig, args, "mlp_module_checkpoint")
    return results


if __name__ == "__main__":
    main()
