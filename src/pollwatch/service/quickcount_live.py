"""The quick count as reports arrive (issue 19): which sampled stations reported, when, the
response by stratum, the estimate and its margin after each time bucket, the early-vs-late
check, and the publication that freezes and signs an estimate.

Only stations of the registered sample that count now (primaries not replaced, reserves put in
their place: ``QcSampleStation.active``) enter the estimate; copies from any other station are
listed apart, never counted. A station's copies are reconciled as everywhere in the service
(newest copy per observer, ``reconcile``); a station is *quarantined*, shown with its reasons
and left out of the estimate, when its observers disagree, a line the estimator needs is blank
(blank is missing, never 0) or its protocol fails the arithmetic of ``rules.protocol_flags``.

The estimator is the library's (:func:`pollwatch.quickcount.estimate` with the stored sample as
its ``sample``: the stratified combined ratio estimator of Cochran 1977 §6.11 eq. 6.50,
docs/methods/quickcount-and-cameras.md §1.2, with the sample file's strata and ``N_h``, as
``pollwatch quickcount estimate --sample`` runs it); strata without reports yet are
post-stratified. The estimate after each bucket is that estimator on the reports arrived by the
bucket's end; the early-vs-late check is :func:`pollwatch.quickcount.convergence` on the same
sample (first half of arrivals against the second). See docs/quickcount-live.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import warnings
from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from pollwatch.errors import InputDataError
from pollwatch.evidence.chain import canonical_json
from pollwatch.evidence.checkpoint import b64, unb64
from pollwatch.evidence.keys import fingerprint
from pollwatch.i18n import N_, gettext, note
from pollwatch.i18n.text import say
from pollwatch.model import Candidate, Election, ElectionMeta
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.quickcount.estimate import QuickCountResult, convergence, estimate
from pollwatch.quickcount.verdict import decide
from pollwatch.results import ResultMixin, Summary, fmt_pct, jsonable
from pollwatch.service import audit, permissions
from pollwatch.service import models as m
from pollwatch.service.crud.dossier import official_election
from pollwatch.service.crud.elections import get_election
from pollwatch.service.crud.quickcount import get_sample, registered_sample
from pollwatch.service.errors import Conflict, Note, NotFound
from pollwatch.service.models import Kind, Verification
from pollwatch.service.reconcile import reconcile
from pollwatch.service.rules import FlagText, protocol_flags

__all__ = [
    "LiveStatus",
    "PUBLICATION_FORMAT",
    "compute_status",
    "find_election",
    "live_status",
    "publications",
    "publish",
    "verify_publication",
]

BUCKETS = (5, 10, 15, 30, 60, 120, 240)  # minutes; the smallest giving at most MAX_BUCKETS
MAX_BUCKETS = 12
PUBLICATION_FORMAT = "pollwatch.quickcount-publication/1"


@dataclass(frozen=True)
class StationReport:
    """One station's reconciled copies: where it stands and why it is (not) counted."""

    station: str
    stratum: str | None  # None: not a station of the sample counting now
    arrived: dt.datetime
    valid: int | None
    invalid: int | None
    registered: int
    votes: dict[str, int | None]  # candidate id -> votes
    inputs: tuple[tuple[int, str], ...]  # (submission id, SHA-256 of its answers)
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "station": self.station,
            "stratum": self.stratum,
            "arrived": self.arrived.isoformat(),
            "valid": self.valid,
            "invalid": self.invalid,
            "problems": list(self.problems),
            "submissions": [i for i, _ in self.inputs],
        }


@dataclass(frozen=True)
class StratumResponse:
    stratum: str
    frame_stations: int
    sampled: int
    reported: int
    quarantined: int

    @property
    def rate(self) -> float:
        return self.reported / self.sampled if self.sampled else float("nan")


@dataclass(frozen=True)
class Bucket:
    """Reports counted by ``end``: how many arrived in the bucket, in all, and the estimate then
    (shares and margins by candidate name, None while fewer than 2 reports)."""

    end: dt.datetime
    arrived: int
    cumulative: int
    shares: dict[str, float] | None = None
    margins: dict[str, float] | None = None
    turnout: float | None = None
    note: str = ""


