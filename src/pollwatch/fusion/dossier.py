"""One evidence view per station: :func:`station_dossier` and :class:`StationDossier`.

Every source that can say something about one station is put next to the others, each with
the strength of what it says (``docs/methods`` vocabulary):

* **hard** — a fact about this station's paperwork or count: the observers' copy of the
  protocol differs from the published one; a protocol identity is violated; the official
  turnout exceeds the upper end of the camera interval among the false-discovery-controlled
  flags and even were the hidden camera windows the station's busiest (otherwise the camera
  flag is statistical).
* **testimony** — an observer's incident report (stronger when verified or with a photo).
* **statistical** — forensic signals (outliers, mixture posterior, above Shpilkin's peak):
  the station looks like stations where fraud happens; not proof about this station.
* **weak** — digit-like signals (whole-number percentages): arise without fraud too.

A source *agrees* with the others when it flags the station too, *disagrees* when it covers
the station and finds nothing wrong (e.g. the cameras counted as many voters as reported),
and is *silent* when it does not cover the station. The dossier never adds these up into a
verdict; :mod:`pollwatch.fusion.score` orders stations, this module explains one.

:mod:`pollwatch.fusion.evidence` reads each source into one frozen evidence object;
:func:`build_dossier` composes them, reading each into statements, and writes the summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

from pollwatch.fusion.evidence import (
    FRAUD_CATEGORIES,
    ArithmeticFinding,
    CameraEvent,
    CameraEvidence,
    CensusEvidence,
    ForensicEvidence,
    Mismatch,
    ObserverEvidence,
    ObserverReport,
    OfficialEvidence,
    ProtocolCopyEvidence,
    TurnoutCountEvidence,
    camera_evidence,
    census_evidence,
    copy_evidence,
    forensic_evidence,
    observer_evidence,
    official_evidence,
    sheets_of_station,
    turnout_evidence,
)
from pollwatch.i18n import N_, gettext, pgettext
from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary, fmt_int, jsonable

__all__ = [
    "FRAUD_CATEGORIES",
    "OPTIONAL_SOURCES",
    "SOURCES",
    "Statement",
    "StationDossier",
    "build_dossier",
    "direction_label",
    "strength_label",
    "station_dossier",
]

#: the sources a dossier reads, in the order it reads them
SOURCES = (
    N_("protocol arithmetic"),
    N_("forensics"),
    N_("observers' protocol copy"),
    N_("observers' reports"),
    N_("cameras"),
    N_("tally-sheet census"),
    N_("observers' turnout count"),
)
#: sources listed as silent only when the dossier was given them (a census or the observers'
#: counts) and they do not cover the station; never given, they are not named at all
OPTIONAL_SOURCES = ("tally-sheet census", "observers' turnout count")


def strength_label(code: str) -> str:
    """A :class:`Statement`'s ``strength`` in the current language (the code where unknown)."""
    labels = {
        "hard": pgettext("evidence strength", "hard"),
        "testimony": pgettext("evidence strength", "testimony"),
        "statistical": pgettext("evidence strength", "statistical"),
        "weak": pgettext("evidence strength", "weak"),
        "context": pgettext("evidence strength", "context"),
    }
    return labels.get(code, code)


def direction_label(code: str) -> str:
    """A :class:`Statement`'s ``direction`` in the current language (the code where unknown)."""
    labels = {
        "flags": pgettext("evidence reading", "flags"),
        "clear": pgettext("evidence reading", "clear"),
        "weak signal": pgettext("evidence reading", "weak signal"),
        "not compared": pgettext("evidence reading", "not compared"),
        "no data": pgettext("evidence reading", "no data"),
        "context": pgettext("evidence reading", "context"),
    }
    return labels.get(code, code)


