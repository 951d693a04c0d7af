"""Station dossier in the service: ``/api/stations/{id}/dossier`` (JSON) and the page
``/stations/{id}/dossier``, for coordinators, analysts and admins.

The dossier is built from what the service holds (the station list, observers' checklists,
incidents with media hashes and protocol copies, their flags) plus, when the setting
``POLLWATCH_ANALYSIS_DIR`` points at a ``pollwatch analyze`` output directory, the station's
forensic signals and rank from its ``stations.csv``.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pollwatch.fusion.dossier import (
    StationDossier,
    _forensic_row,
    build_dossier,
    observer_reports_from_db,
)
from pollwatch.service import crud
from pollwatch.service.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/stations", tags=["dossier"])
page_router = APIRouter(include_in_schema=False)

_cache: dict[tuple[str, float], pl.DataFrame] = {}


def analysis_dir(request: Request) -> Path | None:
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
        _cache[key] = pl.read_csv(path, schema_overrides={"station_id": pl.Utf8}, infer_schema_length=10000)
    return _cache[key]


def service_dossier(session, station_id: int, analysis: Path | None) -> StationDossier:
    station = crud.get_station(session, station_id)
    reports = observer_reports_from_db(session, station_id)
    table = _stations_table(analysis)
    forensic = _forensic_row(table, station.code) if table is not None else None
    notes = ["The service holds the station list, not the official protocol: copies are not compared here "
             "(run pollwatch analyze and the library's station_dossier for that)."]
    if table is None:
        notes.append("No analysis attached (set POLLWATCH_ANALYSIS_DIR to a pollwatch analyze output directory "
                     "for forensic signals).")
    official = {"registered": station.registered}
    if forensic:
        official.update({k: forensic["values"].get(k) for k in ("turnout", "leader_share")})
    return build_dossier(station.code, levels=station.levels, official=official, forensic=forensic,
                         observer_reports=reports, official_protocol_known=False, notes=notes)


@router.get("/{station_id}/dossier")
def dossier_json(station_id: int, request: Request, session: SessionDep, user: CurrentUser) -> dict:
    """Everything the service knows about one station, with a plain-language summary."""
    crud.require(user, crud.READ_ALL)
    d = service_dossier(session, station_id, analysis_dir(request))
    return {"service_station_id": station_id, **d.to_dict()}


@page_router.get("/stations/{station_id}/dossier", response_class=HTMLResponse)
def dossier_page(station_id: int, request: Request, session: SessionDep):
    from pollwatch.service.web import _login_redirect, page_user, render

    user = page_user(request, session)
    if user is None:
        return _login_redirect()
    crud.require(user, crud.READ_ALL)
    d = service_dossier(session, station_id, analysis_dir(request))
    return render("dossier.html.j2", user, d=d, station_id=station_id)
