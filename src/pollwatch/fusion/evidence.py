"""What each source says about one station, as frozen evidence objects.

One small function per source reads the library's result objects (or the service's plain
dicts) for one station and returns its evidence, or ``None`` when the source does not cover
the station:

* :func:`official_evidence` — the official protocol and its arithmetic findings
  (:class:`OfficialEvidence`);
* :func:`forensic_evidence` — the row of the forensics ``StationScores`` table: rank, points
  and the signals that fired (:class:`ForensicEvidence`);
* :func:`copy_evidence` — the observers' protocol copy and each field where it differs from
  the official protocol (:class:`ProtocolCopyEvidence`);
* :func:`observer_evidence` — observers' checklists, incidents and protocol submissions
  (:class:`ObserverEvidence`);
* :func:`camera_evidence` — the camera estimate against the official turnout, and the camera
  status log and events (:class:`CameraEvidence`);
* :func:`census_evidence` — the station's tally sheets (photo hash, typed numbers), each line
  where they differ from the official protocol and the census findings (:class:`CensusEvidence`);
* :func:`turnout_evidence` — an observer's own end-of-day count of the ballots against the
  protocol's, with the tolerance rule of the quick count's turnout estimator
  (:class:`TurnoutCountEvidence`).

Each object's ``to_dict()`` is the JSON of the dossier's matching keys
(:meth:`pollwatch.fusion.dossier.StationDossier.to_dict`). :mod:`pollwatch.fusion.dossier`
reads them into evidence statements and a plain-language summary.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

from pollwatch.cameras.data import format_time
from pollwatch.i18n import N_, gettext
from pollwatch.model import Election
from pollwatch.model.fields import field_names
from pollwatch.quickcount.compare import match_protocols
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.quickcount.turnout import (
    END_OF_DAY,
    TOLERANCE_SHARE,
    TOLERANCE_VOTES,
    gap_tolerance,
)
from pollwatch.results import jsonable
from pollwatch.validate import validate

__all__ = [
    "FRAUD_CATEGORIES",
    "SIGNAL_WORDS",
    "STATISTICAL_SIGNALS",
    "WEAK_SIGNALS",
    "SHEET_FINDINGS",
    "ArithmeticFinding",
    "CameraCount",
    "CameraEvent",
    "CameraEvidence",
    "CensusDifference",
    "CensusEvidence",
    "CensusSheet",
    "ForensicEvidence",
    "Mismatch",
    "ObserverEvidence",
    "ObserverReport",
    "OfficialEvidence",
    "ProtocolCopy",
    "ProtocolCopyEvidence",
    "TurnoutCountEvidence",
    "camera_evidence",
    "census_evidence",
    "copy_evidence",
    "forensic_evidence",
    "observer_evidence",
    "official_evidence",
    "protocol_ballots",
    "scores_table",
    "sheets_of_station",
    "turnout_evidence",
]

#: incident categories that report the kinds of fraud the other sources measure
FRAUD_CATEGORIES = frozenset(
    {
        "ballot_stuffing",
        "carousel",
        "multiple_voting",
        "counting_irregularities",
        "vote_buying",
        "coercion",
    }
)

#: forensic signals by strength (columns of ``StationScores.table``)
STATISTICAL_SIGNALS = (
    "extreme",
    "turnout_outlier",
    "share_outlier",
    "mixture",
    "above_peak",
    "carousel",
    "mobile_box",
)
WEAK_SIGNALS = ("integer",)
#: each signal column of ``StationScores.table`` in words
SIGNAL_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "arithmetic": N_("protocol arithmetic violated"),
        "extreme": N_("turnout and leader share both above 95 %"),
        "turnout_outlier": N_("turnout far above its constituency"),
        "share_outlier": N_("leader share far above its constituency"),
        "mixture": N_("likely in the fraud class of the mixture model"),
        "above_peak": N_("turnout above the natural (Shpilkin) peak"),
        "carousel": N_("away-voter share outlier (carousel pattern)"),
        "mobile_box": N_("mobile-box share outlier"),
        "integer": N_("whole-number percentage"),
    }
)
_FORENSIC_VALUES = ("turnout", "leader_share", "turnout_z", "share_z", "mixture_posterior")


def _frozen(d: Mapping | None) -> Mapping:
    """A read-only copy of ``d``."""
    return MappingProxyType(dict(d or {}))


# -- the official protocol ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ArithmeticFinding:
    """One protocol rule the official protocol violates (a row of ``validate``'s findings)."""

    rule: str
    fields: str | None = None
    expected: str | None = None
    found: str | None = None
    difference: int | None = None
    message: str | None = None

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "fields": self.fields,
            "expected": self.expected,
            "found": self.found,
            "difference": self.difference,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class OfficialEvidence:
    """The official protocol of one station.

    ``fields``: protocol lines by model name (``registered``, ``valid`` …); ``votes``: votes by
    candidate name (``None`` where unknown); ``turnout`` (ballots cast / registered) and the
    leader's name and share of valid votes; ``arithmetic``: the protocol rules it violates.
    ``known`` is false when only part of the protocol is held (the service without the official
    protocols): then its arithmetic is not checked and copies are not compared against it.
    """

    fields: Mapping[str, int]
    votes: Mapping[str, int | None] = field(default_factory=dict)
    turnout: float | None = None
    leader: str | None = None
    leader_share: float | None = None
    arithmetic: tuple[ArithmeticFinding, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))
        object.__setattr__(self, "votes", _frozen(self.votes))
        object.__setattr__(self, "arithmetic", tuple(self.arithmetic))

    @property
    def known(self) -> bool:
        return "valid" in self.fields

    def to_dict(self) -> dict:
        """The protocol lines, then ``votes``, ``turnout``, ``leader`` and ``leader_share``
        (each left out when unknown; the arithmetic is the dossier's ``arithmetic``)."""
        out: dict = dict(self.fields)
        if self.votes:
            out["votes"] = dict(self.votes)
        if self.known or self.turnout is not None:
            out["turnout"] = self.turnout
        if self.leader is not None:
            out["leader"] = self.leader
        if self.known or self.leader_share is not None:
            out["leader_share"] = self.leader_share
        return jsonable(out)


