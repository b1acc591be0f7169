"""W7, the character-level GPT of examples/char_gpt.py: one training step, batch 16, float32.

Token and position embeddings, pre-norm Blocks of causal self-attention
(F.scaled_dot_product_attention, is_causal=True) and a GELU MLP, a final
LayerNorm and a Linear head; cross-entropy and AdamW (weight decay on the
matrices). One step = zero_grad, forward, loss, backward, step, on the same
batches for every engine. The matrices are middle-sized (B*T = 512 rows of
64 to 256 features), so this sits between W1 (bookkeeping) and W2 (BLAS).

TorchGPT below is the same model written for PyTorch, with the same module and
parameter names, so the state dicts line up one to one.
"""
import sys
from pathlib import Path

import numpy as np

from benchmarks.engines import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CONFIG = dict(block_size=32, n_layer=3, n_head=4, n_embd=64)
LR, WEIGHT_DECAY = 1e-3, 0.1


def char_gpt():
    """examples/char_gpt.py as a module (examples/ is no package)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import char_gpt
    return char_gpt


def make_batches(n_batches, batch, block_size, vocab_size, seed=0):
    """(x, y) int64 pairs from a random stream of characters, y shifted by one."""
    rng = np.random.default_rng(seed)
    stream = rng.integers(0, vocab_size, size=n_batches * batch * block_size + 1)
    xs = stream[:-1].reshape(n_batches, batch, block_size)
    ys = stream[1:].reshape(n_batches, batch, block_size)
    return list(zip(xs, ys))


def tinygrad_model(config, seed=1):
    """The example's GPT, initialised from a seeded Generator; its weights are the reference."""
    import tinygrad_edu as tg
    gpt = char_gpt()
    return gpt.GPT(gpt.GPTConfig(**config), generator=tg.Generator().manual_seed(seed))


def state_arrays(model):
    """{name: a copy of the NumPy array} of a tinygrad_edu model's parameters."""
    return {name: p.numpy().copy() for name, p in model.named_parameters()}