def _code_words(code: str | None) -> str:
    """A code written inside a statement (an observer report's category and severity, a camera
    status or event) in words in the current language; an unknown code with its underscores
    as spaces (the English of every code here is exactly that)."""
    labels = {
        # observers' fraud reports (evidence.FRAUD_CATEGORIES)
        "ballot_stuffing": pgettext("incident category", "ballot stuffing"),
        "carousel": pgettext("incident category", "carousel"),
        "multiple_voting": pgettext("incident category", "multiple voting"),
        "counting_irregularities": pgettext("incident category", "counting irregularities"),
        "vote_buying": pgettext("incident category", "vote buying"),
        "coercion": pgettext("incident category", "coercion"),
        # their severity ("no": none given)
        "low": pgettext("incident severity", "low"),
        "medium": pgettext("incident severity", "medium"),
        "high": pgettext("incident severity", "high"),
        "critical": pgettext("incident severity", "critical"),
        "no": pgettext("incident severity", "no"),
        # camera statuses and events (cameras.data.STATUSES, EVENT_KINDS)
        "online": pgettext("camera status", "online"),
        "offline": pgettext("camera status", "offline"),
        "audio_muted": pgettext("camera status", "audio muted"),
        "turned_away": pgettext("camera status", "turned away"),
        "covered": pgettext("camera status", "covered"),
        "box_out_of_frame": pgettext("camera status", "box out of frame"),
        "frozen": pgettext("camera status", "frozen"),
        "black": pgettext("camera status", "black"),
        "stuffing_seen": pgettext("camera event", "stuffing seen"),
        "group_arrival": pgettext("camera event", "group arrival"),
        "angle_change": pgettext("camera event", "angle change"),
        "box_opened": pgettext("camera event", "box opened"),
        "staff_at_box": pgettext("camera event", "staff at box"),
        "camera_restarted": pgettext("camera event", "camera restarted"),
        "other": pgettext("camera event", "other"),
    }
    code = str(code)
    return labels.get(code, code.replace("_", " "))


@dataclass(frozen=True, slots=True)
class Statement:
    """One thing a source says about the station: its ``strength`` (hard, testimony,
    statistical, weak, context), its ``direction`` (flags, clear, weak signal, not compared,
    no data, context) and the ``text``."""

    source: str
    strength: str
    direction: str
    text: str

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "strength": self.strength,
            "direction": self.direction,
            "text": self.text,
        }


@dataclass(frozen=True)
class StationDossier(ResultMixin):
    """Everything known about one station, and a plain-language reading of it.

    One evidence object per source (``None`` where the source does not cover the station;
    :mod:`pollwatch.fusion.evidence`): ``official`` (the protocol and its arithmetic findings),
    ``forensic`` (rank, points and signals), ``protocol_copy`` (the observers' copies and every
    field where they differ from the official protocol), ``observers`` (checklists, incidents
    and protocol submissions, with media hashes) and ``camera`` (the camera estimate against the
    official turnout, the status log and events); ``evidence``: one :class:`Statement` per thing
    a source says; ``agree``/``disagree``/``silent``: sources flagging, clearing, or not
    covering the station. :meth:`to_dict` flattens them into the dossier's JSON (``official``,
    ``arithmetic``, ``forensic``, ``protocol_copy``, ``mismatches``, ``observer_reports``,
    ``camera``, ``camera_events``, ``evidence`` …). ``census``: the station's tally sheets
    against the official protocol; ``observed_turnout``: an observer's own count of the ballots
    against the protocol's (each ``None`` where there is none).
    """

    station_id: str
    levels: Mapping[str, str]
    official: OfficialEvidence | None
    forensic: ForensicEvidence | None
    protocol_copy: ProtocolCopyEvidence | None
    observers: ObserverEvidence | None
    camera: CameraEvidence | None
    evidence: tuple[Statement, ...]
    agree: tuple[str, ...]
    disagree: tuple[str, ...]
    silent: tuple[str, ...]
    text: str
    media_hashes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    census: CensusEvidence | None = None
    observed_turnout: TurnoutCountEvidence | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", MappingProxyType(dict(self.levels)))

    @property
    def arithmetic(self) -> tuple[ArithmeticFinding, ...]:
        return self.official.arithmetic if self.official is not None else ()

    @property
    def mismatches(self) -> tuple[Mismatch, ...]:
        return self.protocol_copy.mismatches if self.protocol_copy is not None else ()

    @property
    def observer_reports(self) -> tuple[ObserverReport, ...]:
        return self.observers.reports if self.observers is not None else ()

    @property
    def camera_events(self) -> tuple[CameraEvent, ...]:
        return self.camera.events if self.camera is not None else ()

    def summary(self) -> Summary:
        rows = [
            (f"{strength_label(e.strength)}: {gettext(e.source)}", e.text) for e in self.evidence
        ]
        title = gettext("Station {station}").format(station=self.station_id)
        return Summary(title, self.text, rows, self.notes)

    def to_dict(self) -> dict:
        copy = self.protocol_copy or ProtocolCopyEvidence()
        cam = self.camera or CameraEvidence()
        return jsonable(
            {
                "station_id": self.station_id,
                "levels": dict(self.levels),
                "official": self.official.to_dict() if self.official is not None else {},
                "arithmetic": [a.to_dict() for a in self.arithmetic],
                "forensic": self.forensic.to_dict() if self.forensic is not None else None,
                **copy.to_dict(),  # protocol_copy, mismatches
                "observer_reports": [r.to_dict() for r in self.observer_reports],
                **cam.to_dict(),  # camera, camera_events
                "evidence": [e.to_dict() for e in self.evidence],
                "agree": self.agree,
                "disagree": self.disagree,
                "silent": self.silent,
                "text": self.text,
                "media_hashes": self.media_hashes,
                "notes": self.notes,
                "census": self.census.to_dict() if self.census is not None else None,
                "observed_turnout": (
                    self.observed_turnout.to_dict() if self.observed_turnout is not None else None
                ),
            }
        )


