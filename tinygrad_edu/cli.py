"""`tinygrad-edu` / `python -m tinygrad_edu`: the demo and friends."""
import argparse
import sys

import numpy as np


def demo(args):
    """Train a 2-16-2 MLP written as plain tensor expressions, then check its gradients."""
    import tinygrad_edu as tg
    from tinygrad_edu.functional import cross_entropy

    rng = np.random.default_rng(args.seed)
    n = 200
    t = rng.uniform(0, np.pi, n)
    X = np.concatenate([np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)]])
    X += 0.1 * rng.standard_normal(X.shape)
    y = np.repeat([0, 1], n)

    W1 = tg.Tensor(rng.standard_normal((2, 16)) * np.sqrt(2 / 2), requires_grad=True, name="W1")
    b1 = tg.zeros(16, requires_grad=True)
    W2 = tg.Tensor(rng.standard_normal((16, 2)) * np.sqrt(1 / 16), requires_grad=True, name="W2")
    b2 = tg.zeros(2, requires_grad=True)
    params = [W1, b1, W2, b2]

    def loss_fn(W1, b1, W2, b2):
        return cross_entropy((tg.Tensor(X) @ W1 + b1).tanh() @ W2 + b2, y)

    print("tinygrad_edu demo: a 2-16-2 tanh MLP on two moons, trained with plain tensor expressions")
    for step in range(args.steps + 1):
        loss = loss_fn(*params)
        for p in params:
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in params:
                p.data -= args.lr * p.grad.data
        if step % (args.steps // 5) == 0:
            print(f"  step {step:4d}  loss {loss.item():.4f}")
    logits = (tg.Tensor(X) @ W1 + b1).tanh() @ W2 + b2
    print(f"  train accuracy {np.mean(logits.argmax(1).numpy() == y):.1%}")

    small = [tg.Tensor(p.data, requires_grad=True) for p in params]
    ok = tg.gradcheck(lambda W1, b1, W2, b2: cross_entropy(
        (tg.Tensor(X[:8]) @ W1 + b1).tanh() @ W2 + b2, y[:8]), small)
    print(f"  gradcheck of the loss against finite differences: {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tinygrad-edu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train a small model and check its gradients")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