def official_evidence(
    election: Election, station_id: str, findings: Any = None
) -> OfficialEvidence | None:
    """The official protocol of ``station_id`` in ``election`` with its arithmetic findings
    (``findings``: :class:`pollwatch.validate.Findings`; default: validated here); ``None`` for a
    station not in the election."""

    sid = str(station_id)
    mask = np.asarray(election.station_ids).astype(str) == sid
    hit = np.flatnonzero(mask)
    if not hit.size:
        return None
    i = int(hit[0])
    row = election.table.row(i, named=True)
    fields = {n: int(row[n]) for n in field_names() if n in row and row[n] is not None}
    votes = {
        c.name: (None if row.get(c.id) is None else int(row[c.id])) for c in election.candidates
    }
    cast = election.ballots_cast()[i]
    reg = fields.get("registered", 0)
    valid = fields.get("valid", 0)
    lead = election.leader
    lead_votes = votes[lead.name]
    if findings is None:
        findings = validate(election.subset(mask))
    ft = findings.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
    arithmetic = tuple(
        ArithmeticFinding(
            **{
                k: r.get(k)
                for k in ("rule", "fields", "expected", "found", "difference", "message")
            }
        )
        for r in ft.iter_rows(named=True)
    )
    return OfficialEvidence(
        fields,
        votes,
        turnout=float(cast / reg) if reg else None,
        leader=lead.name,
        leader_share=float(lead_votes / valid) if valid and lead_votes is not None else None,
        arithmetic=arithmetic,
    )


# -- forensics ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ForensicEvidence:
    """The station's row of the forensics ``StationScores`` table.

    ``rank`` (1 = most suspicious) of ``n_stations``, ``points``; ``signals``: the signal
    columns that fired, ``signals_checked``: those the table has; the station's ``turnout``,
    ``leader_share``, their robust z-scores and the mixture posterior where the table has them.
    """

    rank: int | None
    points: float | None
    n_stations: int
    signals: tuple[str, ...] = ()
    signals_checked: tuple[str, ...] = ()
    turnout: float | None = None
    leader_share: float | None = None
    turnout_z: float | None = None
    share_z: float | None = None
    mixture_posterior: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "signals", tuple(self.signals))
        object.__setattr__(self, "signals_checked", tuple(self.signals_checked))

    @property
    def statistical(self) -> tuple[str, ...]:
        """The statistical signals that fired."""
        return tuple(s for s in self.signals if s in STATISTICAL_SIGNALS)

    @property
    def weak(self) -> tuple[str, ...]:
        """The digit-like signals that fired (they arise without fraud too)."""
        return tuple(s for s in self.signals if s in WEAK_SIGNALS)

    @staticmethod
    def words(signals: Iterable[str]) -> str:
        """``signals`` in words, ``; ``-separated."""
        return "; ".join(gettext(SIGNAL_WORDS[s]) if s in SIGNAL_WORDS else s for s in signals)

    def to_dict(self) -> dict:
        """``values`` holds the numbers the table has (left out where it has none)."""
        values = {k: getattr(self, k) for k in _FORENSIC_VALUES if getattr(self, k) is not None}
        return jsonable(
            {
                "rank": self.rank,
                "points": self.points,
                "n_stations": self.n_stations,
                "signals": self.signals,
                "signals_checked": self.signals_checked,
                "values": values,
            }
        )


