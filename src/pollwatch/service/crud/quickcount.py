"""The registered quick-count sample in the service (issue 19): imported once per election by
staff, its stations marked, reserves put in for unreachable stations by the file's rule, and
the estimates published from it (``service.quickcount_live``).

The file format and the replacement rule are the library's (:mod:`pollwatch.quickcount.sample`):
the rows are stored as ``QcSampleStation`` and, for a replacement, read back into a
:class:`~pollwatch.quickcount.sample.RegisteredSample` whose ``replace`` chooses the reserve, so
the service can never apply another rule than the file's. Every change is audited: the sample's
snapshot holds the CSV's SHA-256 and a digest of its rows (``audit.qc_stations_digest``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.errors import IngestError
from pollwatch.i18n import N_
from pollwatch.quickcount.sample import (
    RegisteredSample,
    ReplacementError,
    SampledStation,
    read_sample,
    sidecar_path,
)
from pollwatch.service import audit, permissions
from pollwatch.service import models as m
from pollwatch.service.crud.elections import get_election
from pollwatch.service.errors import Conflict, Invalid, Msg, NotFound, invalid, verbatim
from pollwatch.service.models import Kind, Verification

__all__ = [
    "get_sample",
    "import_sample",
    "read_uploaded_sample",
    "registered_sample",
    "replace_station",
    "sample_rows",
]


def _issues(exc: IngestError, loc: str) -> Invalid:
    """The library's problems with a sample file as a 422, one item per problem."""
    return Invalid([invalid(["body", loc], verbatim(str(issue))) for issue in exc.issues] or [])


