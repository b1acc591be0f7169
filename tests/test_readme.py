"""The README's Python snippets run (each section's snippets in order, in one namespace)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def sections():
    text = README.read_text(encoding="utf-8")
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        title = part.splitlines()[0]
        blocks = re.findall(r"^```python\n(.*?)^```", part, flags=re.M | re.S)
        if blocks:
            yield pytest.param(blocks, id=title)


def test_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    commands = re.findall(r"^```bash\n(.*?)\n```", text, flags=re.M | re.S)[:2]
    assert commands[0].endswith("tinygrad-edu demo")
    assert commands[1].endswith("python -m pytest -q")
    assert text.index(commands[1]) < text.index("## ")   # before any section


@pytest.mark.parametrize("blocks", list(sections()))
def test_readme_section_snippets_run(blocks, tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.chdir(tmp_path)                      # snippets may write files
    namespace = {"__name__": "__readme__"}
    for code in blocks:
        if "tune_malloc" in code:                    # process-wide: tested in a subprocess
            continue
        exec(compile(code, str(README), "exec"), namespace)


DOCS = sorted((README.parent / "docs").glob("*.md"))


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_docs_snippets_run_and_print_what_the_page_shows(page, tmp_path, monkeypatch, capsys):
    """Each ```python block of a docs page runs (in one namespace per page); where a plain
    ``` block follows it, that is exactly what it prints."""
    monkeypatch.chdir(tmp_path)
    text = page.read_text(encoding="utf-8")
    pairs = re.findall(r"^```python\n(.*?)^```\n(?:```\n(.*?)^```\n)?", text, flags=re.M | re.S)
    assert pairs, f"{page.name} has no Python example"
    namespace = {"__name__": "__docs__"}
    for code, shown in pairs:
        exec(compile(code, str(page), "exec"), namespace)
        printed = capsys.readouterr().out
        if shown:
            assert printed == shown, f"{page.name}: the example prints\n{printed}"
