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
    return model, opt, training_step(model, opt, loss)


def training_step(model, opt, loss):
    def step(x, y):
        opt.zero_grad()
        out = loss(model(x), y)
        out.backward()
        opt.step()
        return out
    return step


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
    assert "# 0.weight" in src and "store_grad(" in src
    assert "SGD.step on 6 parameters as one flat array" in src   # FusedUpdate
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
    assert "training is now False" in program.unready()   # the guard sees it change


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
    with pytest.warns(RuntimeWarning, match="changed between calls"):
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


# --- the holes of the first version: nothing computed outside the record is replayed ---

def compare_steps(make_model, loss_fn, data, make_opt=lambda ps: tg.optim.SGD(ps, lr=0.1)):
    """Eager and compiled runs of the same step over `data`: losses and parameters equal."""
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = make_model()
        opt = make_opt(model.parameters())
        step = training_step(model, opt, loss_fn)
        fn = tg.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [fn(x, y).numpy().copy() for x, y in data]
        runs.append((losses, [p.numpy().copy() for p in model.parameters()]))
    (l1, p1), (l2, p2) = runs
    for a, b in zip(l1 + p1, l2 + p2):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer", ["softplus", "hardtanh", "relu6", "hardswish", "leaky_relu",
                                   "mish"])
def test_activations_with_masks_compile_and_equal_eager(layer):
    act = {"softplus": lambda z: F.softplus(z * 10, beta=2.0, threshold=5.0),
           "hardtanh": lambda z: F.hardtanh(z * 3, -0.5, 0.7), "relu6": lambda z: F.relu6(z * 9),
           "hardswish": lambda z: F.hardswish(z * 5), "leaky_relu": lambda z: F.leaky_relu(z, 0.1),
           "mish": F.mish}[layer]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 3)

        def forward(self, x):
            return self.b(act(self.a(x)))
    compare_steps(Net, F.mse_loss, batches(5, (16, 4), targets="values"))


@pytest.mark.parametrize("loss", [F.smooth_l1_loss, F.huber_loss,
                                  lambda o, y: F.smooth_l1_loss(o, y, beta=0.3),
                                  lambda o, y: F.huber_loss(o, y, delta=0.4)])
def test_smooth_l1_and_huber_compile_and_equal_eager(loss):
    compare_steps(lambda: nn.Linear(4, 3), loss, batches(5, (16, 4), targets="values"))


def test_embedding_and_one_hot_steps_compile_and_equal_eager():
    rng = np.random.default_rng(3)
    data = [(tg.tensor(rng.integers(0, 10, (6, 5))), tg.tensor(rng.integers(0, 4, 6)))
            for _ in range(5)]

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb, self.out = nn.Embedding(10, 3, padding_idx=0), nn.Linear(3, 4)

        def forward(self, idx):
            return self.out(self.emb(idx).mean(1))

    def loss(logits, y):   # one_hot targets: a mask of the labels, fresh every call
        return -(F.log_softmax(logits, -1) * F.one_hot(y, 4).float()).sum(1).mean()
    compare_steps(Net, loss, data)
    compare_steps(Net, F.cross_entropy, data)


def test_bool_operators_compile():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            keep = ((x[:, 0] > 0) & (x[:, 1] < 0.5)) | (x[:, 2] > 1) ^ (x[:, 2] > 1.5)
            return tg.where(keep, self.lin(x)[:, 0], 0.0)
    compare_steps(Net, lambda out, y: (out * y[:, 0]).sum(), batches(5, (8, 3), targets="values"))


def test_a_mask_equal_in_the_two_traced_calls_is_not_frozen():
    """Library code that made a mask with NumPy on ._data (equal in calls 1 and 2, different
    in call 3) must not be replayed with the first call's mask."""
    lin = nn.Linear(2, 1)
    opt = tg.optim.SGD(lin.parameters(), lr=0.0)

    from tinygrad_edu.tensor import wrap

    def masked(x):
        opt.zero_grad()
        keep = wrap(x._data > 0)   # NumPy outside the recorded operations
        loss = tg.where(keep, lin(x)[:, 0], 0.0).sum()
        loss.backward()
        opt.step()
        return loss
    fn = tg.compile(masked)
    same = tg.tensor([[1.0, 2.0], [-1.0, 3.0]])
    other = tg.tensor([[-1.0, 2.0], [1.0, 3.0]])
    fn(same)
    with pytest.warns(RuntimeWarning, match="new array on every call"):
        fn(tg.tensor(same.numpy()))
    assert fn(other).item() == pytest.approx(masked(other).item())


