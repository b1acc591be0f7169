"""tg.compile covers everything we have: every layer, loss, optimizer and LR scheduler.

Each case runs the same seeded training step eagerly and compiled (warnings are errors, so
a fallback to eager fails the case), asserts that a Program was really replayed, and
compares every step's returned tensors, .grad, state_dict (parameters and buffers) and
the optimizer's state bit for bit (np.testing.assert_array_equal: the replay makes the
same NumPy calls in the same order as eager). The tables enumerate nn, nn.functional
and optim, so a layer, loss, optimizer or scheduler added later without a case fails.
"""
import inspect
import math
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
from tinygrad_edu.optim import lr_scheduler


# --- the helper -----------------------------------------------------------------------

class Fn(nn.Module):
    """A function as a module, for functional calls (F.max_pool2d(..., return_indices))."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


def inputs(kind, n, seed=1):
    """n different batches (x, y) of one kind of input."""
    rng = np.random.default_rng(seed)
    shapes = {"vec": (8, 4), "seq": (4, 2, 9), "img": (3, 2, 7, 7), "att": (5, 3, 8),
              "att_bf": (3, 5, 8)}
    out = []
    for _ in range(n):
        if kind == "tokens":
            x = tg.tensor(rng.integers(0, 10, (4, 5)))
        else:
            x = tg.tensor(rng.normal(size=shapes[kind]) * 2)
        out.append((x, tg.tensor(rng.integers(0, 3, 8))))
    return out


def as_tuple(out):
    return tuple(o for o in (out if isinstance(out, tuple) else (out,)) if o is not None)


def square_loss(out, y):
    return ((out - 0.3) ** 2).mean()


def make_step(model, opt, loss_fn, inside=None):
    """The training step: forward, loss, backward, optimizer step; returns (loss, outputs)."""
    def step(x, y):
        opt.zero_grad()
        outs = as_tuple(model(x))
        loss = loss_fn(outs[0], y)
        loss.backward()
        if inside is not None:
            inside(model, opt)
        opt.step()
        return (loss,) + outs
    return step


def snapshot(model, opt, returned):
    """Copies of everything a step changes or returns."""
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    state = {k: np.array(v.numpy() if isinstance(v, tg.Tensor) else v)
             for k, v in model.state_dict().items()}
    opt_state = [{k: np.array(v) for k, v in opt.state.get(p, {}).items()
                  if not k.startswith("_")} for p in model.parameters()]
    hyper = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
    outs = [t.numpy().copy() for t in as_tuple(returned)]
    return outs, grads, state, opt_state, hyper


def run_case(make_model, kind, loss_fn=square_loss, make_opt=None, steps=4, between=None,
             inside=None, compiled=True):
    """Snapshots of `steps` steps on different batches; between(opt, sched_state, loss) runs
    after each call, outside the step (a scheduler)."""
    tg.manual_seed(0)
    model = make_model()
    opt = (make_opt or (lambda ps: tg.optim.SGD(ps, lr=0.05)))(model.parameters())
    after = between(opt) if between is not None else None
    step = make_step(model, opt, loss_fn, inside)
    fn = tg.compile(step) if compiled else step
    shots = []
    for x, y in inputs(kind, steps):
        returned = fn(x, y)
        shots.append(snapshot(model, opt, returned))
        if after is not None:
            after(returned[0])
    return shots, fn


def assert_same(eager, compiled):
    for i, (a, b) in enumerate(zip(eager, compiled)):
        (oa, ga, sa, pa, ha), (ob, gb, sb, pb, hb) = a, b
        assert len(oa) == len(ob)
        for k, (u, v) in enumerate(zip(oa, ob)):
            np.testing.assert_array_equal(u, v, err_msg=f"step {i}: returned value {k}")
        for k, (u, v) in enumerate(zip(ga, gb)):
            assert (u is None) == (v is None), f"step {i}: .grad of parameter {k}"
            if u is not None:
                np.testing.assert_array_equal(u, v, err_msg=f"step {i}: .grad of parameter {k}")
        assert sa.keys() == sb.keys()
        for k in sa:
            np.testing.assert_array_equal(sa[k], sb[k], err_msg=f"step {i}: {k}")
        for k, (u, v) in enumerate(zip(pa, pb)):
            assert u.keys() == v.keys()
            for name in u:
                np.testing.assert_array_equal(u[name], v[name],
                                              err_msg=f"step {i}: optimizer {name} of {k}")
        assert ha == hb, f"step {i}: hyperparameters"


def check(make_model, kind, loss_fn=square_loss, make_opt=None, steps=4, between=None,
          inside=None):
    """The case eagerly and compiled: equal at every step, and really replayed."""
    eager, _ = run_case(make_model, kind, loss_fn, make_opt, steps, between, inside, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a fallback to eager would hide a broken compile
        compiled, fn = run_case(make_model, kind, loss_fn, make_opt, steps, between, inside)
    assert any(type(e).__name__ == "Program" for e in fn.cache.values()), "never replayed"
    assert_same(eager, compiled)


def seq(make):
    return lambda: nn.Sequential(make())


def lin(*after):
    """Linear(4, 6) then the layers made by `after` (so parameters get gradients)."""
    return lambda: nn.Sequential(nn.Linear(4, 6), *(a() for a in after))


def conv1(*after):
    return lambda: nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), *(a() for a in after))


def conv2(*after):
    return lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), *(a() for a in after))


def evaluating(make):
    def made():
        model = make()
        model.train()
        for x, _ in inputs("img" if "2d" in type(model[1]).__name__ else "vec", 2, seed=9):
            model(x)   # running statistics away from their initial values
        return model.eval()
    return made


class Attention(nn.Module):
    """Self-attention, a Linear after it (its weights are returned too when asked for)."""

    def __init__(self, mask=None, padding=None, batch_first=False, dropout=0.0, **kwargs):
        super().__init__()
        self.att = nn.MultiheadAttention(8, 2, dropout=dropout, batch_first=batch_first)
        self.out = nn.Linear(8, 3)
        self.mask, self.padding, self.kwargs = mask, padding, kwargs

    def forward(self, x):
        y, weights = self.att(x, x, x, attn_mask=self.mask, key_padding_mask=self.padding,
                              **self.kwargs)
        return self.out(y), weights


class Encoder(nn.Module):
    def __init__(self, mask=None, is_causal=False, **kwargs):
        super().__init__()
        self.enc = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kwargs)
        self.mask, self.is_causal = mask, is_causal

    def forward(self, x):
        return self.enc(x, src_mask=self.mask, is_causal=self.is_causal)


class WithIndices(nn.Module):
    """A pool with return_indices after a Conv: (pooled, indices)."""

    def __init__(self, conv, pool):
        super().__init__()
        self.conv, self.pool = conv, pool

    def forward(self, x):
        return self.pool(self.conv(x))


CAUSAL = tg.tensor(np.triu(np.ones((5, 5), dtype=bool), 1))
FLOAT_MASK = tg.tensor(np.random.default_rng(5).normal(size=(5, 5)))
KEY_PADDING = tg.tensor(np.array([[False] * 4 + [True], [False] * 5, [False] * 3 + [True] * 2]))


# --- the layers: every nn module class but containers and losses ------------------------

LAYERS = {
    "Linear": [(seq(lambda: nn.Linear(4, 5)), "vec"), (seq(lambda: nn.Linear(4, 5, bias=False)), "vec")],
    "BatchNorm1d": [(lin(lambda: nn.BatchNorm1d(6)), "vec"),
                    (lin(lambda: nn.BatchNorm1d(6, affine=False, momentum=0.3)), "vec"),
                    (conv1(lambda: nn.BatchNorm1d(4)), "seq"),
                    (evaluating(lin(lambda: nn.BatchNorm1d(6))), "vec")],
    "BatchNorm2d": [(conv2(lambda: nn.BatchNorm2d(4)), "img"),
                    (evaluating(conv2(lambda: nn.BatchNorm2d(4))), "img")],
    "LayerNorm": [(lin(lambda: nn.LayerNorm(6)), "vec"),
                  (lin(lambda: nn.LayerNorm(6, elementwise_affine=False)), "vec"),
                  (lin(lambda: nn.LayerNorm(6, bias=False)), "vec"),
                  (conv2(lambda: nn.LayerNorm((7, 7))), "img")],
    "Embedding": [(lambda: nn.Sequential(nn.Embedding(10, 3), nn.Linear(3, 2)), "tokens"),
                  (lambda: nn.Sequential(nn.Embedding(10, 3, padding_idx=0), nn.Linear(3, 2)),
                   "tokens")],
    "Dropout": [(lin(lambda: nn.Dropout(0.3)), "vec")],
    "Dropout2d": [(conv2(lambda: nn.Dropout2d(0.3)), "img")],
    "ReLU": [(lin(nn.ReLU), "vec")],
    "Sigmoid": [(lin(nn.Sigmoid), "vec")],
    "Tanh": [(lin(nn.Tanh), "vec")],
    "LeakyReLU": [(lin(lambda: nn.LeakyReLU(0.2)), "vec")],
    "GELU": [(lin(nn.GELU), "vec"), (lin(lambda: nn.GELU("tanh")), "vec")],
    "SiLU": [(lin(nn.SiLU), "vec")],
    "Mish": [(lin(nn.Mish), "vec")],
    "ELU": [(lin(lambda: nn.ELU(0.7)), "vec")],
    "SELU": [(lin(nn.SELU), "vec")],
    "Softplus": [(lin(lambda: nn.Softplus(beta=2.0, threshold=1.5)), "vec")],
    "Hardtanh": [(lin(lambda: nn.Hardtanh(-0.5, 0.8)), "vec")],
    "ReLU6": [(lin(nn.ReLU6), "vec")],
    "Hardswish": [(lin(nn.Hardswish), "vec")],
    "Softmax": [(lin(lambda: nn.Softmax(dim=1)), "vec")],
    "LogSoftmax": [(lin(lambda: nn.LogSoftmax(dim=1)), "vec")],
    "Identity": [(lin(nn.Identity), "vec")],
    "Flatten": [(conv2(nn.Flatten), "img"), (conv2(lambda: nn.Flatten(2)), "img")],
    "Unflatten": [(lin(lambda: nn.Unflatten(1, (2, 3))), "vec")],
    "Conv1d": [(seq(lambda: nn.Conv1d(2, 4, 3)), "seq"),
               (seq(lambda: nn.Conv1d(2, 4, 3, stride=2, padding=2, dilation=2, groups=2)), "seq"),
               (seq(lambda: nn.Conv1d(2, 4, 3, padding="same", bias=False)), "seq")],
    "Conv2d": [(seq(lambda: nn.Conv2d(2, 4, 3)), "img"),
               (seq(lambda: nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                              groups=2)), "img"),
               (seq(lambda: nn.Conv2d(2, 2, 3, padding="same", groups=2)), "img")],
    "ConvTranspose1d": [(seq(lambda: nn.ConvTranspose1d(2, 4, 3)), "seq"),
                        (seq(lambda: nn.ConvTranspose1d(2, 4, 3, stride=2, padding=1, output_padding=1,
                                                groups=2, dilation=1)), "seq")],
    "ConvTranspose2d": [(seq(lambda: nn.ConvTranspose2d(2, 4, 3)), "img"),
                        (seq(lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1,
                                                groups=2, dilation=2)), "img")],
    "MaxPool1d": [(conv1(lambda: nn.MaxPool1d(2)), "seq"),
                  (conv1(lambda: nn.MaxPool1d(3, stride=2, padding=1, dilation=1,
                                              ceil_mode=True)), "seq"),
                  (lambda: WithIndices(nn.Conv1d(2, 3, 2), nn.MaxPool1d(2, return_indices=True)),
                   "seq"),
                  (conv1(lambda: Fn(lambda x: F.max_pool1d(x, 2, 2, 1, 1, True, True))), "seq")],
    "MaxPool2d": [(conv2(lambda: nn.MaxPool2d(2)), "img"),
                  (conv2(lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=2,
                                              ceil_mode=True)), "img"),
                  (lambda: WithIndices(nn.Conv2d(2, 3, 2), nn.MaxPool2d(2, return_indices=True)),
                   "img"),
                  (conv2(lambda: Fn(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                           return_indices=True))), "img")],
    "AvgPool1d": [(conv1(lambda: nn.AvgPool1d(2)), "seq"),
                  (conv1(lambda: nn.AvgPool1d(3, 2, 1, ceil_mode=True,
                                              count_include_pad=False)), "seq"),
                  (conv1(lambda: Fn(lambda x: F.avg_pool1d(x, 3, 2, 1, True, True))), "seq")],
    "AvgPool2d": [(conv2(lambda: nn.AvgPool2d(2)), "img"),
                  (conv2(lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True,
                                              count_include_pad=False)), "img"),
                  (conv2(lambda: nn.AvgPool2d(3, 2, 1, divisor_override=4)), "img"),
                  (conv2(lambda: Fn(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False))), "img")],
    "AdaptiveAvgPool2d": [(conv2(lambda: nn.AdaptiveAvgPool2d((3, 2))), "img"),
                          (conv2(lambda: nn.AdaptiveAvgPool2d(1)), "img")],
    "MultiheadAttention": [
        (lambda: Attention(), "att"),
        (lambda: Attention(average_attn_weights=False), "att"),
        (lambda: Attention(mask=CAUSAL, need_weights=False, is_causal=True), "att"),
        (lambda: Attention(mask=FLOAT_MASK), "att"),
        (lambda: Attention(padding=KEY_PADDING, batch_first=True), "att_bf"),
        (lambda: Attention(mask=CAUSAL, padding=KEY_PADDING, batch_first=True,
                           need_weights=False), "att_bf"),
        (lambda: Attention(dropout=0.3), "att")],
    "TransformerEncoderLayer": [
        (lambda: Encoder(dropout=0.0), "att"),
        (lambda: Encoder(dropout=0.3, norm_first=True), "att"),
        (lambda: Encoder(dropout=0.3, norm_first=False, activation="gelu"), "att"),
        (lambda: Encoder(mask=CAUSAL, is_causal=True, dropout=0.3, batch_first=True), "att_bf")],
    "MLP": [(lambda: nn.MLP([4, 8, 3]), "vec"),
            (lambda: nn.MLP([4, 8, 6, 3], activation="tanh", batchnorm=True, dropout=0.3), "vec")],
}

CONTAINERS = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "Parameter"}


def module_classes():
    return {name for name in dir(nn) if inspect.isclass(getattr(nn, name))
            and issubclass(getattr(nn, name), (nn.Module, tg.Tensor))}


def loss_modules():
    return {name for name in module_classes() if name.endswith("Loss")}


def test_every_nn_class_has_a_case():
    missing = module_classes() - CONTAINERS - loss_modules() - set(LAYERS)
    assert not missing, f"nn classes without a tg.compile case: {sorted(missing)}"
    assert not set(LAYERS) - module_classes(), "cases for names nn does not export"


@pytest.mark.parametrize("name, variant", [(name, i) for name, cases in LAYERS.items()
                                           for i in range(len(cases))])
def test_layer_compiles_and_equals_eager(name, variant):
    make_model, kind = LAYERS[name][variant]
    check(make_model, kind)


# --- the losses: every *Loss module and every functional loss -------------------------

def scores(n_out):
    return lambda: nn.Linear(4, n_out)


def probabilities(y, c=3):
    """Soft targets (8, c) made from the labels with Tensor ops (recorded)."""
    return (F.one_hot(y, c).float() * 0.8 + 0.2 / c)


def binary(y):
    return (y > 0).float().reshape(-1, 1)


def reduced(loss, reduction):
    """loss(out, y) with `reduction`; 'none' summed so that backward gets a scalar."""
    def fn(out, y):
        value = loss(out, y, reduction)
        return value.sum() if reduction == "none" else value
    return fn


# name -> [(make_model, loss(out, y, reduction)), ...]
LOSSES = {
    "cross_entropy": [
        (scores(3), lambda o, y, r: F.cross_entropy(o, y, reduction=r)),
        (scores(3), lambda o, y, r: F.cross_entropy(o, y, reduction=r, label_smoothing=0.2)),
        (scores(3), lambda o, y, r: F.cross_entropy(o, probabilities(y), reduction=r)),
        (scores(3), lambda o, y, r: F.cross_entropy(o, probabilities(y), reduction=r,
                                                    label_smoothing=0.1))],
    "nll_loss": [(scores(3), lambda o, y, r: F.nll_loss(F.log_softmax(o, 1), y, reduction=r))],
    "mse_loss": [(scores(3), lambda o, y, r: F.mse_loss(o, probabilities(y), reduction=r))],
    "l1_loss": [(scores(3), lambda o, y, r: F.l1_loss(o, probabilities(y), reduction=r))],
    "smooth_l1_loss": [(scores(3), lambda o, y, r: F.smooth_l1_loss(o, probabilities(y), r,
                                                                    beta=0.5)),
                       (scores(3), lambda o, y, r: F.smooth_l1_loss(o, probabilities(y), r,
                                                                    beta=0.0))],
    "huber_loss": [(scores(3), lambda o, y, r: F.huber_loss(o, probabilities(y), r, delta=0.7))],
    "binary_cross_entropy": [
        (scores(1), lambda o, y, r: F.binary_cross_entropy(o.sigmoid(), binary(y), r)),
        (scores(3), lambda o, y, r: F.binary_cross_entropy(o.sigmoid(), probabilities(y), r))],
    "binary_cross_entropy_with_logits": [
        (scores(1), lambda o, y, r: F.binary_cross_entropy_with_logits(o, binary(y), r))],
    "multi_margin_loss": [
        (scores(3), lambda o, y, r: F.multi_margin_loss(o, y, reduction=r)),
        (scores(3), lambda o, y, r: F.multi_margin_loss(o, y, p=2, margin=0.5, reduction=r))],
    "CrossEntropyLoss": [
        (scores(3), lambda o, y, r: nn.CrossEntropyLoss(reduction=r)(o, y)),
        (scores(3), lambda o, y, r: nn.CrossEntropyLoss(reduction=r, label_smoothing=0.3)(o, y)),
        (scores(3), lambda o, y, r: nn.CrossEntropyLoss(reduction=r)(o, probabilities(y)))],
    "NLLLoss": [(scores(3), lambda o, y, r: nn.NLLLoss(reduction=r)(o.log_softmax(1), y))],
    "MSELoss": [(scores(3), lambda o, y, r: nn.MSELoss(reduction=r)(o, probabilities(y)))],
    "L1Loss": [(scores(3), lambda o, y, r: nn.L1Loss(reduction=r)(o, probabilities(y)))],
    "SmoothL1Loss": [(scores(3), lambda o, y, r: nn.SmoothL1Loss(reduction=r, beta=0.4)(
        o, probabilities(y)))],
    "HuberLoss": [(scores(3), lambda o, y, r: nn.HuberLoss(reduction=r, delta=0.6)(
        o, probabilities(y)))],
    "BCELoss": [(scores(1), lambda o, y, r: nn.BCELoss(reduction=r)(o.sigmoid(), binary(y)))],
    "BCEWithLogitsLoss": [(scores(1), lambda o, y, r: nn.BCEWithLogitsLoss(reduction=r)(
        o, binary(y)))],
    "MultiMarginLoss": [(scores(3), lambda o, y, r: nn.MultiMarginLoss(p=2, margin=0.8,
                                                                       reduction=r)(o, y))],
}


def functional_losses():
    return {name for name in dir(F) if inspect.isfunction(getattr(F, name))
            and (name.endswith("_loss") or "cross_entropy" in name)}


def test_every_loss_has_a_case():
    missing = (functional_losses() | loss_modules()) - set(LOSSES)
    assert not missing, f"losses without a tg.compile case: {sorted(missing)}"


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name, variant", [(name, i) for name, cases in LOSSES.items()
                                           for i in range(len(cases))])
def test_loss_compiles_and_equals_eager(name, variant, reduction):
    make_model, loss = LOSSES[name][variant]
    check(make_model, "vec", reduced(loss, reduction))