@dataclass(frozen=True)
class LiveStatus(ResultMixin):
    """The quick count now: response, arrivals, estimate with margins, early vs late."""

    election: str
    sample_sha256: str
    at: dt.datetime
    sampled: int
    reported: int
    strata: tuple[StratumResponse, ...]
    buckets: tuple[Bucket, ...]
    bucket_minutes: int
    estimate: QuickCountResult | None
    early_late: dict | None
    counted: tuple[StationReport, ...]
    quarantined: tuple[StationReport, ...]
    off_sample: tuple[StationReport, ...]
    notes: tuple[str, ...] = ()
    _candidates: tuple[str, ...] = field(default=(), repr=False)
    # the pre-registered verdict against the official result (docs/quickcount.md §8.1), when
    # the election was imported with its official protocols
    verdict: dict | None = None

    def to_dict(self) -> dict:
        return {
            "election": self.election,
            "sample_sha256": self.sample_sha256,
            "at": self.at.isoformat(),
            "sampled": self.sampled,
            "reported": self.reported,
            "response_rate": jsonable(self.reported / self.sampled if self.sampled else math.nan),
            "strata": [{**s.__dict__, "rate": jsonable(s.rate)} for s in self.strata],
            "bucket_minutes": self.bucket_minutes,
            "buckets": [{**jsonable(b.__dict__), "end": b.end.isoformat()} for b in self.buckets],
            "estimate": self.estimate.to_dict() if self.estimate is not None else None,
            "verdict": self.verdict,
            "early_late": self.early_late,
            "quarantined": [s.to_dict() for s in self.quarantined],
            "off_sample": [s.to_dict() for s in self.off_sample],
            "notes": list(self.notes),
        }

    def summary(self) -> Summary:
        """The status in the current language (``pollwatch.i18n.use_language``); the numbers
        are written as in English."""
        rate = fmt_pct(self.reported / self.sampled) if self.sampled else gettext("n/a")
        fields = {"n": f"{self.reported:,}", "sampled": f"{self.sampled:,}", "rate": rate}
        if self.estimate is not None:
            top = max(self.estimate.candidates, key=lambda n: self.estimate[n].estimate)  # type: ignore[index]
            q = self.estimate[top]
            text = gettext(
                "{n} of {sampled} sampled stations reported ({rate}); {name} {share} ± {moe} pp "
                "of valid votes."
            ).format(**fields, name=top, share=fmt_pct(q.estimate), moe=f"{100 * q.moe:.2f}")
        else:
            text = gettext("{n} of {sampled} sampled stations reported ({rate}).").format(**fields)
        rows = [
            (
                gettext("stratum {name}").format(name=s.stratum),
                gettext("{reported}/{sampled} reported, {quarantined} quarantined").format(
                    reported=s.reported, sampled=s.sampled, quarantined=s.quarantined
                ),
            )
            for s in self.strata
        ]
        for b in self.buckets:
            est = ""
            if b.shares:
                est = "; " + ", ".join(
                    gettext("{name} {share} ± {moe} pp").format(
                        name=n,
                        share=fmt_pct(v),
                        moe=f"{100 * (b.margins or {}).get(n, math.nan):.2f}",
                    )
                    for n, v in b.shares.items()
                )
            rows.append(
                (
                    gettext("by {time}").format(time=f"{b.end:%H:%M}"),
                    f"+{b.arrived} = {b.cumulative}{est}",
                )
            )
        if self.early_late is not None:
            rows.append((gettext("early vs late"), say(self.early_late["verdict"])))
        rows.append((gettext("quarantined"), str(len(self.quarantined))))
        rows.append(
            (gettext("copies from outside the sample (not counted)"), str(len(self.off_sample)))
        )
        notes = [
            f"{s.station}: {'; '.join(say(p) for p in s.problems)}" for s in self.quarantined[:20]
        ]
        return Summary(
            gettext("Quick count: live status"), text, rows, [*notes, *map(say, self.notes)]
        )


def _copy_sha256(answers: dict) -> str:
    return hashlib.sha256(canonical_json(answers)).hexdigest()


def _bucket_minutes(first: dt.datetime, last: dt.datetime) -> int:
    span = (last - first).total_seconds() / 60
    return next((b for b in BUCKETS if span / b < MAX_BUCKETS), BUCKETS[-1])


