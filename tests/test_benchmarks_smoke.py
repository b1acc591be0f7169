"""The benchmark scripts run, and their engines compute the same thing.

Tiny sizes, one to three steps each: correctness only, never timing. The
speed comparison itself is `python benchmarks/run.py`.
"""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common, numpy_reference, w1_deep_batchnorm_mlp, w2_mnist_mlp  # noqa: E402
from benchmarks import w3_op_overhead, w5_deep_chain, w6_digits_cnn, w7_char_gpt  # noqa: E402
from benchmarks.engines import assert_replays, to_float  # noqa: E402


def losses(steps, n=3):
    return {name: [to_float(step()) for _ in range(n)] for name, step in steps.items()}


def test_w1_tinygrad_matches_numpy_reference_over_three_adam_steps():
    steps = w1_deep_batchnorm_mlp.make_steps(["tinygrad_edu", "tinygrad_edu compiled", "numpy"],
                                             n=32, dims=(2, 6, 5, 3))
    got = losses(steps)
    assert np.allclose(got["tinygrad_edu"], got["numpy"], rtol=1e-12, atol=0)
    assert got["tinygrad_edu compiled"] == got["tinygrad_edu"]
    assert_replays("W1", steps)
    assert got["numpy"][2] < got["numpy"][0]   # Adam is actually descending


def test_w1_torch_matches_too():
    pytest.importorskip("torch")
    got = losses(w1_deep_batchnorm_mlp.make_steps(["numpy", "torch"], n=32, dims=(2, 6, 5, 3)))
    assert np.allclose(got["torch"], got["numpy"], rtol=1e-12, atol=0)


def test_w2_float32_engines_agree():
    engines = ["tinygrad_edu", "tinygrad_edu compiled", "numpy"]
    try:
        import torch  # noqa: F401
        engines.append("torch")
    except ImportError:
        pass
    steps = w2_mnist_mlp.make_steps(engines, batch=8, dims=(20, 16, 5))
    got = losses(steps, n=3)
    for name in engines[1:]:
        assert np.allclose(got[name], got["tinygrad_edu"], rtol=2e-5, atol=0), name
    common.check_losses("W2", got, rtol=2e-5)
    assert got["tinygrad_edu compiled"] == got["tinygrad_edu"]   # replays are bit for bit
    assert_replays("W2", steps)


def test_w6_cnn_engines_agree_and_descend():
    engines = ["tinygrad_edu", "tinygrad_edu compiled"]
    try:
        import torch  # noqa: F401
        engines.append("torch")
    except ImportError:
        pass
    steps = w6_digits_cnn.make_steps(engines, batch=8, channels=(2, 3))
    got = losses(steps)
    common.check_losses("W6", got, rtol=2e-5)
    assert got["tinygrad_edu compiled"] == got["tinygrad_edu"]
    assert_replays("W6", steps)   # float32 BatchNorm2d: its scalar constants are shared
    assert got["tinygrad_edu"][2] < got["tinygrad_edu"][0]


def test_w7_gpt_engines_agree_in_float32():
    pytest.importorskip("torch")
    tiny = dict(block_size=8, n_layer=1, n_head=2, n_embd=16)
    steps = w7_char_gpt.make_steps(["tinygrad_edu", "tinygrad_edu compiled", "torch"], batch=4,
                                   config=tiny, vocab_size=11, n_batches=1)
    got = losses(steps, n=3)
    common.check_losses("W7", got, rtol=1e-5)
    assert got["tinygrad_edu compiled"] == got["tinygrad_edu"]
    assert_replays("W7", steps)
    assert got["tinygrad_edu"][2] < got["tinygrad_edu"][0]   # the same batch: AdamW descends


def test_w7_tinygrad_step_runs_without_torch():
    tiny = dict(block_size=4, n_layer=1, n_head=1, n_embd=8)
    step = w7_char_gpt.make_steps(["tinygrad_edu"], batch=2, config=tiny, vocab_size=5)
    loss = step["tinygrad_edu"]()
    assert loss.dtype == np.float32 and np.isfinite(loss.item())
    with pytest.raises(ValueError, match="W7: no engine 'numpy' .*tinygrad_edu compiled"):
        w7_char_gpt.make_steps(["numpy"], config=tiny)