def station_dossier(
    station_id: str,
    *,
    election: Election,
    analysis: Any = None,
    findings: Any = None,
    pvt: Any = None,
    copies: Any = None,
    cameras: Any = None,
    camera_status: pl.DataFrame | None = None,
    observer_reports: Iterable[Mapping[str, Any]] | None = None,
    forensic_threshold: float = 2.0,
    camera_estimate: Any = None,
    camera_events: pl.DataFrame | None = None,
    census: Any = None,
    census_sheets: Any = None,
    observed_turnout: Any = None,
    notes: Sequence[str] = (),
) -> StationDossier:
    """Assemble the dossier of ``station_id`` from whatever sources are given.

    ``analysis``: a :class:`pollwatch.forensics.run.Analysis` (or its stations table);
    ``findings``: :class:`pollwatch.validate.Findings` (default: ``analysis.findings``, else
    validated here); ``pvt``: a :class:`~pollwatch.quickcount.compare.PVTComparison`;
    ``copies``: :class:`~pollwatch.quickcount.copies.ProtocolCopies`; ``cameras``: a
    :class:`~pollwatch.cameras.compare.CameraComparison` (with ``camera_estimate``, the
    :class:`~pollwatch.cameras.estimate.CameraEstimate` it compares, the dossier also shows the
    lower end of the interval and the usable share of the day); ``camera_status``: the status log;
    ``camera_events``: timestamped camera events (stuffing seen, group arrivals, angle changes);
    ``observer_reports``: observers' submissions as plain dicts (any station; this station's are
    picked), with the keys ``station_id`` (the code), ``service_station_id``, ``submission_id``,
    ``kind``, ``form``, ``severity``, ``status``, ``quarantined``, ``description``,
    ``occurred_at``, ``answers``, ``flags``, ``channel`` and ``media`` (``sha256``,
    ``published_sha256``, ``content_type``), as
    :func:`pollwatch.service.sources.dossier.observer_reports_from_db` reads them from the
    service database. ``census_sheets``: the collected tally sheets
    (:class:`~pollwatch.census.sheets.Sheets`) with ``census``, their
    :class:`~pollwatch.census.check.CensusCheck` (its findings about the station);
    ``observed_turnout``: an :class:`~pollwatch.quickcount.turnout.ObservedTurnout` (without it,
    the observers' end-of-day counts among ``observer_reports`` are used). Each source is read
    by its function in :mod:`pollwatch.fusion.evidence`. Raises ``KeyError`` for a station not
    in the election.
    """
    sid = str(station_id)
    if findings is None:
        findings = getattr(analysis, "findings", None)
    official = official_evidence(election, sid, findings)
    if official is None:
        raise KeyError(f"station {sid!r} is not in the election")
    i = int(np.flatnonzero(np.asarray(election.station_ids).astype(str) == sid)[0])
    observers = observer_evidence(observer_reports, sid)
    names = {c.id: c.name for c in election.candidates}
    sheets = sheets_of_station(census_sheets, sid, names) if census_sheets is not None else []
    census_ev = (
        census_evidence(
            sid, sheets, official=official, findings=getattr(census, "findings", ()) or ()
        )
        if census_sheets is not None or census is not None
        else None
    )
    return build_dossier(
        sid,
        levels={lv: str(election.level(lv)[i]) for lv in election.meta.hierarchy},
        official=official,
        forensic=forensic_evidence(analysis, sid),
        protocol_copy=copy_evidence(
            sid, election=election, official=official, pvt=pvt, copies=copies, observers=observers
        ),
        observers=observers,
        camera=camera_evidence(
            cameras, sid, estimate=camera_estimate, status=camera_status, events=camera_events
        ),
        census=census_ev,
        observed_turnout=turnout_evidence(
            sid, official=official, observers=observers, observed=observed_turnout
        ),
        census_given=census_sheets is not None or census is not None,
        forensic_threshold=forensic_threshold,
        notes=notes,
    )


