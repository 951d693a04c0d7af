"""Package metadata: one version, the license text, the type marker, the CLI's command list."""

from __future__ import annotations

import importlib.util
import tomllib
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

import pollwatch
from pollwatch.cli import _COMMAND_MODULES, app

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_one_version_source():
    # pyproject's version is what the installed metadata, pollwatch.__version__, the CLI and
    # results.json's pollwatch_version report; no other file spells it
    assert pollwatch.__version__ == version("pollwatch") == PROJECT["version"]
    out = CliRunner().invoke(app, ["--version"])
    assert out.exit_code == 0 and out.stdout.strip() == f"pollwatch {PROJECT['version']}"
    spelled = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "src").rglob("*.py")
        if f'"{PROJECT["version"]}"' in p.read_text(encoding="utf-8")
    ]
    assert not spelled, f"the version is written out in {spelled}"


def test_license_file_is_the_agpl_the_metadata_names():
    assert PROJECT["license"] == "AGPL-3.0-or-later" and PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.lstrip().startswith("GNU AFFERO GENERAL PUBLIC LICENSE")
    assert "Version 3, 19 November 2007" in text and "END OF TERMS AND CONDITIONS" in text
    assert len(text.splitlines()) == 661  # the FSF's agpl-3.0.txt, unabridged


def test_typed_marker_ships():
    assert (ROOT / "src" / "pollwatch" / "py.typed").is_file()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["pollwatch"]


def test_cli_lists_exactly_its_command_modules():
    cli = ROOT / "src" / "pollwatch" / "cli"
    with_register = {
        p.stem for p in cli.glob("*.py") if "\ndef register(" in p.read_text(encoding="utf-8")
    }
    assert set(_COMMAND_MODULES) == with_register
    for name in _COMMAND_MODULES:
        assert importlib.util.find_spec(f"pollwatch.cli.{name}") is not None, name


def test_runtime_dependencies_leave_test_tools_out():
    project_deps = PROJECT["dependencies"] + PROJECT["optional-dependencies"]["service"]
    names = {d.split(">")[0].split("[")[0].split(";")[0].strip().lower() for d in project_deps}
    assert not names & {"httpx", "pytest", "jsonschema", "pandas"}, names
    listed = [d for d in PROJECT["optional-dependencies"]["distributed"]]
    assert len(listed) == 1 and listed[0].startswith("dask[distributed]")