def scores_table(analysis: Any) -> pl.DataFrame | None:
    """The stations table of ``analysis``: a :class:`pollwatch.forensics.run.Analysis` (its
    ``scores.table``), a ``StationScores`` (its ``table``) or the table itself."""
    if analysis is None:
        return None
    if isinstance(analysis, pl.DataFrame):
        return analysis
    scores = getattr(analysis, "scores", None)
    if scores is not None:
        return getattr(scores, "table", scores)
    return getattr(analysis, "table", None)


def forensic_evidence(analysis: Any, station_id: str) -> ForensicEvidence | None:
    """The row of ``station_id`` in the forensic stations table (``analysis``: anything
    :func:`scores_table` takes, e.g. the ``stations.csv`` of ``pollwatch analyze``); ``None``
    without an analysis or for a station not in it."""
    table = scores_table(analysis)
    if table is None:
        return None
    hit = table.filter(pl.col("station_id").cast(pl.Utf8) == str(station_id))
    if hit.height == 0:
        return None
    r = hit.row(0, named=True)
    known = tuple(s for s in SIGNAL_WORDS if s in r)
    values = {k: _num(r[k]) for k in _FORENSIC_VALUES if k in r}
    return ForensicEvidence(
        rank=int(r["rank"]) if r.get("rank") is not None else None,
        points=_num(r.get("points")),
        n_stations=table.height,
        signals=tuple(s for s in known if _truthy(r[s])),
        signals_checked=known,
        **values,
    )


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v) and not (isinstance(v, float) and math.isnan(v))


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


# -- observers' reports -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ObserverReport:
    """One observer's submission at the station (the keys of
    :func:`pollwatch.service.sources.dossier.observer_reports_from_db`): ``kind`` is
    ``checklist``, ``incident`` or ``protocol``; ``form`` the checklist form or incident
    category; ``answers`` the submitted answers (a protocol copy's ``numbers`` and ``votes``);
    ``flags`` the checklist's rule flags; ``media`` each file's ``sha256``,
    ``published_sha256`` and ``content_type``."""

    station_id: str | None = None
    service_station_id: int | None = None
    submission_id: int | None = None
    kind: str | None = None
    form: str | None = None
    severity: str | None = None
    status: str | None = None
    quarantined: bool | None = None
    description: str | None = None
    channel: str | None = None
    occurred_at: str | None = None
    answers: Mapping[str, object] = field(default_factory=dict)
    flags: tuple[Mapping[str, object], ...] = ()
    media: tuple[Mapping[str, object], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "answers", _frozen(self.answers))
        object.__setattr__(self, "flags", tuple(_frozen(f) for f in self.flags or ()))
        object.__setattr__(self, "media", tuple(_frozen(m) for m in self.media or ()))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ObserverReport:
        """From a plain dict (unknown keys are ignored, missing ones are ``None``)."""
        keys = cls.__dataclass_fields__
        out = {k: v for k, v in d.items() if k in keys and v is not None}
        if "station_id" in out:
            out["station_id"] = str(out["station_id"])
        return cls(**out)

    @property
    def sha256s(self) -> tuple[str, ...]:
        return tuple(str(m["sha256"]) for m in self.media if m.get("sha256"))

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class ObserverEvidence:
    """Observers' submissions at the station, in the order filed."""

    reports: tuple[ObserverReport, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "reports", tuple(self.reports))

    @property
    def incidents(self) -> tuple[ObserverReport, ...]:
        """Incident reports not rejected by a coordinator."""
        return tuple(r for r in self.reports if r.kind == "incident" and r.status != "rejected")

    @property
    def fraud(self) -> tuple[ObserverReport, ...]:
        """Incidents of a kind of fraud the other sources measure (:data:`FRAUD_CATEGORIES`)."""
        return tuple(r for r in self.incidents if r.form in FRAUD_CATEGORIES)

    @property
    def checklists(self) -> tuple[ObserverReport, ...]:
        return tuple(r for r in self.reports if r.kind == "checklist")

    @property
    def protocols(self) -> tuple[ObserverReport, ...]:
        """Protocol copies filed in the service (rejected ones too)."""
        return tuple(r for r in self.reports if r.kind == "protocol")

    @property
    def media_hashes(self) -> tuple[str, ...]:
        """SHA-256 of every file attached, sorted, each once."""
        return tuple(sorted({h for r in self.reports for h in r.sha256s}))

    def to_dict(self) -> list[dict]:
        """The dossier's ``observer_reports``."""
        return [r.to_dict() for r in self.reports]


def observer_evidence(
    reports: Iterable[Mapping[str, Any] | ObserverReport] | None, station_id: str | None = None
) -> ObserverEvidence | None:
    """The submissions of ``reports`` made at ``station_id`` (every one when ``None``); ``None``
    when there are none."""
    out = []
    for r in reports or ():
        rep = r if isinstance(r, ObserverReport) else ObserverReport.from_dict(r)
        if station_id is None or rep.station_id == str(station_id):
            out.append(rep)
    return ObserverEvidence(tuple(out)) if out else None


