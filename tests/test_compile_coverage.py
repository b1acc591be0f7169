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
    """Snapshots of `steps` steps on different batches. make_opt(model) -> optimizer;
    between(opt) -> after(loss), run after each call, outside the step (a scheduler);
    inside(model, opt) runs in the step between backward and opt.step (clipping)."""
    tg.manual_seed(0)
    model = make_model()
    opt = (make_opt or (lambda m: tg.optim.SGD(m.parameters(), lr=0.05)))(model)
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
    "Linear": [(seq(lambda: nn.Linear(4, 5)), "vec"),
               (seq(lambda: nn.Linear(4, 5, bias=False)), "vec")],
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
                        (seq(lambda: nn.ConvTranspose1d(2, 4, 3, stride=2, padding=1,
                                                        output_padding=1, groups=2)), "seq")],
    "ConvTranspose2d": [(seq(lambda: nn.ConvTranspose2d(2, 4, 3)), "img"),
                        (seq(lambda: nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1,
                                                        output_padding=1, groups=2,
                                                        dilation=2)), "img")],
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


# --- the optimizers: every class in tg.optim, with its options, two parameter groups ----

OPTIMIZERS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
            dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
            dict(lr=0.1, momentum=0.5, weight_decay=1e-2, maximize=True)],
    "Adam": [dict(lr=1e-2), dict(lr=1e-2, amsgrad=True, weight_decay=1e-2),
             dict(lr=1e-2, betas=(0.8, 0.9), eps=1e-6, maximize=True)],
    "AdamW": [dict(lr=1e-2), dict(lr=1e-2, amsgrad=True),
              dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)],
    "Adamax": [dict(lr=1e-2), dict(lr=1e-2, betas=(0.8, 0.9), weight_decay=1e-2, maximize=True)],
    "Adagrad": [dict(lr=1e-2), dict(lr=1e-2, lr_decay=0.1, weight_decay=1e-2,
                                    initial_accumulator_value=0.1, eps=1e-8),
                dict(lr=1e-2, lr_decay=0.05, maximize=True)],
    "RMSprop": [dict(lr=1e-2), dict(lr=1e-2, centered=True), dict(lr=1e-2, momentum=0.5),
                dict(lr=1e-2, alpha=0.9, eps=1e-6, centered=True, momentum=0.5, weight_decay=1e-2,
                     maximize=True)],
}


def mlp():
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def two_groups(cls, **options):
    """make_opt: the first layer in a group of its own with half the lr."""
    def make(model):
        lr = options.get("lr", 1e-2)
        return cls([{"params": model[0].parameters(), "lr": lr / 2},
                    {"params": model[2].parameters()}], **options)
    return make


def optimizer_classes():
    return {name for name in dir(tg.optim) if inspect.isclass(getattr(tg.optim, name))
            and issubclass(getattr(tg.optim, name), tg.optim.Optimizer)} - {"Optimizer"}


def test_every_optimizer_has_a_case():
    missing = optimizer_classes() - set(OPTIMIZERS)
    assert not missing, f"optimizers without a tg.compile case: {sorted(missing)}"


@pytest.mark.parametrize("name, variant", [(name, i) for name, cases in OPTIMIZERS.items()
                                           for i in range(len(cases))])
def test_optimizer_compiles_and_equals_eager(name, variant):
    cls = getattr(tg.optim, name)
    check(mlp, "vec", F.cross_entropy, two_groups(cls, **OPTIMIZERS[name][variant]), steps=5)


# --- the LR schedulers: every class, stepped between compiled calls -------------------

