"""`tinygrad-edu compile-demo`: the program tg.compile wrote, next to the step by hand."""
from tinygrad_edu import cli


def test_compile_demo_prints_the_program_and_matches_the_hand_derivation(capsys):
    assert cli.main(["compile-demo"]) == 0
    out = capsys.readouterr().out
    program = out[out.index("def step("):out.index("2. the same step by hand")]
    assert "np.matmul(" in program and "# backward: into .grad" in program
    # the four parameters updated by one SGD.update on their concatenation (FusedUpdate)
    assert "# SGD.step on 4 parameters as one flat array: 0.weight 0.bias 2.weight 2.bias" \
        in program
    assert "dh, dW2, db2 = linear_backward(dz2, h, W2)" in out
    assert "tg.compile vs manual.py (atol 1e-06, rtol 1e-05): all gradients match" in out


def test_compile_demo_is_listed_in_the_help(capsys):
    assert cli.main([]) == 2
    assert "compile-demo" in capsys.readouterr().err