# -- the observers' protocol copy ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Mismatch:
    """One field where a copy of the protocol differs from the official one; ``source``: the
    copies file or the service submission the copy comes from."""

    field: str
    copy: int | None
    official: int | None
    source: str

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "copy": self.copy,
            "official": self.official,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class ProtocolCopy:
    """The station's row of a protocol-copies file: ``fields`` (protocol lines and the file's
    other columns) and ``votes`` by candidate name."""

    fields: Mapping[str, object]
    votes: Mapping[str, int | None]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))
        object.__setattr__(self, "votes", _frozen(self.votes))

    def to_dict(self) -> dict:
        return jsonable({**self.fields, "votes": dict(self.votes)})


@dataclass(frozen=True, slots=True)
class ProtocolCopyEvidence:
    """The observers' copies of the station's protocol against the official one.

    ``copy``: the row of a copies file (``None`` without one); ``filed``: protocol copies filed
    in the service; ``mismatches``: every field where a copy differs; ``compared``: whether the
    official protocol was there to compare with.
    """

    copy: ProtocolCopy | None = None
    mismatches: tuple[Mismatch, ...] = ()
    filed: int = 0
    compared: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "mismatches", tuple(self.mismatches))

    def to_dict(self) -> dict:
        return {
            "protocol_copy": self.copy.to_dict() if self.copy is not None else None,
            "mismatches": [m.to_dict() for m in self.mismatches],
        }


def _file_copy(copies: Any, sid: str, election: Election | None) -> ProtocolCopy | None:
    if copies is None:
        return None
    t = copies.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
    if t.height == 0:
        return None
    names = {c.id: c.name for c in election.candidates} if election is not None else {}
    row = t.row(0, named=True)
    cands = set(names) | set(getattr(copies, "candidates", ()))
    return ProtocolCopy(
        {k: v for k, v in row.items() if k != "station_id" and k not in cands and v is not None},
        {names.get(k, k): v for k, v in row.items() if k in cands},
    )


def _file_mismatches(sid: str, pvt: Any, copies: Any, election: Election) -> list[Mismatch]:
    if pvt is not None:
        mm = pvt.protocols.mismatches
    elif copies is not None:
        sub = copies.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        if sub.height == 0:
            return []
        mm = match_protocols(
            ProtocolCopies(sub, copies.fields, copies.candidates, copies.source), election
        ).mismatches
    else:
        return []
    return [
        Mismatch(m.field, m.copy, m.official, "protocol copies file")
        for m in mm
        if m.station_id == sid
    ]


def _answer_map(r: ObserverReport, key: str) -> Mapping[str, Any]:
    """The submitted answer ``key`` (a protocol copy's ``numbers`` or ``votes``), ``{}`` if none."""
    v = r.answers.get(key) or {}
    if not isinstance(v, Mapping):
        raise TypeError(
            f"service submission {r.submission_id}: answers[{key!r}] is a {type(v).__name__}, "
            "not a mapping"
        )
    return v


def _filed_mismatches(
    observers: ObserverEvidence, official: OfficialEvidence, names: Mapping[str, str]
) -> list[Mismatch]:
    """Protocol copies filed in the service, field by field against the official protocol
    (``names``: candidate id → name, as a copy may give votes by either)."""
    out = []
    for r in observers.protocols:
        if r.status == "rejected":
            continue
        source = f"service submission {r.submission_id}"
        for k, v in _answer_map(r, "numbers").items():
            off = official.fields.get(k)
            if off is not None and int(v) != int(off):
                out.append(Mismatch(k, int(v), int(off), source))
        for k, v in _answer_map(r, "votes").items():
            name = names.get(k, k)
            off = official.votes.get(name)
            if off is not None and int(v) != int(off):
                out.append(Mismatch(name, int(v), int(off), source))
    return out


def copy_evidence(
    station_id: str,
    *,
    election: Election | None = None,
    official: OfficialEvidence | None = None,
    pvt: Any = None,
    copies: Any = None,
    observers: ObserverEvidence | None = None,
) -> ProtocolCopyEvidence | None:
    """The observers' copies of ``station_id``'s protocol against ``official``: the row of
    ``copies`` (:class:`~pollwatch.quickcount.copies.ProtocolCopies`) matched against the
    ``election`` (the mismatches of ``pvt``, a
    :class:`~pollwatch.quickcount.compare.PVTComparison`, when given), and the copies filed in
    the service among ``observers``. Without a known official protocol the copies are listed,
    not compared. ``None`` when there is no copy at all."""
    sid = str(station_id)
    copy = _file_copy(copies, sid, election)
    filed = len(observers.protocols) if observers is not None else 0
    compared = official is not None and official.known
    mismatches: list[Mismatch] = []
    if compared and election is not None:
        mismatches += _file_mismatches(sid, pvt, copies, election)
    if compared and official is not None and observers is not None:
        names = {c.id: c.name for c in election.candidates} if election is not None else {}
        mismatches += _filed_mismatches(observers, official, names)
    if copy is None and not filed and not mismatches:
        return None
    return ProtocolCopyEvidence(copy, tuple(mismatches), filed, compared)


