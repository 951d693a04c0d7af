"""Station dossier in the service, served as ``/api/stations/{id}/dossier`` (JSON,
``api/routes/dossier.py``) and the page ``/stations/{id}/dossier`` (``pages/dossier.py``), for
coordinators, analysts and admins.

The dossier is built from what the service holds: the official protocol stored at import
(with its arithmetic findings), observers' checklists, incidents with media hashes and protocol
copies (each copy's fields that disagree with the official protocol flagged), and the camera
watchers' tallies and status log, from which the cameras estimator computes the station's
full-day count and interval against the official turnout. When the setting
``POLLWATCH_ANALYSIS_DIR`` points at a ``pollwatch analyze`` output directory, the station's
forensic signals and rank come from its ``stations.csv``. The library's
:func:`pollwatch.fusion.dossier.station_dossier` assembles it all, as for the report.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import polars as pl
from sqlalchemy import func, select

from pollwatch.cameras.compare import compare_official
from pollwatch.cameras.estimate import estimate_turnout
from pollwatch.cameras.lines import visible_ballots
from pollwatch.errors import InputDataError
from pollwatch.fusion.dossier import StationDossier, build_dossier, station_dossier
from pollwatch.fusion.evidence import (
    CensusSheet,
    OfficialEvidence,
    camera_evidence,
    census_evidence,
    copy_evidence,
    forensic_evidence,
    observer_evidence,
    turnout_evidence,
)
from pollwatch.i18n import gettext
from pollwatch.service import models as m
from pollwatch.service import permissions
from pollwatch.service.crud.census import candidates_of, typists
from pollwatch.service.crud.elections import get_election
from pollwatch.service.crud.stations import get_station
from pollwatch.service.errors import Forbidden
from pollwatch.service.importer import election_from_db
from pollwatch.service.sources.cameras import camera_tables
from pollwatch.service.sources.dossier import observer_reports_from_db

_cache: dict[tuple[str, float], pl.DataFrame] = {}
# the official election and the camera estimate of the election being looked at, keyed by what
# would change them (a new import; a new tally or log entry), so a page view does not redo them
_derived: dict[tuple, object] = {}
_derived_lock = threading.Lock()


def analysis_dir(request) -> Path | None:
    """``app.state.analysis_dir`` if set, else ``$POLLWATCH_ANALYSIS_DIR``."""
    d = getattr(request.app.state, "analysis_dir", None) or os.environ.get("POLLWATCH_ANALYSIS_DIR")
    return Path(d) if d else None


def _stations_table(d: Path | None) -> pl.DataFrame | None:
    if d is None or not (d / "stations.csv").is_file():
        return None
    path = d / "stations.csv"
    key = (str(path.resolve()), path.stat().st_mtime)
    if key not in _cache:
        _cache.clear()  # one analysis at a time; a re-run replaces it
        _cache[key] = pl.read_csv(
            path, schema_overrides={"station_id": pl.Utf8}, infer_schema_length=10000
        )
    return _cache[key]


def _memo(key: tuple, make):
    with _derived_lock:
        if key in _derived:
            return _derived[key]
    value = make()
    with _derived_lock:
        stale = [k for k in _derived if k[:3] == key[:3]]  # older versions of the same thing
        for k in stale:
            del _derived[k]
        if len(_derived) > 16:
            _derived.clear()
        _derived[key] = value
    return value


def official_election(session, election_id: int):
    """The election's official protocols as an Election (None if imported without them)."""

    e = get_election(session, election_id)
    key = (str(session.get_bind().url), "official", election_id, e.created_at)
    return _memo(key, lambda: election_from_db(session, election_id))


def camera_results(session, election_id: int, election) -> dict | None:
    """The cameras estimator run on every tally filed for the election (the day profile is
    learned from all fully watched stations), compared with the official turnout; ``None``
    when no watcher has filed a tally."""

    state = []
    for model in (m.CameraTally, m.CameraLog):
        state += list(
            session.execute(
                select(func.count(model.id), func.max(model.id))
                .join(m.Station, m.Station.id == model.station_id)
                .where(m.Station.election_id == election_id)
            ).one()
        )
    if not state[0]:
        return None
    key = (str(session.get_bind().url), "cameras", election_id, *state)

    def make() -> dict:
        tallies, status, events = camera_tables(session, election_id)
        out = {
            "status": status,
            "events": events,
            "estimate": None,
            "comparison": None,
            "error": None,
        }
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # small-sample warnings become the estimate's notes
                est = estimate_turnout(tallies, status if status.height else None, seed=0)
        except InputDataError as exc:
            out["error"] = str(exc)
            return out
        # like with like: the protocol lines a camera on the stationary box can see, or a
        # one-sided bound where the protocol does not separate them (docs/cameras.md)
        out.update(estimate=est, official=visible_ballots(election) if election is not None else {})
        return out

    out = dict(_memo(key, make))
    if out["estimate"] is not None:
        # not memoised: the comparison writes its statement in the reader's language
        out["comparison"] = compare_official(out["estimate"], out["official"])
    return out