def build_dossier(
    station_id: str,
    *,
    levels: Mapping[str, str] | None = None,
    official: OfficialEvidence | None = None,
    forensic: ForensicEvidence | None = None,
    protocol_copy: ProtocolCopyEvidence | None = None,
    observers: ObserverEvidence | None = None,
    camera: CameraEvidence | None = None,
    census: CensusEvidence | None = None,
    observed_turnout: TurnoutCountEvidence | None = None,
    census_given: bool = False,
    forensic_threshold: float = 2.0,
    notes: Sequence[str] = (),
) -> StationDossier:
    """Compose a dossier from one evidence object per source (what :func:`station_dossier`
    reads, or what the service holds) and write its statements and summary. A station with
    forensic points of at least ``forensic_threshold`` and a statistical signal is flagged by
    the forensics. ``census_given``: a census was run, so a station without a sheet is listed
    as not covered by it (the :data:`OPTIONAL_SOURCES` are otherwise named only where they
    say something)."""
    if not (forensic_threshold >= 0):
        raise ValueError(f"forensic_threshold ({forensic_threshold}) must be >= 0")
    sid = str(station_id)
    readings = (
        _read_arithmetic(official),
        _read_forensics(forensic, forensic_threshold),
        _read_copy(protocol_copy),
        _read_observers(observers),
        _read_cameras(camera),
        _read_census(census, census_given),
        _read_turnout(observed_turnout),
    )
    said: list[Statement] = []
    stance: dict[str, list[str]] = {"agree": [], "disagree": [], "silent": []}
    for source, (statements, where) in zip(SOURCES, readings, strict=True):
        said += statements
        if where is not None:
            stance[where].append(source)
    return StationDossier(
        sid,
        dict(levels or {}),
        official,
        forensic,
        protocol_copy,
        observers,
        camera,
        tuple(said),
        tuple(stance["agree"]),
        tuple(stance["disagree"]),
        tuple(stance["silent"]),
        _plain(sid, said, stance["agree"], stance["disagree"], stance["silent"]),
        observers.media_hashes if observers is not None else (),
        tuple(notes),
        census,
        observed_turnout,
    )


# -- the reading: one source's statements and whether it agrees, disagrees or is silent ---------
Reading = tuple[list[Statement], str | None]


