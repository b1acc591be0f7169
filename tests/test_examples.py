"""The examples run, and reproduce the figures they claim.

Each example exposes main(argv) -> dict; it runs in-process with --quick
(cached, so one run serves several tests). LAB_LOG below is the log that the
classic NumPy lab behind deep_batchnorm_mlp.py prints (its hand-written
backprop run), typed in as data: the example must reproduce it to 4 decimals.
"""
import functools
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The NumPy lab's printed log: (epoch, loss, train accuracy, validation accuracy).
LAB_LOG = [
    (1, 1.0983, 0.4135, 0.3917),
    (20, 1.0911, 0.6917, 0.7000),
    (40, 1.0825, 0.7281, 0.7000),
    (60, 1.0702, 0.7542, 0.7417),
    (80, 1.0527, 0.7948, 0.7833),
    (100, 1.0285, 0.8260, 0.8042),
    (120, 0.9984, 0.8458, 0.8125),
    (140, 0.9637, 0.8615, 0.8250),
    (160, 0.9251, 0.8760, 0.8417),
    (180, 0.8834, 0.8885, 0.8542),
    (200, 0.8392, 0.8938, 0.8625),
]


def load(name):
    """Import examples/<name>.py as a module (its folder on sys.path for example_utils)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=None)
def quick(name):
    return load(name).main(["--quick"])


def as_printed(row):
    return tuple(f"{v:.4f}" for v in row[1:])


# --- deep_batchnorm_mlp ------------------------------------------------------------------

def test_deep_batchnorm_quick_log_matches_the_lab_to_4_decimals():
    log = quick("deep_batchnorm_mlp")["lab_log"]
    assert len(log) >= 3
    for row, expected in zip(log, LAB_LOG):
        assert row[0] == expected[0]
        assert as_printed(row) == as_printed(expected), f"epoch {row[0]}"
    final = quick("deep_batchnorm_mlp")["lab_final"]   # after the quick 60 epochs
    assert as_printed((None,) + final) == as_printed(LAB_LOG[3])[1:]


def test_deep_batchnorm_autograd_equals_the_hand_written_backward_at_every_epoch():
    assert quick("deep_batchnorm_mlp")["max_grad_diff"] < 1e-12


def test_deep_batchnorm_full_200_epochs_match_every_printed_line():
    ex = load("deep_batchnorm_mlp")
    X, labels = ex.three_clusters()
    data = (X[:960], labels[:960], X[960:], labels[960:])
    model = ex.DeepBatchNormMLP().lab_init()
    log, _ = ex.train(model, ex.LabAdam(model.parameters(), lr=0.001), data, 200)
    assert [as_printed(r) for r in log] == [as_printed(r) for r in LAB_LOG]
    # the lab's closing line: "Final Train Acc: 0.8938 | Final Val Acc: 0.8625"
    assert as_printed((None,) + ex.final_accuracies(model, data)) == ("0.8938", "0.8625")


def test_deep_batchnorm_library_batchnorm_and_adam():
    result = quick("deep_batchnorm_mlp")
    # nn.BatchNorm1d's training forward is the lab's: the losses coincide
    assert [r[1] for r in result["bn1d_log"]] == pytest.approx([r[1] for r in result["lab_log"]],
                                                               abs=1e-12)
    # torch-style Adam (bias correction once) takes larger steps and gets further
    assert result["adam_log"][-1][1] < result["lab_log"][-1][1] - 0.1


# --- fully_connected_net -----------------------------------------------------------------

def test_fully_connected_net_overfits_a_small_set():
    r = quick("fully_connected_net")
    assert r["overfit_train_acc"] == 1.0
    assert r["overfit_val_acc"] < 0.95


def test_fully_connected_net_zero_init_never_breaks_symmetry():
    r = quick("fully_connected_net")
    assert r["zero_init_hidden_grad"] == 0.0
    assert r["zero_init_distinct_rows"] == 1
    assert r["zero_init_val_acc"] < 0.45


def test_fully_connected_net_he_init_learns_with_softmax_and_svm_losses():
    r = quick("fully_connected_net")
    assert r["val_acc[he, softmax]"] > 0.9
    assert r["val_acc[he, svm]"] > 0.9
    assert r["val_acc[he, softmax]"] > r["val_acc[random 1e-2, softmax]"] + 0.3


# --- softmax_and_two_layer ---------------------------------------------------------------

def test_softmax_and_two_layer_softmax_regression():
    r = quick("softmax_and_two_layer")
    assert r["blobs_gradient_gap"] < 1e-12
    assert r["blobs_test_acc"] > 0.95
    assert r["moons_linear_test_acc"] < 0.92


def test_softmax_and_two_layer_hidden_layers_bend_the_boundary():
    r = quick("softmax_and_two_layer")
    for activation in ("relu", "tanh"):
        assert r[f"moons_{activation}16_test_acc"] > max(0.9, r["moons_linear_test_acc"])


# --- mlp_sgd_weight_decay ----------------------------------------------------------------

def test_mlp_sgd_weight_decay_trains():
    rows = quick("mlp_sgd_weight_decay")["rows"]
    assert rows[-1][1] < 0.1 * rows[0][1]
    assert rows[-1][4] > 0.97


def test_mlp_sgd_weight_decay_matches_pytorch_epoch_by_epoch():
    pytest.importorskip("torch")
    r = quick("mlp_sgd_weight_decay")
    assert len(r["torch_rows"]) == len(r["rows"])
    assert r["max_torch_diff"] < 1e-10


# --- perceptron_adaline, mlp_module_checkpoint -------------------------------------------

def test_perceptron_converges_and_adaline_learning_rates():
    r = quick("perceptron_adaline")
    assert r["perceptron_mistakes"][0] > 0 and r["perceptron_mistakes"][-1] == 0
    assert r["perceptron_acc"] == 1.0
    too_big, right, too_small = (r["adaline_losses"][lr] for lr in (0.1, 0.02, 0.0001))
    assert too_big[-1] > too_big[0]                      # diverges
    assert right[-1] < 0.2 * right[0]
    assert 0.9 * too_small[0] < too_small[-1] < too_small[0]   # crawls
    assert r["adaline_acc"] > 0.95 and r["adaline_sgd_acc"] > 0.95


def test_mlp_module_loop_and_checkpoint_round_trip():
    r = quick("mlp_module_checkpoint")
    assert r["mse_gradient_gap"] < 1e-12
    assert r["mse_test_acc"] > 0.95
    assert r["module_test_acc"] > 0.97
    assert r["reload_identical"] is True
    assert r["mismatch_refused"] is True
    assert r["resume_identical"] is True


# --- real data ---------------------------------------------------------------------------

def test_digits_mlp_reaches_95_percent():
    pytest.importorskip("sklearn")
    r = quick("digits_mlp")
    assert r["test_acc"] >= 0.95


# --- makemore_mlp ------------------------------------------------------------------------

NINJA_TENSORS = ["emb", "embcat", "hprebn", "bnmeani", "bndiff", "bndiff2", "bnvar", "bnvar_inv",
                 "bnraw", "hpreact", "h", "logits", "logit_maxes", "norm_logits", "counts",
                 "counts_sum", "counts_sum_inv", "probs", "logprobs",
                 "C", "W1", "b1", "bngain", "bnbias", "W2", "b2"]


def test_makemore_data_vocabulary_and_split():
    r = quick("makemore_mlp")
    assert r["vocab"] == "." + "abcdefghijklmnopqrstuvwxyz"
    assert r["splits"] == (800, 100, 100)
    ex = load("makemore_mlp")
    stoi, _ = ex.vocabulary(["emma"])
    X, Y = ex.build_dataset(["emma"], stoi)
    e, m, a = stoi["e"], stoi["m"], stoi["a"]
    assert X.tolist() == [[0, 0, 0], [0, 0, e], [0, e, m], [e, m, m], [m, m, a]]
    assert Y.tolist() == [e, m, m, a, 0]
    assert str(X.dtype) == "int64"


def test_makemore_backprop_ninja_every_gradient_matches_the_hand_derivation():
    r = quick("makemore_mlp")
    rows = {name: (exact, approx, diff) for name, exact, approx, diff in r["ninja_rows"]}
    assert sorted(rows) == sorted(NINJA_TENSORS)
    for name, (_, approx, diff) in rows.items():
        assert approx and diff < 1e-10, name
    for name, _, approx, diff in r["shortcut_rows"]:      # dlogits and fused BatchNorm
        assert approx and diff < 1e-10, name
    assert r["ninja_loss_gap"] < 1e-12                    # step by step = F.cross_entropy


def test_makemore_hand_derivation_catches_a_wrong_formula():
    # the comparison is not vacuous: the biased variance (1/n) in the fused BatchNorm
    # formula, where the forward used 1/(n - 1), is caught
    import tinygrad_edu as tg
    ex = load("makemore_mlp")
    g = tg.Generator().manual_seed(0)
    p = ex.init_parameters(g)
    Xb = tg.randint(0, 27, (16, 3), generator=g)
    Yb = tg.randint(0, 27, (16,), generator=g)
    loss, t = ex.forward_step_by_step(p, Xb, Yb)
    loss.backward()
    d = ex.gradients_by_hand(p, t, Xb, Yb)
    assert (d["hprebn"] - t["hprebn"].grad).abs().max().item() < 1e-12
    n, dh, xhat = 16, t["hpreact"].grad, t["bnraw"].detach()
    wrong = p["bngain"].detach() * t["bnvar_inv"].detach() / n * (
        n * dh - dh.sum(0) - xhat * (dh * xhat).sum(0))
    assert (wrong - t["hprebn"].grad).abs().max().item() > 1e-6


def test_makemore_trains_and_samples_names():
    r = quick("makemore_mlp")
    first = r["log"][0][1]                               # the first minibatch's loss
    assert first > 3.0 and r["losses"]["train"] < first - 0.5
    assert r["losses"]["train"] < 2.6 and r["losses"]["dev"] < 2.8
    assert len(r["names"]) == 5
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyz") for name in r["names"])


# --- running as scripts ------------------------------------------------------------------

def test_a_script_runs_from_the_command_line_and_saves_its_plot(tmp_path):
    pytest.importorskip("matplotlib")
    script = EXAMPLES / "perceptron_adaline.py"
    done = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Perceptron" in done.stdout
    assert (tmp_path / "perceptron_adaline.png").stat().st_size > 0


def test_the_readme_lists_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "example_utils.py")
    assert len(scripts) >= 7
    assert [s for s in scripts if s not in readme] == []
