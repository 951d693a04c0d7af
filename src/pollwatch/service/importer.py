"""Import an :class:`~pollwatch.model.Election` into the service database (the station list and
each station's official protocol) and read it back (:func:`election_from_db`)."""

from __future__ import annotations

import numpy as np
import polars as pl
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from pollwatch.model import Election
from pollwatch.model.derived import exclusion_expr
from pollwatch.model.election import EXCLUSION, Candidate, ElectionMeta
from pollwatch.model.fields import field_names
from pollwatch.service import audit
from pollwatch.service import models as m


def import_election(
    session: Session, election, *, actor_id: int | None = None, name: str | None = None
) -> m.Election:
    """Create an election with one station per row (station_id, hierarchy labels, registered)
    and the station's official protocol (every protocol line and candidate the Election has).

    One audit entry covers the whole import: it carries a SHA-256 over the sorted station list
    and one over the official protocols, so the chain stays short even for 95,000 stations
    and an edit of a published figure in the database still breaks it. The caller commits.
    """
    meta = election.meta
    row = m.Election(
        name=name or meta.name or "election",
        country=meta.country or "",
        date=str(meta.date or ""),
        type=meta.type or "",
        hierarchy=list(meta.hierarchy),
        candidates=[{"id": c.id, "name": c.name, "party": c.party} for c in meta.candidates],
    )
    session.add(row)
    session.flush()
    codes = [str(s) for s in election.station_ids]
    registered = (
        election.field("registered") if election.has("registered") else np.zeros(len(codes), int)
    )
    levels = {lv: [str(x) for x in election.level(lv)] for lv in meta.hierarchy}
    coords = _coordinates(election)
    values = [
        {
            "election_id": row.id,
            "code": code,
            "registered": int(registered[i]),
            "levels": {lv: labels[i] for lv, labels in levels.items()},
            **({"lat": coords[0][i], "lon": coords[1][i]} if coords else {}),
        }
        for i, code in enumerate(codes)
    ]
    for start in range(0, len(values), 5000):
        session.execute(insert(m.Station), values[start : start + 5000])
    _import_protocols(session, election, row.id)
    audit.record(session, actor_id, "import", row)
    return row


def _protocol_columns(election) -> tuple[list[str], list[str]]:

    fields = [f for f in field_names() if election.has(f)]
    return fields, [c.id for c in election.candidates]


def _import_protocols(session: Session, election, election_id: int) -> None:
    fields, cands = _protocol_columns(election)
    ids = dict(
        session.execute(
            select(m.Station.code, m.Station.id).where(m.Station.election_id == election_id)
        ).all()
    )
    table = election.table.select("station_id", *fields, *cands)
    values = [
        {
            "station_id": ids[str(r["station_id"])],
            "numbers": {f: r[f] for f in fields},  # None where the published cell is empty
            "votes": {c: r[c] for c in cands},
        }
        for r in table.iter_rows(named=True)
    ]
    for start in range(0, len(values), 5000):
        session.execute(insert(m.OfficialProtocol), values[start : start + 5000])


def election_from_db(session: Session, election_id: int):
    """The :class:`~pollwatch.model.Election` stored at import (station codes as station ids,
    hierarchy labels, protocol lines, votes), or ``None`` when the election was imported
    without official protocols."""

    e = session.get(m.Election, election_id)
    if e is None:
        return None
    rows = session.execute(
        select(
            m.Station.code, m.Station.levels, m.OfficialProtocol.numbers, m.OfficialProtocol.votes
        )
        .join(m.OfficialProtocol, m.OfficialProtocol.station_id == m.Station.id)
        .where(m.Station.election_id == election_id)
        .order_by(m.Station.id)
    ).all()
    if not rows:
        return None
    hierarchy = list(e.hierarchy)
    cands = [Candidate(c["id"], c["name"], c.get("party")) for c in e.candidates]
    fields = list(rows[0][2])
    cols: dict[str, pl.Series] = {"station_id": pl.Series([r[0] for r in rows], dtype=pl.Utf8)}
    for lv in hierarchy:
        cols[lv] = pl.Series([r[1].get(lv) for r in rows], dtype=pl.Utf8)
    for f in fields:
        cols[f] = pl.Series([r[2].get(f) for r in rows], dtype=pl.Int64)
    for c in cands:
        cols[c.id] = pl.Series([r[3].get(c.id) for r in rows], dtype=pl.Int64)
    table = pl.DataFrame(cols)
    meta = ElectionMeta(
        country=e.country,
        date=e.date,
        type=e.type,
        name=e.name,
        candidates=tuple(cands),
        hierarchy=tuple(hierarchy),
    )
    return Election(table.with_columns(exclusion_expr(table, meta).alias(EXCLUSION)), meta)


def _coordinates(election) -> tuple[list, list] | None:
    """Station coordinates when the table has ``lat``/``lon`` (or ``latitude``/``longitude``)."""
    for la, lo in (("lat", "lon"), ("latitude", "longitude")):
        if la in election.table.columns and lo in election.table.columns:
            return (
                election.table[la].cast(float, strict=False).to_list(),
                election.table[lo].cast(float, strict=False).to_list(),
            )
    return None
