"""A throw-away PostgreSQL cluster for tests and benchmarks (Debian's server binaries).

A test helper, not part of the package: the service tests use it (tests/service/conftest.py,
one cluster per test process) and benchmarks/service.py imports it from here.

PostgreSQL refuses to run as root, so when we are root the cluster is created and started as
the ``postgres`` user via ``runuser``. Authentication is ``trust`` on 127.0.0.1 only.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    """Newest ``/usr/lib/postgresql/<ver>/bin`` with ``initdb``, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TemporaryPostgres:
    """``with TemporaryPostgres() as pg: pg.create_database("x")`` → a SQLAlchemy URL."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.bindir = find_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.port = free_port()
        self.settings = {
            "fsync": "on",
            "max_connections": "200",
            "shared_buffers": "128MB",
            **(settings or {}),
        }
        self.root = Path(tempfile.mkdtemp(prefix="pollwatch-pg-"))
        self.data = self.root / "data"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True)

    def start(self) -> TemporaryPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        self._run(
            self.bindir / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )
        for attempt in range(5):
            opts = f"-k {self.root} -p {self.port} -h 127.0.0.1 " + " ".join(
                f"-c {k}={v}" for k, v in self.settings.items()
            )
            try:
                self._run(
                    self.bindir / "pg_ctl",
                    "-D",
                    self.data,
                    "-o",
                    opts,
                    "-l",
                    self.root / "log",
                    "-w",
                    "start",
                )
                return self
            except subprocess.CalledProcessError:
                # the free port may have been taken meanwhile (parallel test workers each
                # start a cluster): try another one
                if attempt == 4:
                    raise
                self.port = free_port()
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            tmpl = f" TEMPLATE {template}" if template else ""
            for _ in range(50):  # a template that was just used may still have a backend attached
                try:
                    conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
                    break
                except psycopg.errors.ObjectInUse:
                    time.sleep(0.1)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.data.exists():
            self._run(
                self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TemporaryPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
