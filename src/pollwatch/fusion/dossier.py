"""One evidence view per station: :func:`station_dossier` and :class:`StationDossier`.

Every source that can say something about one station is put next to the others, each with
the strength of what it says (``docs/methods`` vocabulary):

* **hard** — a fact about this station's paperwork or count: the observers' copy of the
  protocol differs from the published one; a protocol identity is violated; the official
  turnout exceeds the upper end of the camera interval.
* **testimony** — an observer's incident report (stronger when verified or with a photo).
* **statistical** — forensic signals (outliers, mixture posterior, above Shpilkin's peak):
  the station looks like stations where fraud happens; not proof about this station.
* **weak** — digit-like signals (whole-number percentages): arise without fraud too.

A source *agrees* with the others when it flags the station too, *disagrees* when it covers
the station and finds nothing wrong (e.g. the cameras counted as many voters as reported),
and is *silent* when it does not cover the station. The dossier never adds these up into a
verdict; :mod:`pollwatch.fusion.score` orders stations, this module explains one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from pollwatch.model import Election
from pollwatch.results import ResultMixin, Summary, fmt_int, jsonable

__all__ = [
    "FRAUD_CATEGORIES",
    "StationDossier",
    "build_dossier",
    "station_dossier",
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
_SIGNAL_WORDS = {
    "arithmetic": "protocol arithmetic violated",
    "extreme": "turnout and leader share both above 95 %",
    "turnout_outlier": "turnout far above its constituency",
    "share_outlier": "leader share far above its constituency",
    "mixture": "likely in the fraud class of the mixture model",
    "above_peak": "turnout above the natural (Shpilkin) peak",
    "carousel": "away-voter share outlier (carousel pattern)",
    "mobile_box": "mobile-box share outlier",
    "integer": "whole-number percentage",
}
_SOURCES = (
    "protocol arithmetic",
    "forensics",
    "observers' protocol copy",
    "observers' reports",
    "cameras",
)


@dataclass(frozen=True)
class StationDossier(ResultMixin):
    """Everything known about one station, and a plain-language reading of it.

    ``official``: protocol fields and votes by candidate name (``None`` where unknown);
    ``arithmetic``: violated protocol rules; ``forensic``: rank, points, signals and their
    values (``None`` without an analysis); ``protocol_copy``/``mismatches``: the observers' copy
    and every field where it differs from the official protocol; ``observer_reports``:
    checklists, incidents and protocol submissions (with media hashes); ``camera``: the camera
    estimate against official turnout; ``camera_events``: the camera-status log;
    ``evidence``: one row per statement ``{source, strength, direction, text}``;
    ``agree``/``disagree``/``silent``: sources flagging, clearing, or not covering the station.
    """

    station_id: str
    levels: dict[str, str]
    official: dict[str, Any]
    arithmetic: tuple[dict, ...]
    forensic: dict | None
    protocol_copy: dict | None
    mismatches: tuple[dict, ...]
    observer_reports: tuple[dict, ...]
    camera: dict | None
    camera_events: tuple[dict, ...]
    evidence: tuple[dict, ...]
    agree: tuple[str, ...]
    disagree: tuple[str, ...]
    silent: tuple[str, ...]
    text: str
    media_hashes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self) -> Summary:
        rows = [(f"{e['strength']}: {e['source']}", e["text"]) for e in self.evidence]
        return Summary(f"Station {self.station_id}", self.text, rows, self.notes)

    def to_dict(self) -> dict:
        out = super().to_dict()
        return jsonable(out)


# -- extraction from the library's result objects -----------------------------------------------
def _official(e: Election, i: int) -> dict[str, Any]:
    from pollwatch.model.fields import field_names

    row = e.table.row(i, named=True)
    out: dict[str, Any] = {}
    for name in field_names():
        if name in row and row[name] is not None:
            out[name] = int(row[name])
    out["votes"] = {
        c.name: (None if row.get(c.id) is None else int(row[c.id])) for c in e.candidates
    }
    cast = e.ballots_cast()[i]
    reg = out.get("registered", 0)
    out["turnout"] = float(cast / reg) if reg else None
    valid = out.get("valid", 0)
    lead = e.leader
    out["leader"] = lead.name
    out["leader_share"] = (
        float(out["votes"][lead.name] / valid)
        if valid and out["votes"][lead.name] is not None
        else None
    )
    return out


def _forensic_row(table: pl.DataFrame, sid: str) -> dict | None:
    hit = table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
    if hit.height == 0:
        return None
    r = hit.row(0, named=True)
    known = [s for s in (*_SIGNAL_WORDS,) if s in r]
    fired = [s for s in known if _truthy(r[s])]
    values = {
        k: _num(r[k])
        for k in ("turnout", "leader_share", "turnout_z", "share_z", "mixture_posterior")
        if k in r
    }
    return {
        "rank": int(r["rank"]) if r.get("rank") is not None else None,
        "points": _num(r.get("points")),
        "n_stations": table.height,
        "signals": fired,
        "signals_checked": known,
        "values": values,
    }


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


def _scores_table(analysis: Any) -> pl.DataFrame | None:
    if analysis is None:
        return None
    if isinstance(analysis, pl.DataFrame):
        return analysis
    scores = getattr(analysis, "scores", None)
    if scores is not None:
        return getattr(scores, "table", scores)
    return getattr(analysis, "table", None)


def _copy_row(copies: Any, sid: str, e: Election) -> dict | None:
    if copies is None:
        return None
    t = copies.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
    if t.height == 0:
        return None
    names = {c.id: c.name for c in e.candidates}
    row = t.row(0, named=True)
    out = {k: v for k, v in row.items() if k != "station_id" and k not in names and v is not None}
    out["votes"] = {names.get(k, k): v for k, v in row.items() if k in names}
    return out


def _mismatches(sid: str, pvt: Any, copies: Any, e: Election) -> list[dict]:
    if pvt is not None:
        mm = pvt.protocols.mismatches
    elif copies is not None:
        from pollwatch.quickcount.compare import match_protocols
        from pollwatch.quickcount.copies import ProtocolCopies

        sub = copies.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        if sub.height == 0:
            return []
        mm = match_protocols(
            ProtocolCopies(sub, copies.fields, copies.candidates, copies.source), e
        ).mismatches
    else:
        return []
    return [
        {"field": m.field, "copy": m.copy, "official": m.official, "source": "protocol copies file"}
        for m in mm
        if m.station_id == sid
    ]


def _db_copy_mismatches(reports: Sequence[dict], official: Mapping[str, Any]) -> list[dict]:
    """Protocol copies filed in the service, field by field against the official protocol."""
    out = []
    votes = official.get("votes") or {}
    for r in reports:
        if r.get("kind") != "protocol" or r.get("status") == "rejected":
            continue
        ans = r.get("answers") or {}
        for k, v in (ans.get("numbers") or {}).items():
            if k in official and official[k] is not None and int(v) != int(official[k]):
                out.append(
                    {
                        "field": k,
                        "copy": int(v),
                        "official": int(official[k]),
                        "source": f"service submission {r.get('submission_id')}",
                    }
                )
        for k, v in (ans.get("votes") or {}).items():
            name = official.get("candidate_names", {}).get(k, k)
            if name in votes and votes[name] is not None and int(v) != int(votes[name]):
                out.append(
                    {
                        "field": name,
                        "copy": int(v),
                        "official": int(votes[name]),
                        "source": f"service submission {r.get('submission_id')}",
                    }
                )
    return out


def _camera(cameras: Any, sid: str, estimate: Any = None) -> dict | None:
    """The comparison's row of ``sid``; with the :class:`CameraEstimate` also the whole interval,
    the usable share of the day, the voters counted and the estimate's status."""
    if cameras is None:
        return None
    ids = np.asarray(cameras.station_id).astype(str)
    hit = np.flatnonzero(ids == sid)
    if not hit.size:
        return None
    i = int(hit[0])
    out = {
        "official": _num(cameras.official[i]),
        "estimate": _num(cameras.estimate[i]),
        "high95": _num(cameras.high[i]),
        "flagged": bool(cameras.flagged[i]),
        "inflation": _num(cameras.inflation[i]),
        "ratio": _num(cameras.ratio[i]),
        "excess": _num(cameras.excess[i]),
        "level": float(cameras.level),
    }
    if estimate is not None:
        j = np.flatnonzero(np.asarray(estimate.station_id).astype(str) == sid)
        if j.size:
            k = int(j[0])
            out.update(
                low95=_num(estimate.low[k]),
                coverage=_num(estimate.coverage[k]),
                counted=_num(estimate.counted[k]),
                usable_windows=int(estimate.n_usable[k]),
                windows=int(estimate.n_windows),
                status=str(estimate.status[k]),
            )
    return out


