"""examples/char_gpt.py: the data helpers, a tiny GPT that trains and samples in a few
seconds, causality, gradcheck, and (with torch installed) the same GPT in PyTorch from the
same weights: equal gradients after the first backward and equal losses over AdamW steps.
Also F.linear on batched input (the batch axes folded into one product) against PyTorch."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import w7_char_gpt  # noqa: E402

cg = w7_char_gpt.char_gpt()
TINY = dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def tiny_model(seed=0, dtype=tg.float64, **config):
    config = dict(TINY, **config, dtype=dtype)
    return cg.GPT(cg.GPTConfig(**config), generator=tg.Generator().manual_seed(seed))


def random_ids(rng, shape, vocab=TINY["vocab_size"]):
    return tg.tensor(rng.integers(0, vocab, size=shape))


# --- data --------------------------------------------------------------------------------

def test_vocabulary_encode_decode_round_trip():
    text = cg.load_text()
    stoi, itos = cg.vocabulary(text)
    assert len(stoi) == 62 and itos[0] == "\n" and stoi["a"] < stoi["z"]
    ids = cg.encode(text[:500], stoi)
    assert ids.dtype == np.int64 and cg.decode(ids.tolist(), itos) == text[:500]


def test_get_batch_targets_are_the_next_characters():
    data = tg.arange(100)
    x, y = cg.get_batch(data, 8, 5, tg.Generator().manual_seed(3))
    assert x.shape == y.shape == (5, 8) and x.dtype == np.int64
    assert tg.equal(y, x + 1)   # data[i] = i: the next character is one more


def test_unigram_entropy():
    data = tg.tensor([0, 0, 1, 3])   # p = 1/2, 1/4, 0, 1/4
    expected = -(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25))
    assert cg.unigram_entropy(data, 4) == pytest.approx(expected, rel=1e-15)
    assert cg.unigram_entropy(tg.tensor([2, 2, 2]), 5) == 0.0


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    lrs = [cg.learning_rate(i, 100, 1.0, 10) for i in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[10] == pytest.approx(1.0) and all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(0.1, abs=1e-3)


# --- the model ---------------------------------------------------------------------------

def test_shapes_parameter_names_and_loss_at_init():
    model = tiny_model()
    idx = random_ids(np.random.default_rng(0), (3, 8))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 8, 11) and logits.dtype == np.float64
    # small initial weights: the first loss is close to log(vocab_size)
    assert loss.item() == pytest.approx(math.log(11), abs=0.05)
    names = [n for n, _ in model.named_parameters()]
    assert names[:2] == ["wte.weight", "wpe.weight"] and names[-1] == "lm_head.weight"
    assert "h.1.attn.c_attn.weight" in names and "h.0.mlp.c_fc.bias" in names
    assert model(idx)[1] is None


def test_float32_model_computes_in_float32():
    model = tiny_model(dtype=tg.float32)
    logits, loss = model(*([random_ids(np.random.default_rng(1), (2, 5))] * 2))
    assert logits.dtype == np.float32 and loss.dtype == np.float32


def test_attention_is_causal():
    """Changing the last character changes no logits of the positions before it."""
    model = tiny_model()
    idx = random_ids(np.random.default_rng(2), (2, 8))
    changed = idx.clone()
    changed[:, -1] = (idx[:, -1] + 1) % 11
    a, _ = model(idx)
    b, _ = model(changed)
    assert tg.equal(a[:, :-1], b[:, :-1])
    assert not tg.allclose(a[:, -1], b[:, -1])


def test_bad_configurations_and_inputs_are_refused():
    with pytest.raises(ValueError, match=r"n_embd \(10\) must be divisible by n_head \(4\)"):
        tiny_model(n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="a sequence of 9 characters is longer than the "
                                         "block size 8"):
        tiny_model()(random_ids(np.random.default_rng(0), (1, 9)))


def test_weight_decay_only_on_matrices():
    model = tiny_model()
    decay, no_decay = model.configure_optimizer(1e-3, 0.1).param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_gradcheck_and_gradgradcheck_of_a_block():
    config = cg.GPTConfig(**dict(TINY, n_embd=4, n_head=2, dtype=tg.float64))
    block = cg.Block(config)
    rng = np.random.default_rng(4)
    for p in block.parameters():   # away from LayerNorm's 1 and 0, so every term shows
        p.data = p.numpy() + 0.3 * rng.standard_normal(p.shape)
    x = tg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    assert tg.gradcheck(block, [x])
    assert tg.gradgradcheck(block, [x])


# --- training and sampling: the reduced --quick path --------------------------------------

def test_a_tiny_gpt_learns_shakespeare_and_samples(monkeypatch, capsys):
    """main(--quick) with a tinier run: the loss falls, text comes out, runs repeat exactly."""
    run = dict(config=dict(block_size=16, n_layer=1, n_head=2, n_embd=32), steps=60,
               batch_size=16, lr=1e-2, warmup=5, sample=80)
    monkeypatch.setattr(cg, "QUICK", run)
    out = cg.main(["--quick"])
    assert out["vocab_size"] == 62
    assert out["unigram_entropy"] == pytest.approx(3.3045, abs=1e-4)
    first, last = out["log"][0][1], out["log"][-1][1]
    assert first == pytest.approx(math.log(62), abs=0.1)
    assert last < out["unigram_entropy"] < first   # beats ignoring the context
    assert out["losses"]["val"] < out["unigram_entropy"]
    assert len(out["sample"]) == 80 and set(out["sample"]) <= set(cg.load_text())
    printed = capsys.readouterr().out
    assert "unigram entropy of the training characters: 3.3045" in printed
    assert out["sample"] in printed
    assert cg.main(["--quick"])["sample"] == out["sample"]   # seeded end to end


def test_generate_extends_by_max_new_tokens_and_follows_the_generator():
    model = tiny_model()
    start = tg.tensor([[1, 2], [3, 4]])
    a = model.generate(start, 12, tg.Generator().manual_seed(7))
    b = model.generate(start, 12, tg.Generator().manual_seed(7))
    assert a.shape == (2, 14) and a.dtype == np.int64 and tg.equal(a, b)
    assert tg.equal(a[:, :2], start)
    assert int(a.max()) < 11 and int(a.min()) >= 0


def test_generate_at_a_tiny_temperature_is_greedy():
    """A tiny temperature samples the argmax of the logits."""
    model = tiny_model()
    start = tg.tensor([[5]])
    out = model.generate(start, 1, tg.Generator().manual_seed(0), temperature=1e-6)
    logits, _ = model(start)
    assert out[0, 1].item() == logits[0, -1].argmax().item()


# --- against PyTorch ---------------------------------------------------------------------

def torch_twin(model):
    torch = pytest.importorskip("torch")
    config = dict(TINY, **{k: getattr(model.config, k) for k in TINY})
    twin = w7_char_gpt.torch_model(config, w7_char_gpt.state_arrays(model), torch.float64)
    return torch, twin


def test_same_gradients_as_pytorch_after_the_first_backward():
    model = tiny_model(seed=3)
    torch, twin = torch_twin(model)
    rng = np.random.default_rng(6)
    x, y = random_ids(rng, (4, 8)), random_ids(rng, (4, 8))
    _, loss = model(x, y)
    _, t_loss = twin(torch.from_numpy(x.numpy()), torch.from_numpy(y.numpy()))
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    loss.backward()
    t_loss.backward()
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-13, err_msg=name)


def test_same_losses_as_pytorch_over_adamw_steps():
    model = tiny_model(seed=4)
    torch, twin = torch_twin(model)
    batches = w7_char_gpt.make_batches(1, 4, 8, 11, seed=7)   # one batch, repeated
    ours = w7_char_gpt.tinygrad_step(model, batches)
    theirs = w7_char_gpt.torch_step(twin, batches)
    losses = [(ours().item(), theirs().item()) for _ in range(6)]
    for i, (a, b) in enumerate(losses):
        assert a == pytest.approx(b, rel=1e-6, abs=0), f"step {i}"
    assert losses[-1][0] < losses[0][0]
    mine = dict(model.named_parameters())
    for name, p in twin.named_parameters():   # and the weights they arrived at
        np.testing.assert_allclose(mine[name].numpy(), p.detach().numpy(), rtol=1e-6,
                                   atol=1e-9, err_msg=name)


# --- F.linear on batched input -----------------------------------------------------------

@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5), (2, 1, 3, 5), (0, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch_for_any_batch_shape(shape, bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x = tg.tensor(rng.standard_normal(shape), requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True) if bias else None
    tx, tw = (torch.tensor(t.numpy(), requires_grad=True) for t in (x, w))
    tb = torch.tensor(b.numpy(), requires_grad=True) if bias else None
    y, ty = F.linear(x, w, b), torch.nn.functional.linear(tx, tw, tb)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    v = rng.standard_normal(y.shape)
    (y * v).sum().backward()
    (ty * torch.tensor(v)).sum().backward()
    for ours, theirs in ((x, tx), (w, tw)) + (((b, tb),) if bias else ()):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12,
                                   atol=1e-14)


def test_linear_on_batched_input_gradchecks():
    rng = np.random.default_rng(9)
    x, w, b = (tg.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3, 4), (5, 4), (5,)))
    assert tg.gradcheck(F.linear, [x, w, b])
    assert tg.gradgradcheck(F.linear, [x, w, b])


def test_linear_with_mismatched_features_names_the_shapes():
    x, w = tg.zeros((2, 3, 4)), tg.zeros((5, 6))
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 3, 4\) has 4 features, "
                                         r"weight of shape \(5, 6\) expects 6"):
        F.linear(x, w)
