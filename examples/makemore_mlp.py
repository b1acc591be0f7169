"""A character-level MLP language model on names (makemore), and backprop by hand.

The model of Bengio et al. (2003), as the "makemore" lectures build it: each name
becomes training pairs (the previous 3 characters -> the next one), with '.'
marking both ends. Characters are looked up in an embedding table C (27 x 10);
the 3 embeddings are concatenated (30 numbers), go through a hidden layer of 200
tanh units with BatchNorm written out as tensor expressions, and a linear layer
gives 27 logits; the loss is F.cross_entropy. Training is minibatch SGD with a
step learning-rate decay; the split is 80/10/10 over shuffled names (seeded).

Then the "backprop ninja" exercise: for one batch the forward pass is written
out one small step at a time (emb, embcat, hprebn, bnmeani, ..., logprobs,
loss), every intermediate keeps its gradient (retain_grad), and each gradient is
derived again by hand, in tensor operations under no_grad, and compared:
exact / approximate / max |difference|, one line per tensor. Then the two
shortcuts: dlogits = (softmax - onehot) / n, and BatchNorm's backward as one
formula. Everything is float64, so "approximate" means a difference ~1e-16.

The code is written for the PyTorch API: `tg` can be read as `torch`. Our
Generator is not PyTorch's Mersenne Twister, so the numbers differ from a torch
run with the same seed; the losses reached are the same kind.

    python examples/makemore_mlp.py [--quick] [--plot] [--out DIR]
"""
import time
from pathlib import Path

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

from example_utils import parse_args, pyplot, save

NAMES = Path(__file__).resolve().parent / "data" / "names.txt"
BLOCK_SIZE = 3      # characters of context
N_EMBD = 10         # size of one character's embedding
N_HIDDEN = 200
BN_EPS = 1e-5


# --- data --------------------------------------------------------------------------------

def load_names(path=NAMES):
    return path.read_text().split()


