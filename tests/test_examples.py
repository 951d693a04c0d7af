"""examples/analyst.ipynb runs from top to bottom, as a Jupyter kernel would run it.

Neither nbclient nor a kernel is a dependency: each code cell is compiled and run in order in
one namespace, and a cell ending in an expression is displayed as Jupyter would (its
``_repr_html_`` when it has one), so a display that raises fails here too.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "analyst.ipynb"


def run_notebook(path: Path, cwd: Path, monkeypatch) -> tuple[dict, list[str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    monkeypatch.chdir(cwd)
    ns: dict = {"__name__": "__main__"}
    shown: list[str] = []
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        assert not cell.get("outputs"), f"code cell {i} has stored outputs: clear them"
        tree = ast.parse("".join(cell["source"]), filename=f"{path.name}[{i}]")
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = tree.body[:-1] if last else tree.body
        exec(compile(ast.Module(body, []), f"{path.name}[{i}]", "exec"), ns)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), f"{path.name}[{i}]", "eval"), ns)
            html = getattr(value, "_repr_html_", None)
            shown.append(html() if html else repr(value))
    return ns, shown


@pytest.mark.slow  # ~20-45 s on 2 shared cores: three methods on 1,500 stations, the exports
def test_analyst_notebook_runs(tmp_path, monkeypatch, capsys):
    ns, shown = run_notebook(NOTEBOOK, tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    assert ns["election"].n_stations == 1500
    assert any("class='pw-election'" in s for s in shown)
    assert any("class='pw-analysis'" in s for s in shown)
    assert 'column "voters"' in printed and "line 9" in printed  # row 7 of the frame
    assert "results.json follows its schema" in printed
    assert (tmp_path / "notebook-output" / "stations.parquet").exists()
