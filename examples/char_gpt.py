"""A character-level GPT trained on Shakespeare, written as PyTorch code.

The decoder-only transformer of GPT-2, scaled down to run on a laptop CPU: each
character is looked up in a token embedding and its position in a position
embedding; the sum goes through a few Blocks, each

    x = x + attn(ln_1(x))     multi-head causal self-attention
    x = x + mlp(ln_2(x))      Linear(C, 4C) -> GELU -> Linear(4C, C)

then a final LayerNorm and a Linear to one logit per character. Attention is
F.scaled_dot_product_attention(q, k, v, is_causal=True): position t only sees
positions <= t, so one forward pass scores every next-character prediction of a
block at once. The loss is F.cross_entropy, the optimizer AdamW (weight decay on
the matrices only, as nanoGPT), the data the first 250 kB of tinyshakespeare
(`examples/data/`), 90 % for training and 10 % for validation.

A model that ignores the context can do no better than the characters' unigram
entropy (about 3.3 nats); the script prints it next to the model's train and
validation loss, then samples text one character at a time with tg.multinomial
from a seeded tg.Generator.

The model is written the way nanoGPT writes it: `tg` can be read as `torch`.
tests/test_example_gpt.py builds the same model in PyTorch, copies the weights
over, and checks that both take the same AdamW steps.

    python examples/char_gpt.py [--quick] [--plot] [--out DIR]
"""
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F
from tinygrad_edu import nn

from example_utils import parse_args, pyplot, save

SHAKESPEARE = Path(__file__).resolve().parent / "data" / "tinyshakespeare.txt"


# --- data --------------------------------------------------------------------------------

def load_text(path=SHAKESPEARE):
    return path.read_text(encoding="utf-8")


def vocabulary(text):
    """stoi, itos over the sorted characters of the text."""
    chars = sorted(set(text))
    return {ch: i for i, ch in enumerate(chars)}, dict(enumerate(chars))


def encode(text, stoi):
    return tg.tensor([stoi[ch] for ch in text])   # int64, as torch.tensor of ints


def decode(ids, itos):
    return "".join(itos[i] for i in ids)


def split(data, train_fraction=0.9):
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


def get_batch(data, block_size, batch_size, generator):
    """x, y of shape (batch_size, block_size): random windows of the text, y shifted by one.

    Row b, position t of y is the character that follows x[b, :t + 1].
    """
    ix = tg.randint(len(data) - block_size, (batch_size,), generator=generator).tolist()
    x = tg.stack([data[i:i + block_size] for i in ix])
    y = tg.stack([data[i + 1:i + 1 + block_size] for i in ix])
    return x, y


def unigram_entropy(data, vocab_size):
    """-sum_c p(c) log p(c) in nats: the best loss of a model that ignores the context."""
    # torch.bincount does not exist here: NumPy counts (a statistic, off the graph)
    counts = np.bincount(data.numpy(), minlength=vocab_size)
    p = counts[counts > 0] / len(data)
    return float(-(p * np.log(p)).sum())


# --- the model ---------------------------------------------------------------------------

@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 32     # characters of context
    n_layer: int = 3
    n_head: int = 4
    n_embd: int = 64
    dtype: type = tg.float32


class CausalSelfAttention(nn.Module):
    """n_head attention heads of size n_embd / n_head over the previous positions.

    x (B, T, C) -> q, k, v (B, nh, T, hs) from one Linear(C, 3C) -> per-head
    softmax(q k^T / sqrt(hs), masked causally) v -> heads side by side (B, T, C) ->
    Linear(C, C).
    """

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({config.n_embd}) must be "
                             f"divisible by n_head ({config.n_head})")
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, dtype=config.dtype)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, dtype=config.dtype)
        self.n_head, self.n_embd = config.n_head, config.n_embd

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)   # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, dtype=config.dtype)
        self.gelu = nn.GELU(approximate="tanh")   # GPT-2's GELU
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, dtype=config.dtype)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln_1(x)), then + mlp(ln_2(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, dtype=config.dtype)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, dtype=config.dtype)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


def init_weights(module, generator):
    """GPT-2's initialisation: weights N(0, 0.02^2), biases 0 (LayerNorm keeps 1 and 0)."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, 0.0, 0.02, generator)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


class GPT(nn.Module):
    """idx (B, T) int64 -> logits (B, T, vocab_size), and the mean cross-entropy against
    targets (B, T) when given."""

    def __init__(self, config, generator=None):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd, dtype=config.dtype)
        self.wpe = nn.Embedding(config.block_size, config.n_embd, dtype=config.dtype)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, dtype=config.dtype)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False,
                                 dtype=config.dtype)
        self.apply(lambda module: init_weights(module, generator))
        # GPT-2: the projections back into the residual stream start smaller, by
        # 1/sqrt(2 n_layer), so that the sum of 2 n_layer residual branches keeps its scale
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer), generator)

    def forward(self, idx, targets=None):
        B, T = idx.size()
        if T > self.config.block_size:
            raise ValueError(f"GPT: a sequence of {T} characters is longer than the block "
                             f"size {self.config.block_size}")
        pos = tg.arange(T)
        x = self.wte(idx) + self.wpe(pos)   # (B, T, C) + (T, C)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss

    def configure_optimizer(self, lr, weight_decay, betas=(0.9, 0.99)):
        """AdamW with weight decay on the matrices (Linear and Embedding weights) only:
        biases and LayerNorm gains are left alone, as nanoGPT does."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        return tg.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)

    def generate(self, idx, max_new_tokens, generator, temperature=1.0):
        """Extend idx (B, T) by max_new_tokens characters, each drawn from softmax(logits /
        temperature) of the last position, the context cropped to block_size."""
        with tg.no_grad():
            for _ in range(max_new_tokens):
                context = idx[:, -self.config.block_size:]
                logits, _ = self(context)
                probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
                nxt = tg.multinomial(probs, num_samples=1, generator=generator)
                idx = tg.cat([idx, nxt], dim=1)
        return idx