S = lr_scheduler
SCHEDULERS = {
    "LambdaLR": [(tg.optim.SGD, lambda o: S.LambdaLR(o, lambda e: 0.9 ** e)),
                 (tg.optim.Adam, lambda o: S.LambdaLR(o, [lambda e: 0.8 ** e,
                                                          lambda e: 1 / (e + 1)]))],
    "StepLR": [(tg.optim.SGD, lambda o: S.StepLR(o, 2, gamma=0.5))],
    "MultiStepLR": [(tg.optim.Adam, lambda o: S.MultiStepLR(o, [2, 5], gamma=0.3))],
    "ExponentialLR": [(tg.optim.RMSprop, lambda o: S.ExponentialLR(o, 0.8))],
    "CosineAnnealingLR": [(tg.optim.SGD, lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=1e-3))],
    "LinearLR": [(tg.optim.AdamW, lambda o: S.LinearLR(o, start_factor=0.2, total_iters=4))],
    "ConstantLR": [(tg.optim.Adagrad, lambda o: S.ConstantLR(o, factor=0.5, total_iters=3))],
    "PolynomialLR": [(tg.optim.Adamax, lambda o: S.PolynomialLR(o, total_iters=6, power=2.0))],
    "OneCycleLR": [(tg.optim.SGD, lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=10)),
                   (tg.optim.Adam, lambda o: S.OneCycleLR(o, max_lr=[0.05, 0.1], total_steps=10,
                                                          anneal_strategy="linear",
                                                          three_phase=True))],
    "CyclicLR": [(tg.optim.SGD, lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=2)),
                 (tg.optim.SGD, lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=1,
                                                     mode="triangular2"))],
    "CosineAnnealingWarmRestarts": [
        (tg.optim.SGD, lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2))],
    "ReduceLROnPlateau": [(tg.optim.SGD, lambda o: S.ReduceLROnPlateau(o, factor=0.5,
                                                                       patience=0))],
    "SequentialLR": [(tg.optim.SGD, lambda o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.9)], milestones=[3]))],
    "ChainedScheduler": [(tg.optim.Adam, lambda o: S.ChainedScheduler(
        [S.ConstantLR(o, 0.5, total_iters=2), S.ExponentialLR(o, 0.9)]))],
}


def scheduler_classes():
    return {name for name in dir(tg.optim) if inspect.isclass(getattr(tg.optim, name))
            and issubclass(getattr(tg.optim, name), S.LRScheduler)
            and not name.startswith("_")} - {"LRScheduler"}


def test_every_scheduler_has_a_case():
    missing = scheduler_classes() - set(SCHEDULERS)
    assert not missing, f"LR schedulers without a tg.compile case: {sorted(missing)}"


def stepping(make_sched):
    """between(): the scheduler stepped after every compiled call, outside it (with the
    loss as its metric for ReduceLROnPlateau)."""
    def between(opt):
        sched = make_sched(opt)
        if isinstance(sched, S.ReduceLROnPlateau):
            return lambda loss: sched.step(loss.item())
        return lambda loss: sched.step()
    return between


@pytest.mark.parametrize("name, variant", [(name, i) for name, cases in SCHEDULERS.items()
                                           for i in range(len(cases))])
def test_scheduler_between_calls_is_read_live(name, variant):
    cls, make_sched = SCHEDULERS[name][variant]
    options = dict(lr=0.05, momentum=0.9) if cls is tg.optim.SGD else dict(lr=0.05)
    eager, _ = run_case(mlp, "vec", F.cross_entropy, two_groups(cls, **options), 8,
                        stepping(make_sched), compiled=False)
    lrs = [h[0]["lr"] for *_, h in eager]
    assert len(set(lrs)) > 1, "the schedule never changed the lr"
    check(mlp, "vec", F.cross_entropy, two_groups(cls, **options), 8, stepping(make_sched))


def test_scheduler_stepped_inside_fn_runs_eagerly_with_a_warning_and_equals_eager():
    """A scheduler's step is Python on the groups' dicts, which a program cannot replay: the
    step warns and stays eager (so the lr still changes on every call)."""
    def run(compiled):
        tg.manual_seed(0)
        model = mlp()
        opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = S.StepLR(opt, 1, gamma=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            return loss
        fn = tg.compile(step) if compiled else step
        return [(fn(x, y).numpy().copy(), opt.param_groups[0]["lr"])
                for x, y in inputs("vec", 6)], fn
    eager, _ = run(False)
    with pytest.warns(RuntimeWarning, match=r"StepLR.step\(\) inside fn"):
        compiled, fn = run(True)
    assert not any(type(e).__name__ == "Program" for e in fn.cache.values())
    for (la, lra), (lb, lrb) in zip(eager, compiled):
        np.testing.assert_array_equal(la, lb)
        assert lra == lrb
    assert compiled[-1][1] == 0.1 * 0.5 ** 6


# --- clipping, weight tying, (loss, logits) -------------------------------------------

CLIPPING = [lambda m, o: nn.utils.clip_grad_norm_(m.parameters(), 0.3),
            lambda m, o: nn.utils.clip_grad_norm_(m.parameters(), 0.3, norm_type=1),
            lambda m, o: nn.utils.clip_grad_norm_(m.parameters(), 0.2, norm_type=math.inf),
            lambda m, o: nn.utils.clip_grad_norm_(m.parameters(), 100.0),   # no clipping
            lambda m, o: nn.utils.clip_grad_value_(m.parameters(), 0.05)]


@pytest.mark.parametrize("clip", range(len(CLIPPING)))
def test_gradient_clipping_inside_fn_compiles_and_equals_eager(clip):
    check(mlp, "vec", F.cross_entropy, lambda m: tg.optim.Adam(m.parameters(), lr=1e-2), 5,
          inside=CLIPPING[clip])


def test_clipping_that_checks_for_nonfinite_norms_warns_and_equals_eager():
    """error_if_nonfinite reads the norm into Python (to raise): eager, with a warning."""
    def clip(m, o):
        nn.utils.clip_grad_norm_(m.parameters(), 0.3, error_if_nonfinite=True)
    eager, _ = run_case(mlp, "vec", F.cross_entropy, inside=clip, compiled=False)
    with pytest.warns(RuntimeWarning, match=r"item\(\) read a value of the step"):
        compiled, _ = run_case(mlp, "vec", F.cross_entropy, inside=clip)
    assert_same(eager, compiled)


class Tied(nn.Module):
    """An embedding whose transpose is also the output layer (weight tying)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 10, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, idx):
        return self.out(self.emb(idx).mean(1).tanh())


def test_tied_weights_compile_and_equal_eager():
    check(Tied, "tokens", lambda logits, y: F.cross_entropy(logits, y[:4]),
          lambda m: tg.optim.AdamW(m.parameters(), lr=1e-2), 5)


def test_a_step_returning_loss_and_logits_compiles_and_equals_eager():
    """The helper's steps return (loss, *outputs); here that is (loss, logits) itself."""
    eager, _ = run_case(mlp, "vec", F.cross_entropy, compiled=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, fn = run_case(mlp, "vec", F.cross_entropy)
    assert all(len(outs) == 2 and outs[1].shape == (8, 3) for outs, *_ in compiled)
    assert any(type(e).__name__ == "Program" for e in fn.cache.values())
    assert_same(eager, compiled)


def test_attention_rows_masked_only_in_a_replayed_call_get_zero_weights_as_eager():
    """key_padding_mask as an argument: the traced calls mask no query's every key, the
    replays do (batch 0: every key padded). Eager gives those rows zero weights; the
    program must too, not the unmasked calls' plain softmax (nan)."""
    def run(compiled):
        tg.manual_seed(0)
        model = Attention(need_weights=False)
        opt = tg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, padding):
            opt.zero_grad()
            model.padding = padding
            out = model(x)[0]
            loss = (out * out).sum()
            loss.backward()
            opt.step()
            return loss, out
        fn = tg.compile(step) if compiled else step
        shots = []
        for i, (x, _) in enumerate(inputs("att", 5)):
            padding = np.zeros((3, 5), dtype=bool)
            padding[0, :] = i >= 2
            padding[1, 3:] = True
            returned = fn(x, tg.tensor(padding))
            shots.append(snapshot(model, opt, returned))
        return shots, fn
    eager, _ = run(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled, fn = run(True)
    assert any(type(e).__name__ == "Program" for e in fn.cache.values())
    assert np.all(np.isfinite(compiled[-1][0][1]))
    assert_same(eager, compiled)
