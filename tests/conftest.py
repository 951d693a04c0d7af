"""Shared fixtures: paths to the real data (skipped with a reason when absent), small elections."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# numba's on-disk cache in one directory of the checkout (gitignored), set before anything
# imports numba: the test processes (xdist workers, and the `pollwatch` subprocesses some tests
# start, which inherit the environment) share it, so a kernel one of them compiled is loaded by
# the others, and later runs compile nothing. A NUMBA_CACHE_DIR given by the caller wins.
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

SHARED_DATA = ROOT.parent / "shared" / "data" / "russia"
RU2011 = SHARED_DATA / "duma-2011.csv.zip"
RU2012 = SHARED_DATA / "president-2012.csv.zip"


@pytest.fixture(autouse=True)
def _plaintext_signing_key(monkeypatch):
    """Tests (like the demo) may store the evidence signing key unencrypted; a passphrase from
    the developer's shell must not leak in. tests/evidence/test_keys.py removes the flag to test
    the refusal."""
    from pollwatch.evidence.keys import INSECURE_ENV, PASSPHRASE_ENV, PASSPHRASE_FILE_ENV

    monkeypatch.setenv(INSECURE_ENV, "1")
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(PASSPHRASE_FILE_ENV, raising=False)


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real data not available: {path} is absent (expected ../shared/data beside the project)"
        )
    return path


@pytest.fixture(scope="session")
def ru2011_path() -> Path:
    return _need(RU2011)


@pytest.fixture(scope="session")
def ru2012_path() -> Path:
    return _need(RU2012)


@pytest.fixture(scope="session")
def ru2011(ru2011_path):
    from pollwatch.ingest import read_election

    return read_election(ru2011_path)


@pytest.fixture(scope="session")
def ru2012(ru2012_path):
    from pollwatch.ingest import read_election

    return read_election(ru2012_path)


@pytest.fixture
def small_election():
    """Five stations, two candidates, hand-made so every number can be checked by eye."""
    from pollwatch.model import Election

    return Election.from_arrays(
        registered=np.array([1000, 800, 0, 1200, 500]),
        valid=np.array([600, 500, 0, 1100, 300]),
        invalid=np.array([10, 20, 0, 5, 0]),
        votes={
            "Alpha": np.array([400, 200, 0, 1000, 100]),
            "Beta": np.array([200, 300, 0, 100, 200]),
        },
        hierarchy={"region": np.array(["N", "N", "S", "S", "S"])},
    )


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (skips with a reason when absent)."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian chromium is not installed (make test installs it with scripts/system-deps.sh)"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev extra) is not installed"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
