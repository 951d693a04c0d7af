"""Every dependency at its floor (constraints/minimum.txt) installs and passes a smoke subset.

Slow and opt-in (``POLLWATCH_INSTALL_TESTS=1``, set by ``make install-test``): a fresh venv, the
package with its [service] extra installed from this tree under ``-c constraints/minimum.txt``,
then the CLI, method-contract, submission fast-path and example-notebook tests run in that venv
(about 1 minute of tests after the install).
"""

from __future__ import annotations

import os
import re
import tomllib

import pytest
from tests.packaging._venv import ENV_FLAG, ROOT, make_venv, run

MINIMUM = ROOT / "constraints" / "minimum.txt"
SMOKE = [
    "tests/cli/test_cli_basic.py",
    "tests/forensics/test_contract.py",
    "tests/service/test_fastpath.py",
    "tests/test_examples.py",  # from_frame, analyze, write_all: figures, Parquet, the schema
]


def _pins() -> dict[str, str]:
    pins = {}
    for line in MINIMUM.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, ver = line.split("==")
            pins[name.lower()] = ver
    return pins


def _floors() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["service"]
    floors = {}
    for r in reqs:
        m = re.match(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?>=([^,;\s]+)", r)
        assert m, f"{r}: every runtime dependency needs a >= floor"
        floors[m.group(1).lower()] = m.group(3)
    return floors


def _release(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split("."))


def test_minimum_pins_every_floor():
    # fast: the constraints pin each runtime and [service] dependency at its pyproject floor
    pins, floors = _pins(), _floors()
    missing = sorted(set(floors) - set(pins))
    assert not missing, f"constraints/minimum.txt lacks {missing}"
    for name, floor in floors.items():
        # a floor written short (numpy>=1.26) is pinned at its first release (1.26.0)
        assert _release(pins[name])[: len(_release(floor))] == _release(floor), (name, floor)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get(ENV_FLAG) != "1", reason=f"installs from PyPI: set {ENV_FLAG}=1")
def test_smoke_subset_at_the_minimum_versions(tmp_path):
    py = make_venv(tmp_path / "venv")
    run(
        [
            py,
            "-m",
            "pip",
            "install",
            "-q",
            "-c",
            MINIMUM,
            f"{ROOT}[service]",
            "pytest",
            "httpx",
            "jsonschema",
        ],
        cwd=tmp_path,
        timeout=1200,
    )
    frozen = run([py, "-m", "pip", "freeze"], cwd=tmp_path, timeout=120).stdout.lower()
    for name, ver in _pins().items():
        assert f"{name}=={ver}" in frozen.replace("_", "-"), f"{name} is not at {ver}"
    run(
        [
            py,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not postgres and not browser",
            *SMOKE,
        ],
        cwd=ROOT,
        timeout=1200,
    )