# -- cameras ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CameraCount:
    """The camera comparison's row of the station: the ``estimate`` of voters with its upper
    bound ``high95`` at ``level`` against the ``official`` turnout, whether the official figure
    is above the bound (``flagged``), ``inflation``, ``ratio`` and ``excess`` (ballots beyond
    the bound). From the estimate itself, when given: the lower bound ``low95``, the share of
    the day watched (``coverage``), the voters ``counted``, ``usable_windows`` of ``windows``
    and the estimate's ``status``. ``hard``: the flag survives the false-discovery control and
    the hidden-window sensitivity bound; ``bound``: the official figure includes ballots the
    camera cannot see, so only a figure below the camera count is a flag (``None`` when the
    comparison does not say)."""

    official: float | None
    estimate: float | None
    high95: float | None
    flagged: bool
    inflation: float | None
    ratio: float | None
    excess: float | None
    level: float
    low95: float | None = None
    coverage: float | None = None
    counted: float | None = None
    usable_windows: int | None = None
    windows: int | None = None
    status: str | None = None
    hard: bool | None = None
    bound: bool | None = None

    def to_dict(self) -> dict:
        keys = list(self.__dataclass_fields__)
        if self.status is None:  # compared without the estimate
            keys = keys[: keys.index("low95")] + ["hard", "bound"]
        keys = [k for k in keys if k not in ("hard", "bound") or getattr(self, k) is not None]
        return jsonable({k: getattr(self, k) for k in keys})


@dataclass(frozen=True, slots=True)
class CameraEvent:
    """An entry of the camera-status log (``status``) or a camera event (``event``, ``note``)
    at ``time`` (``HH:MM``)."""

    time: str
    status: str | None = None
    event: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        if self.event is None:
            return {"time": self.time, "status": self.status}
        return {"time": self.time, "event": self.event, "note": self.note}


@dataclass(frozen=True, slots=True)
class CameraEvidence:
    """What the cameras say: the ``count`` (``None`` when the station's tallies were not
    compared) and the status log and events in time order."""

    count: CameraCount | None = None
    events: tuple[CameraEvent, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))

    @property
    def stuffing_seen(self) -> tuple[CameraEvent, ...]:
        return tuple(e for e in self.events if e.event == "stuffing_seen")

    @property
    def other_events(self) -> tuple[CameraEvent, ...]:
        return tuple(e for e in self.events if e.event and e.event != "stuffing_seen")

    @property
    def outages(self) -> tuple[CameraEvent, ...]:
        """Status entries other than online or muted (windows of missing data)."""
        return tuple(
            e
            for e in self.events
            if e.status is not None and e.status not in ("online", "audio_muted")
        )

    def to_dict(self) -> dict:
        return {
            "camera": self.count.to_dict() if self.count is not None else None,
            "camera_events": [e.to_dict() for e in self.events],
        }


def _camera_count(cameras: Any, sid: str, estimate: Any = None) -> CameraCount | None:
    if cameras is None:
        return None
    hit = np.flatnonzero(np.asarray(cameras.station_id).astype(str) == sid)
    if not hit.size:
        return None
    i = int(hit[0])
    extra: dict = {}
    if estimate is not None:
        j = np.flatnonzero(np.asarray(estimate.station_id).astype(str) == sid)
        if j.size:
            k = int(j[0])
            extra = dict(
                low95=_num(estimate.low[k]),
                coverage=_num(estimate.coverage[k]),
                counted=_num(estimate.counted[k]),
                usable_windows=int(estimate.n_usable[k]),
                windows=int(estimate.n_windows),
                status=str(estimate.status[k]),
            )
    hard = getattr(cameras, "hard", None)
    if hard is not None and np.size(hard) == np.size(cameras.station_id):
        extra["hard"] = bool(hard[i])
    if getattr(cameras, "direction", None) is not None:
        extra["bound"] = cameras.direction == "official below camera"
    return CameraCount(
        official=_num(cameras.official[i]),
        estimate=_num(cameras.estimate[i]),
        high95=_num(cameras.high[i]),
        flagged=bool(cameras.flagged[i]),
        inflation=_num(cameras.inflation[i]),
        ratio=_num(cameras.ratio[i]),
        excess=_num(cameras.excess[i]),
        level=float(cameras.level),
        **extra,
    )