def test_a_wrapped_tensor_made_in_fn_is_not_replayed():
    lin = nn.Linear(2, 1)
    from tinygrad_edu.tensor import wrap

    def step(x):
        shift = wrap(np.sign(x._data))   # a tensor around an unrecorded array
        return (lin(x) + shift[:, :1]).sum()
    fn = tg.compile(step)
    x = tg.tensor([[1.0, 2.0]])
    fn(x)
    with pytest.warns(RuntimeWarning, match="made inside fn outside the recorded operations"):
        fn(tg.tensor([[1.0, 2.0]]))
    y = tg.tensor([[-1.0, 2.0]])
    assert fn(y).item() == step(y).item()


@pytest.mark.parametrize("bad", [-1, 3])
def test_out_of_range_label_raises_on_replay(bad):
    data = batches(3, (8, 4))
    *_, fn = run(lambda ps: tg.optim.SGD(ps, lr=0.1), F.cross_entropy, data, True)
    x, y = data[0]
    labels = y.numpy().copy()
    labels[2] = bad
    with pytest.raises(IndexError, match=r"cross_entropy: class targets must lie in \[0, 3\)"):
        fn(x, tg.tensor(labels))


def test_out_of_range_embedding_index_and_one_hot_label_raise_on_replay():
    emb = nn.Embedding(5, 2)
    fn = tg.compile(lambda idx: emb(idx).sum())
    ok = tg.tensor([0, 4, 2])
    fn(ok), fn(ok), fn(ok)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 5\)"):
        fn(tg.tensor([0, 5, 1]))
    with pytest.raises(IndexError, match="embedding"):
        fn(tg.tensor([0, -1, 1]))
    hot = tg.compile(lambda y: F.one_hot(y, 3))
    hot(tg.tensor([0, 2])), hot(tg.tensor([1, 2]))
    np.testing.assert_array_equal(hot(tg.tensor([2, 1])).numpy(), [[0, 0, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"one_hot: labels must lie in \[0, 3\)"):
        hot(tg.tensor([3, 0]))


def test_library_values_read_into_python_fall_back():
    fn = tg.compile(lambda y: F.one_hot(y))   # num_classes=-1: the max label, in Python
    with pytest.warns(RuntimeWarning, match=r"one_hot\(num_classes=-1\) uses a value"):
        out = fn(tg.tensor([0, 2]))
    assert out.shape == (2, 3)
    assert fn(tg.tensor([0, 4])).shape == (2, 5)   # eager from then on


def test_benchmark_compiled_engines_equal_eager():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import w1_deep_batchnorm_mlp, w2_mnist_mlp
    engines = ["tinygrad_edu", "tinygrad_edu compiled"]
    for steps in (w1_deep_batchnorm_mlp.make_steps(engines, n=32, dims=(2, 6, 5, 3)),
                  w2_mnist_mlp.make_steps(engines, batch=8, dims=(20, 16, 5))):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = {name: [step().item() for _ in range(4)] for name, step in steps.items()}
        assert got["tinygrad_edu"] == got["tinygrad_edu compiled"]


# --- the third version: the program is rewritten for speed, results stay bit for bit ---

def test_source_drops_dead_values_and_writes_sums_out():
    data = batches(3, (8, 4))
    *_, fn = run(lambda ps: tg.optim.Adam(ps), F.cross_entropy, data, True)
    src = fn.source
    assert "\n    del v" in src                   # results freed after their last use
    assert "sum_rows(" in src and "ones_8_float64" in src   # batch sums, ones made once
    assert "K.sum_to(" not in src                 # axes worked out at trace time
    lines = [line.split("#")[0] for line in src.splitlines()]
    for i, line in enumerate(lines):             # no transpose of a transpose is left
        if "np.transpose(" in line:
            source = line.split("np.transpose(")[1].split(",")[0]
            assert not any(l.startswith(f"    {source} = np.transpose(") for l in lines[:i])


def test_a_call_repeated_on_the_same_arrays_is_made_once():
    # BatchNorm's variance (x - m) * (x - m): its two gradients are the same product
    data = batches(4, (8, 4))
    *_, fn = run(lambda ps: tg.optim.Adam(ps), F.cross_entropy, data, True)
    calls = [line.split(" = ", 1)[1].split("#")[0].strip() for line in fn.source.splitlines()
             if " = np." in line and "._data" not in line]
    assert len(calls) == len(set(calls))


def test_broadcasts_repeated_into_full_arrays_equal_eager_and_are_made_once():
    # batch 640 x 8 features: big enough for Trace.stretched (a bias, BatchNorm's mean,
    # 1/std and weight repeated to (640, 8) instead of broadcast by each ufunc)
    data = batches(5, (640, 4))
    m1, o1, l1, g1, _ = run(lambda ps: tg.optim.Adam(ps, lr=1e-2), F.cross_entropy, data, False)
    m2, o2, l2, g2, fn = run(lambda ps: tg.optim.Adam(ps, lr=1e-2), F.cross_entropy, data, True)
    np.testing.assert_array_equal(l1, l2)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    for (k, a), (_, b) in zip(m1.state_dict().items(), m2.state_dict().items()):
        np.testing.assert_array_equal(a, b, err_msg=k)
    lines = fn.source.splitlines()
    repeats = [line.split(" = ")[0].strip() for line in lines if "# broadcast, repeated" in line]
    assert repeats
    uses = sum(line.count(name + " ") + line.count(name + ",") + line.endswith(name)
               for name in repeats for line in lines if "# broadcast, repeated" not in line
               and not line.strip().startswith("del "))
    assert uses > len(repeats)   # e.g. 1/std: one repeat, read in forward and backward


def test_a_transposed_argument_retraces_and_broadcasts_keep_its_layout():
    # (640, 8) data given as the transpose of a (8, 640) array: the bias add's result is
    # then F-ordered in eager, and its row sum takes NumPy's reduce, not BLAS
    rng = np.random.default_rng(3)
    c_order = [tg.tensor(rng.normal(size=(640, 8))) for _ in range(4)]
    f_order = [tg.tensor(np.asfortranarray(x.numpy())) for x in c_order]
    y = tg.tensor(rng.normal(size=(640, 8)))
    results = []
    for compiled in (False, True):
        tg.manual_seed(0)
        layer = nn.Linear(8, 8)
        bias = nn.Parameter(tg.zeros(8))
        opt = tg.optim.SGD(list(layer.parameters()) + [bias], lr=0.1)

        def step(x):
            opt.zero_grad()
            h = x * 2.0 + bias       # F-ordered in eager for F-ordered x
            loss = F.mse_loss(layer(h), y) + h.sum(0).sum() * 1e-3   # sum(0): by layout
            loss.backward()
            opt.step()
            return loss
        fn = tg.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [fn(x).item() for x in c_order + f_order + c_order]
        results.append((losses, [p.numpy().copy() for p in opt.param_groups[0]["params"]]))
        if compiled:
            assert sum(isinstance(e, type(fn.cache[next(iter(fn.cache))])) for e in fn.cache.values())
            assert len(fn.cache) == 2   # one program per layout
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_returned_intermediates_and_views_are_not_overwritten_by_later_calls():
    """Nothing of one call's results is reused by the next: a returned intermediate, a
    view of one, and the loss keep their values across later calls."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        hidden = model[2](model[1](model[0](x)))
        logits = model[3](hidden)
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        return loss, logits, hidden.T, hidden[1:3]
    fn = tg.compile(step)
    data = batches(6, (16, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = [fn(x, y) for x, y in data]
    snapshots = [[t.numpy().copy() for t in out] for out in kept]
    for x, y in data[:3]:
        fn(x, y)
    for out, snap in zip(kept, snapshots):
        for t, s in zip(out, snap):
            np.testing.assert_array_equal(t.numpy(), s)


def test_expand_folded_into_a_ufunc_keeps_the_broadcast_shape():
    """An Expand read by an elementwise op is left to the op's own broadcasting only when
    that gives the same shape: (1, 3) expanded to (4, 3) times (1, 3) is still (4, 3)."""
    a = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    b = tg.tensor([[0.5, -1.0, 2.0]], requires_grad=True)

    def step(x):
        out = a.expand(4, 3) * b + x * a.expand(4, 3) / b.expand(4, 3)
        total = (out * out).sum()
        total.backward()
        return total, out
    fn = tg.compile(step)
    xs = [tg.tensor(np.random.default_rng(i).normal(size=(4, 1))) for i in range(4)]
    eager = []
    for x in xs:
        a.grad = b.grad = None
        total, out = step(x)
        eager.append((total.numpy().copy(), out.numpy().copy(), a.grad.numpy().copy(),
                      b.grad.numpy().copy()))
    for x, want in zip(xs, eager):
        a.grad = b.grad = None
        total, out = fn(x)
        assert out.shape == (4, 3)
        for got, w in zip((total, out, a.grad, b.grad), want):
            np.testing.assert_array_equal(got.numpy(), w)
    assert any(type(e).__name__ == "Program" for e in fn.cache.values())


def test_views_that_undo_each_other_and_sums_of_any_layout_equal_eager():
    """A permute undone by a permute and a reshape to the same shape are their input; a
    batch sum gives eager's result whether the argument is C-ordered or not (the traced
    calls saw C order, the replays get transposed memory)."""
    w = tg.tensor(np.random.default_rng(0).normal(size=(5, 3)), requires_grad=True)

    def step(x):
        h = x.permute(1, 0).permute(1, 0).reshape(6, 5) @ w
        loss = (h.sum(0) * h.sum(0)).sum() + h.sum_to_size(1, 3).sum()
        loss.backward()
        return loss
    fn = tg.compile(step)
    rng = np.random.default_rng(1)
    c_order = [tg.tensor(rng.normal(size=(6, 5))) for _ in range(2)]
    transposed = [tg.tensor(np.ascontiguousarray(rng.normal(size=(5, 6))).T) for _ in range(3)]
    for x in c_order + transposed:
        w.grad = None
        want = step(x).numpy().copy(), w.grad.numpy().copy()
        w.grad = None
        got = fn(x).numpy(), w.grad.numpy()
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
    assert not transposed[0].numpy().flags.c_contiguous
    assert any(type(e).__name__ == "Program" for e in fn.cache.values())


def test_a_parameter_given_another_shape_retraces_instead_of_replaying():
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    @tg.compile
    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    x = tg.randn(4, 3)
    for _ in range(3):
        step(x)
    model.bias.data = tg.zeros(1)   # (2,) -> (1,): broadcasts, so eager still runs
    eager = (tg.matmul(x, model.weight.T) + model.bias).sum().item()
    assert step(x).item() == pytest.approx(eager)
    assert model.bias.grad.shape == (1,) and model.bias.shape == (1,)


def test_a_grad_cleared_by_hand_inside_fn_warns_and_goes_eager_instead_of_retracing():
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    data = batches(8, (4, 3), classes=2)

    def step(x, y):
        for p in model.parameters():
            p.grad = None            # not seen by the trace: every program is dropped
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
        return loss

    fn = tg.compile(step)
    eager_model = nn.Linear(3, 2)
    eager_model.load_state_dict(model.state_dict())
    with pytest.warns(RuntimeWarning, match="traced 3 times without a replay.*zero_grad"):
        losses = [fn(x, y).item() for x, y in data]
    assert fn.cache[next(iter(fn.cache))] == "eager"
    model.load_state_dict(eager_model.state_dict())
    assert losses == [step(x, y).item() for x, y in data]
