"""Fresh virtual environments for the packaging tests (no source tree on the path)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the packaging tests that build a venv and install from PyPI run only when this is set to 1
#: (`make install-test` sets it): each takes minutes and needs the package index
ENV_FLAG = "POLLWATCH_INSTALL_TESTS"


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would put the source tree on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    return env


def make_venv(path: Path) -> Path:
    """A fresh venv with pip; returns its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def run(args: list[str | Path], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    res = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if res.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {res.returncode}\n"
            f"stdout:\n{res.stdout[-4000:]}\nstderr:\n{res.stderr[-4000:]}"
        )
    return res


def build_wheel(out: Path) -> Path:
    """The project's wheel, built by pip (PEP 517, isolated build) into ``out``."""
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT],
        cwd=out,
        timeout=600,
    )
    (wheel,) = out.glob("pollwatch-*.whl")
    return wheel