def _read_arithmetic(official: OfficialEvidence | None) -> Reading:
    """Only meaningful when the official protocol is known."""
    src = "protocol arithmetic"
    if official is not None and official.arithmetic:
        rules = ", ".join(sorted({str(a.rule) for a in official.arithmetic}))
        text = gettext("the official protocol violates {rules}").format(rules=rules)
        return [Statement(src, "hard", "flags", text)], "agree"
    if official is not None and official.known:
        text = gettext("the official protocol adds up")
        return [Statement(src, "hard", "clear", text)], "disagree"
    return [], "silent"


def _read_forensics(f: ForensicEvidence | None, threshold: float) -> Reading:
    """Flags when the points reach ``threshold`` with a statistical signal; neither flags nor
    clears with a statistical signal below it."""
    src = "forensics"
    if f is None:
        return [], "silent"
    stat, weak, pts = f.statistical, f.weak, f.points or 0.0
    where = (
        gettext("rank {rank} of {n}, {points} points").format(
            rank=f"{f.rank:,}", n=f"{f.n_stations:,}", points=f"{pts:.2f}"
        )
        if f.rank
        else gettext("{points} points").format(points=f"{pts:.2f}")
    )
    out = []
    if stat:
        direction = "flags" if pts >= threshold else "weak signal"
        out.append(Statement(src, "statistical", direction, f"{f.words(stat)} ({where})"))
    if weak:
        text = gettext("{signals} (digit-like: arises without fraud too)").format(
            signals=f.words(weak)
        )
        out.append(Statement(src, "weak", "weak signal", text))
    if pts >= threshold and stat:
        return out, "agree"
    if not f.signals:
        out.append(
            Statement(
                src,
                "statistical",
                "clear",
                gettext("no forensic signal ({where})").format(where=where),
            )
        )
        return out, "disagree"
    return out, (None if stat else "silent")


def _read_copy(c: ProtocolCopyEvidence | None) -> Reading:
    src = "observers' protocol copy"
    if c is None:
        return [], "silent"
    if c.mismatches:
        parts = ", ".join(
            gettext("{field} copy {copy} vs official {official}").format(
                field=m.field, copy=fmt_int(m.copy), official=fmt_int(m.official)
            )
            for m in c.mismatches[:6]
        )
        text = gettext(
            "the official protocol differs from the copy made at the station: {parts}"
        ).format(parts=parts)
        return [Statement(src, "hard", "flags", text)], "agree"
    if not c.compared:
        text = gettext(
            "the observers' copy is on file; the official protocol is not loaded here, "
            "so it is not compared"
        )
        return [Statement(src, "hard", "not compared", text)], "silent"
    text = gettext(
        "the observers' copy matches the official protocol (this cannot reveal ballots stuffed "
        "before the count: they are in both)"
    )
    return [Statement(src, "hard", "clear", text)], "disagree"


def _read_observers(o: ObserverEvidence | None) -> Reading:
    src = "observers' reports"
    if o is None:
        return [], "silent"
    if o.fraud:
        out = []
        for r in o.fraud:
            backing = (gettext(" with a photo") if r.media else "") + (
                gettext(", verified") if r.status == "verified" else ""
            )
            text = gettext("{form} reported ({severity} severity{backing})").format(
                form=_code_words(r.form),
                severity=_code_words(r.severity or "no"),
                backing=backing,
            ) + (f": {r.description}" if r.description else "")
            out.append(Statement(src, "testimony", "flags", text))
        return out, "agree"
    if o.incidents or o.checklists:
        flagged = [f for r in o.checklists for f in r.flags]
        text = gettext(
            "{checklists} checklist(s), {incidents} other incident(s); no stuffing, carousel or "
            "counting irregularity reported"
        ).format(checklists=len(o.checklists), incidents=len(o.incidents))
        if flagged:
            text += gettext("; checklist flags: {flags}").format(
                flags=", ".join(str(f.get("rule")) for f in flagged[:5])
            )
        return [Statement(src, "testimony", "clear", text)], "disagree"
    return [], "silent"


