"""Import the station list of an :class:`~pollwatch.model.Election` into the service database."""

from __future__ import annotations

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from pollwatch.service import audit
from pollwatch.service import models as m


def import_election(
    session: Session, election, *, actor_id: int | None = None, name: str | None = None
) -> m.Election:
    """Create an election with one station per row (station_id, hierarchy labels, registered).

    One audit entry covers the whole import: it carries a SHA-256 over the sorted station list,
    so the chain stays short even for 95,000 stations. The caller commits.
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
    audit.record(session, actor_id, "import", row)
    return row


def _coordinates(election) -> tuple[list, list] | None:
    """Station coordinates when the table has ``lat``/``lon`` (or ``latitude``/``longitude``)."""
    for la, lo in (("lat", "lon"), ("latitude", "longitude")):
        if la in election.table.columns and lo in election.table.columns:
            return (
                election.table[la].cast(float, strict=False).to_list(),
                election.table[lo].cast(float, strict=False).to_list(),
            )
    return None
