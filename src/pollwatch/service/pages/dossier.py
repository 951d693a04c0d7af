"""The station dossier page ``/stations/{id}/dossier`` (admins, coordinators, analysts), built
by ``crud.dossier`` as its JSON twin ``/api/stations/{id}/dossier``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pollwatch.i18n import N_, current_language, gettext, normalise, use_language
from pollwatch.report.glossary import term
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
    # fusion writes the dossier's sentences in the language it is built in: the reader's
    with use_language(normalise(user.language)):
        d = dossier.service_dossier(session, station_id, dossier.analysis_dir(request), user)
    return render(
        "dossier.html.j2",
        user,
        d=d.to_dict(),
        station_id=station_id,
        copies=dossier.copy_tables(d, dossier.candidate_names(session, station_id)),
        arithmetic=arithmetic_text,
    )


_RELATIONS = {
    "expected": N_("{check}: expected {expected}, found {found}"),
    "at most": N_("{check}: at most {expected}, found {found}"),
    "at least": N_("{check}: at least {expected}, found {found}"),
}


def arithmetic_text(finding: dict) -> str:
    """One arithmetic finding of the official protocol in the current language: the check's
    name and its numbers (validate writes ``"<relation> <expected>, found <found>"``); in
    English, as validate wrote it."""
    rule, message = str(finding.get("rule")), str(finding.get("message") or "")
    relation = next((r for r in _RELATIONS if message.startswith(r + " ")), None)
    if current_language() == "en" or relation is None or finding.get("expected") is None:
        return f"{rule}: {message}"
    return gettext(_RELATIONS[relation]).format(
        check=term(rule).name, expected=finding["expected"], found=finding["found"]
    )
