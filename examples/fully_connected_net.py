"""The FullyConnectedNet family of a classic NumPy lab, trained by training.fit as its Solver.

The lab builds {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine
with a softmax or SVM loss, L2 regularisation 0.5 * reg * sum(W^2) and
"random" (N(0, weight_scale^2)), "he" or "zero" initial weights, and writes
the backward of every piece by hand. Here the network is nn.MLP, the L2 term
is one more Tensor expression added to the loss (so autograd produces the
familiar reg * W in the gradient), and `tinygrad_edu.training.fit` plays the
Solver: minibatch SGD, a per-epoch learning-rate decay, train/validation
accuracy after every epoch, and the best epoch's weights restored at the end.

Data: three interleaved, noisy spirals (600 points), 80/20 split. The experiments:

1. overfit 50 training examples: training accuracy reaches 100 %, validation
   does not follow (a sanity check that the model and loss can learn at all);
2. zero initialisation: every hidden unit computes the same thing, gets the
   same gradient (here exactly zero) and stays identical - training is stuck;
3. a small comparison: random vs He init, softmax vs SVM loss
   (multi_margin_loss; note PyTorch's convention divides the hinge sum by the
   number of classes), and batchnorm + dropout + L2.
("he" here is the true He init, std sqrt(2 / fan_in); the lab's code uses
std 2 / fan_in.)

    python examples/fully_connected_net.py [--quick] [--plot] [--out DIR]
"""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim, data, training
from tinygrad_edu.functional import cross_entropy, multi_margin_loss

from example_utils import parse_args, pyplot, save, accuracy


def linear_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def fully_connected_net(hidden_dims, input_dim=2, num_classes=3, batchnorm=False,
                        dropout=0.0, init="random", weight_scale=1e-2, seed=0):
    """nn.MLP with the lab's initialisations: weights by `init`, biases zero."""
    tg.manual_seed(seed)                    # also seeds the dropout masks
    model = nn.MLP([input_dim, *hidden_dims, num_classes], batchnorm=batchnorm, dropout=dropout)
    for layer in linear_layers(model):
        if init == "random":
            nn.init.normal_(layer.weight, 0.0, weight_scale)
        elif init == "he":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        elif init == "zero":
            nn.init.zeros_(layer.weight)
        else:
            raise ValueError(f"fully_connected_net: init must be 'random', 'he' or 'zero', "
                             f"got {init!r}")
        nn.init.zeros_(layer.bias)
    return model


def objective(model, loss="softmax", reg=0.0):
    """loss_fn(scores, y) = data loss + 0.5 * reg * sum of squared weights (not biases)."""
    data_loss = {"softmax": cross_entropy, "svm": multi_margin_loss}[loss]
    weights = [layer.weight for layer in linear_layers(model)]

    def loss_fn(scores, y):
        total = data_loss(scores, y)
        if reg:
            total = total + 0.5 * reg * sum((w * w).sum() for w in weights)
        return total
    return loss_fn


