"""The command line in-process; --help and runs without Graphviz in a subprocess."""
import os
import subprocess
import sys

import pytest

from tinygrad_edu import cli, manual


def test_check_passes(capsys):
    assert cli.main(["check"]) == 0
    out = capsys.readouterr().out
    assert "every hand derivation matches autograd and finite differences" in out
    for name in ["linear", "softmax_jacobian", "multi_margin", "batchnorm", "mlp_backprop"]:
        assert name in out


def test_check_exit_status_catches_a_planted_bug(monkeypatch, capsys):
    original = manual.batchnorm_backward

    def dbeta_counted_twice(dy, cache):      # a classic slip in a hand derivation
        dx, dgamma, dbeta = original(dy, cache)
        return dx, dgamma, 2 * dbeta

    monkeypatch.setattr(manual, "batchnorm_backward", dbeta_counted_twice)
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL batchnorm: beta" in out and "WRONG" in out


try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:   # the plots are optional (the `examples` extra)
    HAVE_MATPLOTLIB = False


def test_demo_writes_its_pictures(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out_dir), "--epochs", "3", "--samples", "300"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/3" in out and "validation accuracy" in out
    assert "autograd vs manual.mlp_backprop" in out and "all gradients match" in out
    assert "fc1.weight" in out and "bn4.bias" in out
    pictures = ["graph.svg", "graph_layers.svg"]
    if HAVE_MATPLOTLIB:
        pictures += ["decision_boundary.png", "loss_curve.png"]
    else:
        assert "matplotlib not installed: no plots" in out
    for name in pictures:
        assert (out_dir / name).stat().st_size > 0, name
    svg = (out_dir / "graph.svg").read_text()
    assert "bn1 (BatchNorm1d)" in svg and "fc5.weight" in svg
    assert "BatchNorm1d" in (out_dir / "graph_layers.svg").read_text()


def run_without_dot(tmp_path, *args):
    """python -m tinygrad_edu ARGS in a subprocess whose PATH has no Graphviz `dot`."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PATH": str(empty)},
                          cwd=tmp_path)


def test_demo_without_graphviz_writes_dot_text(tmp_path):
    out_dir = tmp_path / "demo"
    result = run_without_dot(tmp_path, "demo", "--out", str(out_dir), "--epochs", "1",
                             "--samples", "200")
    assert result.returncode == 0, result.stderr
    assert (out_dir / "graph.dot").read_text().startswith("digraph")
    assert (out_dir / "graph_layers.dot").read_text().startswith("digraph")
    assert not (out_dir / "graph.svg").exists()
    out = result.stdout
    # one message for both graphs, with the command that renders each
    assert out.count("apt-get install graphviz") == 1 and out.count("not found") == 1
    assert f"dot -Tsvg {out_dir / 'graph.dot'} -o {out_dir / 'graph.svg'}" in out
    assert "graph_layers.dot -o" in out
    assert "Traceback" not in out + result.stderr


def test_graph_command_without_graphviz(tmp_path):
    result = run_without_dot(tmp_path, "graph", "--out", str(tmp_path / "g.png"))
    assert result.returncode == 1                       # the .png asked for was not made
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.png").exists()
    err = result.stderr
    assert err.count("apt-get install graphviz") == 1 and "Traceback" not in err
    assert f"dot -Tpng {tmp_path / 'g.dot'} -o {tmp_path / 'g.png'}" in err
    # .dot output needs no Graphviz at all
    result = run_without_dot(tmp_path, "graph", "--out", str(tmp_path / "h.dot"))
    assert result.returncode == 0 and (tmp_path / "h.dot").exists()


@pytest.mark.parametrize("ext", ["svg", "dot"])
def test_graph_command(tmp_path, capsys, ext):
    path = tmp_path / "new_folder" / f"g.{ext}"   # made if missing
    code = cli.main(["graph", "--dims", "2,8,3", "--batchnorm", "--out", str(path),
                     "--cluster", "--backward-order"])
    assert code == 0
    text = path.read_text()
    assert "bn1.weight" in text and "fc2.bias" in text
    assert f"wrote {path}" in capsys.readouterr().out


def test_graph_command_rejects_bad_input(tmp_path):
    with pytest.raises(SystemExit, match="--dims"):
        cli.main(["graph", "--dims", "2,x,3", "--out", str(tmp_path / "g.svg")])
    assert cli.main(["graph", "--out", str(tmp_path / "g.jpg")]) == 2


def test_train_command(tmp_path, capsys):
    code = cli.main(["train", "--dataset", "blobs", "--hidden", "8", "--optimizer", "sgd",
                     "--lr", "0.05", "--epochs", "3", "--batchnorm", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "MLP 2-8-3 with BatchNorm1d on blobs" in out and "validation accuracy" in out
    if HAVE_MATPLOTLIB:
        assert (tmp_path / "loss_curve.png").exists()
    else:
        assert "matplotlib not installed: no plots" in out


def test_help_in_a_subprocess():
    result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ["demo", "graph", "check", "train"]:
        assert command in result.stdout


def test_subcommand_help_describes_the_command_and_its_defaults(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "Train a BatchNorm MLP" in out
    assert "(default: 30)" in out and "(default: spirals)" in out and "(default: 0)" in out
    with pytest.raises(SystemExit):
        cli.main(["graph", "--help"])
    out = capsys.readouterr().out
    assert "--collapse" in out and "(default: False)" not in out


def test_sizes_must_be_positive(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--epochs", "0"])
    assert info.value.code == 2
    assert "--epochs: must be a positive integer" in capsys.readouterr().err


def test_checking_gradients_leaves_batchnorm_running_stats_alone():
    import numpy as np
    from tinygrad_edu import nn
    from tinygrad_edu.derivations import check_model_gradients
    model = nn.MLP([2, 4, 3], batchnorm=True, generator=np.random.default_rng(0))
    before = {k: v.copy() for k, v in model.state_dict().items()}
    X, y = np.random.default_rng(1).standard_normal((16, 2)), np.arange(16) % 3
    _, result = check_model_gradients(model, X, y, verbose=False)
    assert result.passed
    after = model.state_dict()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)
