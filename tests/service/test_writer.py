"""Group commit: several submissions per transaction, each with its chained audit entry; retried
client ids stored once; one bad row fails alone; the chain verifies afterwards."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pollwatch.evidence.database import verify_database
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict
from pollwatch.service.writer import GroupCommitter, write_batch


def incident(ctx, user: str, station: int, client_id: str | None = None) -> m.Submission:
    return m.Submission(
        client_id=client_id or str(uuid.uuid4()),
        kind=m.Kind.incident,
        form="carousel",
        station_id=station,
        observer_id=ctx.users[user],
        severity="low",
        occurred_at=dt.datetime(2026, 3, 1, 12),
        description="bus",
    )


def stored(ctx, client_id: str) -> int:
    with ctx.session() as s:
        return s.scalar(select(func.count()).where(m.Submission.client_id == client_id))


def test_batch_stores_each_client_id_once_and_chains_every_new_row(ctx):
    obs = ctx.users["observer"]
    first = incident(ctx, "observer", ctx.stations[0])
    write_batch(ctx.app.state.sessions, [(obs, first)])
    twin = str(uuid.uuid4())
    items = [
        (obs, incident(ctx, "observer", ctx.stations[0], first.client_id)),  # already stored
        (obs, incident(ctx, "observer", ctx.stations[0], twin)),
        (obs, incident(ctx, "observer", ctx.stations[1], twin)),  # same id twice in one batch
        (obs, incident(ctx, "observer", ctx.stations[1])),
    ]
    with ctx.session() as s:
        n_audit = s.scalar(select(func.count()).select_from(m.AuditLog))
    out = write_batch(ctx.app.state.sessions, items)
    assert [created for _, created in out] == [False, True, False, True]
    assert out[0][0].id == first.id and out[1][0].id == out[2][0].id
    assert stored(ctx, twin) == 1 and stored(ctx, first.client_id) == 1
    with ctx.session() as s:
        entries = s.scalars(select(m.AuditLog).where(m.AuditLog.seq > n_audit)).all()
    assert sorted(e.entity_id for e in entries) == sorted([out[1][0].id, out[3][0].id])
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_concurrent_submitters_share_transactions_and_lose_nothing(ctx):
    writer = GroupCommitter(ctx.app.state.sessions)
    obs = ctx.users["observer"]
    subs = [incident(ctx, "observer", ctx.stations[i % 2]) for i in range(60)]
    results: list = []
    barrier = threading.Barrier(12)

    def send(chunk):
        barrier.wait()
        for sub in chunk:
            results.append(writer.submit(obs, sub))

    threads = [threading.Thread(target=send, args=(subs[k::12],)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert len(results) == 60 and all(created for _, created in results)
    assert writer.items == 60 and 1 <= writer.batches <= 60
    with ctx.session() as s:
        ids = set(s.scalars(select(m.Submission.client_id)))
    assert {sub.client_id for sub in subs} <= ids
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_a_bad_row_fails_alone_and_another_users_client_id_conflicts(ctx):
    writer = GroupCommitter(ctx.app.state.sessions)
    obs = ctx.users["observer"]
    good = incident(ctx, "observer", ctx.stations[0])
    bad = incident(ctx, "observer", 10**6)  # no such station: a foreign-key violation
    # put both in one batch: the writer thread starts on the first submit, so queue them first
    writer._queue.put(item_good := _item(obs, good))
    writer._queue.put(item_bad := _item(obs, bad))
    writer._ensure_started()
    assert item_good.done.result(timeout=30) == (good, True)
    with pytest.raises(IntegrityError):
        item_bad.done.result(timeout=30)
    with pytest.raises(Conflict):
        writer.submit(
            ctx.users["observer2"], incident(ctx, "observer2", ctx.stations[0], good.client_id)
        )
    writer.close()
    assert stored(ctx, good.client_id) == 1 and stored(ctx, bad.client_id) == 0
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def _item(user_id, sub):
    from pollwatch.service.writer import _Item

    return _Item(user_id, sub)