def vocabulary(words):
    """stoi, itos: '.' is 0 (start and end of a name), then the letters in order."""
    chars = sorted(set("".join(words)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    stoi["."] = 0
    return stoi, {i: ch for ch, i in stoi.items()}


def build_dataset(words, stoi, block_size=BLOCK_SIZE):
    """X (N, block_size) int64: the context of each character; Y (N,): the character.

    "emma" gives ... -> e, ..e -> m, .em -> m, emm -> a, mma -> .
    """
    X, Y = [], []
    for word in words:
        context = [0] * block_size
        for ch in word + ".":
            X.append(context)
            Y.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return tg.tensor(X), tg.tensor(Y)


def split_words(words, generator):
    """80 / 10 / 10 of the names, shuffled with `generator` (one name never straddles)."""
    order = tg.randperm(len(words), generator=generator).tolist()
    shuffled = [words[i] for i in order]
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return shuffled[:n1], shuffled[n1:n2], shuffled[n2:]


# --- the model ---------------------------------------------------------------------------

def init_parameters(generator, vocab_size=27, n_embd=N_EMBD, n_hidden=N_HIDDEN,
                    block_size=BLOCK_SIZE):
    """Parameters as plain leaf tensors (no nn.Module: the lectures write them out).

    W1 is scaled by gain / sqrt(fan_in) (tanh's gain 5/3) so the hidden layer starts
    unsaturated; the output layer starts small so the first loss is near log(27).
    b1 is kept although BatchNorm subtracts the batch mean right after it (its
    gradient is exactly 0 up to rounding: one of the exercise's lessons). The small
    random b2, bngain and bnbias (instead of 0 and 1) keep any bug in a hand-derived
    gradient from hiding behind a zero.
    """
    fan_in = n_embd * block_size
    p = {
        "C": tg.randn((vocab_size, n_embd), generator=generator),
        "W1": tg.randn((fan_in, n_hidden), generator=generator) * (5 / 3) / fan_in ** 0.5,
        "b1": tg.randn(n_hidden, generator=generator) * 0.1,
        "W2": tg.randn((n_hidden, vocab_size), generator=generator) * 0.1,
        "b2": tg.randn(vocab_size, generator=generator) * 0.1,
        "bngain": tg.randn((1, n_hidden), generator=generator) * 0.1 + 1.0,
        "bnbias": tg.randn((1, n_hidden), generator=generator) * 0.1,
    }
    for t in p.values():
        t.requires_grad = True
    return p


def forward(p, X, running=None, training=True, momentum=0.001):
    """Logits (N, 27) of the contexts X (N, 3).

    BatchNorm: in training the batch's mean and unbiased variance (as the lectures,
    Bessel's correction; it also updates `running`, the statistics used at
    evaluation); in evaluation the running ones.
    """
    emb = p["C"][X]                                   # (N, 3, 10)
    hprebn = emb.view(emb.shape[0], -1) @ p["W1"] + p["b1"]
    if training:
        mean = hprebn.mean(0, keepdim=True)
        var = hprebn.var(0, keepdim=True, unbiased=True)
        if running is not None:
            with tg.no_grad():
                running["mean"] = (1 - momentum) * running["mean"] + momentum * mean
                running["var"] = (1 - momentum) * running["var"] + momentum * var
    else:
        mean, var = running["mean"], running["var"]
    hpreact = p["bngain"] * (hprebn - mean) / (var + BN_EPS).sqrt() + p["bnbias"]
    h = tg.tanh(hpreact)
    return h @ p["W2"] + p["b2"]


def new_running(n_hidden=N_HIDDEN):
    return {"mean": tg.zeros((1, n_hidden)), "var": tg.ones((1, n_hidden))}


def train(p, running, X, Y, steps, generator, batch_size=32, lr=0.1, decay_at=0.75,
          every=None):
    """Minibatch SGD; the learning rate drops 10x after `decay_at` of the steps.

    Returns the log: (step, minibatch loss) every `every` steps, and the last step.
    """
    every = every or max(steps // 10, 1)
    log = []
    for i in range(steps):
        ix = tg.randint(0, X.shape[0], (batch_size,), generator=generator)
        loss = F.cross_entropy(forward(p, X[ix], running), Y[ix])
        for t in p.values():
            t.grad = None
        loss.backward()
        step_lr = lr if i < decay_at * steps else lr / 10
        for t in p.values():
            t.data += -step_lr * t.grad   # the lectures' update line, as in PyTorch
        if i % every == 0 or i == steps - 1:
            log.append((i, loss.item()))
            print(f"  step {i:6d}/{steps}: minibatch loss {loss.item():.4f}  (lr {step_lr:g})")
    return log


def split_loss(p, running, X, Y):
    """The mean cross-entropy over a whole split, in evaluation mode."""
    with tg.no_grad():
        return F.cross_entropy(forward(p, X, running, training=False), Y).item()


def sample(p, running, itos, generator, count=10, block_size=BLOCK_SIZE):
    """Names drawn one character at a time from softmax(logits) until '.' comes out."""
    names = []
    with tg.no_grad():
        for _ in range(count):
            context, out = [0] * block_size, []
            while True:
                logits = forward(p, tg.tensor([context]), running, training=False)
                probs = F.softmax(logits, dim=1)
                ix = tg.multinomial(probs, num_samples=1, replacement=True,
                                    generator=generator).item()
                if ix == 0:
                    break
                out.append(itos[ix])
                context = context[1:] + [ix]
            names.append("".join(out))
    return names


# --- backprop ninja ----------------------------------------------------------------------

def forward_step_by_step(p, Xb, Yb):
    """The training forward pass in the smallest steps; returns (loss, {name: tensor}).

    Every intermediate calls retain_grad(), so after backward each holds d loss / d it.
    """
    n = Xb.shape[0]
    t = {}
    t["emb"] = p["C"][Xb]                                        # (n, 3, 10)
    t["embcat"] = t["emb"].view(n, -1)                           # (n, 30)
    t["hprebn"] = t["embcat"] @ p["W1"] + p["b1"]                # (n, 200)
    t["bnmeani"] = t["hprebn"].sum(0, keepdim=True) / n          # (1, 200)
    t["bndiff"] = t["hprebn"] - t["bnmeani"]
    t["bndiff2"] = t["bndiff"] ** 2
    t["bnvar"] = t["bndiff2"].sum(0, keepdim=True) / (n - 1)     # Bessel's correction
    t["bnvar_inv"] = (t["bnvar"] + BN_EPS) ** -0.5
    t["bnraw"] = t["bndiff"] * t["bnvar_inv"]
    t["hpreact"] = p["bngain"] * t["bnraw"] + p["bnbias"]
    t["h"] = tg.tanh(t["hpreact"])
    t["logits"] = t["h"] @ p["W2"] + p["b2"]                     # (n, 27)
    # subtracting the row max keeps exp finite; it changes nothing else
    t["logit_maxes"] = t["logits"].max(1, keepdim=True).values
    t["norm_logits"] = t["logits"] - t["logit_maxes"]
    t["counts"] = t["norm_logits"].exp()
    t["counts_sum"] = t["counts"].sum(1, keepdim=True)
    t["counts_sum_inv"] = t["counts_sum"] ** -1
    t["probs"] = t["counts"] * t["counts_sum_inv"]
    t["logprobs"] = t["probs"].log()
    loss = -t["logprobs"][range(n), Yb].mean()
    for tensor in t.values():
        tensor.retain_grad()
    loss.retain_grad()
    t["loss"] = loss
    return loss, t


def gradients_by_hand(p, t, Xb, Yb):
    """d loss / d every intermediate and parameter, derived on paper, chain rule backwards.

    Each line is the local derivative times the incoming gradient; where a tensor
    was broadcast in the forward pass its gradient is summed back, where it was
    used twice the two contributions are added.
    """
    n, vocab = t["logits"].shape
    d = {}
    with tg.no_grad():
        # loss = -mean_i logprobs[i, Y_i]: only the chosen entries, each with weight 1/n
        d["logprobs"] = -F.one_hot(Yb, num_classes=vocab) / n
        d["probs"] = d["logprobs"] / t["probs"]                        # d log x = 1/x
        # probs = counts * counts_sum_inv, the inverse broadcast along each row
        d["counts_sum_inv"] = (t["counts"] * d["probs"]).sum(1, keepdim=True)
        d["counts_sum"] = -t["counts_sum"] ** -2 * d["counts_sum_inv"]
        # counts feeds probs directly and through counts_sum (whose d/d counts is 1)
        d["counts"] = t["counts_sum_inv"] * d["probs"] + d["counts_sum"]
        d["norm_logits"] = t["counts"] * d["counts"]                   # d exp x = exp x
        d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
        # logits reach the loss directly and through the max, which picks one per row
        arg = t["logits"].max(1).indices
        d["logits"] = d["norm_logits"] + F.one_hot(arg, num_classes=vocab) * d["logit_maxes"]
        d["h"] = d["logits"] @ p["W2"].T
        d["W2"] = t["h"].T @ d["logits"]
        d["b2"] = d["logits"].sum(0)
        d["hpreact"] = (1 - t["h"] ** 2) * d["h"]                     # d tanh = 1 - tanh^2
        d["bngain"] = (t["bnraw"] * d["hpreact"]).sum(0, keepdim=True)
        d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
        d["bnraw"] = p["bngain"] * d["hpreact"]
        d["bnvar_inv"] = (t["bndiff"] * d["bnraw"]).sum(0, keepdim=True)
        d["bnvar"] = -0.5 * (t["bnvar"] + BN_EPS) ** -1.5 * d["bnvar_inv"]
        d["bndiff2"] = tg.ones_like(t["bndiff2"]) * d["bnvar"] / (n - 1)
        # bndiff feeds bnraw and bndiff2
        d["bndiff"] = t["bnvar_inv"] * d["bnraw"] + 2 * t["bndiff"] * d["bndiff2"]
        d["bnmeani"] = -d["bndiff"].sum(0, keepdim=True)
        # hprebn feeds bndiff and the mean (d mean / d x_i = 1/n)
        d["hprebn"] = d["bndiff"] + d["bnmeani"] / n
        d["embcat"] = d["hprebn"] @ p["W1"].T
        d["W1"] = t["embcat"].T @ d["hprebn"]
        d["b1"] = d["hprebn"].sum(0)
        d["emb"] = d["embcat"].view(t["emb"].shape)
        # C[Xb] copied rows of C: send each row's gradient back, adding repeats
        d["C"] = tg.zeros_like(p["C"]).index_add(0, Xb.view(-1), d["emb"].view(-1, N_EMBD))
    return d


def compare(name, by_hand, tensor):
    """One line of the table; returns max |by hand - autograd|."""
    exact = tg.all(by_hand == tensor.grad).item()
    approximate = tg.allclose(by_hand, tensor.grad)
    maxdiff = (by_hand - tensor.grad).abs().max().item()
    print(f"  {name:15s} | exact: {exact!s:5} | approximate: {approximate!s:5} | "
          f"maxdiff: {maxdiff:.1e}")
    return name, exact, approximate, maxdiff


def backprop_ninja(p, Xb, Yb):
    """The exercise on one batch; returns the table rows and the shortcuts' differences."""
    for t in p.values():
        t.grad = None
    loss, inter = forward_step_by_step(p, Xb, Yb)
    loss.backward()
    fast = F.cross_entropy(forward(p, Xb), Yb).item()
    print(f"  loss step by step {loss.item():.12f}, F.cross_entropy {fast:.12f}")
    d = gradients_by_hand(p, inter, Xb, Yb)
    order = list(reversed(list(inter)))[1:] + ["W2", "b2", "bngain", "bnbias", "W1", "b1", "C"]
    rows = [compare(name, d[name], inter[name] if name in inter else p[name]) for name in order]

    n = Xb.shape[0]
    with tg.no_grad():
        logits, h, bnraw = inter["logits"], inter["h"], inter["bnraw"]
        print("  shortcut: dlogits = (softmax(logits) - onehot(Y)) / n")
        dlogits = (F.softmax(logits, 1) - F.one_hot(Yb, num_classes=logits.shape[1])) / n
        shortcut = [compare("logits", dlogits, logits)]
        # BatchNorm in one formula: with xhat = bnraw, g = dhpreact and the unbiased variance,
        # dx = gain / (n sqrt(var + eps)) (n g - sum g - n / (n - 1) xhat sum(g xhat))
        print("  shortcut: BatchNorm's backward in one formula")
        dhpreact = (1 - h ** 2) * (dlogits @ p["W2"].T)
        dhprebn = p["bngain"] * inter["bnvar_inv"] / n * (
            n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
        shortcut.append(compare("hprebn", dhprebn, inter["hprebn"]))
    return rows, shortcut, abs(loss.item() - fast)


# --- the run -----------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    g = tg.Generator().manual_seed(2147483647)
    words = load_names()
    if args.quick:
        words = words[:1000]
    stoi, itos = vocabulary(words)
    train_words, dev_words, test_words = split_words(words, g)
    Xtr, Ytr = build_dataset(train_words, stoi)
    Xdev, Ydev = build_dataset(dev_words, stoi)
    Xte, Yte = build_dataset(test_words, stoi)
    print(f"{len(words)} names, vocabulary of {len(stoi)}: {''.join(itos[i] for i in range(len(itos)))}")
    print(f"  train/dev/test names {len(train_words)}/{len(dev_words)}/{len(test_words)}, "
          f"examples {Xtr.shape[0]}/{Xdev.shape[0]}/{Xte.shape[0]}")

    p = init_parameters(g, vocab_size=len(stoi))
    print(f"  {sum(t.numel() for t in p.values())} parameters")

    print("1) Backprop ninja: one batch of 32, every gradient derived by hand")
    ix = tg.randint(0, Xtr.shape[0], (32,), generator=g)
    rows, shortcut, loss_gap = backprop_ninja(p, Xtr[ix], Ytr[ix])
    ninja_max = max(r[3] for r in rows + shortcut)
    print(f"  largest difference over {len(rows) + len(shortcut)} tensors: {ninja_max:.1e}")

    steps = 300 if args.quick else 30000
    print(f"2) Training: {steps} steps of minibatch SGD, batch 32, lr 0.1 then 0.01")
    running = new_running()
    start = time.perf_counter()
    log = train(p, running, Xtr, Ytr, steps, g)
    seconds = time.perf_counter() - start
    losses = {name: split_loss(p, running, X, Y)
              for name, X, Y in (("train", Xtr, Ytr), ("dev", Xdev, Ydev), ("test", Xte, Yte))}
    print(f"  {seconds:.1f} s; final loss train {losses['train']:.4f}, dev {losses['dev']:.4f}, "
          f"test {losses['test']:.4f}")

    print("3) Sampled names")
    names = sample(p, running, itos, g, count=5 if args.quick else 20)
    print("  " + " ".join(names))

    plt = pyplot(args)
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        steps_logged, batch_losses = zip(*log)
        ax.plot(steps_logged, batch_losses, marker="o")
        ax.set(title="minibatch loss", xlabel="step", ylabel="cross-entropy")
        save(fig, args, "makemore_mlp")
    return {"vocab": "".join(itos[i] for i in range(len(itos))), "n_words": len(words),
            "splits": (len(train_words), len(dev_words), len(test_words)),
            "ninja_rows": rows, "shortcut_rows": shortcut, "ninja_max_diff": ninja_max,
            "ninja_loss_gap": loss_gap, "log": log, "losses": losses, "names": names,
            "seconds": seconds}


if __name__ == "__main__":
    main()