def _read_cameras(cam: CameraEvidence | None) -> Reading:
    """The count flags or clears; stuffing seen on camera flags whatever the count says."""
    src = "cameras"
    if cam is None:
        return [], "silent"
    out: list[Statement] = []
    where: str | None = "silent"
    c = cam.count
    if c is not None and c.estimate is not None and c.official is not None:
        lvl = round(100 * c.level)
        interval = (
            gettext(", {level} % interval {low}–{high}").format(
                level=lvl, low=fmt_int(c.low95), high=fmt_int(c.high95)
            )
            if c.low95 is not None
            else ""
        )
        if c.coverage is not None:
            interval += gettext(", {pct} % of the day watched").format(
                pct=f"{100 * c.coverage:.0f}"
            )
        if c.bound and c.flagged:
            text = gettext(
                "official figure {official} is below the camera's {level} % lower bound {low} "
                "(camera estimate {estimate}{interval}): fewer ballots than voters seen on camera"
            ).format(
                official=fmt_int(c.official),
                level=lvl,
                low=fmt_int(c.low95),
                estimate=fmt_int(c.estimate),
                interval=interval,
            )
            out.append(Statement(src, "statistical" if c.hard is False else "hard", "flags", text))
            where = "agree"
        elif c.bound:
            # the official lines include the mobile box or early voters: cannot clear the station
            text = gettext(
                "official figure {official} includes ballots a camera cannot see (mobile box, "
                "early voters); camera estimate {estimate}{interval}: a one-sided bound that "
                "neither flags nor clears inflation"
            ).format(official=fmt_int(c.official), estimate=fmt_int(c.estimate), interval=interval)
            out.append(Statement(src, "context", "context", text))
            where = None  # covered, but it neither agrees nor disagrees
        elif c.flagged:
            text = gettext(
                "official turnout {official} is above the camera's {level} % upper bound {high} "
                "(camera estimate {estimate}{interval}; at least {excess} ballots not seen on "
                "camera)"
            ).format(
                official=fmt_int(c.official),
                level=lvl,
                high=fmt_int(c.high95),
                estimate=fmt_int(c.estimate),
                interval=interval,
                excess=fmt_int(c.excess),
            )
            # hard only if the flag survives the FDR control and the hidden-window bound
            if c.hard is False:
                text += gettext(
                    "; not hard evidence: the flag does not survive the false-discovery "
                    "control or the hidden windows being the station's busiest"
                )
            out.append(Statement(src, "statistical" if c.hard is False else "hard", "flags", text))
            where = "agree"
        else:
            text = gettext(
                "official turnout {official} is within the camera count (estimate {estimate}, "
                "upper bound {high}{interval})"
            ).format(
                official=fmt_int(c.official),
                estimate=fmt_int(c.estimate),
                high=fmt_int(c.high95),
                interval=interval,
            )
            out.append(Statement(src, "hard", "clear", text))
            where = "disagree"
    elif c is not None:
        text = (
            gettext(
                "camera coverage too short for an estimate ({pct} % of the day usable: "
                "insufficient coverage, not zero voters)"
            ).format(pct=f"{100 * c.coverage:.0f}")
            if c.coverage is not None
            else gettext("camera coverage too short for an estimate")
        )
        out.append(Statement(src, "context", "no data", text))
    if seen := cam.stuffing_seen:
        text = gettext("ballot stuffing seen on camera at {times}").format(
            times=", ".join(e.time + (f" ({e.note})" if e.note else "") for e in seen[:6])
        )
        out.append(Statement(src, "testimony", "flags", text))
        where = "agree"
    if other := cam.other_events:
        text = gettext("camera events: {events}").format(
            events=", ".join(
                gettext("{event} at {time}").format(event=_code_words(e.event), time=e.time)
                for e in other[:6]
            )
        )
        out.append(Statement(src, "context", "context", text))
    if outages := cam.outages:
        text = gettext(
            "camera status: {events} (outage windows are missing data, not zero voters)"
        ).format(
            events=", ".join(
                gettext("{event} at {time}").format(event=_code_words(e.status), time=e.time)
                for e in outages[:6]
            )
        )
        out.append(Statement(src, "context", "context", text))
    return out, where