# --- training ----------------------------------------------------------------------------

def estimate_loss(model, data, generator, batches=10, batch_size=32):
    """The mean loss over `batches` random batches of a split, in evaluation mode."""
    model.eval()
    with tg.no_grad():
        losses = [model(*get_batch(data, model.config.block_size, batch_size, generator))[1]
                  .item() for _ in range(batches)]
    model.train()
    return sum(losses) / len(losses)


def train(model, optimizer, data, steps, generator, batch_size=32, lr=None, warmup=0,
          every=None):
    """AdamW steps on random batches, the learning rate decaying from lr to lr/10 along a
    cosine after `warmup` linear steps (lr=None keeps the optimizer's). Returns the log:
    (step, batch loss) every `every` steps and at the last."""
    every = every or max(steps // 10, 1)
    log = []
    for i in range(steps):
        if lr is not None:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(i, steps, lr, warmup)
        x, y = get_batch(data, model.config.block_size, batch_size, generator)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % every == 0 or i == steps - 1:
            log.append((i, loss.item()))
            print(f"  step {i:5d}/{steps}: batch loss {loss.item():.4f}")
    return log


def learning_rate(step, steps, lr, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(steps - warmup, 1)
    return lr / 10 + (lr - lr / 10) * 0.5 * (1 + math.cos(math.pi * progress))


# --- the run -----------------------------------------------------------------------------

FULL = dict(config=dict(block_size=64, n_layer=3, n_head=4, n_embd=64), steps=800,
            batch_size=32, lr=3e-3, warmup=100, sample=300)
QUICK = dict(config=dict(block_size=32, n_layer=2, n_head=4, n_embd=64), steps=200,
             batch_size=32, lr=3e-3, warmup=20, sample=200)


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0])
    run = QUICK if args.quick else FULL
    g = tg.Generator().manual_seed(1337)
    text = load_text()
    stoi, itos = vocabulary(text)
    train_data, val_data = split(encode(text, stoi))
    entropy = unigram_entropy(train_data, len(stoi))
    print(f"{len(text):,} characters of Shakespeare, a vocabulary of {len(stoi)}; "
          f"train/val {len(train_data):,}/{len(val_data):,}")
    print(f"  unigram entropy of the training characters: {entropy:.4f} nats "
          f"(the loss of a model that ignores the context)")

    config = GPTConfig(vocab_size=len(stoi), **run["config"])
    model = GPT(config, generator=g)
    optimizer = model.configure_optimizer(run["lr"], weight_decay=0.1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPT: {config.n_layer} layers, {config.n_head} heads, embedding {config.n_embd}, "
          f"context {config.block_size}, {n_params:,} parameters ({np.dtype(config.dtype)})")

    print(f"Training: {run['steps']} AdamW steps, batch {run['batch_size']}, lr {run['lr']:g} "
          f"(cosine to {run['lr'] / 10:g})")
    start = time.perf_counter()
    log = train(model, optimizer, train_data, run["steps"], g, run["batch_size"], run["lr"],
                run["warmup"])
    seconds = time.perf_counter() - start
    eval_g = tg.Generator().manual_seed(0)   # the same evaluation batches in every run
    losses = {"train": estimate_loss(model, train_data, eval_g),
              "val": estimate_loss(model, val_data, eval_g)}
    print(f"  {seconds:.1f} s; loss train {losses['train']:.4f}, val {losses['val']:.4f} "
          f"(unigram entropy {entropy:.4f})")

    print(f"Sample ({run['sample']} characters, after a newline):")
    model.eval()
    out = model.generate(tg.tensor([[stoi["\n"]]]), run["sample"], generator=g)
    sample = decode(out[0, 1:].tolist(), itos)
    print(sample)

    plt = pyplot(args)
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        steps_logged, batch_losses = zip(*log)
        ax.plot(steps_logged, batch_losses, marker="o", label="batch loss")
        ax.axhline(entropy, color="gray", linestyle="--", label="unigram entropy")
        ax.set(title="char GPT on Shakespeare", xlabel="step", ylabel="cross-entropy (nats)")
        ax.legend()
        save(fig, args, "char_gpt")
    return {"vocab_size": len(stoi), "unigram_entropy": entropy, "n_params": n_params,
            "log": log, "losses": losses, "sample": sample, "seconds": seconds}


if __name__ == "__main__":
    main()
