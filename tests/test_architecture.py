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
    assert "2 kept, 0 broken" in res.stdout


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
    # inside the service: the fast path used to live in throughput/ and import api.deps
    "service inner layers": (
        "service/throughput/tokens.py",
        "\nfrom pollwatch.service.api import deps as _deps  # noqa\n",
        "pollwatch.service.throughput.tokens -> pollwatch.service.api.deps",
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
    assert "BROKEN" in res.stdout and "1 kept, 1 broken" in res.stdout
    assert named in res.stdout, res.stdout


# In-function imports of pollwatch modules are allowed only where they keep a command fast or an
# optional extra optional; each exception names its reason (docs/architecture.md).
LAZY_IMPORTS_ALLOWED = {
    "pollwatch/cli/": "commands import what they run, so `pollwatch --help` stays fast and the "
    "file-based commands run without the [service] extra",
    "pollwatch/demo.py": "the demo loads the service (optional extra) only when it runs",
    "pollwatch/demo_sources.py": "as demo.py",
    "pollwatch/model/derived.py": "model.election imports derived; derived needs Election back",
    "pollwatch/model/election.py": "Election.from_frame reads through the ingest reader, one layer "
    "up (the import-linter contract's ignore_imports names it)",
    "pollwatch/service/__init__.py": "`import pollwatch.service` must not build the app",
    "pollwatch/service/migrations/": "Alembic loads revisions outside the package import",
    "pollwatch/service/checkpoints.py": "evidence.timestamp needs the optional [timestamp] extra",
}


def test_pollwatch_imports_sit_at_the_top_of_their_module():
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    found = []
    for path in sorted((src / "pollwatch").rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if any(rel.startswith(k) for k in LAZY_IMPORTS_ALLOWED):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("pollwatch")
                and id(node) not in top
            ):
                found.append(f"{rel}:{node.lineno} from {node.module} import ...")
    assert not found, "imports inside functions (move them to the top):\n" + "\n".join(found)


@pytest.mark.slow  # ~13 s: make test runs it, make check leaves it
def test_every_module_imports_first_on_its_own():
    # A cycle between top-level imports breaks only when one of its modules is imported first
    # (``pollwatch serve`` imports service.db before service.audit). Import each module first,
    # in a fresh interpreter, so every order a command may use is tried.
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    mods = sorted(
        ".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for p in (src / "pollwatch").rglob("*.py")
        if "migrations" not in p.parts and p.name != "__main__.py"
    )
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        "for mod in sys.argv[1:]:\n"
        "    for name in [m for m in sys.modules if m == 'pollwatch' or m.startswith('pollwatch.')]:\n"
        "        del sys.modules[name]\n"
        "    try:\n"
        "        importlib.import_module(mod)\n"
        "    except ImportError as exc:\n"
        "        failed.append(f'{mod}: {exc}')\n"
        "print('\\n'.join(failed))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *mods], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert not out.stdout.strip(), "modules that cannot be imported first:\n" + out.stdout