def _camera_events(
    status: pl.DataFrame | None, sid: str, events: pl.DataFrame | None
) -> list[CameraEvent]:

    out: list[tuple[float, int, CameraEvent]] = []
    if status is not None and status.height:
        rows = status.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        out += [
            (float(t), 0, CameraEvent(format_time(float(t)), status=s))
            for t, s in zip(rows["time"].to_list(), rows["status"].to_list(), strict=True)
        ]
    if events is not None and events.height:
        rows = events.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        out += [
            (float(t), 1, CameraEvent(format_time(float(t)), event=e, note=n))
            for t, e, n in zip(
                rows["time"].to_list(), rows["event"].to_list(), rows["note"].to_list(), strict=True
            )
        ]
    return [c for _, _, c in sorted(out, key=lambda x: (x[0], x[1]))]


def camera_evidence(
    cameras: Any,
    station_id: str,
    *,
    estimate: Any = None,
    status: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
) -> CameraEvidence | None:
    """The row of ``station_id`` in ``cameras`` (a
    :class:`~pollwatch.cameras.compare.CameraComparison`; with ``estimate``, the
    :class:`~pollwatch.cameras.estimate.CameraEstimate` it compares, also the lower bound and
    the share of the day watched), and the station's entries of the camera-status log
    ``status`` and of the timestamped camera ``events`` (stuffing seen, group arrivals, angle
    changes). ``None`` when the cameras say nothing about the station."""
    sid = str(station_id)
    count = _camera_count(cameras, sid, estimate)
    log = _camera_events(status, sid, events)
    if count is None and not log:
        return None
    return CameraEvidence(count, tuple(log))


# -- the tally-sheet census ---------------------------------------------------------------------
#: census findings about one station's sheets that say the sheet itself cannot be used as is
SHEET_FINDINGS = ("conflict", "arithmetic", "incomplete", "duplicate", "unknown_station")


@dataclass(frozen=True, slots=True)
class CensusSheet:
    """One accepted (or, in the library, usable or not) tally sheet of the station: its
    ``sheet_id``, the photo's ``sha256`` (as received), ``photo_url`` (the service's link to the
    metadata-free copy, only for those allowed to see it), the typed ``numbers`` (protocol
    lines) and ``votes`` by candidate name, how it was accepted (``resolution``: "agreed" by
    two blind typists, "arbitrated", or "file" for a sheets file) and the ``problems`` its
    checks found."""

    sheet_id: str | None = None
    sha256: str | None = None
    photo_url: str | None = None
    numbers: Mapping[str, int | None] = field(default_factory=dict)
    votes: Mapping[str, int | None] = field(default_factory=dict)
    resolution: str | None = None
    problems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "numbers", _frozen(self.numbers))
        object.__setattr__(self, "votes", _frozen(self.votes))
        object.__setattr__(self, "problems", tuple(self.problems))

    def to_dict(self) -> dict:
        return jsonable(
            {
                "sheet_id": self.sheet_id,
                "sha256": self.sha256,
                "photo_url": self.photo_url,
                "numbers": dict(self.numbers),
                "votes": dict(self.votes),
                "resolution": self.resolution,
                "problems": self.problems,
            }
        )


@dataclass(frozen=True, slots=True)
class CensusDifference:
    """A line or candidate where a sheet differs from the official protocol: ``kind``
    ``sheet_above_official`` (a candidate's official figure is lower: votes lost after the
    count, the Belarus-2020 evidence), ``official_above_sheet`` (votes added) or
    ``line_differs`` (a protocol line such as registered or valid); ``difference`` is
    official − sheet."""

    field: str
    sheet: int
    official: int
    kind: str
    sheet_id: str | None = None

    @property
    def difference(self) -> int:
        return self.official - self.sheet

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "sheet": self.sheet,
            "official": self.official,
            "difference": self.difference,
            "kind": self.kind,
            "sheet_id": self.sheet_id,
        }


@dataclass(frozen=True, slots=True)
class CensusEvidence:
    """The station's tally sheets against its official protocol: the ``sheets``, every
    ``difference`` from the official figures (``compared``: whether the official protocol was
    there), and the census ``findings`` about the station's sheets (``kind``, ``detail``:
    ``conflict`` — two different sets of numbers, ``arithmetic`` — the sheet does not add up,
    and the other :data:`SHEET_FINDINGS`)."""

    sheets: tuple[CensusSheet, ...]
    differences: tuple[CensusDifference, ...] = ()
    findings: tuple[Mapping[str, object], ...] = ()
    compared: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "sheets", tuple(self.sheets))
        object.__setattr__(self, "differences", tuple(self.differences))
        object.__setattr__(self, "findings", tuple(_frozen(f) for f in self.findings))

    @property
    def kinds(self) -> tuple[str, ...]:
        """Every finding kind about the station, differences included, each once."""
        seen = [str(f.get("kind")) for f in self.findings] + [d.kind for d in self.differences]
        return tuple(dict.fromkeys(seen))

    @property
    def photos(self) -> tuple[str, ...]:
        return tuple(s.sha256 for s in self.sheets if s.sha256)

    def to_dict(self) -> dict:
        """The dossier's ``census``."""
        return jsonable(
            {
                "sheets": [s.to_dict() for s in self.sheets],
                "differences": [d.to_dict() for d in self.differences],
                "findings": [dict(f) for f in self.findings],
                "kinds": self.kinds,
                "compared": self.compared,
            }
        )


