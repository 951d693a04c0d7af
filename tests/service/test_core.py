"""Data model, migrations, importer, audit chain and idempotent submissions (no HTTP)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import inspect, select

from pollwatch.evidence.chain import first_broken
from pollwatch.service import audit, crud
from pollwatch.service import models as m
from pollwatch.service.db import make_engine, migrate


def test_migrations_create_every_table_and_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path}/x.db"
    migrate(url)
    migrate(url)
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert set(m.Base.metadata.tables) <= tables
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_import_election_keeps_ids_levels_registered(ctx):
    with ctx.session() as s:
        rows = s.scalars(
            select(m.Station)
            .where(m.Station.election_id == ctx.election_id)
            .order_by(m.Station.code)
        ).all()
        assert [r.code for r in rows] == ["1", "2", "3", "4", "5"]
        assert [r.levels["region"] for r in rows] == ["N", "N", "S", "S", "S"]
        assert [r.registered for r in rows] == [1000, 800, 0, 1200, 500]
        e = s.get(m.Election, ctx.election_id)
        assert [c["name"] for c in e.candidates] == ["Alpha", "Beta"]


@pytest.mark.realdata
def test_import_real_election_is_fast_enough(ru2012, tmp_path):
    import time

    url = f"sqlite:///{tmp_path}/ru.db"
    migrate(url)
    from pollwatch.service.db import session_factory

    engine = make_engine(url)
    with session_factory(engine, b"k")() as s:
        t0 = time.perf_counter()
        row = crud_import(s, ru2012)
        s.commit()
        elapsed = time.perf_counter() - t0
        n = s.scalar(
            select(m.Station.id)
            .where(m.Station.election_id == row.id)
            .order_by(m.Station.id.desc())
            .limit(1)
        )
    engine.dispose()
    assert n is not None and n >= len(ru2012.station_ids)
    assert elapsed < 60


def crud_import(session, election):
    from pollwatch.service.importer import import_election

    return import_election(session, election)


def test_every_write_is_in_the_chain(ctx):
    with ctx.session() as s:
        entries = [
            audit.to_entry(r) for r in s.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))
        ]
    assert first_broken(entries) == (None, "")
    kinds = {(e.entity, e.action) for e in entries}
    assert {
        ("user", "create"),
        ("election", "import"),
        ("accreditation", "update"),
        ("assignment", "create"),
    } <= kinds
    # identities never enter the log
    assert not any("observer2" in e.payload or "admin-pass" in e.payload for e in entries)


def test_retried_submission_is_stored_once(ctx):
    with ctx.session() as s:
        obs = s.get(m.User, ctx.users["observer"])
        cid = str(uuid.uuid4())

        def make():
            return m.Submission(
                client_id=cid,
                kind="incident",
                form="other",
                station_id=ctx.stations[0],
                observer_id=obs.id,
                severity="low",
            )

        first, created = crud.create_submission(s, obs, make())
        s.commit()
        again, created2 = crud.create_submission(s, obs, make())
        s.commit()
        assert created and not created2 and first.id == again.id
        assert len(s.scalars(select(m.Submission).where(m.Submission.client_id == cid)).all()) == 1


def test_client_id_of_another_user_conflicts(ctx):
    from pollwatch.service.errors import Conflict

    with ctx.session() as s:
        a, b = s.get(m.User, ctx.users["observer"]), s.get(m.User, ctx.users["observer2"])
        cid = str(uuid.uuid4())
        crud.create_submission(
            s,
            a,
            m.Submission(
                client_id=cid,
                kind="incident",
                form="other",
                station_id=ctx.stations[0],
                observer_id=a.id,
            ),
        )
        s.commit()
        with pytest.raises(Conflict, match="another user"):
            crud.create_submission(
                s,
                b,
                m.Submission(
                    client_id=cid,
                    kind="incident",
                    form="other",
                    station_id=ctx.stations[0],
                    observer_id=b.id,
                ),
            )