if torch is not None:
    tnn, tF = torch.nn, torch.nn.functional

    class TorchCausalSelfAttention(tnn.Module):
        def __init__(self, c, dtype):
            super().__init__()
            self.c_attn = tnn.Linear(c["n_embd"], 3 * c["n_embd"], dtype=dtype)
            self.c_proj = tnn.Linear(c["n_embd"], c["n_embd"], dtype=dtype)
            self.n_head, self.n_embd = c["n_head"], c["n_embd"]

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
            q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
            y = tF.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class TorchBlock(tnn.Module):
        def __init__(self, c, dtype):
            super().__init__()
            self.ln_1 = tnn.LayerNorm(c["n_embd"], dtype=dtype)
            self.attn = TorchCausalSelfAttention(c, dtype)
            self.ln_2 = tnn.LayerNorm(c["n_embd"], dtype=dtype)
            self.mlp = tnn.Module()
            self.mlp.c_fc = tnn.Linear(c["n_embd"], 4 * c["n_embd"], dtype=dtype)
            self.mlp.gelu = tnn.GELU(approximate="tanh")
            self.mlp.c_proj = tnn.Linear(4 * c["n_embd"], c["n_embd"], dtype=dtype)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            m = self.mlp
            return x + m.c_proj(m.gelu(m.c_fc(self.ln_2(x))))

    class TorchGPT(tnn.Module):
        """examples/char_gpt.GPT in PyTorch: the same modules under the same names."""

        def __init__(self, c, dtype=torch.float32):
            super().__init__()
            self.block_size = c["block_size"]
            self.wte = tnn.Embedding(c["vocab_size"], c["n_embd"], dtype=dtype)
            self.wpe = tnn.Embedding(c["block_size"], c["n_embd"], dtype=dtype)
            self.h = tnn.ModuleList([TorchBlock(c, dtype) for _ in range(c["n_layer"])])
            self.ln_f = tnn.LayerNorm(c["n_embd"], dtype=dtype)
            self.lm_head = tnn.Linear(c["n_embd"], c["vocab_size"], bias=False, dtype=dtype)

        def forward(self, idx, targets):
            B, T = idx.size()
            x = self.wte(idx) + self.wpe(torch.arange(T))
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            return logits, tF.cross_entropy(logits.view(B * T, -1), targets.view(B * T))

        def configure_optimizer(self, lr, weight_decay, betas=(0.9, 0.99)):
            params = list(self.parameters())
            return torch.optim.AdamW(
                [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                 {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                lr=lr, betas=betas)


def torch_model(config, arrays, dtype):
    """TorchGPT holding `arrays` (a tinygrad_edu model's parameters, by name)."""
    model = TorchGPT(config, dtype)
    params = dict(model.named_parameters())
    if set(params) != set(arrays):
        raise ValueError(f"torch_model: parameter names differ: "
                         f"{sorted(set(params) ^ set(arrays))}")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(arrays[name]))
    return model


def training_step(model, batches, to_tensor, compile_with=None):
    """step() for either engine: zero_grad, forward, loss, backward and an AdamW step, on
    the batches in turn (to_tensor makes each array the engine's tensor). The batch is an
    argument of the inner train(x, y), so compile_with (tg.compile) can wrap it: a tensor
    picked from a list inside a compiled step would be a different one on every call."""
    opt = model.configure_optimizer(LR, WEIGHT_DECAY)
    data = [(to_tensor(x), to_tensor(y)) for x, y in batches]
    count = [0]

    def train(x, y):
        opt.zero_grad()
        _, loss = model(x, y)
        loss.backward()
        opt.step()
        return loss
    if compile_with is not None:
        train = compile_with(train)

    def step():
        x, y = data[count[0] % len(data)]
        count[0] += 1
        return train(x, y)
    if compile_with is not None:
        step.compiled = train
    return step


def tinygrad_step(model, batches):
    import tinygrad_edu as tg
    return training_step(model, batches, tg.tensor)


def compiled_step(model, batches):
    """tinygrad_step's train(x, y) through tg.compile (its first two calls trace)."""
    import tinygrad_edu as tg
    return training_step(model, batches, tg.tensor, compile_with=tg.compile)


def torch_step(model, batches):
    return training_step(model, batches, torch.from_numpy)


def make_steps(engines, batch=16, config=None, vocab_size=65, dtype=np.float32, n_batches=8,
               seed=0):
    """{engine: step()} for the same batches and the same initial weights."""
    config = dict(CONFIG if config is None else config, vocab_size=vocab_size)
    reference = tinygrad_model(dict(config, dtype=dtype), seed + 1)
    arrays = state_arrays(reference)
    batches = make_batches(n_batches, batch, config["block_size"], vocab_size, seed)
    steps = {}
    for name in engines:
        if name in ("tinygrad_edu", "tinygrad_edu compiled"):
            model = tinygrad_model(dict(config, dtype=dtype), seed + 1)
            build = tinygrad_step if name == "tinygrad_edu" else compiled_step
            steps[name] = build(model, batches)
        elif name == "torch":
            model = torch_model(config, arrays, {np.float32: torch.float32,
                                                 np.float64: torch.float64}[dtype])
            steps[name] = torch_step(model, batches)
        else:
            raise ValueError(f"W7: no engine {name!r} (tinygrad_edu, tinygrad_edu "
                             f"compiled, torch)")
    return steps


if __name__ == "__main__":   # a quick look: python -m benchmarks.w7_char_gpt
    from benchmarks.common import interleaved_medians
    from benchmarks.engines import available
    steps = make_steps(available(["tinygrad_edu", "torch"]))
    times = interleaved_medians(steps, calls=5, repeats=5)
    for name, t in times.items():
        print(f"{name:14s} {t * 1e3:8.2f} ms/step")
    if "torch" in times:
        print(f"ratio {times['tinygrad_edu'] / times['torch']:.2f}x torch")
