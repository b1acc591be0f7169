"""A deep 2-16-16-8-8-3 BatchNorm MLP trained with Adam, a NumPy lab reproduced exactly.

The classic NumPy lab this rebuilds trains the network with a hand-written
backward pass. Here the model is a composition of Tensor ops and autograd does
the backward; everything else follows the lab to the last detail, so the
printed log is the lab's own, to 4 decimals:

* data: three Gaussian clusters (cov 0.4 I) drawn with the legacy NumPy RNG
  (seed 42, three multivariate_normal calls, then one permutation), 80/20 split;
* init: NumPy seed 1, W_l ~ randn(n_in, n_out) * sqrt(2 / n_in) for hidden
  layers and * 0.01 for the output layer, zero biases;
* BatchNorm (LabBatchNorm below): batch mean and *biased* variance in
  training, running = 0.9 * running + 0.1 * batch for both statistics
  (PyTorch keeps the *unbiased* variance), eps 1e-5;
* Adam (LabAdam below): the lab bias-corrects twice. It divides m and v by
  (1 - beta^t) *and* scales the learning rate by sqrt(1 - beta2^t) / (1 - beta1^t),
  so its steps are 2-7x smaller than PyTorch's Adam's throughout the 200 epochs;
* one full-batch step per epoch; the log shows that step's training loss and
  the accuracies of the updated model in evaluation mode (running statistics).

At every epoch the autograd gradients are compared with a backward pass
written by hand in NumPy (hand_gradients below). Finally the same network is
trained with the library's nn.BatchNorm1d and optim.Adam.

    python examples/deep_batchnorm_mlp.py [--quick] [--plot] [--out DIR]
"""
import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.functional import cross_entropy

from example_utils import parse_args, pyplot, save, accuracy

DIMS = [2, 16, 16, 8, 8, 3]


def three_clusters(n_per_class=400, seed=42):
    """The lab's data: clusters at (-1, 0), (1, 0), (0, 1.5); returns X (3n, 2), labels (3n,)."""
    np.random.seed(seed)                       # the legacy global RNG, as the seed uses it
    cov = 0.4 * np.eye(2)
    centres = [(-1.0, 0.0), (1.0, 0.0), (0.0, 1.5)]
    X = np.concatenate([np.random.multivariate_normal(c, cov, size=n_per_class) for c in centres])
    labels = np.repeat(np.arange(3), n_per_class)
    order = np.random.permutation(len(labels))
    return X[order], labels[order]


class LabBatchNorm(nn.Module):
    """BatchNorm over axis 0 with the lab's conventions (compare nn.BatchNorm1d).

    training: y = weight * (x - mean_B) / sqrt(var_B + eps) + bias, var_B biased;
    the running statistics keep `keep` of their old value: r = keep r + (1 - keep) batch.
    eval: the running statistics replace the batch's.
    """

    def __init__(self, num_features, eps=1e-5, keep=0.9):
        super().__init__()
        self.weight = nn.Parameter(np.ones(num_features))
        self.bias = nn.Parameter(np.zeros(num_features))
        self.register_buffer("running_mean", tg.zeros(num_features))
        self.register_buffer("running_var", tg.ones(num_features))
        self.eps, self.keep = eps, keep

    def forward(self, x):
        if self.training:
            mean, var = x.mean(0), x.var(0, correction=0)
            # statistics, not part of the graph: .data is off the graph, as in PyTorch
            k = self.keep
            self.running_mean.data = k * self.running_mean.data + (1 - k) * mean.data
            self.running_var.data = k * self.running_var.data + (1 - k) * var.data
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / (var + self.eps).sqrt() + self.bias


class DeepBatchNormMLP(nn.Module):
    """Hidden layers Linear -> norm -> ReLU, then a Linear output layer giving 3 logits."""

    def __init__(self, dims=DIMS, norm=LabBatchNorm):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(i, o) for i, o in zip(dims[:-2], dims[1:-1])])
        self.norms = nn.ModuleList([norm(o) for o in dims[1:-1]])
        self.out = nn.Linear(dims[-2], dims[-1])

    def forward(self, x):
        for fc, norm in zip(self.fcs, self.norms):
            x = norm(fc(x)).relu()
        return self.out(x)

    def lab_init(self, seed=1):
        """The lab's weights: W (n_in, n_out) from the global RNG; ours are stored transposed."""
        np.random.seed(seed)
        layers = list(self.fcs) + [self.out]
        for k, layer in enumerate(layers):
            n_in, n_out = layer.in_features, layer.out_features
            scale = np.sqrt(2.0 / n_in) if k < len(layers) - 1 else 0.01
            layer.weight.data = (np.random.randn(n_in, n_out) * scale).T.copy()
            layer.bias.data = np.zeros(n_out)
        return self


