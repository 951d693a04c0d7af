"""docs/deploy.md, followed step by step: every ``sh step`` block runs in order in one shell,
on a temporary folder, PostgreSQL and nginx on loopback, and ends with a login over TLS."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def steps() -> list[str]:
    return re.findall(r"^```sh step\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_guide_has_steps_in_the_order_of_a_deployment():
    text = "\n".join(steps())
    order = ["venv", "create-admin", "pollwatch serve", "openssl req", "nginx -c", "pollwatch doctor", "access-token", "pollwatch backup"]  # fmt: skip
    at = [text.index(w) for w in order]
    assert at == sorted(at), dict(zip(order, at, strict=True))


def test_following_the_guide_ends_with_a_login_over_tls(tmp_path, request):
    for tool in ("nginx", "openssl", "curl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (scripts/system-deps.sh installs it)")
    pg = request.getfixturevalue("pg")
    home = tmp_path / "srv"
    home.mkdir()
    # the venv of this test run stands for the one the guide would create (step 2 skips pip)
    (home / "venv").symlink_to(Path(sys.prefix))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("POLLWATCH_")},
        "PW_HOME": str(home),
        "PW_DOMAIN": "localhost",
        "PW_TLS_PORT": str(_port()),
        "PW_APP_PORT": str(_port()),
        "PW_REPO": str(ROOT),
        "PW_DATABASE_URL": pg.create_database("deploy_guide"),
        # the service's workers import the package under test (a checkout, not a wheel)
        "PYTHONPATH": str(ROOT / "src"),
    }
    script = "set -euo pipefail\n" + "\n".join(steps())
    try:
        res = subprocess.run(
            ["bash", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
        log = (home / "pollwatch.log").read_text() if (home / "pollwatch.log").exists() else ""
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:] + log[-3000:]
        out = res.stdout
        # doctor passed every check, including TLS, trusted proxy headers and Secure cookies
        for check in ("OK    database", "OK    key permissions", "OK    signing key", "OK    tls", "OK    proxy headers", "OK    secure cookies"):  # fmt: skip
            assert check in out, out
        assert '"username":"coordinator"' in out.replace(" ", "")  # /api/users/me over TLS
        assert list((home / "backups").glob("*.pwbk")), "no backup written"
        # the access log went through the proxy: JSON lines with the address cut to /24
        access = [line for line in log.splitlines() if '"type": "access"' in line]
        assert access and all('"client": "127.0.0.0/24"' in line for line in access), access[:3]
    finally:
        for pidfile in (home / "pollwatch.pid", home / "nginx" / "nginx.pid"):
            if pidfile.exists():
                try:
                    pid = int(pidfile.read_text().strip())
                    os.kill(pid, signal.SIGTERM)
                except (ValueError, ProcessLookupError):
                    pass
