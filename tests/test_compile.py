"""tg.compile: compiled steps equal eager steps bit for bit (same NumPy calls, same order)."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.nn as nn
import tinygrad_edu.nn.functional as F


def batches(n, shape, classes=3, seed=1, targets="labels"):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = tg.tensor(rng.normal(size=shape))
        y = (tg.tensor(rng.integers(0, classes, shape[0])) if targets == "labels"
             else tg.tensor(rng.normal(size=(shape[0], classes))))
        out.append((x, y))
    return out


def setup(make_opt, loss, dropout=0.0, seed=0):
    tg.manual_seed(seed)
    layers = [nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    model = nn.Sequential(*layers, nn.Linear(8, 3))
    opt = make_opt(model.parameters())

    def step(x, y):
        opt.zero_grad()
        out = loss(model(x), y)
        out.backward()
        opt.step()
        return out
    return model, opt, step


def run(make_opt, loss, data, compiled, dropout=0.0):
    model, opt, step = setup(make_opt, loss, dropout)
    fn = tg.compile(step) if compiled else step
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a fallback to eager would hide a broken compile
        losses = [fn(x, y).numpy().copy() for x, y in data]
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return model, opt, losses, grads, fn


CASES = [
    (lambda ps: tg.optim.Adam(ps, lr=1e-2), F.cross_entropy, "labels", 0.0),
    (lambda ps: tg.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
     F.mse_loss, "values", 0.0),
    (lambda ps: tg.optim.AdamW(ps, lr=1e-2, amsgrad=True), F.cross_entropy, "labels", 0.3),
    (lambda ps: tg.optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True), F.mse_loss,
     "values", 0.2),
    (lambda ps: tg.optim.Adagrad(ps, lr=1e-2), F.cross_entropy, "labels", 0.0),
]


@pytest.mark.parametrize("make_opt, loss, targets, dropout", CASES)
def test_compiled_equals_eager_bit_for_bit(make_opt, loss, targets, dropout):
    data = batches(6, (16, 4), targets=targets)
    m1, o1, l1, g1, _ = run(make_opt, loss, data, False, dropout)
    m2, o2, l2, g2, fn = run(make_opt, loss, data, True, dropout)
    assert any(type(e).__name__ == "Program" for e in fn.cache.values())   # really replayed
    for a, b in zip(l1, l2):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)   # parameters and BatchNorm buffers
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        for k, v in o1.state[p1].items():
            if isinstance(v, np.ndarray) and not k.startswith("_"):
                np.testing.assert_array_equal(v, o2.state[p2][k], err_msg=k)
            elif not k.startswith("_"):
                assert v == o2.state[p2][k]


def test_dropout_masks_are_fresh_on_every_replay():
    data = batches(5, (16, 4)) * 1
    x, y = data[0]
    same = [(x, y)] * 5   # the same batch: only the dropout masks differ between steps
    _, _, l1, _, _ = run(lambda ps: tg.optim.SGD(ps, lr=0.0), F.cross_entropy, same, False, 0.5)
    _, _, l2, _, _ = run(lambda ps: tg.optim.SGD(ps, lr=0.0), F.cross_entropy, same, True, 0.5)
    assert len({float(v) for v in l2}) > 1
    for a, b in zip(l1, l2):
        np.testing.assert_array_equal(a, b)


def test_source_is_numpy_commented_with_ops_and_modules():
    data = batches(3, (8, 4))
    *_, fn = run(lambda ps: tg.optim.SGD(ps, lr=0.1), F.cross_entropy, data, True)
    src = fn.source
    assert src.startswith("def step(a0, a1):")
    assert "np.matmul(" in src and "# MatMul  (0: Linear)" in src
    assert "# 0.weight" in src and "store_grad(" in src and ".update(" in src
    assert "Tensor(" not in src


def test_new_shapes_retrace_and_stay_correct():
    small, big = batches(3, (8, 4), seed=2), batches(3, (12, 4), seed=3)
    data = [small[0], big[0], small[1], big[1], small[2], big[2]]
    _, _, l1, g1, _ = run(lambda ps: tg.optim.Adam(ps), F.cross_entropy, data, False)
    _, _, l2, g2, fn = run(lambda ps: tg.optim.Adam(ps), F.cross_entropy, data, True)
    assert len(fn.cache) == 2
    for a, b in zip(l1 + g1, l2 + g2):
        np.testing.assert_array_equal(a, b)


def test_changed_training_flag_retraces():
    model, opt, step = setup(lambda ps: tg.optim.SGD(ps, lr=0.1), F.cross_entropy, dropout=0.5)
    fn = tg.compile(step)
    data = batches(4, (8, 4))
    for x, y in data[:3]:
        fn(x, y)
    model.eval()
    x, y = data[3]
    program = next(iter(fn.cache.values()))
    assert not program.ready()   # the guard sees model.training change


def test_item_inside_fn_falls_back_to_eager_with_a_warning():
    model, opt, _ = setup(lambda ps: tg.optim.SGD(ps, lr=0.1), F.mse_loss)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        if loss.item() > 1e9:   # Python control flow on a value of the step
            return loss
        loss.backward()
        opt.step()
        return loss
    fn = tg.compile(step)
    x, y = batches(1, (8, 4), targets="values")[0]
    with pytest.warns(RuntimeWarning, match=r"item\(\) read a value of the step"):
        fn(x, y)
    assert fn(x, y).shape == ()   # eager from now on, still a loss


def test_numpy_computation_outside_recorded_ops_is_detected():
    model, opt, _ = setup(lambda ps: tg.optim.SGD(ps, lr=0.1), F.mse_loss)

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        scale = tg.tensor(np.abs(out.detach()._data).mean())   # NumPy the trace cannot see
        loss = F.mse_loss(out * scale, y)
        loss.backward()
        opt.step()
        return loss
    fn = tg.compile(step)
    data = batches(2, (8, 4), targets="values")
    fn(*data[0])
    with pytest.warns(RuntimeWarning, match="changed"):
        fn(*data[1])


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a function"):
        tg.compile(3)
    fn = tg.compile(lambda x, opts: x.sum())
    with pytest.raises(TypeError, match="can't be part of a compiled call's signature"):
        fn(tg.ones(3), [1])


def test_returning_a_python_number_falls_back():
    w = tg.ones(3, requires_grad=True)
    fn = tg.compile(lambda x: (w * x).sum().item())
    with pytest.warns(RuntimeWarning):
        assert fn(tg.ones(3)) == 3.0