#: census finding kinds in words (the report's glossary names them the same way)
_CENSUS_WORDS = {
    "conflict": N_(
        "two different sets of numbers were filed for this station; neither is counted until "
        "someone settles it from the photos"
    ),
    "arithmetic": N_("the sheet itself does not add up"),
    "incomplete": N_("a vote cell of the sheet is blank"),
    "duplicate": N_("the same sheet was filed more than once (one copy counted)"),
    "unknown_station": N_("the sheet names a station the official file does not have"),
    "photo": N_("the sheet's photo was also filed for another station"),
    "sheet_id_reused": N_(
        "the sheet's id also appears on a sheet of another station (none of them counted)"
    ),
}


def _read_census(c: CensusEvidence | None, given: bool) -> Reading:
    """A signed sheet that differs from the official table flags (hard: the photo is the
    evidence); a sheet that matches clears the tabulation, never the count itself."""
    src = "tally-sheet census"
    if c is None:
        return [], ("silent" if given else None)
    out: list[Statement] = []
    photos = len(c.photos)
    backing = (
        (
            gettext(" ({n} photo on file)") if photos == 1 else gettext(" ({n} photos on file)")
        ).format(n=photos)
        if photos
        else ""
    )
    # one hard statement per kind of difference, each listing up to six lines or candidates
    for kind, sentence in (
        (
            "sheet_above_official",
            N_(
                "the official table gives fewer votes than the protocol signed at the "
                "station{backing}: {parts}"
            ),
        ),
        (
            "official_above_sheet",
            N_(
                "the official table gives more than the protocol signed at the station{backing}: {parts}"
            ),
        ),
        (
            "line_differs",
            N_(
                "protocol lines of the official table differ from the protocol signed at the "
                "station{backing}: {parts}"
            ),
        ),
    ):
        found = [d for d in c.differences if d.kind == kind]
        if not found:
            continue
        parts = ", ".join(
            gettext("{field} sheet {sheet} vs official {official}").format(
                field=d.field, sheet=fmt_int(d.sheet), official=fmt_int(d.official)
            )
            for d in found[:6]
        )
        text = gettext(sentence).format(backing=backing, parts=parts)
        out.append(Statement(src, "hard", "flags", text))
    for f in c.findings:
        kind = str(f.get("kind"))
        text = gettext(_CENSUS_WORDS[kind]) if kind in _CENSUS_WORDS else kind.replace("_", " ")
        detail = str(f.get("detail") or "")
        out.append(Statement(src, "context", "context", text + (f" ({detail})" if detail else "")))
    if c.differences:
        return out, "agree"
    if not c.sheets:
        return out, "silent"
    if not c.compared:
        text = gettext(
            "the tally sheet is on file; the official protocol is not loaded here, so it is not "
            "compared"
        )
        return [*out, Statement(src, "hard", "not compared", text)], "silent"
    text = gettext(
        "the accepted tally sheet matches the official figures{backing} (this cannot reveal "
        "ballots stuffed before the count: they are on the sheet too)"
    ).format(backing=backing)
    return [*out, Statement(src, "hard", "clear", text)], "disagree"


