"""``/api/stations/{id}/dossier``: a station's dossier as JSON (built by ``crud.dossier``)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.crud import dossier
from pollwatch.service.permissions import READ_ALL, require
from pollwatch.service.schemas import IdPath

router = APIRouter(prefix="/stations", tags=["dossier"])


@router.get("/{station_id}/dossier")
def dossier_json(
    station_id: IdPath, request: Request, session: SessionDep, user: CurrentUser
) -> dict:
    """Everything the service knows about one station, with a plain-language summary."""
    require(user, READ_ALL)
    d = dossier.service_dossier(session, station_id, dossier.analysis_dir(request), user)
    return {
        "service_station_id": station_id,
        **d.to_dict(),
        "protocol_copies": dossier.copy_tables(d, dossier.candidate_names(session, station_id)),
    }