def test_numpy_reference_gradients_match_finite_differences():
    """The floor must be right, or the comparison means nothing: check one weight."""
    X, y = w1_deep_batchnorm_mlp.make_data(16, seed=3)
    weights, bn = w1_deep_batchnorm_mlp.make_weights((2, 4, 3), seed=4)
    model = numpy_reference.MLP(weights, bn)
    _, grads = model.loss_and_grads(X, y)
    for k in (0, len(model.params) - 2):   # first-layer W, last BatchNorm gamma
        p, eps = model.params[k], 1e-6
        old = p.flat[1]
        p.flat[1] = old + eps
        up, _ = model.loss_and_grads(X, y)
        p.flat[1] = old - eps
        down, _ = model.loss_and_grads(X, y)
        p.flat[1] = old
        assert np.isclose(grads[k].flat[1], (up - down) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_w3_chain_outputs_and_gradients_agree():
    engines = ["tinygrad_edu", "tinygrad_edu compiled", "numpy fwd", "numpy fwd+bwd"]
    try:
        import torch  # noqa: F401
        engines.append("torch")
    except ImportError:
        pass
    runs = w3_op_overhead.make_runs(engines, n_ops=12, shape=(3, 3))
    for _ in range(3):   # the compiled engine: two traced calls, then its program
        results = w3_op_overhead.check(runs)
    assert results["numpy fwd"][1] is None
    assert results["tinygrad_edu"][1].shape == (3, 3)
    assert_replays("W3", runs)


def test_w3_check_catches_a_wrong_engine():
    runs = w3_op_overhead.make_runs(["numpy fwd+bwd", "tinygrad_edu"], n_ops=6, shape=(2, 2))
    runs["broken"] = lambda: (0.0, None)
    with pytest.raises(AssertionError, match="broken"):
        w3_op_overhead.check(runs)


def test_w5_chain_gradient_and_memory():
    w5_deep_chain.check(["tinygrad_edu"], 2_000)   # deep enough for a recursive sort to fail
    held, peak = w5_deep_chain.tinygrad_memory(200)
    assert 0 < held <= peak


def test_check_losses_names_the_engines_that_disagree():
    with pytest.raises(AssertionError, match="numpy.*torch"):
        common.check_losses("W1", {"numpy": [1.0, 0.9], "torch": [1.0, 0.8]}, rtol=1e-9)


def test_table_renders_values_and_ratios():
    table = common.Table()
    table.add("W", "time/step", "tinygrad_edu", 2.5e-3, "s", 1.25, 0.5, "ok")
    table.add("W", "peak mem/step", "numpy", 3 * 2 ** 20 * 10, "B")
    text = table.render()
    assert "2.50 ms" in text and "1.25x" in text and "0.50x" in text and "30.0 MiB" in text


def test_run_py_quick_prints_its_settings_and_a_table():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                          "--only", "w3", "--threads", "1", "--malloc-tuned"],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "threads: 1 for every engine" in out.stdout
    assert "malloc: tuned: MALLOC_TRIM_THRESHOLD_=" in out.stdout
    assert "W3 500-op chain" in out.stdout and "us/op fwd+bwd" in out.stdout
    assert "tinygrad_edu compiled" in out.stdout and "trace: 1st, 2nd call" in out.stdout


@pytest.mark.parametrize("workload", ["w1", "w2", "w2b", "w6", "w7"])
def test_engines_that_disagree_are_never_timed(monkeypatch, workload):
    from benchmarks import suite
    module = {"w1": w1_deep_batchnorm_mlp, "w2": w2_mnist_mlp, "w2b": w2_mnist_mlp,
              "w6": w6_digits_cnn, "w7": w7_char_gpt}[workload]
    monkeypatch.setattr(module, "make_steps", lambda engines, **sizes: {
        "tinygrad_edu": lambda: 1.0, "numpy": lambda: 1.5})
    timed = []
    monkeypatch.setattr(suite, "interleaved_medians", lambda *a, **k: timed.append(a))
    with pytest.raises(AssertionError, match="loss 0 differs between tinygrad_edu"):
        suite.WORKLOADS[workload](common.Table(), True)
    assert timed == []


def test_run_py_without_torch_skips_its_column():
    hide_torch = ("import runpy, sys; sys.modules['torch'] = None; "   # import torch -> ImportError
                  f"sys.argv = ['run.py', '--quick', '--only', 'w3']; "
                  f"runpy.run_path({str(ROOT / 'benchmarks' / 'run.py')!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", hide_torch], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "torch not installed" in out.stdout and "W3 500-op chain" in out.stdout
    assert "torch  " not in out.stdout.split("W3", 1)[1]   # no torch row in the table
