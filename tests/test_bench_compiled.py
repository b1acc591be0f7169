"""The benchmarks' compiled engine: every workload has one, it really replays its
program (a tg.compile that fell back to eager must not be timed under that name), and
the library fixes that let W6 and W7 compile keep compiled results equal to eager ones.

Tiny sizes, correctness only; the timings themselves are `python benchmarks/run.py`.
"""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tinygrad_edu as tg  # noqa: E402
from benchmarks import common, run, suite, w2_mnist_mlp, w5_deep_chain  # noqa: E402
from benchmarks.engines import assert_replays  # noqa: E402

F = tg.nn.functional


def table_rows(table, workload_prefix):
    return [r for r in table.rows if r[0].startswith(workload_prefix)]


def test_w5_compiled_chain_replays_and_gives_the_gradient():
    run_chain = w5_deep_chain.compiled_chain(300)
    grads = [run_chain() for _ in range(3)]
    assert_replays("W5", {"tinygrad_edu compiled": run_chain})
    assert np.allclose(grads, w5_deep_chain.expected_grad(300), rtol=1e-12, atol=0)
    assert grads[2] == grads[0]   # x.grad cleared before every call, as eager


def test_w2b_rows_for_every_engine_and_the_trace_row():
    table = common.Table()
    suite.run_w2b(table, quick=True, batches=(8,), dims=(12, 8, 3))
    rows = table_rows(table, "W2b MLP 8x(12-8-3)")
    engines = {r[2] for r in rows if r[1] == "time/step"}
    assert {"tinygrad_edu", "tinygrad_edu compiled", "numpy"} <= engines
    compiled = next(r for r in rows if r[1] == "time/step" and r[2] == "tinygrad_edu compiled")
    assert "x eager" in compiled[6] and "<=1.0x torch" in compiled[6]
    trace = next(r for r in rows if r[1] == "trace: 1st, 2nd call")
    assert trace[2] == "tinygrad_edu compiled" and "<=10x" in trace[6]


def test_run_py_offers_every_workload_of_the_suite():
    assert run.WORKLOADS == tuple(suite.WORKLOADS)
    assert run.parse_args(["--only", "w2b"]).only == ["w2b"]


def test_a_compiled_engine_that_fell_back_to_eager_is_refused():
    x = tg.tensor([1.0, 2.0], requires_grad=True)

    def reads_a_value():
        loss = (x * x).sum()
        loss.backward()
        loss.item()   # a value read into Python: tg.compile can't follow it
        return loss

    step = tg.compile(reads_a_value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for _ in range(3):
            x.grad = None
            step()
    with pytest.raises(AssertionError, match="W9: tinygrad_edu compiled does not replay"):
        assert_replays("W9", {"tinygrad_edu": step, "tinygrad_edu compiled": step})
    assert_replays("W9", {"tinygrad_edu": step})   # eager engines are not checked


def test_first_two_calls_times_a_fresh_step_and_checks_it_replays():
    build = suite.fresh_compiled(w2_mnist_mlp.make_steps, batch=4, dims=(6, 5, 3))
    first, second = suite.first_two_calls(build, repeats=2)
    assert first > 0 and second > 0
    table = common.Table()
    suite.add_trace_row(table, "W", 0.003, 0.002, eager=0.001)
    assert table.rows[0][6] == "1st 3.0x, 2nd 2.0x eager step, each <=10x ok"
    suite.add_trace_row(table, "W", 0.008, 0.011, eager=0.001)
    assert table.rows[1][6].endswith("<=10x MISS")   # the second call is over


def batchnorm_step(dtype):
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(3, 4, dtype=dtype), tg.nn.BatchNorm1d(4, dtype=dtype))
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.tensor(np.random.default_rng(0).standard_normal((6, 3)).astype(dtype))

    def step():
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step, model


def test_float32_scalar_constants_are_recognised_on_the_second_traced_call():
    # float32(0.1).item() != 0.1: BatchNorm's momentum was a "tensor read" on the second
    # traced call and a constant on the first, so the two records differed and the step
    # ran eagerly
    eager, eager_model = batchnorm_step(np.float32)
    compiled_fn, model = batchnorm_step(np.float32)
    compiled = tg.compile(compiled_fn)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = [compiled().item() for _ in range(4)]
    assert_replays("BN", {"compiled": compiled})
    assert got == [eager().item() for _ in range(4)]
    assert np.array_equal(model[1].running_var.numpy(), eager_model[1].running_var.numpy())


def clear_grads(*tensors):
    """Outside the step: a compiled step checks on entry that .grad is None, as traced."""
    for t in tensors:
        t.grad = None


def test_compiled_attention_follows_a_mask_that_changes_and_rows_that_die():
    rng = np.random.default_rng(0)
    q, k, v = (tg.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))

    def step(mask):
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        (out * out).sum().backward()
        return out, q.grad, k.grad, v.grad

    compiled = tg.compile(step)
    keep_all = np.ones((3, 3), dtype=bool)
    masks = [tg.tensor(keep_all), tg.tensor(np.tril(keep_all)),
             tg.tensor(np.array([[True, False, True], [False, False, False], [True, True, True]]))]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for mask in masks:   # two traced calls, then a replay whose row 1 is all masked
            clear_grads(q, k, v)
            got = [t.numpy().copy() for t in compiled(mask)]
            clear_grads(q, k, v)
            want = [t.numpy().copy() for t in step(mask)]
            for a, b in zip(got, want):
                assert np.array_equal(a, b)
    assert_replays("attention", {"compiled": compiled})
    assert np.all(got[0][:, 1] == 0) and np.all(np.isfinite(got[1]))   # a dead row: 0, no nan


def test_compiled_causal_attention_replays_eagers_values():
    rng = np.random.default_rng(1)
    q, k, v = (tg.tensor(rng.standard_normal((2, 5, 4)), requires_grad=True) for _ in range(3))

    def step(x):
        out = F.scaled_dot_product_attention(q * x, k, v, is_causal=True)
        out.sum().backward()
        return out, q.grad

    compiled = tg.compile(step)
    for scale in (1.0, 2.0, -3.0):
        x = tg.tensor(scale)
        clear_grads(q, k, v)
        got = [t.numpy().copy() for t in compiled(x)]
        clear_grads(q, k, v)
        want = [t.numpy().copy() for t in step(x)]
        assert all(np.array_equal(a, b) for a, b in zip(got, want))
    assert_replays("causal attention", {"compiled": compiled})


def test_eager_attention_still_matches_torch_with_a_dead_row():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((3, 4)) for _ in range(3)]
    mask = np.array([[True, True, False], [False, False, False], [True, False, True]])
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.scaled_dot_product_attention(*ours, attn_mask=tg.tensor(mask))
    ref = torch.nn.functional.scaled_dot_product_attention(*theirs,
                                                           attn_mask=torch.tensor(mask))
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    assert np.allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(ours, theirs):
        assert np.allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
