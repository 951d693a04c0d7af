"""Service fixtures: a fresh SQLite database and data directory per test, users of every role,
one election (the five-station ``small_election``) with accredited, assigned observers."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from pollwatch.service import crud, security
from pollwatch.service.config import Settings
from pollwatch.service.importer import import_election
from pollwatch.service.main import create_app

with warnings.catch_warnings():  # starlette warns about its own httpx dependency on import
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# registered phones: an SMS counts only from its observer's number (issue 18 item 1)
PHONES = {
    "observer": "+994500000001",
    "observer2": "+994500000002",
    "camera_watcher": "+994500000003",
}
ROLES = ("admin", "coordinator", "observer", "observer2", "camera_watcher", "analyst", "public")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch):
    # real argon2id, test-sized cost: the defaults are tuned for servers, not 100s of fixtures
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(autouse=True)
def _token_cache_stops_at_once(monkeypatch):
    # The PostgreSQL token cache's listener looks at its stop flag every `poll` seconds (1 s in
    # production), and disposing of an app's engine waits for it: 1 s of every PostgreSQL
    # test's teardown. In tests it looks every 20 ms (test_token_cache.py sets its own).
    from pollwatch.service.throughput.tokens import TokenCache

    init = TokenCache.__init__
    monkeypatch.setattr(TokenCache, "__init__", functools.partialmethod(init, poll=0.02))


@dataclass
class Ctx:
    client: TestClient
    app: object
    settings: Settings
    users: dict
    headers: dict
    election_id: int
    stations: list  # station primary keys, ordered by code

    def session(self):
        return self.app.state.sessions()

    def post(self, role: str, path: str, **kw):
        return self.client.post(path, headers=self.headers.get(role, {}), **kw)

    def get(self, role: str, path: str, **kw):
        return self.client.get(path, headers=self.headers.get(role, {}), **kw)

    def patch(self, role: str, path: str, **kw):
        return self.client.patch(path, headers=self.headers.get(role, {}), **kw)

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    @staticmethod
    def incident(station: int, **kw) -> dict:
        return {
            "client_id": str(uuid.uuid4()),
            "station_id": station,
            "category": "ballot_stuffing",
            "severity": "high",
            "occurred_at": "2026-03-01T14:10:00",
            "description": "box stuffed",
            **kw,
        }

    @staticmethod
    def checklist(station: int, form: str = "opening", **answers) -> dict:
        base = (
            {
                "arrived_at": "07:30",
                "admitted": True,
                "boxes_empty_sealed": True,
                "ballots_received": 900,
                "opened_at": "08:00",
            }
            if form == "opening"
            else {}
        )
        return {
            "client_id": str(uuid.uuid4()),
            "station_id": station,
            "form": form,
            "answers": {**base, **answers},
        }


@functools.cache
def _sqlite_template() -> Path:
    """One migrated SQLite file per session; each test gets a copy (migrating costs ~0.3 s)."""
    from pollwatch.service.db import migrate

    path = Path(tempfile.mkdtemp(prefix="pollwatch-tmpl-")) / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def make_ctx(tmp_path, url: str | None = None) -> Ctx:
    """A populated app on ``url`` (already migrated, from a template) or on a fresh SQLite copy."""
    if url is None:
        shutil.copy(_sqlite_template(), tmp_path / "service.db")
        url = f"sqlite:///{tmp_path}/service.db"
    settings = Settings(database_url=url, data_dir=tmp_path / "data", sms_secret="s3cret")
    app = create_app(settings, run_migrations=False)
    return populate(app, settings)


def election():
    import numpy as np

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


def populate(app, settings) -> Ctx:
    """Users of every role; observer and observer2 accredited and assigned to station 1,
    observer also to station 2; the camera watcher accredited, no stations."""
    from sqlalchemy import select

    from pollwatch.service import models as m

    with app.state.sessions() as s:
        admin = crud.create_user(s, None, username="admin", password="admin-pass", role="admin")
        s.flush()
        users = {"admin": admin}
        for name in ROLES[1:]:
            role = "observer" if name == "observer2" else name
            users[name] = crud.create_user(
                s, admin, username=name, password=f"{name}-pass", role=role, phone=PHONES.get(name)
            )
        row = import_election(s, election(), actor_id=admin.id, name="test")
        stations = list(
            s.scalars(
                select(m.Station.id).where(m.Station.election_id == row.id).order_by(m.Station.code)
            )
        )
        for name in ("observer", "observer2", "camera_watcher"):
            acc = crud.request_accreditation(s, users[name], row.id, "CEC")
            crud.decide_accreditation(s, admin, acc.id, "accredited", None, None)
        crud.assign(s, admin, users["observer"].id, stations[0])
        crud.assign(s, admin, users["observer"].id, stations[1])
        crud.assign(s, admin, users["observer2"].id, stations[0])
        headers = {
            n: {"Authorization": f"Bearer {crud.issue_token(s, u)}"} for n, u in users.items()
        }
        ids = {n: u.id for n, u in users.items()}
        s.commit()
        election_id = row.id
    return Ctx(TestClient(app), app, settings, ids, headers, election_id, stations)


@pytest.fixture(scope="session")
def pg():
    """A temporary PostgreSQL cluster with a migrated template database, or a skip with the reason."""
    from pollwatch.service.db import migrate

    TemporaryPostgres, find_bindir = _pgtemp.TemporaryPostgres, _pgtemp.find_bindir

    if find_bindir() is None:
        pytest.skip(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb absent; "
            "run scripts/system-deps.sh)"
        )
    # a throw-away cluster: durability settings off (no fsync on CREATE/DROP DATABASE and
    # commits). They only matter if PostgreSQL itself or the machine crashes, which no test does
    # (the tests that kill a server kill the service's uvicorn process, not PostgreSQL).
    server = TemporaryPostgres(
        {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    ).start()
    migrate(server.create_database("pollwatch_template"))
    yield server
    server.stop()


def database_url(request, tmp_path) -> str | None:
    """None (SQLite in tmp_path) or a fresh PostgreSQL database cloned from the template."""
    if request.param != "postgres":
        return None
    server = request.getfixturevalue("pg")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}", template="pollwatch_template")


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def drop_database(request, url: str) -> None:
    """Test databases are dropped at once: 100s of 8 MB clones would fill /tmp until the end."""
    if url.startswith("postgresql"):
        request.getfixturevalue("pg").drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=BACKENDS)
def ctx(request, tmp_path) -> Ctx:
    c = make_ctx(tmp_path, database_url(request, tmp_path))
    yield c
    c.client.close()
    c.app.state.engine.dispose()
    drop_database(request, c.settings.database_url)


def _load_pgtemp():
    # by path, not as ``.pgtemp``: tests/security loads this conftest outside any package
    spec = importlib.util.spec_from_file_location("_pgtemp", Path(__file__).with_name("pgtemp.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_pgtemp = _load_pgtemp()
free_port = _pgtemp.free_port  # one helper for the PostgreSQL cluster's port and the server's


class Server:
    """``pollwatch serve`` in a child process group (uvicorn and its workers): for the tests that
    need a real server (kill -9 durability, load, memory)."""

    def __init__(self, settings, workers: int = 1) -> None:
        self.settings, self.workers, self.port, self.proc = settings, workers, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {**os.environ, "POLLWATCH_SMS_SECRET": "s3cret"}
        cmd = [
            sys.executable,
            "-c",
            "from pollwatch.cli import main; main()",
            "serve",
            "--port",
            str(self.port),
            "--database",
            self.settings.database_url,
            "--data-dir",
            str(self.settings.data_dir),
            "--workers",
            str(self.workers),
        ]
        log = self.settings.data_dir / "server.log"
        with open(log, "ab") as fh:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=fh, start_new_session=True)
        deadline = time.time() + 90  # generous: the CI machine is shared
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError(log.read_text())
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group: uvicorn's workers too
            self.proc.wait(10)

    def status(self, field: str) -> int:
        """A ``/proc/<pid>/status`` memory field of the server, in bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def reset_peak(self) -> None:
        """Reset the server's peak RSS (VmHWM) to its current RSS (``clear_refs`` 5)."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
