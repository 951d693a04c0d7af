"""A real ``pollwatch serve`` process: concurrent retries are stored once; after SIGKILL during
a load and a restart, every acknowledged submission is present and the chain is intact."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from pollwatch.service import models as m
from pollwatch.service.sources.evidence import verify_database

from .conftest import BACKENDS, Server, database_url, drop_database, make_ctx  # noqa: TID252


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
