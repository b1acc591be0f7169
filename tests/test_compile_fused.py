"""tg.compile's FusedUpdate: one optimizer update over many small parameters at once,
bit for bit the separate updates, with the optimizer's state kept where users look."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F
import importlib

C = importlib.import_module("tinygrad_edu.compile")   # the module (tg.compile is the function)


def make(make_opt, seed=0, dtype=None):
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2))
    if dtype is not None:
        for p in model[2].parameters():
            p.data = p.data.to(dtype)
    return model, make_opt(model)


def batches(n, seed=1):
    rng = np.random.default_rng(seed)
    return [(tg.tensor(rng.normal(size=(5, 3))), tg.tensor(rng.normal(size=(5, 2))))
            for _ in range(n)]


def step_of(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x).to(tg.float64), y)
        loss.backward()
        opt.step()
        return loss
    return step


def fused(step):
    return [e for e in step.run.__globals__.values() if isinstance(e, C.FusedUpdate)] \
        if hasattr(step, "run") else []


def program(compiled):
    return next(e for e in compiled.cache.values() if isinstance(e, C.Program))


def assert_same(m1, o1, m2, o2):
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for i, entry in s1["state"].items():
        for k, v in entry.items():
            np.testing.assert_array_equal(v, s2["state"][i][k], err_msg=f"{i} {k}")


OPTIMIZERS = [
    lambda m: tg.optim.SGD(m.parameters(), lr=0.1),
    lambda m: tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, dampening=0.1,
                           weight_decay=1e-2),
    lambda m: tg.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-3),
    lambda m: tg.optim.AdamW(m.parameters(), lr=1e-2, amsgrad=True),
    lambda m: tg.optim.Adamax(m.parameters(), lr=1e-2),
    lambda m: tg.optim.RMSprop(m.parameters(), lr=1e-2, momentum=0.3),
    lambda m: tg.optim.Adagrad(m.parameters(), lr=1e-2, lr_decay=1e-3),
    # two groups with their own lr: one fused update each
    lambda m: tg.optim.Adam([{"params": m[0].parameters()},
                             {"params": m[2].parameters(), "lr": 3e-2}], lr=1e-2),
]


@pytest.mark.parametrize("make_opt", OPTIMIZERS)
def test_fused_updates_equal_eager_bit_for_bit(make_opt):
    data = batches(6)
    m1, o1 = make(make_opt)
    eager = [step_of(m1, o1)(x, y).numpy() for x, y in data]
    m2, o2 = make(make_opt)
    step = tg.compile(step_of(m2, o2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = [step(x, y).numpy() for x, y in data]
    prog = program(step)
    groups = len(o2.param_groups)
    assert len(fused(prog)) == groups and f"parameters as one flat array" in step.source
    np.testing.assert_array_equal(eager, compiled)
    assert_same(m1, o1, m2, o2)
    # the state the program keeps flat is the state dict's arrays (views), so an eager
    # step afterwards carries on from it
    step_of(m1, o1)(*data[0])
    step_of(m2, o2)(*data[0])
    assert_same(m1, o1, m2, o2)


def test_arrays_users_hold_are_still_the_parameters_and_their_state():
    m, opt = make(lambda m: tg.optim.Adam(m.parameters(), lr=1e-2))
    weight = m[0].weight.numpy()             # shares memory with the parameter
    step = tg.compile(step_of(m, opt))
    data = batches(5)
    for x, y in data[:3]:
        step(x, y)
    exp_avg = opt.state[m[0].weight]["exp_avg"]   # now a view of the flat state
    before = weight.copy(), exp_avg.copy()
    step(*data[3])
    assert weight is m[0].weight._data and not np.array_equal(weight, before[0])
    assert exp_avg is opt.state[m[0].weight]["exp_avg"] and not np.array_equal(exp_avg, before[1])
    assert opt.state[m[0].weight]["step"] == 4


def eager_and_compiled_with(surgery, steps=6):
    """Adam on the same data eagerly and compiled, surgery(model, opt) before step 5."""
    data = batches(steps)
    runs = []
    for compiled in (False, True):
        m, opt = make(lambda m: tg.optim.Adam(m.parameters(), lr=1e-2))
        step = step_of(m, opt)
        step = tg.compile(step) if compiled else step
        for i, (x, y) in enumerate(data):
            if i == 4:
                surgery(m, opt)
            step(x, y)
        runs.append((m, opt))
    assert_same(*runs[0], *runs[1])
    return runs


def test_state_replaced_by_hand_between_calls_is_used():
    def surgery(m, opt):   # load_state_dict-like changes to single entries
        opt.state[m[2].bias]["exp_avg"] = np.full(2, 0.5)
        opt.state[m[0].bias]["exp_avg_sq"][:] = 0.25
    eager_and_compiled_with(surgery)


def test_parameters_whose_step_counts_differ_are_updated_one_by_one():
    def surgery(m, opt):   # its bias correction now differs from the others'
        opt.state[m[0].weight]["step"] = 10
    runs = eager_and_compiled_with(surgery)
    assert runs[1][1].state[runs[1][0][0].weight]["step"] == 12


def test_only_small_float_parameters_of_one_dtype_are_fused(monkeypatch):
    monkeypatch.setattr(C, "FUSE_MAX", 10)   # the 6x3 weight is now "large"
    m, opt = make(lambda m: tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.5),
                  dtype=tg.float32)
    step = tg.compile(step_of(m, opt))
    m1, o1 = make(lambda m: tg.optim.SGD(m.parameters(), lr=0.1, momentum=0.5),
                  dtype=tg.float32)
    eager = step_of(m1, o1)
    for x, y in batches(5):
        np.testing.assert_array_equal(step(x, y).numpy(), eager(x, y).numpy())
    assert_same(m1, o1, m, opt)
    src = step.source
    # 0.bias (6, float64) and 2.bias (2, float32) have different dtypes: nothing to fuse
    # with; 2.weight (12 elements) and 0.weight (18) are over FUSE_MAX
    assert "one flat array" not in src and src.count("# SGD.step") == 4


def test_a_subclass_with_its_own_update_is_not_fused():
    class Signed(tg.optim.SGD):
        def update(self, param, grad, group, state):   # not elementwise-known: kept apart
            param -= group["lr"] * np.sign(grad)
    m, opt = make(lambda m: Signed(m.parameters(), lr=0.1))
    step = tg.compile(step_of(m, opt))
    for x, y in batches(4):
        step(x, y)
    assert "one flat array" not in step.source and step.source.count("# Signed.step") == 4