class LabAdam(optim.Optimizer):
    """Adam as the lab writes it: bias correction applied twice (torch.optim.Adam: once).

    t += 1;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)            <- the correction, folded into lr ...
    p -= lr_t * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   <- ... and applied again
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    def init_state(self, p, group):
        return {"step": 0, "m": np.zeros_like(p.numpy()), "v": np.zeros_like(p.numpy())}

    def update(self, param, grad, group, state):
        (b1, b2), eps = group["betas"], group["eps"]
        state["step"] = t = state["step"] + 1
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        lr_t = group["lr"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        param -= lr_t * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)


def hand_gradients(model, X, labels):
    """The same network's gradients derived by hand, in plain NumPy (training mode).

    Forward per hidden layer: z = a W^T + b, zhat = (z - mu) / s with s = sqrt(var + eps),
    u = gamma zhat + beta, a = relu(u); logits = a W^T + b; loss = mean cross-entropy.
    Backward: d logits = (softmax - onehot) / N; through a Linear dW = dz^T a, db = sum dz,
    da = dz W; through ReLU du = da [u > 0]; through BatchNorm dgamma = sum du zhat,
    dbeta = sum du, dz = (gamma / s) (du - mean(du) - zhat mean(du zhat)).
    Returns {parameter name: gradient}, named as model.named_parameters().
    """
    fcs, norms = list(model.fcs), list(model.norms)
    a, saved = X, []
    for fc, bn in zip(fcs, norms):
        z = a @ fc.weight.numpy().T + fc.bias.numpy()
        s = np.sqrt(z.var(0) + bn.eps)
        zhat = (z - z.mean(0)) / s
        u = bn.weight.numpy() * zhat + bn.bias.numpy()
        saved.append((a, zhat, s, u))
        a = np.maximum(u, 0)
    logits = a @ model.out.weight.numpy().T + model.out.bias.numpy()
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = p - np.eye(logits.shape[1])[labels]
    dz /= len(labels)
    grads = {"out.weight": dz.T @ a, "out.bias": dz.sum(0)}
    da = dz @ model.out.weight.numpy()
    for k in reversed(range(len(fcs))):
        a_in, zhat, s, u = saved[k]
        du = da * (u > 0)
        grads[f"norms.{k}.weight"] = (du * zhat).sum(0)
        grads[f"norms.{k}.bias"] = du.sum(0)
        gamma = norms[k].weight.numpy()
        dz = gamma / s * (du - du.mean(0) - zhat * (du * zhat).mean(0))
        grads[f"fcs.{k}.weight"] = dz.T @ a_in
        grads[f"fcs.{k}.bias"] = dz.sum(0)
        da = dz @ fcs[k].weight.numpy()
    return grads


def train(model, opt, data, epochs, check_by_hand=False, every=20):
    """Full-batch training; returns the log rows (epoch, loss, train acc, val acc) and
    the largest |autograd - hand| gradient difference seen (when check_by_hand)."""
    Xtr, ytr, Xva, yva = data
    Xtr_t, Xva_t = tg.Tensor(Xtr), tg.Tensor(Xva)
    log, worst = [], 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        opt.zero_grad()
        loss = cross_entropy(model(Xtr_t), ytr)
        loss.backward()
        if check_by_hand:
            # the running statistics were already updated, but training mode does not use them
            by_hand = hand_gradients(model, Xtr, ytr)
            for name, p in model.named_parameters():
                worst = max(worst, float(np.abs(p.grad.numpy() - by_hand[name]).max()))
        opt.step()
        if epoch % every == 0 or epoch == 1:
            model.eval()
            with tg.no_grad():
                row = (epoch, loss.item(), accuracy(model(Xtr_t), ytr), accuracy(model(Xva_t), yva))
            log.append(row)
            print(f"  Epoch {row[0]:3d} | Loss: {row[1]:.4f} | Train Acc: {row[2]:.4f} | "
                  f"Val Acc: {row[3]:.4f}")
    return log, worst


def final_accuracies(model, data):
    """(train accuracy, validation accuracy) in evaluation mode: the lab's last line."""
    Xtr, ytr, Xva, yva = data
    model.eval()
    with tg.no_grad():
        return accuracy(model(tg.Tensor(Xtr)), ytr), accuracy(model(tg.Tensor(Xva)), yva)


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    X, labels = three_clusters()
    split = int(0.8 * len(labels))
    data = (X[:split], labels[:split], X[split:], labels[split:])
    epochs = 60 if args.quick else 200

    print(f"1) The lab's run: LabBatchNorm + LabAdam, lr 0.001, {epochs} full-batch epochs")
    model = DeepBatchNormMLP().lab_init()
    lab_log, worst = train(model, LabAdam(model.parameters(), lr=0.001), data, epochs,
                            check_by_hand=True)
    final = final_accuracies(model, data)
    print(f"  Final Train Acc: {final[0]:.4f} | Final Val Acc: {final[1]:.4f}")
    print(f"  autograd vs hand-written NumPy backward, all {epochs} epochs, all "
          f"{len(list(model.parameters()))} parameters: max |difference| = {worst:.1e}")

    print("2) nn.BatchNorm1d instead: the training forward is the same, so the losses are")
    print("   identical; only evaluation (running variance unbiased) can differ")
    model = DeepBatchNormMLP(norm=nn.BatchNorm1d).lab_init()
    bn_log, _ = train(model, LabAdam(model.parameters(), lr=0.001), data, epochs)

    print("3) nn.BatchNorm1d + optim.Adam (PyTorch's update: bias correction once)")
    model = DeepBatchNormMLP(norm=nn.BatchNorm1d).lab_init()
    adam_log, _ = train(model, optim.Adam(model.parameters(), lr=0.001), data, epochs)

    plt = pyplot(args)
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for name, log in (("the lab's (LabAdam)", lab_log), ("optim.Adam", adam_log)):
            rows = np.array(log)
            axes[0].plot(rows[:, 0], rows[:, 1], marker="o", label=name)
            axes[1].plot(rows[:, 0], rows[:, 3], marker="o", label=name)
        axes[0].set(title="training loss", xlabel="epoch")
        axes[1].set(title="validation accuracy", xlabel="epoch")
        axes[1].legend()
        save(fig, args, "deep_batchnorm_mlp")
    return {"lab_log": lab_log, "lab_final": final, "max_grad_diff": worst, "bn1d_log": bn_log,
            "adam_log": adam_log}


if __name__ == "__main__":
    main()
