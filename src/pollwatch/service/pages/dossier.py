"""The station dossier page ``/stations/{id}/dossier`` (admins, coordinators, analysts), built
by ``crud.dossier`` as its JSON twin ``/api/stations/{id}/dossier``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pollwatch.service.api.deps import SessionDep
from pollwatch.service.crud import dossier
from pollwatch.service.pages.common import login_redirect, page_user, render
from pollwatch.service.permissions import READ_ALL, require
from pollwatch.service.schemas import IdPath

router = APIRouter(include_in_schema=False)


@router.get("/stations/{station_id}/dossier", response_class=HTMLResponse)
def dossier_page(station_id: IdPath, request: Request, session: SessionDep):
    user = page_user(request, session)
    if user is None:
        return login_redirect()
    require(user, READ_ALL)
    d = dossier.service_dossier(session, station_id, dossier.analysis_dir(request), user)
    return render(
        "dossier.html.j2",
        user,
        d=d.to_dict(),
        station_id=station_id,
        copies=dossier.copy_tables(d, dossier.candidate_names(session, station_id)),
    )