def census_sheets(session, station: m.Station, user: m.User | None) -> list[CensusSheet]:
    """The station's sheets accepted by double-blind transcription (``crud.census``): the
    photo's SHA-256 as received, the accepted numbers split into protocol lines and votes by
    candidate, how they were accepted and the findings kept with them. ``photo_url`` links the
    metadata-free copy only for a ``user`` whom ``permissions.check_sheet_photo`` lets see it."""
    election = get_election(session, station.election_id)
    cands = set(candidates_of(election))
    rows = session.execute(
        select(m.CensusSheet, m.Media)
        .join(m.Media, m.Media.id == m.CensusSheet.media_id)
        .where(
            m.CensusSheet.station_id == station.id,
            m.CensusSheet.status == m.SheetStatus.accepted,
        )
        .order_by(m.CensusSheet.id)
    ).all()
    out = []
    for sheet, media in rows:
        url = None
        if user is not None and media.published_sha256 is not None:
            try:
                permissions.check_sheet_photo(user, sheet, typists(session, sheet.id))
                url = f"/census/photo/{sheet.id}"
            except Forbidden:
                url = None
        final = sheet.final or {}
        out.append(
            CensusSheet(
                sheet_id=f"pw-{sheet.id}",
                sha256=media.received_sha256 or media.sha256,
                photo_url=url,
                numbers={k: v for k, v in final.items() if k not in cands},
                votes={k: v for k, v in final.items() if k in cands},
                resolution=sheet.resolution,
                problems=tuple(str(p) for p in sheet.problems or ()),
            )
        )
    return out


def service_dossier(
    session, station_id: int, analysis: Path | None, user: m.User | None = None
) -> StationDossier:
    """The station's dossier from what the service holds; ``user``: who is looking (the link
    to each census photo is given only to those allowed to see it)."""
    station = get_station(session, station_id)
    reports = observer_reports_from_db(session, station_id)
    table = _stations_table(analysis)
    election = official_election(session, station.election_id)
    cams = camera_results(session, station.election_id, election)
    notes = []
    if table is None:
        notes.append(
            gettext(
                "No analysis attached (set POLLWATCH_ANALYSIS_DIR to a pollwatch analyze output "
                "directory for forensic signals)."
            )
        )
    if cams is not None and cams["error"]:
        notes.append(
            gettext("The camera tallies could not be estimated: {error}").format(
                error=cams["error"]
            )
        )
    if cams is not None and cams["comparison"] is not None:
        notes.append(cams["comparison"].statement)
    sheets = census_sheets(session, station, user)
    if election is not None:
        d = station_dossier(
            station.code,
            election=election,
            analysis=table,
            observer_reports=reports,
            cameras=cams["comparison"] if cams else None,
            camera_estimate=cams["estimate"] if cams else None,
            camera_status=cams["status"] if cams else None,
            camera_events=cams["events"] if cams else None,
            notes=notes,
        )
        # the accepted census sheets against the official protocol, read like the library's
        census = census_evidence(station.code, sheets, official=d.official)
        return build_dossier(
            d.station_id,
            levels=d.levels,
            official=d.official,
            forensic=d.forensic,
            protocol_copy=d.protocol_copy,
            observers=d.observers,
            camera=d.camera,
            census=census,
            observed_turnout=d.observed_turnout,
            notes=d.notes,
        )
    # an election imported before the service kept official protocols: no comparison possible
    forensic = forensic_evidence(table, station.code)
    notes.insert(
        0,
        gettext(
            "This election was imported without its official protocols: copies and camera counts "
            "are not compared here (re-import it, or run the library's station_dossier)."
        ),
    )
    official = OfficialEvidence(
        {"registered": station.registered},
        turnout=forensic.turnout if forensic else None,
        leader_share=forensic.leader_share if forensic else None,
    )
    observers = observer_evidence(reports, station.code)
    return build_dossier(
        station.code,
        levels=station.levels,
        official=official,
        forensic=forensic,
        protocol_copy=copy_evidence(station.code, official=official, observers=observers),
        observers=observers,
        camera=camera_evidence(
            None,
            station.code,
            status=cams["status"] if cams else None,
            events=cams["events"] if cams else None,
        ),
        census=census_evidence(station.code, sheets, official=official),
        observed_turnout=turnout_evidence(station.code, official=official, observers=observers),
        notes=notes,
    )


def copy_tables(d: StationDossier, names: dict[str, str]) -> list[dict]:
    """Each protocol copy filed at the station, line by line beside the official figure, with
    the lines that disagree marked (the dossier's ``mismatches``); ``names``: candidate id →
    name (a copy may give votes by either)."""
    official = d.official.fields if d.official is not None else {}
    votes = d.official.votes if d.official is not None else {}
    out = []
    for r in d.observer_reports:
        if r.kind != "protocol":
            continue
        source = f"service submission {r.submission_id}"
        bad = {x.field for x in d.mismatches if x.source == source}
        ans = r.answers
        rows = [(k, v, official.get(k), k in bad) for k, v in (ans.get("numbers") or {}).items()]
        for k, v in (ans.get("votes") or {}).items():
            name = names.get(k, k)
            rows.append((name, v, votes.get(name), name in bad))
        out.append(
            {
                "submission_id": r.submission_id,
                "status": r.status,
                "rows": rows,
                "n_mismatches": len(bad),
            }
        )
    return out


def candidate_names(session, station_id: int) -> dict[str, str]:
    e = get_election(session, get_station(session, station_id).election_id)
    return {c["id"]: c["name"] for c in e.candidates}