def sample_frame(codes: list[str], candidates) -> Election:
    """The election the library's estimator needs beside a registered sample: the sample's
    stations and the candidates (strata and ``N_h`` come from the sample itself)."""
    cands = tuple(Candidate(c["id"], c["name"], c.get("party")) for c in candidates)
    n = len(codes)
    cols: dict[str, pl.Series] = {
        "station_id": pl.Series(codes, dtype=pl.Utf8),
        "registered": pl.Series([1] * n, dtype=pl.Int64),
        "valid": pl.Series([1] * n, dtype=pl.Int64),
        "invalid": pl.Series([0] * n, dtype=pl.Int64),
    }
    for c in cands:
        cols[c.id] = pl.Series([0] * n, dtype=pl.Int64)
    return Election(pl.DataFrame(cols), ElectionMeta(candidates=cands))


def _station_reports(session: Session, election: m.Election) -> list[StationReport]:
    """Every station's accepted copies of ``election`` reconciled, with their problems."""
    rows = session.execute(
        select(m.Submission, m.Station)
        .join(m.Station, m.Submission.station_id == m.Station.id)
        .where(
            m.Station.election_id == election.id,
            m.Submission.kind == Kind.protocol,
            m.Submission.status != Verification.rejected,
            m.Submission.quarantined.is_(False),
        )
        .order_by(m.Submission.id)
    ).all()
    to_id = {c["name"]: c["id"] for c in election.candidates} | {
        c["id"]: c["id"] for c in election.candidates
    }
    latest: dict[str, dict[int, m.Submission]] = defaultdict(dict)
    station_of: dict[str, m.Station] = {}
    for sub, st in rows:
        latest[st.code][sub.observer_id] = sub  # newest copy per observer
        station_of[st.code] = st
    out = []
    for code, subs in latest.items():
        st = station_of[code]
        copies = [
            {"numbers": s.answers.get("numbers", {}), "votes": {
                to_id.get(k, k): v for k, v in s.answers.get("votes", {}).items()
            }}
            for s in subs.values()
        ]  # fmt: skip
        rec = reconcile(copies)
        numbers, votes = rec["numbers"], rec["votes"]
        problems: list[str] = [
            note(N_("observers' copies disagree on {line}"), line=k) for k in rec["conflicts"]
        ]
        for line in ("valid", "invalid"):
            if numbers.get(line) is None and f"numbers.{line}" not in rec["conflicts"]:
                problems.append(
                    note(N_("valid ballots missing"))
                    if line == "valid"
                    else note(N_("invalid ballots missing"))
                )
        for c in election.candidates:
            if votes.get(c["id"]) is None and f"votes.{c['id']}" not in rec["conflicts"]:
                problems.append(note(N_("no count for {name}"), name=c["name"]))
        if not problems:
            problems += [FlagText(f) for f in protocol_flags(numbers, votes, st.registered)]
        out.append(
            StationReport(
                station=code,
                stratum=None,
                arrived=min(s.created_at for s in subs.values()),
                valid=numbers.get("valid"),
                invalid=numbers.get("invalid"),
                registered=numbers.get("registered", st.registered),
                votes={c["id"]: votes.get(c["id"]) for c in election.candidates},
                inputs=tuple((s.id, _copy_sha256(s.answers)) for s in subs.values()),
                problems=tuple(problems),
            )
        )
    return sorted(out, key=lambda r: (r.arrived, r.station))


def _copies(reports: list[StationReport], candidates, source: str) -> ProtocolCopies:
    rows = [
        {
            "station_id": r.station,
            "registered": r.registered,
            "valid": r.valid,
            "invalid": r.invalid,
            **{c["id"]: r.votes[c["id"]] for c in candidates},
            "arrived": r.arrived.isoformat(),
        }
        for r in reports
    ]
    return ProtocolCopies.from_frame(pl.DataFrame(rows, infer_schema_length=None), source)


def _estimate(copies, frame, sample, notes: list[str]) -> QuickCountResult | None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = estimate(copies, frame, sample=sample, nonresponse="poststratify")
        except (ValueError, InputDataError) as exc:
            notes.append(note(N_("no estimate: {error}"), error=str(exc)))
            return None
    # the warning's own text (a quickcount ``Note`` says itself in the page's language)
    notes += [
        w.message.args[0] if isinstance(w.message, Warning) and w.message.args else str(w.message)
        for w in caught
    ]
    return r


