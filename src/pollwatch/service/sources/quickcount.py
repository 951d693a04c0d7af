"""Protocol copies from the observation service's database, ready for the quick count.

Every station's copies are reconciled the way the service reconciles them (newest copy per
observer; fields on which observers disagree are reported as conflicts). Rejected and
quarantined submissions never enter the estimate. The database is only read.

Used by ``pollwatch quickcount estimate --database``; the estimator itself
(:mod:`pollwatch.quickcount`) knows nothing of the service.
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.errors import DataIssue, InputDataError
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.service import models as m
from pollwatch.service.db import make_engine
from pollwatch.service.reconcile import reconcile

__all__ = ["copies_from_database"]

from pollwatch.quickcount.sample import RegisteredSample
from pollwatch.service.crud.quickcount import get_sample, registered_sample


def copies_from_database(
    url: str, *, election: str | int | None = None
) -> tuple[ProtocolCopies, dict[str, dict]]:
    """Reconciled protocol copies of one election in the service database at ``url``.

    :param election: the election's id or name (default: the only election in the database).
    :returns: the copies (``station_id`` = the station code, ``arrived`` = first receipt) and,
        per station code, the fields on which observers' copies disagree. Stations with such
        conflicts are left out of the copies until a reviewer resolves them.
    """
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            elections = s.scalars(select(m.Election)).all()
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
            rows = s.execute(
                select(m.Submission, m.Station)
                .join(m.Station, m.Submission.station_id == m.Station.id)
                .where(
                    m.Station.election_id == el.id,
                    m.Submission.kind == m.Kind.protocol,
                    m.Submission.status != m.Verification.rejected,
                    m.Submission.quarantined.is_(False),
                )
                .order_by(m.Submission.id)
            ).all()
    finally:
        engine.dispose()
    name_to_id = {c["name"]: c["id"] for c in el.candidates} | {
        c["id"]: c["id"] for c in el.candidates
    }
    latest: dict[str, dict[int, object]] = defaultdict(dict)
    station_of: dict[str, object] = {}
    for sub, st in rows:
        latest[st.code][sub.observer_id] = sub  # newest copy per observer wins
        station_of[st.code] = st
    records, conflicts = [], {}
    for code, subs in latest.items():
        rec = reconcile([x.answers for x in subs.values()])
        if rec["conflicts"]:
            # observers disagree: which copy is right is a question for review, not for the estimator
            conflicts[code] = rec["conflicts"]
            continue
        row = {
            "station_id": code,
            "registered": rec["numbers"].get("registered", station_of[code].registered),
            "valid": rec["numbers"].get("valid"),
            "invalid": rec["numbers"].get("invalid"),
            "arrived": min(x.created_at for x in subs.values()).isoformat(),
        }
        for k, v in rec["votes"].items():
            row[name_to_id.get(k, k)] = v
        records.append(row)
    if not records:
        raise InputDataError(
            f"{url}: no usable protocol copies for election {el.name!r}",
            [DataIssue(url, "no protocol copies", expected="at least one accepted copy")],
        )
    df = pl.DataFrame(records, infer_schema_length=None)
    return ProtocolCopies.from_frame(df, f"{url} (election {el.name})"), conflicts


def sample_from_database(url: str, *, election: str | int | None = None) -> RegisteredSample | None:
    """The registered quick-count sample the service holds for the election (its replacements
    applied), or None if none was imported: what ``estimate``/``compare --database`` count by.

    :param election: the election's id or name (default: the only election in the database).
    """
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            elections = s.scalars(select(m.Election)).all()
            chosen = [
                e for e in elections if election is None or str(election) in (str(e.id), e.name)
            ]
            if len(chosen) != 1:
                names = ", ".join(f"{e.id}: {e.name}" for e in elections) or "none"
                raise InputDataError(
                    f"{url}: choose one election with --election (found {names})",
                    [DataIssue(url, "election not chosen", expected="one election", value=names)],
                )
            row = get_sample(s, chosen[0].id)
            return None if row is None else registered_sample(s, row)
    finally:
        engine.dispose()
