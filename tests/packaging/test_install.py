"""The built wheel, installed in a fresh virtual environment, runs with no source tree.

Slow and opt-in (``POLLWATCH_INSTALL_TESTS=1``, set by ``make install-test``): it builds the
wheel, creates a venv, installs the wheel with the [service] extra from the package index (the
demo files observer reports through the service) and runs ``pollwatch --version`` and
``pollwatch demo`` from an empty directory.
"""

from __future__ import annotations

import os
import tomllib
import zipfile

import pytest
from tests.packaging._venv import ENV_FLAG, ROOT, build_wheel, make_venv, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get(ENV_FLAG) != "1", reason=f"installs from PyPI: set {ENV_FLAG}=1"
    ),
]


def test_wheel_installs_and_runs_the_demo(tmp_path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    wheel = build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    # what an installed package needs besides code: license, type marker, data files
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names[-10:]
    for needed in (
        "pollwatch/py.typed",
        "pollwatch/report/schema/results.schema.json",
        "pollwatch/service/migrations/env.py",
    ):
        assert needed in names, needed
    assert not any("pgtemp" in n or n.startswith("tests/") for n in names)

    py = make_venv(tmp_path / "venv")
    run([py, "-m", "pip", "install", "-q", f"{wheel}[service]"], cwd=tmp_path, timeout=900)
    work = tmp_path / "empty"
    work.mkdir()
    exe = tmp_path / "venv" / "bin" / "pollwatch"
    out = run([exe, "--version"], cwd=work, timeout=60)
    assert out.stdout.strip() == f"pollwatch {version}"
    where = run([py, "-c", "import pollwatch; print(pollwatch.__file__)"], cwd=work, timeout=60)
    assert str(tmp_path / "venv") in where.stdout and str(ROOT) not in where.stdout
    run([exe, "demo", "--quiet", "--out", "demo"], cwd=work, timeout=900)
    for f in ("report.html", "results.json", "stations.csv"):
        assert (work / "demo" / f).stat().st_size > 0, f
