"""Group commit: several submissions per transaction, each with its chained audit entry; retried
client ids stored once; station and permission checks per draft inside the batch; one bad draft
fails alone; the chain verifies afterwards."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, Forbidden, Invalid, NotFound
from pollwatch.service.sources.evidence import verify_database
from pollwatch.service.throughput.writer import Draft, GroupCommitter, Item, write_batch


def user(ctx, name: str) -> m.User:
    with ctx.session() as s:
        return s.get(m.User, ctx.users[name])


def incident(u: m.User, station: int, client_id: str | None = None, **kw) -> Draft:
    def fields(st: m.Station) -> dict:
        return {
            "severity": "low",
            "occurred_at": dt.datetime(2026, 3, 1, 12),
            "description": f"bus at {st.code}",
        }

    return Draft(
        u,
        client_id or str(uuid.uuid4()),
        station,
        m.Kind.incident,
        kw.get("form", "carousel"),
        kw.get("fields", fields),
        kw.get("before_checks"),
    )


def stored(ctx, client_id: str) -> int:
    with ctx.session() as s:
        return s.scalar(select(func.count()).where(m.Submission.client_id == client_id))


def audit_count(ctx) -> int:
    with ctx.session() as s:
        return s.scalar(select(func.count()).select_from(m.AuditLog))


def test_batch_stores_each_client_id_once_and_chains_every_new_row(ctx):
    obs = user(ctx, "observer")
    [(first, created)] = write_batch(ctx.app.state.sessions, [incident(obs, ctx.stations[0])])
    assert created and first.id is not None
    twin = str(uuid.uuid4())
    drafts = [
        incident(obs, ctx.stations[0], first.client_id),  # already stored
        incident(obs, ctx.stations[0], twin),
        incident(obs, ctx.stations[1], twin),  # same id twice in one batch
        incident(obs, ctx.stations[1]),
    ]
    n_audit = audit_count(ctx)
    out = write_batch(ctx.app.state.sessions, drafts)
    assert [created for _, created in out] == [False, True, False, True]
    assert out[0][0].id == first.id and out[1][0].id == out[2][0].id
    assert stored(ctx, twin) == 1 and stored(ctx, first.client_id) == 1
    with ctx.session() as s:
        entries = s.scalars(select(m.AuditLog).where(m.AuditLog.seq > n_audit)).all()
        row = s.get(m.Submission, out[3][0].id)
        # defaults applied as the ORM would, and the reply shows exactly what was stored
        assert (row.status, row.channel, row.answers, row.flags, row.quarantined) == (
            "new",
            "api",
            {},
            [],
            False,
        )
        assert row.created_at == out[3][0].created_at and row.description.startswith("bus at ")
    assert sorted(e.entity_id for e in entries) == sorted([out[1][0].id, out[3][0].id])
    assert all(e.action == "create" and e.entity == "submission" for e in entries)
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_checks_run_per_draft_in_the_batch_and_fail_only_that_draft(ctx):
    obs, obs2, cam = user(ctx, "observer"), user(ctx, "observer2"), user(ctx, "camera_watcher")
    analyst, admin = user(ctx, "analyst"), user(ctx, "admin")

    def invalid_body():
        raise Invalid([{"loc": ["body", "category"], "msg": "bad", "type": "value_error"}])

    ok = incident(obs, ctx.stations[1])
    drafts = [
        ok,
        incident(obs2, ctx.stations[1]),  # observer2 is assigned to station 0 only
        incident(obs, 10**6),  # no such station
        incident(obs, 10**6, before_checks=invalid_body),  # the body is checked first: 422
        incident(cam, ctx.stations[0]),  # camera watchers file camera incidents only
        incident(cam, ctx.stations[0], form="camera_offline"),  # accredited, not assigned
        incident(analyst, ctx.stations[0]),  # not a submitter
        incident(admin, ctx.stations[3]),  # staff: no station checks
    ]
    n_audit = audit_count(ctx)
    out = write_batch(ctx.app.state.sessions, drafts)
    kinds = [type(o) if isinstance(o, Exception) else o[1] for o in out]
    assert kinds == [True, Forbidden, NotFound, Invalid, Forbidden, Forbidden, Forbidden, True]
    assert str(out[1]) == "Station not assigned to you"
    assert str(out[4]) == "Camera watchers file camera incidents only"
    assert str(out[5]) == "Station not assigned to you"  # issue 18 item 8
    assert audit_count(ctx) == n_audit + 2
    for d, o in zip(drafts, out, strict=True):
        assert stored(ctx, d.client_id) == (0 if isinstance(o, Exception) else 1)
    # a retry returns the stored row whatever its checks would say now (as the API always did)
    with ctx.session() as s:
        s.execute(m.Assignment.__table__.delete().where(m.Assignment.user_id == obs.id))
        s.commit()
    [(row, created)] = write_batch(
        ctx.app.state.sessions, [incident(obs, ctx.stations[1], ok.client_id)]
    )
    assert row.id == out[0][0].id and not created
    [refused] = write_batch(ctx.app.state.sessions, [incident(obs, ctx.stations[1])])
    assert isinstance(refused, Forbidden)  # assignments are read in the batch's transaction


def test_revoked_accreditation_is_seen_by_the_next_batch(ctx):
    obs2 = user(ctx, "observer2")
    [(_, created)] = write_batch(ctx.app.state.sessions, [incident(obs2, ctx.stations[0])])
    assert created
    with ctx.session() as s:
        acc = s.scalar(select(m.Accreditation).where(m.Accreditation.user_id == obs2.id))
        acc.status = m.AccreditationStatus.revoked
        s.commit()
    [out] = write_batch(ctx.app.state.sessions, [incident(obs2, ctx.stations[0])])
    assert isinstance(out, Forbidden) and str(out) == "Observer not accredited"


def test_concurrent_submitters_share_transactions_and_lose_nothing(ctx):
    writer = GroupCommitter(ctx.app.state.sessions)
    obs = user(ctx, "observer")
    drafts = [incident(obs, ctx.stations[i % 2]) for i in range(60)]
    results: list = []
    barrier = threading.Barrier(12)

    def send(chunk):
        barrier.wait()
        for d in chunk:
            results.append(writer.submit(d))

    threads = [threading.Thread(target=send, args=(drafts[k::12],)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert len(results) == 60 and all(created for _, created in results)
    assert writer.items == 60 and 1 <= writer.batches <= 60
    with ctx.session() as s:
        ids = set(s.scalars(select(m.Submission.client_id)))
    assert {d.client_id for d in drafts} <= ids
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_a_bad_row_fails_alone_and_another_users_client_id_conflicts(ctx):
    writer = GroupCommitter(ctx.app.state.sessions)
    obs = user(ctx, "observer")
    # an admin that passes every check but is not in the database: the insert violates the
    # observer foreign key, so the batch fails as a whole and is retried draft by draft
    ghost = m.User(id=10**6, username="ghost", role="admin", active=True)
    make_transient_to_detached(ghost)
    good, bad = incident(obs, ctx.stations[0]), incident(ghost, ctx.stations[0])
    # put both in one batch: the writer thread starts on the first submit, so queue them first
    writer._queue.put(item_good := Item(good))
    writer._queue.put(item_bad := Item(bad))
    writer._ensure_started()
    row, created = item_good.done.result(timeout=30)
    assert created and row.client_id == good.client_id
    with pytest.raises(IntegrityError):
        item_bad.done.result(timeout=30)
    with pytest.raises(Conflict):
        writer.submit(incident(user(ctx, "observer2"), ctx.stations[0], good.client_id))
    writer.close()
    assert stored(ctx, good.client_id) == 1 and stored(ctx, bad.client_id) == 0
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_the_writer_replaces_its_connection_when_the_server_dropped_it(ctx):
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("the writer keeps a connection on PostgreSQL only")
    writer = GroupCommitter(ctx.app.state.sessions)
    obs = user(ctx, "observer")
    assert writer.submit(incident(obs, ctx.stations[0]))[1]
    pid = writer._conn.connection.driver_connection.info.backend_pid
    with ctx.session() as s:  # a server restart or an idle timeout, as the writer sees it
        assert s.scalar(select(func.pg_terminate_backend(pid)))
    again = incident(obs, ctx.stations[0])
    row, created = writer.submit(again)  # no error reaches the submitter: retried once
    assert created and stored(ctx, again.client_id) == 1
    assert writer._conn.connection.driver_connection.info.backend_pid != pid
    writer.close()
    res = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
    assert res.ok, res.problems


def test_a_value_too_long_for_its_column_is_refused_not_cut(ctx):
    """The batch insert passes columns as arrays; a string longer than its column (``form``,
    40) must fail its draft as a single insert would, not be stored shortened."""
    if not ctx.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    obs = user(ctx, "observer")
    good, long = incident(obs, ctx.stations[0]), incident(obs, ctx.stations[0], form="x" * 41)
    outcomes = write_batch(ctx.app.state.sessions, [good])
    assert outcomes[0][1]
    with pytest.raises(DBAPIError, match="too long"):
        write_batch(ctx.app.state.sessions, [long])
    assert stored(ctx, good.client_id) == 1 and stored(ctx, long.client_id) == 0
