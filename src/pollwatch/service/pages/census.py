"""The census pages (issue 21): uploading protocol photos, typing them blind, arbitrating the
sheets the two volunteers disagree on, and the accepted sheets' export.

Server-rendered and complete without JavaScript: every action is a form posted back here and
handled by the same functions as the API (``crud.census``). The transcription page shows the
photo beside an empty form of the sheet's boxes, labelled in the user's language; nothing on
it comes from anyone else's numbers or the machine reading."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from pollwatch.census.layouts import LAYOUTS, layout
from pollwatch.i18n import N_, gettext
from pollwatch.service import models as m
from pollwatch.service import permissions
from pollwatch.service.api.deps import SessionDep, StoreDep
from pollwatch.service.crud import census
from pollwatch.service.crud.elections import get_election
from pollwatch.service.crud.media import media_files
from pollwatch.service.errors import Msg, ServiceError, error_text
from pollwatch.service.i18n import PROTOCOL_FIELD_LABELS
from pollwatch.service.i18n import label as field_label
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import STAFF, TRANSCRIBERS
from pollwatch.service.schemas import ID_MAX, IdPath

router = APIRouter(include_in_schema=False)
MAX_BYTES = 25 * 1024 * 1024


def box_labels(sheet_layout: str, cands: tuple[str, ...], lang: str) -> list[tuple[str, str, str]]:
    """``(field, code, label)`` of every box, in the sheet's order: the protocol's own wording
    where the user reads the sheet's language, else the line's name in the user's language."""
    lay = layout(sheet_layout)
    native = (lay.name, lang) in (("azerbaijan", "az"), ("russia", "ru"))
    out = [
        (f, code, label if native else field_label(PROTOCOL_FIELD_LABELS, f, lang))
        for code, label, f in lay.lines
    ]
    return out + [(c, str(i + 1), c) for i, c in enumerate(cands)]


def _elections(session) -> list[m.Election]:
    return list(session.scalars(select(m.Election).order_by(m.Election.id)))


def _refused(session, user, exc: Exception) -> Response:
    session.rollback()
    message = error_text(exc, user.language if user else None)  # in the page's language
    return render("login.html.j2", user, status=getattr(exc, "status", 422), message=message)


@router.get("/census", response_class=HTMLResponse)
def census_page(
    session: SessionDep,
    user: PageUser,
    election: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
):
    """Staff and analysts: the sheets, the agreement share, arbitration links, the export.
    Observers: the upload form for their assigned stations."""
    if user is None:
        return login_redirect()
    if user.role in TRANSCRIBERS and user.role not in permissions.READ_ALL:
        return RedirectResponse("/census/transcribe", status_code=303)
    permissions.require(user, permissions.READ_ALL | permissions.SUBMITTERS)
    elections = _elections(session)
    chosen = next((e for e in elections if e.id == election), None) or (
        elections[-1] if elections else None
    )
    ctx: dict = {"elections": elections, "election": chosen, "rows": [], "stats": None}
    reader = permissions.sees_all(user)
    if chosen is not None:
        stations: list[m.Station] = []
        if user.role in permissions.SUBMITTERS:  # the upload form's stations
            q = select(m.Station).where(m.Station.election_id == chosen.id)
            q = permissions.visible_stations(session, user, q).order_by(m.Station.code)
            stations = list(session.scalars(q))
        ctx["stations"] = stations
        if reader:
            ctx["rows"] = census.list_sheets(session, user, chosen.id)
            ctx["stats"] = census.census_stats(session, user, chosen.id)
    return render(
        "census.html.j2",
        user,
        staff=user.role in STAFF,
        reader=reader,
        uploader=user.role in permissions.SUBMITTERS - {m.Role.camera_watcher},
        layouts=list(LAYOUTS),
        **ctx,
    )


@router.post("/census/{election_id}/upload")
async def upload_page(
    election_id: IdPath, request: Request, session: SessionDep, store: StoreDep, user: PageUser
):
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        files = []
        for f in data.getlist("files"):
            if not hasattr(f, "read"):
                continue
            raw = await f.read(MAX_BYTES + 1)  # type: ignore[union-attr]
            if len(raw) > MAX_BYTES:
                raise ValueError(f"{f.filename}: file too large")  # type: ignore[union-attr]
            if raw:
                ctype = getattr(f, "content_type", None) or "application/octet-stream"
                files.append((getattr(f, "filename", None) or "photo", raw, ctype))
        station = str(data.get("station_id") or "").strip()
        lay = str(data.get("layout") or "azerbaijan")
        permissions.require(user, permissions.SUBMITTERS)
        files, pdfs = census.expand_pdfs(files)  # a PDF's pages, each a sheet
        settings = request.app.state.settings
        machines = census.read_photos(
            session, election_id, lay, files, enabled=settings.census_machine_reading
        )
        with media_files(session, store) as written:
            census.upload_sheets(
                session, store, user, election_id, files, layout_name=lay,
                station_id=int(station) if station.isdigit() else None,
                max_pixels=settings.max_image_pixels, written=written, machines=machines, pdfs=pdfs,
            )  # fmt: skip
            session.commit()
    except (ServiceError, ValueError) as exc:
        return _refused(session, user, exc)
    finally:
        await data.close()
    return RedirectResponse(f"/census?election={election_id}&uploaded={len(files)}", status_code=303)  # fmt: skip