def read_uploaded_sample(csv_bytes: bytes, sidecar_bytes: bytes, filename: str) -> RegisteredSample:
    """A sample uploaded as its CSV and sidecar, read and checked by the library (``Invalid``
    naming every problem: file, line, column, expected and found)."""
    name = Path(filename or "sample.csv").name or "sample.csv"
    with tempfile.TemporaryDirectory(prefix="pollwatch-sample-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(csv_bytes)
        sidecar_path(path).write_bytes(sidecar_bytes)
        try:
            return read_sample(path)
        except IngestError as exc:
            raise _issues(exc, "sample") from None


def get_sample(session: Session, election_id: int) -> m.QcSample | None:
    """The registered sample of the election, or None."""
    return session.scalar(select(m.QcSample).where(m.QcSample.election_id == election_id))


def import_sample(
    session: Session,
    user: m.User,
    election_id: int,
    sample: RegisteredSample,
    *,
    filename: str = "",
    sidecar_sha256: str | None = None,
) -> m.QcSample:
    """Store ``sample`` as the election's registered sample (staff only, once per election).

    Every station of the file must be a station of the election (``Invalid`` lists those that
    are not). The CSV's SHA-256 (checked against the sidecar by ``read_sample``) goes into the
    audit chain with the sample's snapshot; caller commits.
    """
    permissions.check_manage_sample(user)
    election = get_election(session, election_id)
    prior = get_sample(session, election_id)
    if prior is not None:
        raise Conflict(
            N_(
                "election {election} already has a registered sample (SHA-256 {sha256}); a "
                "registered sample is never replaced"
            ),
            election=repr(election.name),
            sha256=prior.sha256,
        )
    if sample.replacements:
        raise Invalid(
            [invalid(["body", "sample"], N_("the file carries replacements; import it before any"))]
        )
    ids = dict(
        session.execute(
            select(m.Station.code, m.Station.id).where(m.Station.election_id == election_id)
        ).all()
    )
    unknown = [s.station_id for s in sample.stations if s.station_id not in ids]
    if unknown:
        shown: str = ", ".join(unknown[:10])
        if len(unknown) > 10:
            shown = Msg(N_("{first} and {n} more"), first=shown, n=len(unknown) - 10)
        raise Invalid(
            [
                invalid(
                    ["body", "sample", "station_id"],
                    N_(
                        "{source}: {n} station(s) are not stations of election {election}: "
                        "{stations}"
                    ),
                    source=sample.source,
                    n=len(unknown),
                    election=repr(election.name),
                    stations=shown,
                )
            ]
        )
    meta = sample.to_dict()
    meta.pop("source", None)  # a temporary path, or the importer's file system
    if sidecar_sha256 is not None:
        meta["sidecar_sha256"] = sidecar_sha256
    row = m.QcSample(
        election_id=election_id,
        sha256=sample.csv_sha256,
        filename=Path(filename).name[:200],
        rule=sample.replacement_rule,
        meta=meta,
        user_id=user.id,
    )
    session.add(row)
    session.flush()
    session.add_all(
        m.QcSampleStation(
            sample_id=row.id,
            station_id=ids[s.station_id],
            stratum=s.stratum,
            role=s.role,
            reserve_rank=s.reserve_rank,
            stratum_stations=s.stratum_stations,
            weight=s.weight,
            active=s.role == "primary",
        )
        for s in sample.stations
    )
    audit.record(session, user.id, "create", row)
    return row


def sample_rows(session: Session, user: m.User, election_id: int) -> list[dict]:
    """The sample's stations (staff and analysts only: the list says where the quick count
    looks, which observers are not told), with whether each counts now and its replacement."""
    permissions.check_read_sample(user)
    sample = _sample_or_404(session, election_id)
    repl = {
        r.out_station_id: r
        for r in session.scalars(
            select(m.QcReplacement).where(m.QcReplacement.sample_id == sample.id)
        )
    }
    codes = _codes(session, sample.election_id)
    rows = session.scalars(
        select(m.QcSampleStation)
        .where(m.QcSampleStation.sample_id == sample.id)
        .order_by(m.QcSampleStation.id)
    )
    return [
        {
            "station_id": r.station_id,
            "station": codes[r.station_id],
            "stratum": r.stratum,
            "role": r.role,
            "reserve_rank": r.reserve_rank,
            "weight": r.weight,
            "active": r.active,
            "replaced_by": codes[repl[r.station_id].in_station_id]
            if r.station_id in repl
            else None,
            "reason": repl[r.station_id].reason if r.station_id in repl else None,
        }
        for r in rows
    ]


def _codes(session: Session, election_id: int) -> dict[int, str]:
    return dict(
        session.execute(
            select(m.Station.id, m.Station.code).where(m.Station.election_id == election_id)
        ).all()
    )


def _sample_or_404(session: Session, election_id: int) -> m.QcSample:
    sample = get_sample(session, election_id)
    if sample is None:
        raise NotFound(N_("No registered quick-count sample for this election"))
    return sample


def registered_sample(session: Session, sample: m.QcSample) -> RegisteredSample:
    """The stored sample as the library's :class:`RegisteredSample`, its replacements applied in
    order (the library checks each against the rule again)."""
    codes = _codes(session, sample.election_id)
    rows = session.scalars(
        select(m.QcSampleStation)
        .where(m.QcSampleStation.sample_id == sample.id)
        .order_by(m.QcSampleStation.id)
    ).all()
    n_h: dict[str, int] = {}
    for r in rows:
        n_h[r.stratum] = n_h.get(r.stratum, 0) + (r.role == "primary")
    meta = sample.meta
    out = RegisteredSample(
        stations=tuple(
            SampledStation(
                station_id=codes[r.station_id],
                stratum=r.stratum,
                role=r.role,  # type: ignore[arg-type]  # stored from the library's Role
                reserve_rank=r.reserve_rank,
                stratum_stations=r.stratum_stations,
                stratum_sampled=n_h[r.stratum],
                weight=r.weight,
            )
            for r in rows
        ),
        seed=meta.get("seed"),
        strata_by=tuple(meta.get("strata_by", ())),
        design=dict(meta.get("design", {})),
        created_at=meta.get("created_at", ""),
        csv_sha256=sample.sha256,
        replacement_rule=sample.rule,
        lookup=meta.get("lookup"),
        source=f"registered sample {sample.sha256[:12]}",
    )
    done = session.scalars(
        select(m.QcReplacement)
        .where(m.QcReplacement.sample_id == sample.id)
        .order_by(m.QcReplacement.id)
    ).all()
    out.apply(
        [
            {
                "primary_id": codes[r.out_station_id],
                "reserve_id": codes[r.in_station_id],
                "reason": r.reason,
                "at": r.created_at.replace(tzinfo=dt.UTC).isoformat(),
            }
            for r in done
        ]
    )
    return out


def replace_station(
    session: Session, user: m.User, election_id: int, station_id: int, reason: str
) -> m.QcReplacement:
    """Put the reserve the file's rule gives in the place of ``station_id`` (staff only), with
    ``reason``. A station that has already reported is never replaced: dropping a report that
    arrived would let whoever replaces choose the result. Caller commits."""
    permissions.check_manage_sample(user)
    audit.lock(session)  # two coordinators replacing at once must not pick the same reserve
    sample = _sample_or_404(session, election_id)
    station = session.get(m.Station, station_id)
    if station is None or station.election_id != election_id:
        raise NotFound(N_("Station not found"))
    reported = session.scalar(
        select(m.Submission.id).where(
            m.Submission.station_id == station_id,
            m.Submission.kind == Kind.protocol,
            m.Submission.status != Verification.rejected,
        )
    )
    if reported is not None:
        raise Conflict(
            N_("station {station} has reported; a station that reported is kept"),
            station=station.code,
        )
    now = m.utcnow()
    try:
        rep = registered_sample(session, sample).replace(
            station.code, reason, now.replace(tzinfo=dt.UTC)
        )
    except ReplacementError as exc:
        raise _issues(exc, "station_id") from None
    reserve_id = session.scalars(
        select(m.Station.id).where(
            m.Station.election_id == election_id, m.Station.code == rep.reserve_id
        )
    ).one()
    rows = {
        r.station_id: r
        for r in session.scalars(
            select(m.QcSampleStation).where(
                m.QcSampleStation.sample_id == sample.id,
                m.QcSampleStation.station_id.in_([station_id, reserve_id]),
            )
        )
    }
    rows[station_id].active, rows[reserve_id].active = False, True
    row = m.QcReplacement(
        sample_id=sample.id,
        out_station_id=station_id,
        in_station_id=reserve_id,
        reason=rep.reason,
        rule=sample.rule,
        user_id=user.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record_many(session, [(user.id, "create", row), (user.id, "replace", sample)])
    return row


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