def _sheet_differences(sheet: CensusSheet, official: OfficialEvidence) -> list[CensusDifference]:
    out = []
    for k, s, off in [(k, v, official.votes.get(k)) for k, v in sheet.votes.items()]:
        if s is None or off is None or int(s) == int(off):
            continue
        kind = "sheet_above_official" if int(s) > int(off) else "official_above_sheet"
        out.append(CensusDifference(k, int(s), int(off), kind, sheet.sheet_id))
    # a protocol line (registered, valid …) that differs is not votes lost or added: its own kind
    for k, s, off in [(k, v, official.fields.get(k)) for k, v in sheet.numbers.items()]:
        if s is not None and off is not None and int(s) != int(off):
            out.append(CensusDifference(k, int(s), int(off), "line_differs", sheet.sheet_id))
    return out


def census_evidence(
    station_id: str,
    sheets: Iterable[CensusSheet | Mapping[str, Any]] | None,
    *,
    official: OfficialEvidence | None = None,
    findings: Iterable[Mapping[str, Any]] = (),
) -> CensusEvidence | None:
    """The census of ``station_id``: its ``sheets`` (:class:`CensusSheet` or their dicts)
    compared line by line with the ``official`` protocol (differences are computed here, the
    same way for the library's sheets file and the service's accepted sheets), and the census
    ``findings`` about the station (``station_id``, ``kind``, ``detail``; others' are skipped,
    and the comparison kinds are recomputed, not copied). Two accepted sheets with different
    numbers are a ``conflict``; a sheet's own ``problems`` are ``arithmetic`` findings (``photo``
    where the service found its photo filed for another station).
    ``None`` when the station has no sheet and no finding."""
    sid = str(station_id)
    got = tuple(s if isinstance(s, CensusSheet) else CensusSheet(**dict(s)) for s in sheets or ())
    found: list[dict] = [
        {"kind": str(f["kind"]), "detail": str(f.get("detail", ""))}
        for f in findings
        if str(f.get("station_id")) == sid
        and f.get("kind") not in ("sheet_above_official", "official_above_sheet")
    ]
    distinct = {(tuple(sorted(s.numbers.items())), tuple(sorted(s.votes.items()))) for s in got}
    if len(distinct) > 1 and not any(f["kind"] == "conflict" for f in found):
        found.append(
            {
                "kind": "conflict",
                "detail": f"{len(distinct)} different sets of numbers accepted for one station",
            }
        )
    for s in got:
        for p in s.problems:
            kind = "photo" if p.startswith("photo") else "arithmetic"
            found.append({"kind": kind, "detail": f"sheet {s.sheet_id}: {p}"})
    if not got and not found:
        return None
    diffs: list[CensusDifference] = []
    compared = official is not None and official.known
    if official is not None and compared:
        diffs = [d for s in got for d in _sheet_differences(s, official)]
    return CensusEvidence(got, tuple(diffs), tuple(found), compared)


def sheets_of_station(
    sheets: Any, station_id: str, names: Mapping[str, str] | None = None
) -> list[CensusSheet]:
    """The rows of a :class:`~pollwatch.census.sheets.Sheets` table for ``station_id``, usable
    ones only (a conflicting or failing sheet is a finding, not numbers), as
    :class:`CensusSheet` (``names``: sheet column → candidate name; the photo's hash from an
    ``image_sha256`` column where the file has one)."""
    names = dict(names or {})
    t = sheets.usable.filter(pl.col("station_id").cast(pl.Utf8) == str(station_id))
    out = []
    for r in t.iter_rows(named=True):
        out.append(
            CensusSheet(
                sheet_id=str(r["sheet_id"])
                if r.get("sheet_id") is not None
                else f"line {r['line']}",
                sha256=r.get("image_sha256"),
                numbers={f: r[f] for f in sheets.fields if f in r},
                votes={names.get(c, c): r[c] for c in sheets.candidates},
                resolution="file",
            )
        )
    return out


