"""Reports show themselves: text that fits 100 columns, and HTML tables in a notebook."""
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import check, nn, viz
from tinygrad_edu.formatting import format_table, html_table


def widest(text):
    return max(len(line) for line in text.splitlines())


def test_format_table_wraps_wide_columns_at_spaces():
    body = [["1", "word " * 30, "x"], ["2", "short", "y"]]
    lines = format_table(["n", "text", "z"], body, width=40)
    assert max(map(len, lines)) <= 40
    assert sum(line.split().count("word") for line in lines) == 30   # every word survives
    assert len(lines) > 4   # ... on continuation lines
    assert lines[-1].split() == ["2", "short", "y"]


def test_format_table_keeps_words_whole_when_it_cannot_fit():
    lines = format_table(["a"], [["averyveryverylongword"]], width=5)
    assert lines[2] == "averyveryverylongword"


def test_format_table_cells_may_hold_several_lines():
    lines = format_table(["a", "b"], [["1", "first\nsecond"]])
    assert lines[2:] == ["1  first", "   second"]


def test_html_table_escapes_and_marks_bad_rows():
    out = html_table(["a<b"], [["x & y"], ["2\n3"]], notes=["note"], bad_rows=[1])
    assert "a&lt;b" in out and "x &amp; y" in out and "2<br>3" in out
    assert out.count("background:#fdd") == 1 and "<div>note</div>" in out


def model_and_loss():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    x, y = tg.randn(32, 2), tg.randint(0, 3, (32,))
    return model, nn.functional.cross_entropy(model(x), y)


def test_backward_trace_prints_within_100_columns_and_shows_html():
    model, loss = model_and_loss()
    trace = viz.backward_trace(loss, model)
    text = str(trace)
    assert widest(text) <= 100
    assert len(re.findall(r"^\d+ ", text, flags=re.M)) == len(trace)   # every step is there
    html = trace._repr_html_()
    assert html.count("<tr>") == len(trace) + 1 and "MatMul" in html


def test_comparison_html_marks_the_failing_row():
    result = tg.compare_gradients({"a": np.ones(3), "b": np.zeros(2)},
                                  {"a": np.ones(3), "b": np.ones(2)}, verbose=False)
    html = result._repr_html_()
    assert html.count("background:#fdd") == 1 and "1 of 2 differ" in html
    assert widest(str(result)) <= 100


def test_compare_gradients_prints_once_in_a_notebook(monkeypatch, capsys):
    grads = ({"a": np.ones(3)}, {"a": np.ones(3)})
    tg.compare_gradients(*grads)
    assert "all gradients match" in capsys.readouterr().out   # a script: printed
    monkeypatch.setattr(check, "in_notebook", lambda: True)
    result = tg.compare_gradients(*grads)
    assert capsys.readouterr().out == ""   # the returned report displays itself instead
    assert "all gradients match" in result._repr_html_()
    tg.compare_gradients(*grads, verbose=True)
    assert "all gradients match" in capsys.readouterr().out


def doubled_exp(x):
    y = x.exp()
    y.register_hook(lambda g: 2 * g)   # a wrong derivative: d/dx e^x as 2 e^x
    return y, x.sum()


def test_gradcheck_error_carries_a_table_of_every_block():
    x = tg.randn(3, requires_grad=True, dtype=tg.float64)
    with pytest.raises(tg.check.GradcheckError, match="Jacobian mismatch for output 0") as err:
        tg.gradcheck(doubled_exp, (x,))
    report = err.value.report
    assert [r.passed for r in report.rows] == [False, True]
    assert report.rows[0].n_bad == 3 and widest(str(err.value)) <= 300
    assert widest(str(report)) <= 100 and "1 of 2 Jacobian blocks differ" in str(report)
    assert report._repr_html_().count("background:#fdd") == 1


def test_gradcheck_report_passes_and_is_truthy():
    x = tg.randn(2, 3, requires_grad=True, dtype=tg.float64)
    report = tg.gradcheck_report(lambda x: (x * x).sum(1), (x,))
    assert report and report.rows[0].max_abs < 1e-6 and "agree" in str(report)
    assert not tg.gradcheck(doubled_exp, (x,), raise_exception=False)


def test_derivation_report_shows_html_with_failures_marked():
    from tinygrad_edu.derivations import check_derivations
    report = check_derivations(verbose=False)
    html = report._repr_html_()
    assert html.count("<tr") == len(report.rows) + 1 and "background:#fdd" not in html
    assert widest(str(report)) <= 100