def solve(model, loss_fn, train, val, epochs, lr=0.1, batch_size=32, verbose=False,
          restore_best=True):
    """The Solver: SGD with momentum, lr *= 0.95 after each epoch, best epoch restored."""
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    decay = optim.ExponentialLR(opt, gamma=0.95)
    return training.fit(model, loss_fn, opt, train, epochs=epochs, val=val, scheduler=decay,
                        batch_size=batch_size, seed=0, verbose=verbose,
                        print_every=max(1, epochs // 4), restore_best=restore_best)


def overfit_small_set(train, val):
    """Experiment 1: 50 training examples, he init, 2 hidden layers of 100, no reg."""
    print("1) overfitting 50 training examples (he init, 2 hidden layers of 100, no reg)")
    model = fully_connected_net([100, 100], init="he")
    small = (train[0][:50], train[1][:50])
    hist = solve(model, objective(model), small, val, epochs=60, batch_size=10,
                 verbose=True, restore_best=False)
    last_train = accuracy(model(tg.Tensor(small[0])), small[1])
    print(f"   training accuracy {last_train:.3f}, validation accuracy {hist.val_acc[-1]:.3f}: "
          f"it memorises 50 points but can't generalise from them")
    return {"overfit_train_acc": last_train, "overfit_val_acc": hist.val_acc[-1]}


def zero_init_stays_symmetric(train, val, epochs):
    """Experiment 2: zero weights give every hidden unit the same (zero) gradient, forever."""
    print("2) zero initialisation (same network, the full training set)")
    model = fully_connected_net([64, 64], init="zero")
    loss_fn = objective(model)
    loss_fn(model(tg.Tensor(train[0])), train[1]).backward()
    hidden_grads = [float(np.abs(layer.weight.grad.numpy()).max())
                    for layer in linear_layers(model)[:-1]]
    print(f"   largest |gradient| of the hidden weights at the start: {max(hidden_grads)}")
    model.zero_grad()
    hist = solve(model, loss_fn, train, val, epochs=epochs)
    rows = np.unique(model.fc1.weight.numpy().round(12), axis=0)
    print(f"   after {epochs} epochs: validation accuracy {max(hist.val_acc):.3f} (chance is "
          f"0.333), distinct rows of fc1.weight: {len(rows)} of 64 - the symmetry never breaks")
    return {"zero_init_val_acc": max(hist.val_acc), "zero_init_distinct_rows": len(rows),
            "zero_init_hidden_grad": max(hidden_grads)}


VARIANTS = {
    "random 1e-2, softmax": dict(net=dict(init="random"), loss="softmax"),
    "he, softmax": dict(net=dict(init="he"), loss="softmax"),
    "he, svm": dict(net=dict(init="he"), loss="svm"),
    "he, bn + dropout 0.1 + reg 1e-3": dict(net=dict(init="he", batchnorm=True, dropout=0.1),
                                           loss="softmax", reg=1e-3),
}


def compare_variants(train, val, epochs):
    """Experiment 3: init, loss and regularisation variants; returns ({name: val acc at the
    best epoch}, {name: History})."""
    print(f"3) variants on the full training set ({epochs} epochs, hidden [64, 64])")
    results, curves = {}, {}
    for name, spec in VARIANTS.items():
        model = fully_connected_net([64, 64], **spec["net"])
        hist = solve(model, objective(model, spec["loss"], spec.get("reg", 0.0)),
                     train, val, epochs=epochs)
        best = hist.best_epoch
        print(f"   {name:32s} best epoch {best:3d}: train acc {hist.train_acc[best - 1]:.3f}, "
              f"val acc {hist.val_acc[best - 1]:.3f}")
        results[f"val_acc[{name}]"] = hist.val_acc[best - 1]
        curves[name] = hist
    print("   (std 0.01 weights shrink the signal at every layer, so that net learns slowly;")
    print("   He's std sqrt(2 / fan_in) keeps the activations' scale through ReLU layers)")
    return results, curves


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    X, y = data.make_spirals(600, n_classes=3, noise=0.5, seed=0)
    Xtr, Xva, ytr, yva = data.train_test_split(X, y, test_size=0.2, seed=0)
    train, val = (Xtr, ytr), (Xva, yva)
    epochs = 15 if args.quick else 40
    results = overfit_small_set(train, val)
    results.update(zero_init_stays_symmetric(train, val, epochs))
    variant_accs, curves = compare_variants(train, val, epochs)
    results.update(variant_accs)

    plt = pyplot(args)
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        for name, hist in curves.items():
            ax.plot(range(1, len(hist) + 1), hist.val_acc, label=name)
        ax.set(title="validation accuracy", xlabel="epoch")
        ax.legend()
        save(fig, args, "fully_connected_net")
    return results


if __name__ == "__main__":
    main()