# -- the observers' own turnout count -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TurnoutCountEvidence:
    """An observer's end-of-day count of the ballots in the boxes (``observed``; with the
    ``voters_by_noon`` and ``voters_by_17`` counts where filed) against the protocol's ballots
    in the boxes (``protocol``: its ballots-in-boxes lines, else valid + invalid; ``None`` when
    the protocol is not held). ``gap = protocol − observed``; ``flagged`` when ``|gap|`` exceeds
    ``tolerance`` (:func:`pollwatch.quickcount.turnout.gap_tolerance`). ``source``: where the
    count comes from (a service submission or an observed-counts file); ``counts``: every
    end-of-day count filed for the station, when observers disagree."""

    observed: int
    protocol: int | None
    registered: int | None
    tolerance: float
    source: str
    voters_by_noon: int | None = None
    voters_by_17: int | None = None
    counts: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", tuple(self.counts))

    @property
    def gap(self) -> int | None:
        return None if self.protocol is None else self.protocol - self.observed

    @property
    def flagged(self) -> bool:
        return self.gap is not None and abs(self.gap) > self.tolerance

    @property
    def observed_turnout(self) -> float | None:
        return self.observed / self.registered if self.registered else None

    @property
    def protocol_turnout(self) -> float | None:
        if self.protocol is None or not self.registered:
            return None
        return self.protocol / self.registered

    def to_dict(self) -> dict:
        """The dossier's ``observed_turnout``."""
        return jsonable(
            {
                "observed": self.observed,
                "voters_by_noon": self.voters_by_noon,
                "voters_by_17": self.voters_by_17,
                "protocol": self.protocol,
                "registered": self.registered,
                "gap": self.gap,
                "tolerance": self.tolerance,
                "flagged": self.flagged,
                "observed_turnout": self.observed_turnout,
                "protocol_turnout": self.protocol_turnout,
                "source": self.source,
                "counts": self.counts,
            }
        )


def protocol_ballots(official: OfficialEvidence | None) -> int | None:
    """Ballots in the boxes by the protocol: its ballots-in-boxes lines, else valid + invalid
    (as :func:`pollwatch.quickcount.turnout.estimate_observed_turnout` reads them)."""
    if official is None:
        return None
    f = official.fields
    boxes = [f[k] for k in ("ballots_in_mobile_boxes", "ballots_in_stationary_boxes") if k in f]
    if boxes:
        return int(sum(boxes))
    if "valid" in f and "invalid" in f:
        return int(f["valid"] + f["invalid"])
    return None


def _count(v: Any) -> int | None:
    try:
        return None if v is None or isinstance(v, bool) else int(v)
    except (TypeError, ValueError):
        return None


def turnout_evidence(
    station_id: str,
    *,
    official: OfficialEvidence | None = None,
    observers: ObserverEvidence | None = None,
    observed: Any = None,
    tolerance_votes: float = TOLERANCE_VOTES,
    tolerance_share: float = TOLERANCE_SHARE,
) -> TurnoutCountEvidence | None:
    """The observers' own count of ``station_id`` against its protocol (issue 19: the
    station-level gaps of :mod:`pollwatch.quickcount.turnout` go to the dossier).

    ``observed``: an :class:`~pollwatch.quickcount.turnout.ObservedTurnout` (its station gap is
    used as computed, tolerance included); else the end-of-day count (``ballots_in_boxes``) of
    the observers' checklists not rejected by a coordinator, the last filed, with the noon and
    17:00 counts of their voting checklists. The tolerance rule is
    :func:`~pollwatch.quickcount.turnout.gap_tolerance`. ``None`` without a count."""
    sid = str(station_id)
    registered = official.fields.get("registered") if official is not None else None
    for g in getattr(observed, "gaps", ()) or ():
        if str(g.station_id) == sid:
            return TurnoutCountEvidence(
                observed=int(g.observed),
                protocol=g.protocol,
                registered=int(g.registered),
                tolerance=float(g.tolerance),
                source="observed-counts file",
                counts=(int(g.observed),),
            )
    if observers is None:
        return None
    filed = [r for r in observers.checklists if r.status != "rejected"]
    ends: list[tuple[ObserverReport, int]] = []
    for r in filed:
        v = _count(r.answers.get(END_OF_DAY))
        if v is not None:
            ends.append((r, v))
    if not ends:
        return None
    last, value = ends[-1]

    def latest(key: str) -> int | None:
        vals = [v for r in filed if (v := _count(r.answers.get(key))) is not None]
        return vals[-1] if vals else None

    return TurnoutCountEvidence(
        observed=value,
        protocol=protocol_ballots(official) if official is not None and official.known else None,
        registered=int(registered) if registered is not None else None,
        tolerance=gap_tolerance(value, tolerance_votes, tolerance_share),
        source=f"service submission {last.submission_id}",
        voters_by_noon=latest("voters_by_noon"),
        voters_by_17=latest("voters_by_17"),
        counts=tuple(v for _, v in ends),
    )
