"""A real ``pollwatch serve`` process: concurrent retries are stored once; after SIGKILL during
a load and a restart, every acknowledged submission is present and the chain is intact."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from pollwatch.service import models as m
from pollwatch.service.sources.evidence import verify_database

from .conftest import BACKENDS, database_url, drop_database, make_ctx  # noqa: TID252


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
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


@pytest.fixture(params=BACKENDS)
def served(request, tmp_path):
    ctx = make_ctx(tmp_path, database_url(request, tmp_path))
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    yield ctx, server
    server.kill()
    ctx.app.state.engine.dispose()  # the test's own sessions reopened the pool
    drop_database(request, ctx.settings.database_url)


def test_same_submission_five_times_concurrently_is_stored_once(served):
    ctx, server = served
    body = ctx.incident(ctx.stations[0])
    barrier, results = threading.Barrier(5), []

    def send():
        barrier.wait()
        r = httpx.post(
            f"{server.url}/api/incidents", json=body, headers=ctx.headers["observer"], timeout=30
        )
        results.append((r.status_code, r.json()["id"]))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _ in results) == [200, 200, 200, 200, 201]
    assert len({i for _, i in results}) == 1
    with ctx.session() as s:
        assert (
            len(
                s.scalars(
                    select(m.Submission).where(m.Submission.client_id == body["client_id"])
                ).all()
            )
            == 1
        )


@pytest.mark.slow
def test_sigkill_during_load_loses_no_acknowledged_submission(served):
    ctx, server = served
    acked, stop = [], threading.Event()

    def load():
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                body = ctx.incident(ctx.stations[0], client_id=str(uuid.uuid4()))
                try:
                    r = client.post(
                        f"{server.url}/api/incidents", json=body, headers=ctx.headers["observer"]
                    )
                except httpx.HTTPError:
                    continue
                if r.status_code in (200, 201):
                    acked.append(body["client_id"])

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.time() + 30  # kill mid-load, once some submissions were acknowledged
    while len(acked) < 20 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    server.kill()
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join()
    server.start()  # restart on the same database
    with ctx.session() as s:
        stored = set(s.scalars(select(m.Submission.client_id)))
    assert len(acked) >= 20
    lost = set(acked) - stored
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged submissions lost"
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems
