"""The command line in-process; --help and runs without Graphviz in a subprocess."""
import os
import signal
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
    out = " ".join(capsys.readouterr().out.split())   # as read, whatever the terminal width
    assert "Train a BatchNorm MLP" in out
    assert "(default: 30)" in out and "(default: spirals)" in out and "(default: 0)" in out
    with pytest.raises(SystemExit):
        cli.main(["graph", "--help"])
    out = capsys.readouterr().out
    assert "--collapse" in out and "(default: False)" not in out


def test_checking_gradients_leaves_batchnorm_running_stats_alone():
    import numpy as np
    from tinygrad_edu import nn
    from tinygrad_edu.derivations import check_model_gradients
    model = nn.MLP([2, 4, 3], batchnorm=True, generator=np.random.default_rng(0))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X, y = np.random.default_rng(1).standard_normal((16, 2)), np.arange(16) % 3
    _, result = check_model_gradients(model, X, y, verbose=False)
    assert result.passed
    after = model.state_dict()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)


# --- a last minibatch of one sample (BatchNorm1d refuses it in training mode) ----------------

@pytest.mark.parametrize("argv", [
    ["demo", "--samples", "82", "--epochs", "1"],              # 65 training points, batches of 64
    ["train", "--batchnorm", "--samples", "42", "--epochs", "2"],   # 33 points, batches of 32
], ids=["demo", "train"])
def test_a_one_sample_last_batch_is_dropped_with_batchnorm(argv, tmp_path, capsys):
    assert cli.main(argv + ["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out


# --- bad values are refused before any work, in one line naming the option, with status 2 -----

BAD_COMMAND_LINES = [
    (["train", "--seed", "-1"], "--seed"),
    (["graph", "--seed", "-1"], "--seed"),
    (["train", "--lr", "-1"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["demo", "--lr", "inf"], "--lr"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--hidden", "100000000"], "--hidden"),
    (["train", "--hidden", "8,8,8,8,8,8,8,8,8"], "--hidden"),
    (["train", "--samples", "1"], "--samples"),
    (["demo", "--samples", "10000000"], "--samples"),
    (["demo", "--epochs", "0"], "--epochs"),
    (["train", "--epochs", "1000000"], "--epochs"),
    (["train", "--batchnorm", "--batch-size", "1"], "--batch-size"),
    (["graph", "--dims", "2"], "--dims"),
    (["graph", "--dims", "2,x,3"], "--dims"),
    (["graph", "--dims", "2,0,3"], "--dims"),
    (["graph", "--batchnorm", "--batch", "1"], "--batch"),
    (["graph", "--out", "g.jpg"], "--out"),
    (["graph", "--out", "g"], "--out"),
    (["graph", "--out", "{file}/g.svg"], "--out"),
    (["graph", "--out", "{dir}"], "--out"),
    (["train", "--out", "{file}/plots"], "--out"),
    (["demo", "--out", "{file}/demo"], "--out"),
    (["check", "--seed", "x"], "--seed"),
]


@pytest.mark.parametrize("argv, option", BAD_COMMAND_LINES,
                         ids=[" ".join(argv) for argv, _ in BAD_COMMAND_LINES])
def test_bad_values_are_refused_before_any_work(argv, option, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                        # relative outputs would land here
    a_file = tmp_path / "a_file.txt"
    a_file.write_text("not a folder")
    argv = [a.format(file=a_file, dir=tmp_path) for a in argv]
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""                          # nothing trained, drawn or checked
    lines = captured.err.splitlines()
    assert len(lines) == 1 and option in lines[0], captured.err
    assert lines[0].startswith(f"tinygrad-edu {argv[0]}: error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file.txt"]


def test_sizes_must_be_positive(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["demo", "--epochs", "0"])
    assert info.value.code == 2
    assert "--epochs: must be a positive integer" in capsys.readouterr().err


def test_the_bounds_are_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert f"{cli.MIN_SAMPLES} to {cli.MAX_SAMPLES}" in out and f"1 to {cli.MAX_WIDTH}" in out


# --- training that diverges, Ctrl-C ------------------------------------------------------------

def test_diverging_training_exits_non_zero_with_one_line(capsys):
    code = cli.main(["train", "--optimizer", "sgd", "--lr", "1e300", "--epochs", "3",
                     "--samples", "100"])
    assert code == 1
    captured = capsys.readouterr()
    assert "accuracy" not in captured.out                # stopped at the first NaN
    assert captured.err.splitlines() == [
        "tinygrad-edu train: training diverged: the loss became nan; try a smaller --lr "
        "(it was 1e+300)"]


def test_ctrl_c_in_process_prints_one_line_and_returns_130(monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "train_model", interrupted)
    try:
        code = cli.main(["train", "--epochs", "1"])
    except KeyboardInterrupt:   # escaping it here would stop the whole test session
        pytest.fail("KeyboardInterrupt escaped cli.main")
    assert code == 130
    assert capsys.readouterr().err == "tinygrad-edu train: interrupted\n"


def test_ctrl_c_in_a_subprocess(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", "train", "--epochs", "10000",
                             "--samples", "2000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:          # wait until it is training
            if line.lstrip().startswith("epoch"):
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err == "tinygrad-edu train: interrupted\n"


def test_a_closed_output_pipe_is_no_traceback(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", "check"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    proc.stdout.readline()                # like `| head -1`: read the first line, then leave
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141 and err == ""


# --- graph file names, the bare command, --version, --help -------------------------------------

@pytest.mark.parametrize("name", ["g.SVG", "g.Pdf", "g.DOT"])
def test_graph_keeps_the_file_name_asked_for(name, tmp_path, capsys):
    path = tmp_path / name
    assert cli.main(["graph", "--dims", "2,4,3", "--out", str(path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [name]     # no g.svg, no leftover part file
    head = path.read_bytes()[:400]
    assert {"g.SVG": b"DTD SVG", "g.Pdf": b"%PDF", "g.DOT": b"digraph"}[name] in head
    assert f"wrote {path}" in capsys.readouterr().out


def test_graph_without_graphviz_names_the_file_asked_for(tmp_path):
    result = run_without_dot(tmp_path, "graph", "--out", str(tmp_path / "g.PNG"))
    assert result.returncode == 1
    assert f"dot -Tpng {tmp_path / 'g.dot'} -o {tmp_path / 'g.PNG'}" in result.stderr


def test_no_command_lists_the_commands_and_exits_2(capsys):
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    for command in ["demo", "graph", "check", "train"]:
        assert f"    {command}  " in err
    assert "Exit status" in err


def test_version(capsys):
    import tinygrad_edu
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"tinygrad-edu {tinygrad_edu.__version__}\n"


@pytest.mark.parametrize("command", [[], ["demo"], ["graph"], ["check"], ["train"]],
                         ids=["top", "demo", "graph", "check", "train"])
def test_help_has_no_markdown(command, capsys):
    with pytest.raises(SystemExit):
        cli.main(command + ["--help"])
    out = capsys.readouterr().out
    assert "usage: tinygrad-edu" in out and "`" not in out
