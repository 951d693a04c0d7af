"""The layer contract of docs/architecture.md holds, and its check fails on an upward import.

``make test`` runs ``lint-imports`` (import-linter, the contract is ``[tool.importlinter]`` in
pyproject.toml). These tests run the same check: once on the package as it is, and on copies
of it with one upward import put back in, at the top of a module and hidden in a function
body, to show that the check catches both and names the import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(src: Path, config: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the ``pollwatch`` found in ``src`` (first on the path), no cache."""
    pytest.importorskip("importlinter", reason="import-linter is in the dev extra")
    path = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-c", LINT, "--config", str(config), "--no-cache"],
        env={**os.environ, "PYTHONPATH": path},
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_layers_only_point_down():
    res = lint_imports(ROOT / "src", ROOT / "pyproject.toml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 kept, 0 broken" in res.stdout


UPWARD = {
    # the adapter that used to live in cameras/ and read the service's tables
    "top of a module": (
        "cameras/data.py",
        "\nfrom pollwatch.service import models as _models  # noqa\n",
        "pollwatch.cameras.data -> pollwatch.service.models",
    ),
    # the rule forensics/run.py used to import from the report, inside a method
    "function body": (
        "forensics/digits.py",
        "\n\ndef _strength(doc):\n    from pollwatch.report.html import Section\n\n"
        "    return Section\n",
        "pollwatch.forensics.digits -> pollwatch.report.html",
    ),
}


@pytest.mark.parametrize("where", list(UPWARD))
def test_check_fails_on_an_upward_import(tmp_path, where):
    module, code, named = UPWARD[where]
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "pollwatch",
        src / "pollwatch",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(src / "pollwatch" / module, "a", encoding="utf-8") as f:
        f.write(code)
    res = lint_imports(src, tmp_path / "pyproject.toml")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "BROKEN" in res.stdout and "0 kept, 1 broken" in res.stdout
    assert named in res.stdout, res.stdout