def live_status(
    session: Session,
    user: m.User,
    election_id: int,
    *,
    bucket_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> LiveStatus:
    """The quick count of ``election_id`` now (staff and analysts: ``check_read_sample``)."""
    permissions.check_read_sample(user)
    return compute_status(session, election_id, bucket_minutes=bucket_minutes, now=now)


def find_election(session: Session, election: str | int | None) -> m.Election:
    """The election named by id or name (default: the only one); ``NotFound`` listing them."""
    rows = session.scalars(select(m.Election).order_by(m.Election.id)).all()
    chosen = [e for e in rows if election is None or str(election) in (str(e.id), e.name)]
    if len(chosen) != 1:
        names = ", ".join(f"{e.id}: {e.name}" for e in rows) or Note(N_("none"))
        raise NotFound(N_("choose one election with --election (found {names})"), names=names)
    return chosen[0]


def compute_status(
    session: Session,
    election_id: int,
    *,
    bucket_minutes: int | None = None,
    now: dt.datetime | None = None,
) -> LiveStatus:
    """``live_status`` without the permission check: for callers that hold the database itself
    (``pollwatch quickcount status --database``, the demo)."""
    election = get_election(session, election_id)
    sample = get_sample(session, election_id)
    if sample is None:
        raise NotFound(N_("No registered quick-count sample for this election"))
    rows = session.execute(
        select(m.QcSampleStation, m.Station.code)
        .join(m.Station, m.Station.id == m.QcSampleStation.station_id)
        .where(m.QcSampleStation.sample_id == sample.id)
        .order_by(m.QcSampleStation.id)
    ).all()
    sizes: dict[str, int] = {}
    members: dict[str, list[str]] = defaultdict(list)
    active: dict[str, str] = {}
    for ss, code in rows:
        sizes.setdefault(ss.stratum, ss.stratum_stations)
        members[ss.stratum].append(code)
        if ss.active:
            active[code] = ss.stratum
    reports = _station_reports(session, election)
    counted: list[StationReport] = []
    quarantined: list[StationReport] = []
    off: list[StationReport] = []
    for rep in reports:
        if rep.station not in active:
            off.append(rep)
            continue
        rep = StationReport(**{**rep.__dict__, "stratum": active[rep.station]})
        (quarantined if rep.problems else counted).append(rep)
    strata = tuple(
        StratumResponse(
            h,
            sizes[h],
            len([s for s in active.values() if s == h]),
            len([r for r in counted if r.stratum == h]),
            len([r for r in quarantined if r.stratum == h]),
        )
        for h in sizes
    )
    frame = sample_frame([c for cs in members.values() for c in cs], election.candidates)
    registered = registered_sample(session, sample)
    names = [c["name"] for c in election.candidates]
    notes: list[str] = []
    buckets: list[Bucket] = []
    result = early_late = None
    minutes = bucket_minutes or 15
    if counted:
        source = f"service (election {election.name})"
        first, last = counted[0].arrived, counted[-1].arrived
        minutes = bucket_minutes or _bucket_minutes(first, last)
        start = first.replace(second=0, microsecond=0) - dt.timedelta(
            minutes=first.minute % minutes
        )
        end, done = start + dt.timedelta(minutes=minutes), 0
        while done < len(counted):
            upto = len([r for r in counted if r.arrived < end])
            b = Bucket(end, upto - done, upto)
            if upto > done and upto >= 2:
                est = _estimate(
                    _copies(counted[:upto], election.candidates, source), frame, registered, []
                )
                if est is not None:
                    b = Bucket(
                        end,
                        upto - done,
                        upto,
                        {n: est[n].estimate for n in names},
                        {n: est[n].moe for n in names},
                        est["turnout"].estimate,
                    )
            buckets.append(b)
            done, end = upto, end + dt.timedelta(minutes=minutes)
        copies = _copies(counted, election.candidates, source)
        if len(counted) >= 2:
            result = _estimate(copies, frame, registered, notes)
        else:
            notes.append(note(N_("no estimate yet: fewer than 2 counted reports")))
        if result is not None and len(counted) >= 4:
            leader = max(result.candidates, key=lambda n: result[n].estimate)  # type: ignore[union-attr]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the estimate above carried the notes
                try:
                    early_late = convergence(
                        copies, frame, candidate=leader, steps=len(buckets), sample=registered
                    ).to_dict()
                except (ValueError, InputDataError) as exc:
                    notes.append(note(N_("no early-vs-late check: {error}"), error=str(exc)))
        elif len(counted) < 4:
            notes.append(note(N_("the early-vs-late check needs at least 4 reports")))
    verdict = None
    if result is not None:
        official = official_election(session, election_id)
        if official is not None:
            drawn = {h: len([s for s in active.values() if s == h]) for h in sizes}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                verdict = decide(result, official, sampled=drawn).to_dict()
        else:
            notes.append(note(N_("no verdict: the election was imported without official results")))
    return LiveStatus(
        verdict=verdict,
        election=election.name,
        sample_sha256=sample.sha256,
        at=now or m.utcnow(),
        sampled=len(active),
        reported=len(counted),
        strata=strata,
        buckets=tuple(buckets),
        bucket_minutes=minutes,
        estimate=result,
        early_late=early_late,
        counted=tuple(counted),
        quarantined=tuple(quarantined),
        off_sample=tuple(off),
        notes=tuple(dict.fromkeys(notes)),
        _candidates=tuple(names),
    )


# ---- publication --------------------------------------------------------------------------------


def statement(status: LiveStatus, election_id: int, published_at: dt.datetime) -> dict:
    """What a publication freezes: the numbers, the inputs (each copy's submission id and the
    SHA-256 of its answers) and the time."""
    assert status.estimate is not None
    return {
        "format": PUBLICATION_FORMAT,
        "election": {"id": election_id, "name": status.election},
        "sample_sha256": status.sample_sha256,
        "published_at": published_at.isoformat(),
        "sampled": status.sampled,
        "reported": status.reported,
        "quarantined": [r.station for r in status.quarantined],
        "off_sample": len(status.off_sample),
        "estimate": status.estimate.to_dict(),
        "verdict": status.verdict,
        "early_late": status.early_late,
        "inputs": [
            {"station": r.station, "submission": sid, "sha256": sha}
            for r in status.counted
            for sid, sha in r.inputs
        ],
    }


def publish(session: Session, user: m.User, election_id: int, key) -> m.QcPublication:
    """Freeze the current estimate (staff only): its statement is signed with the service's
    evidence key ``key`` and stored with an audit entry, which puts it in the chain (the
    notary's checkpoint after the commit covers it). Caller commits."""
    permissions.check_manage_sample(user)
    audit.lock(session)  # no copy arrives between the status and the entry that freezes it
    status = live_status(session, user, election_id)
    if status.estimate is None:
        raise Conflict(N_("Nothing to publish: no estimate yet (fewer than 2 counted reports)"))
    now = m.utcnow()
    text = canonical_json(jsonable(statement(status, election_id, now)))
    row = m.QcPublication(
        election_id=election_id,
        statement=text.decode(),
        sha256=hashlib.sha256(text).hexdigest(),
        signature=b64(key.sign(text)),
        key_fingerprint=fingerprint(key),
        user_id=user.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, user.id, "publish", row)
    return row


def verify_publication(row: m.QcPublication, public_keys) -> bool:
    """Whether the stored statement is the one signed (its SHA-256 and signature hold for one
    of ``public_keys``, the service's evidence keys)."""
    data = row.statement.encode()
    if hashlib.sha256(data).hexdigest() != row.sha256:
        return False
    for pub in public_keys:
        if fingerprint(pub) != row.key_fingerprint:
            continue
        try:
            pub.verify(unb64(row.signature), data)
            return True
        except Exception:  # noqa: BLE001 - cryptography's InvalidSignature
            return False
    return False


def publications(session: Session, user: m.User, election_id: int) -> list[m.QcPublication]:
    """The election's published estimates, newest first (staff and analysts)."""
    permissions.check_read_sample(user)
    return list(
        session.scalars(
            select(m.QcPublication)
            .where(m.QcPublication.election_id == election_id)
            .order_by(m.QcPublication.id.desc())
        )
    )
