"""Camera watchers' tallies and camera-status log from the observation service's database.

The tables come back exactly as :func:`~pollwatch.cameras.data.read_tallies`,
:func:`~pollwatch.cameras.data.read_status_log` and :func:`~pollwatch.cameras.data.read_events`
return them from CSV (same columns, types and meaning), so the estimator does not care where
the counts come from. Station ids are the station codes; the watcher is ``watcher-<user id>``
(distinct watchers stay distinct for inter-rater agreement; names stay in the service). Times
are minutes after midnight of the station's wall clock. The database is only read.

Used by ``pollwatch cameras estimate --database`` and the service's station dossier
(``service.crud.dossier``); the estimator itself (:mod:`pollwatch.cameras`) knows nothing of
the service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.cameras.compare import official_from_election
from pollwatch.cameras.data import EVENT_SCHEMA, STATUS_SCHEMA, tallies_frame
from pollwatch.errors import DataIssue, InputDataError
from pollwatch.service import models as m
from pollwatch.service.db import make_engine
from pollwatch.service.importer import election_from_db

__all__ = ["ServiceCameraData", "camera_data_from_database", "camera_tables"]


@dataclass(frozen=True)
class ServiceCameraData:
    """What watchers filed for one election: ``tallies``, ``status`` and ``events`` tables, and
    ``official`` (station code → ballots issued, or cast where the protocol has no issued
    lines) when the election was imported with its protocols (else empty)."""

    election: str
    tallies: pl.DataFrame
    status: pl.DataFrame
    events: pl.DataFrame
    official: dict[str, int]


def _minutes(t: dt.datetime) -> float:
    return t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60


def camera_tables(session, election_id: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(tallies, status, events)`` of one election from an open service session."""
    rows = session.execute(
        select(m.CameraTally, m.Station.code)
        .join(m.Station, m.Station.id == m.CameraTally.station_id)
        .where(m.Station.election_id == election_id)
        .order_by(m.Station.code, m.CameraTally.window_start, m.CameraTally.id)
    ).all()
    tallies = tallies_frame(
        {
            "station_id": code,
            "window_start": _minutes(r.window_start),
            "window_end": _minutes(r.window_end),
            "watcher": f"watcher-{r.watcher_id}",
            "count": r.count,
            "usable": r.usable,
            "reason": r.reason or None,
            "source_sha256": None,
        }
        for r, code in rows
    )
    logs = session.execute(
        select(m.CameraLog, m.Station.code)
        .join(m.Station, m.Station.id == m.CameraLog.station_id)
        .where(m.Station.election_id == election_id)
        .order_by(m.Station.code, m.CameraLog.at, m.CameraLog.id)
    ).all()
    st = [(code, _minutes(r.at), r.value) for r, code in logs if r.kind == "status"]
    ev = [(code, _minutes(r.at), r.value, r.note or None) for r, code in logs if r.kind == "event"]
    status = pl.DataFrame(st, schema=STATUS_SCHEMA, orient="row")
    events = pl.DataFrame(ev, schema=EVENT_SCHEMA, orient="row")
    return tallies, status, events


def camera_data_from_database(url: str, *, election: str | int | None = None) -> ServiceCameraData:
    """Tallies, status log, events and official turnout of one election in the service
    database at ``url`` (``election``: id or name; default: the only election there)."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            elections = s.scalars(select(m.Election).order_by(m.Election.id)).all()
            chosen = [
                e for e in elections if election is None or str(election) in (str(e.id), e.name)
            ]
            if len(chosen) != 1:
                names = ", ".join(f"{e.id}: {e.name}" for e in elections) or "none"
                raise InputDataError(
                    f"{url}: choose one election with --election (found {names})",
                    [DataIssue(url, "election not chosen", expected="one election", value=names)],
                )
            el = chosen[0]
            tallies, status, events = camera_tables(s, el.id)
            official_election = election_from_db(s, el.id)
    finally:
        engine.dispose()
    if tallies.height == 0:
        raise InputDataError(
            f"{url}: no camera tallies for election {el.name!r}",
            [DataIssue(url, "no camera tallies", expected="at least one tally")],
        )
    official = official_from_election(official_election) if official_election is not None else {}
    return ServiceCameraData(el.name, tallies, status, events, official)