def _read_turnout(t: TurnoutCountEvidence | None) -> Reading:
    """An observer's count of the ballots: testimony, not a camera; beyond the tolerance it
    flags, within it it clears."""
    src = "observers' turnout count"
    if t is None:
        return [], None
    tol = gettext("tolerance {n} ballots").format(n=f"{t.tolerance:.0f}")
    what = gettext("an observer's own count, not a camera")
    if t.gap is None:
        text = gettext(
            "an observer counted {observed} ballots in the boxes ({source}); the protocol's "
            "ballots are not known here, so it is not compared"
        ).format(observed=fmt_int(t.observed), source=t.source)
        return [Statement(src, "testimony", "not compared", text)], "silent"
    if t.flagged and t.gap > 0:
        text = gettext(
            "the protocol has {protocol} ballots in the boxes, {gap} more than the {observed} an "
            "observer counted ({tolerance}; {what}; {source})"
        ).format(
            protocol=fmt_int(t.protocol),
            gap=fmt_int(t.gap),
            observed=fmt_int(t.observed),
            tolerance=tol,
            what=what,
            source=t.source,
        )
        return [Statement(src, "testimony", "flags", text)], "agree"
    if t.flagged:
        text = gettext(
            "the protocol has {protocol} ballots in the boxes, {gap} fewer than the {observed} "
            "an observer counted ({tolerance}; {what}; {source})"
        ).format(
            protocol=fmt_int(t.protocol),
            gap=fmt_int(-t.gap),
            observed=fmt_int(t.observed),
            tolerance=tol,
            what=what,
            source=t.source,
        )
        return [Statement(src, "testimony", "flags", text)], "agree"
    text = gettext(
        "the protocol's {protocol} ballots in the boxes are within the tolerance of the "
        "{observed} an observer counted (gap {gap}; {tolerance}; {what})"
    ).format(
        protocol=fmt_int(t.protocol),
        observed=fmt_int(t.observed),
        gap=f"{t.gap:+d}",
        tolerance=tol,
        what=what,
    )
    return [Statement(src, "testimony", "clear", text)], "disagree"


def _plain(
    sid: str, ev: Sequence[Statement], agree: list[str], disagree: list[str], silent: list[str]
) -> str:
    hard = sorted({e.source for e in ev if e.strength == "hard" and e.direction == "flags"})
    stat = any(e.strength == "statistical" and e.direction == "flags" for e in ev)
    weak = any(e.strength == "weak" for e in ev)
    said = []
    if hard:
        said.append(
            gettext("Hard evidence against station {sid}'s result comes from {sources}.").format(
                sid=sid, sources=_join(hard)
            )
        )
    if "observers' reports" in agree:
        said.append(gettext("Observers reported fraud there (testimony)."))
    if stat:
        said.append(
            gettext(
                "The forensic signals put it among the suspicious stations (statistical, not "
                "proof about this station)."
            )
        )
    if weak and not (hard or stat):
        said.append(gettext("Only digit-like signals fire (weak: they also arise without fraud)."))
    if not agree:
        said.append(gettext("No source flags station {sid}.").format(sid=sid))
    if agree and disagree:
        lead = _join(agree)
        lead = lead[0].upper() + lead[1:]
        if "cameras" in disagree and "forensics" in agree:
            msg = (
                gettext(
                    "{sources} points at it; nothing wrong according to {others} — the cameras' "
                    "count of voters disagrees with the flags."
                )
                if len(agree) == 1
                else gettext(
                    "{sources} point at it; nothing wrong according to {others} — the cameras' "
                    "count of voters disagrees with the flags."
                )
            )
        else:
            msg = (
                gettext("{sources} points at it; nothing wrong according to {others}.")
                if len(agree) == 1
                else gettext("{sources} point at it; nothing wrong according to {others}.")
            )
        said.append(msg.format(sources=lead, others=_join(disagree)))
    elif len(agree) > 1:
        said.append(
            gettext("{n} independent sources agree: {sources}.").format(
                n=len(agree), sources=_join(agree)
            )
        )
    elif disagree:
        said.append(
            gettext("Checked and found consistent: {sources}.").format(sources=_join(disagree))
        )
    if silent:
        said.append(gettext("Not covered: {sources}.").format(sources=_join(silent)))
    return " ".join(said)


def _join(items: Sequence[str]) -> str:
    """Source names (English keys) in the current language, as a list in words."""
    items = [gettext(i) for i in items]
    if len(items) == 1:
        return items[0]
    return gettext("{items} and {last}").format(items=", ".join(items[:-1]), last=items[-1])
