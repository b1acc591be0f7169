"""The notebooks in examples/notebooks run headlessly, top to bottom, without an error.

They are stored without outputs; this executes each one in a fresh kernel (nbclient, an
optional extra: pip install -e ".[notebooks]") and checks that what a learner looks at is
shown as a picture or a table.
"""
import pathlib

import pytest

nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebooks]'")
nbformat = pytest.importorskip("nbformat")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "examples" / "notebooks")
                   .glob("*.ipynb"))
RICH = {"image/svg+xml", "image/png", "text/html"}


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 4


def execute(path):
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_shows_pictures_and_tables(path):
    stored = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in stored.cells if c.cell_type == "code"), \
        f"{path.name} is stored with outputs: clear them"
    nb = execute(path)   # raises CellExecutionError naming the cell on any error
    rich = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if RICH & set(o.get("data", {}))]
    assert rich, f"{path.name} shows no picture or table"
    if path.stem == "01_tour":   # the tour: everything it shows is a picture or a table
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                assert out["output_type"] != "error"
                assert out["output_type"] == "stream" and out["name"] == "stderr" or \
                    RICH & set(out.get("data", {})), f"01_tour: plain output {out}"
    # a report or graph as a cell's last line shows itself, never as its bare repr
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/plain", "")
            if out.get("output_type") == "execute_result" and text.startswith(
                    ("<BackwardTrace", "<GradientComparison", "<GradcheckReport", "<graphviz",
                     "<Figure", "MLP(", "History(")):
                assert RICH & set(out["data"]), f"{path.name}: {text} has no rich display"