def _camera_events(
    status: pl.DataFrame | None, sid: str, events: pl.DataFrame | None = None
) -> list[dict]:
    """The station's camera-status log (``{time, status}``) and events (``{time, event, note}``)
    in time order."""
    from pollwatch.cameras.data import format_time

    out: list[tuple[float, int, dict]] = []
    if status is not None and status.height:
        rows = status.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        out += [
            (float(t), 0, {"time": format_time(float(t)), "status": s})
            for t, s in zip(rows["time"].to_list(), rows["status"].to_list(), strict=True)
        ]
    if events is not None and events.height:
        rows = events.filter(pl.col("station_id").cast(pl.Utf8) == sid)
        out += [
            (float(t), 1, {"time": format_time(float(t)), "event": e, "note": n})
            for t, e, n in zip(
                rows["time"].to_list(), rows["event"].to_list(), rows["note"].to_list(), strict=True
            )
        ]
    return [d for _, _, d in sorted(out, key=lambda x: (x[0], x[1]))]


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
    observer_reports: Iterable[dict] | None = None,
    forensic_threshold: float = 2.0,
    camera_estimate: Any = None,
    camera_events: pl.DataFrame | None = None,
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
    service database. Raises ``KeyError`` for a station not in the election.
    """
    sid = str(station_id)
    ids = np.asarray(election.station_ids).astype(str)
    hit = np.flatnonzero(ids == sid)
    if not hit.size:
        raise KeyError(f"station {sid!r} is not in the election")
    i = int(hit[0])
    levels = {lv: str(election.level(lv)[i]) for lv in election.meta.hierarchy}
    official = _official(election, i)
    if findings is None:
        findings = getattr(analysis, "findings", None)
    if findings is None:
        from pollwatch.validate import validate

        findings = validate(election.subset(ids == sid))
    ft = findings.table.filter(pl.col("station_id").cast(pl.Utf8) == sid)
    arithmetic = [
        {k: r.get(k) for k in ("rule", "fields", "expected", "found", "difference", "message")}
        for r in ft.iter_rows(named=True)
    ]
    table = _scores_table(analysis)
    forensic = _forensic_row(table, sid) if table is not None else None
    reports = [r for r in (observer_reports or ()) if str(r.get("station_id")) == sid]
    mism = _mismatches(sid, pvt, copies, election)
    names = {c.id: c.name for c in election.candidates}
    mism += _db_copy_mismatches(reports, {**official, "candidate_names": names})
    return build_dossier(
        sid,
        levels=levels,
        official=official,
        arithmetic=arithmetic,
        forensic=forensic,
        protocol_copy=_copy_row(copies, sid, election),
        mismatches=mism,
        observer_reports=reports,
        camera=_camera(cameras, sid, camera_estimate),
        camera_events=_camera_events(camera_status, sid, camera_events),
        forensic_threshold=forensic_threshold,
        notes=notes,
    )


# -- the reading --------------------------------------------------------------------------------
def build_dossier(
    station_id: str,
    *,
    levels: Mapping[str, str] | None = None,
    official: Mapping[str, Any] | None = None,
    arithmetic: Sequence[dict] = (),
    forensic: dict | None = None,
    protocol_copy: dict | None = None,
    mismatches: Sequence[dict] = (),
    observer_reports: Sequence[dict] = (),
    camera: dict | None = None,
    camera_events: Sequence[dict] = (),
    forensic_threshold: float = 2.0,
    official_protocol_known: bool = True,
    notes: Sequence[str] = (),
) -> StationDossier:
    """Build a dossier from plain parts (what :func:`station_dossier` extracts, or what the
    service holds) and write its evidence rows and summary. ``official_protocol_known=False``
    (the service holds only the station list): copies are shown but not compared."""
    if not (forensic_threshold >= 0):
        raise ValueError(f"forensic_threshold ({forensic_threshold}) must be >= 0")
    sid = str(station_id)
    ev: list[dict] = []
    agree: list[str] = []
    disagree: list[str] = []
    silent: list[str] = []
    notes = list(notes)

    def add(source: str, strength: str, direction: str, text: str) -> None:
        ev.append({"source": source, "strength": strength, "direction": direction, "text": text})

    # protocol arithmetic: only meaningful when the official protocol is known
    if arithmetic:
        rules = ", ".join(sorted({str(a["rule"]) for a in arithmetic}))
        add("protocol arithmetic", "hard", "flags", f"the official protocol violates {rules}")
        agree.append("protocol arithmetic")
    elif official and "valid" in official:
        add("protocol arithmetic", "hard", "clear", "the official protocol adds up")
        disagree.append("protocol arithmetic")
    else:
        silent.append("protocol arithmetic")

    if forensic is not None:
        sig = forensic.get("signals") or []
        stat = [s for s in sig if s in STATISTICAL_SIGNALS]
        weak = [s for s in sig if s in WEAK_SIGNALS]
        pts = forensic.get("points") or 0.0
        rank = forensic.get("rank")
        where = (
            f"rank {rank:,} of {forensic.get('n_stations', 0):,}, {pts:.2f} points"
            if rank
            else f"{pts:.2f} points"
        )
        if stat:
            add(
                "forensics",
                "statistical",
                "flags" if pts >= forensic_threshold else "weak signal",
                f"{'; '.join(_SIGNAL_WORDS[s] for s in stat)} ({where})",
            )
        if weak:
            add(
                "forensics",
                "weak",
                "weak signal",
                f"{'; '.join(_SIGNAL_WORDS[s] for s in weak)} (digit-like: "
                "arises without fraud too)",
            )
        if pts >= forensic_threshold and stat:
            agree.append("forensics")
        elif not sig:
            add("forensics", "statistical", "clear", f"no forensic signal ({where})")
            disagree.append("forensics")
        elif not stat:
            silent.append("forensics")
    else:
        silent.append("forensics")

    if mismatches:
        parts = ", ".join(
            f"{m['field']} copy {fmt_int(m['copy'])} vs official {fmt_int(m['official'])}"
            for m in mismatches[:6]
        )
        add(
            "observers' protocol copy",
            "hard",
            "flags",
            f"the official protocol differs from the copy made at the station: {parts}",
        )
        agree.append("observers' protocol copy")
    elif not official_protocol_known and any(r.get("kind") == "protocol" for r in observer_reports):
        add(
            "observers' protocol copy",
            "hard",
            "not compared",
            "the observers' copy is on file; the official protocol is not loaded here, so it is not compared",
        )
        silent.append("observers' protocol copy")
    elif protocol_copy is not None or any(r.get("kind") == "protocol" for r in observer_reports):
        add(
            "observers' protocol copy",
            "hard",
            "clear",
            "the observers' copy matches the official protocol (this cannot reveal ballots stuffed before the "
            "count: they are in both)",
        )
        disagree.append("observers' protocol copy")
    else:
        silent.append("observers' protocol copy")

    incidents = [
        r for r in observer_reports if r.get("kind") == "incident" and r.get("status") != "rejected"
    ]
    checklists = [r for r in observer_reports if r.get("kind") == "checklist"]
    fraud = [r for r in incidents if r.get("form") in FRAUD_CATEGORIES]
    if fraud:
        for r in fraud:
            media = r.get("media") or []
            backing = (" with a photo" if media else "") + (
                ", verified" if r.get("status") == "verified" else ""
            )
            add(
                "observers' reports",
                "testimony",
                "flags",
                f"{str(r.get('form')).replace('_', ' ')} reported ({r.get('severity') or 'no'} severity{backing})"
                + (f": {r['description']}" if r.get("description") else ""),
            )
        agree.append("observers' reports")
    elif incidents or checklists:
        flagged = [f for r in checklists for f in (r.get("flags") or [])]
        text = (
            f"{len(checklists)} checklist(s), {len(incidents)} other incident(s); no stuffing, carousel or "
            "counting irregularity reported"
        )
        if flagged:
            text += f"; checklist flags: {', '.join(str(f.get('rule')) for f in flagged[:5])}"
        add("observers' reports", "testimony", "clear", text)
        disagree.append("observers' reports")
    else:
        silent.append("observers' reports")

    if (
        camera is not None
        and camera.get("estimate") is not None
        and camera.get("official") is not None
    ):
        lvl = round(100 * camera.get("level", 0.95))
        interval = (
            f", {lvl} % interval {fmt_int(camera['low95'])}–{fmt_int(camera['high95'])}"
            if camera.get("low95") is not None
            else ""
        )
        if camera.get("coverage") is not None:
            interval += f", {100 * camera['coverage']:.0f} % of the day watched"
        if camera.get("flagged"):
            add(
                "cameras",
                "hard",
                "flags",
                f"official turnout {fmt_int(camera['official'])} is above the camera's {lvl} % upper bound "
                f"{fmt_int(camera['high95'])} (camera estimate {fmt_int(camera['estimate'])}{interval}; at least "
                f"{fmt_int(camera['excess'])} ballots not seen on camera)",
            )
            agree.append("cameras")
        else:
            add(
                "cameras",
                "hard",
                "clear",
                f"official turnout {fmt_int(camera['official'])} is within the camera count "
                f"(estimate {fmt_int(camera['estimate'])}, upper bound {fmt_int(camera['high95'])}{interval})",
            )
            disagree.append("cameras")
    elif camera is not None:
        cov = camera.get("coverage")
        add(
            "cameras",
            "context",
            "no data",
            "camera coverage too short for an estimate"
            + (
                f" ({100 * cov:.0f} % of the day usable: insufficient coverage, not zero voters)"
                if cov is not None
                else ""
            ),
        )
        silent.append("cameras")
    else:
        silent.append("cameras")
    seen = [c for c in camera_events if c.get("event") == "stuffing_seen"]
    if seen:
        add(
            "cameras",
            "testimony",
            "flags",
            "ballot stuffing seen on camera at "
            + ", ".join(c["time"] + (f" ({c['note']})" if c.get("note") else "") for c in seen[:6]),
        )
        if "cameras" not in agree:
            agree.append("cameras")
            for lst in (disagree, silent):
                if "cameras" in lst:
                    lst.remove("cameras")
    other = [c for c in camera_events if c.get("event") and c.get("event") != "stuffing_seen"]
    if other:
        add(
            "cameras",
            "context",
            "context",
            "camera events: "
            + ", ".join(f"{c['event'].replace('_', ' ')} at {c['time']}" for c in other[:6]),
        )
    outages = [
        c for c in camera_events if "status" in c and c["status"] not in ("online", "audio_muted")
    ]
    if outages:
        add(
            "cameras",
            "context",
            "context",
            "camera status: "
            + ", ".join(f"{c['status'].replace('_', ' ')} at {c['time']}" for c in outages[:6])
            + " (outage windows are missing data, not zero voters)",
        )

    media_hashes = tuple(
        sorted(
            {
                m.get("sha256")
                for r in observer_reports
                for m in (r.get("media") or [])
                if m.get("sha256")
            }
        )
    )
    text = _plain(sid, ev, agree, disagree, silent)
    return StationDossier(
        sid,
        dict(levels or {}),
        dict(official or {}),
        tuple(arithmetic),
        forensic,
        protocol_copy,
        tuple(mismatches),
        tuple(observer_reports),
        camera,
        tuple(camera_events),
        tuple(ev),
        tuple(agree),
        tuple(disagree),
        tuple(silent),
        text,
        media_hashes,
        tuple(notes),
    )


def _plain(
    sid: str, ev: list[dict], agree: list[str], disagree: list[str], silent: list[str]
) -> str:
    hard = sorted(
        {e["source"] for e in ev if e["strength"] == "hard" and e["direction"] == "flags"}
    )
    stat = any(e["strength"] == "statistical" and e["direction"] == "flags" for e in ev)
    weak = any(e["strength"] == "weak" for e in ev)
    said = []
    if hard:
        said.append(f"Hard evidence against station {sid}'s result comes from {_join(hard)}.")
    if "observers' reports" in agree:
        said.append("Observers reported fraud there (testimony).")
    if stat:
        said.append(
            "The forensic signals put it among the suspicious stations (statistical, not proof "
            "about this station)."
        )
    if weak and not (hard or stat):
        said.append("Only digit-like signals fire (weak: they also arise without fraud).")
    if not agree:
        said.append(f"No source flags station {sid}.")
    if agree and disagree:
        lead = _join(agree)
        said.append(
            f"{lead[0].upper() + lead[1:]} point{'s' if len(agree) == 1 else ''} at it; nothing wrong "
            f"according to {_join(disagree)}"
            + (
                " — the cameras' count of voters disagrees with the flags."
                if "cameras" in disagree and "forensics" in agree
                else "."
            )
        )
    elif len(agree) > 1:
        said.append(f"{len(agree)} independent sources agree: {_join(agree)}.")
    elif disagree:
        said.append(f"Checked and found consistent: {_join(disagree)}.")
    if silent:
        said.append(f"Not covered: {_join(silent)}.")
    return " ".join(said)


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