@router.get("/census/photo/{sheet_id}")
def photo_page(sheet_id: IdPath, session: SessionDep, store: StoreDep, user: PageUser):
    if user is None:
        return login_redirect()
    sheet = census.get_sheet(session, sheet_id)
    permissions.check_sheet_photo(user, sheet, census.typists(session, sheet_id))
    media = session.get(m.Media, sheet.media_id)
    if media is None or media.published_sha256 is None:
        raise HTTPException(status_code=404, detail=Msg(N_("No photo")))
    data = store.get(media.published_sha256)
    ctype = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return Response(content=data, media_type=ctype, headers={"Cache-Control": "private, no-store"})


@router.get("/census/transcribe", response_class=HTMLResponse)
def transcribe_page(
    session: SessionDep, user: PageUser, saved: Annotated[int, Query(ge=0, le=1)] = 0
):
    """The next sheet to type: its photo beside an empty form (transcribers, analysts)."""
    if user is None:
        return login_redirect()
    sheet = census.next_sheet(session, user)
    ctx: dict = {
        "sheet": sheet,
        "message": gettext("Received. Thank you.", user.language) if saved else None,
    }
    if sheet is not None:
        election = get_election(session, sheet.election_id)
        ctx["boxes"] = box_labels(sheet.layout, census.candidates_of(election), user.language)
        ctx["station"] = session.get(m.Station, sheet.station_id)
        ctx["election_name"] = election.name
        ctx["client_id"] = str(uuid.uuid4())  # a resubmitted form is the same transcription
    return render("census_transcribe.html.j2", user, **ctx)


@router.post("/census/transcribe/{sheet_id}")
async def transcribe_post(sheet_id: IdPath, request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        sheet = census.get_sheet(session, sheet_id)
        lines, cands = census.sheet_fields(get_election(session, sheet.election_id), sheet.layout)
        values = {f: str(data.get(f"n_{i}") or "") for i, f in enumerate((*lines, *cands))}
        client_id = str(uuid.UUID(str(data.get("client_id") or "")))
        census.submit_transcription(session, user, sheet_id, client_id, values)
        session.commit()
    except (ServiceError, ValueError) as exc:
        return _refused(session, user, exc)
    return RedirectResponse("/census/transcribe?saved=1", status_code=303)


@router.get("/census/arbitrate/{sheet_id}", response_class=HTMLResponse)
def arbitrate_page(sheet_id: IdPath, session: SessionDep, user: PageUser):
    """Both transcriptions side by side, the differing boxes marked, the machine reading with
    its confidence, and the form for the final numbers (staff who did not type the sheet)."""
    if user is None:
        return login_redirect()
    view = census.arbitration_view(session, user, sheet_id)
    sheet = census.get_sheet(session, sheet_id)
    election = get_election(session, sheet.election_id)
    labels = box_labels(sheet.layout, census.candidates_of(election), user.language)
    return render("census_arbitrate.html.j2", user, view=view, labels=labels, election=election)


@router.post("/census/arbitrate/{sheet_id}")
async def arbitrate_post(sheet_id: IdPath, request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        sheet = census.get_sheet(session, sheet_id)
        lines, cands = census.sheet_fields(get_election(session, sheet.election_id), sheet.layout)
        values = {f: str(data.get(f"n_{i}") or "") for i, f in enumerate((*lines, *cands))}
        reason = str(data.get("reason") or "")[:2000]
        reject = data.get("reject") == "1"
        census.arbitrate(session, user, sheet_id, values, reason, reject=reject)
        session.commit()
    except (ServiceError, ValueError) as exc:
        return _refused(session, user, exc)
    return RedirectResponse(f"/census?election={sheet.election_id}", status_code=303)


@router.get("/census/{election_id}/export.csv")
def export_page(election_id: IdPath, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    permissions.check_read_census(user)
    return Response(
        content=census.export_csv(session, election_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sheets-{election_id}.csv"'},
    )
