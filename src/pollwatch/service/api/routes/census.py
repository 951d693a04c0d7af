"""Double-blind transcription of protocol photos (issue 21, ``crud.census``): upload, the next
sheet to type and its photo, transcriptions, arbitration, the sheets, the agreement share and
the export for ``pollwatch census check``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Response, UploadFile
from pydantic import BaseModel, Field

from pollwatch.census.layouts import layout
from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service import permissions
from pollwatch.service.api.deps import CurrentUser, SessionDep, SettingsDep, StoreDep
from pollwatch.service.crud import census
from pollwatch.service.crud.elections import get_election
from pollwatch.service.crud.media import media_files
from pollwatch.service.errors import Msg
from pollwatch.service.schemas import IdPath

router = APIRouter(prefix="/census", tags=["census"])
MAX_BYTES = 25 * 1024 * 1024
MAX_FILES = 200


class TranscriptionBody(BaseModel):
    client_id: uuid.UUID
    values: dict[str, int | str | None] = Field(max_length=200)


class ArbitrationBody(BaseModel):
    values: dict[str, int | str | None] = Field(default={}, max_length=200)
    reason: str = Field(default="", max_length=2000)
    reject: bool = False


def sheet_form(session, sheet) -> dict[str, Any]:
    """What a volunteer needs to type a sheet: its boxes in order, with the printed line codes
    and labels, and the photo's address. No numbers of anyone."""
    election = get_election(session, sheet.election_id)
    lines, cands = census.sheet_fields(election, sheet.layout)
    lay = layout(sheet.layout)
    station = session.get(m.Station, sheet.station_id)
    return {
        "sheet_id": sheet.id,
        "election_id": sheet.election_id,
        "station": station.code if station else None,
        "layout": sheet.layout,
        "boxes": [{"field": f, "code": c, "label": lab} for c, lab, f in lay.lines]
        + [{"field": c, "code": str(i + 1), "label": c} for i, c in enumerate(cands)],
        "photo": f"/api/census/sheets/{sheet.id}/photo",
    }


@router.post("/{election_id}/sheets", status_code=201)
def upload(
    election_id: IdPath,
    files: Annotated[list[UploadFile], File()],
    session: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    user: CurrentUser,
    response: Response,
    layout_name: Annotated[str, Form(alias="layout")] = "azerbaijan",
    station_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    collector_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> dict:
    """Upload protocol photos (one sheet each) for a station, or for the stations their QR
    codes name; an observer for their own assigned station, staff anywhere (staff may name
    the collector). The same photo again is the sheet already filed (200)."""
    if len(files) > MAX_FILES:
        raise HTTPException(
            status_code=413, detail=Msg(N_("At most {n} photos at once"), n=MAX_FILES)
        )
    got = []
    for f in files:
        data = f.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise HTTPException(
                status_code=413, detail=Msg(N_("{name}: file too large"), name=f.filename)
            )
        got.append((f.filename or "photo", data, f.content_type or "application/octet-stream"))
    permissions.require(user, permissions.SUBMITTERS)  # before seconds of OCR
    got, pdfs = census.expand_pdfs(got)  # a PDF's pages, each a sheet
    machines = census.read_photos(
        session, election_id, layout_name, got, enabled=settings.census_machine_reading
    )
    with media_files(session, store) as written:
        out = census.upload_sheets(
            session, store, user, election_id, got, layout_name=layout_name,
            station_id=station_id, collector_id=collector_id,
            max_pixels=settings.max_image_pixels, written=written, machines=machines, pdfs=pdfs,
        )  # fmt: skip
        session.commit()
    response.status_code = 201 if any(new for _, new in out) else 200
    return {
        "data": [
            {
                "id": s.id,
                "station_id": s.station_id,
                "new": new,
                "notes": s.machine.get("notes", []),
            }
            for s, new in out
        ]
    }


@router.get("/next")
def next_sheet(session: SessionDep, user: CurrentUser, election_id: int | None = None) -> dict:
    """The next sheet for you to type (transcribers, analysts), or ``{"sheet": null}``."""
    sheet = census.next_sheet(session, user, election_id)
    return {"sheet": None if sheet is None else sheet_form(session, sheet)}


@router.get("/sheets/{sheet_id}/photo")
def photo(sheet_id: IdPath, session: SessionDep, store: StoreDep, user: CurrentUser) -> Response:
    """The sheet's photo without its metadata: for whoever may type, arbitrate or read it."""
    sheet = census.get_sheet(session, sheet_id)
    permissions.check_sheet_photo(user, sheet, census.typists(session, sheet_id))
    media = session.get(m.Media, sheet.media_id)
    if media is None or media.published_sha256 is None:
        raise HTTPException(status_code=404, detail=Msg(N_("No photo")))
    data = store.get(media.published_sha256)
    ctype = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
    return Response(content=data, media_type=ctype, headers={"Cache-Control": "private, no-store"})


@router.post("/sheets/{sheet_id}/transcriptions", status_code=201)
def transcribe(
    sheet_id: IdPath, body: TranscriptionBody, session: SessionDep, user: CurrentUser, response: Response
) -> dict:  # fmt: skip
    """Your numbers for the sheet, typed from its photo. A retry with the same ``client_id``
    is the same transcription (200). The answer says nothing of the other volunteer's."""
    row, new = census.submit_transcription(
        session, user, sheet_id, str(body.client_id), body.values
    )
    session.commit()
    response.status_code = 201 if new else 200
    return {"id": row.id, "sheet_id": row.sheet_id, "created_at": row.created_at.isoformat()}


@router.get("/sheets/{sheet_id}/arbitration")
def arbitration(sheet_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """Both transcriptions box by box, the differing boxes marked, and the machine reading with
    its confidence (staff who did not type the sheet)."""
    return census.arbitration_view(session, user, sheet_id)


@router.post("/sheets/{sheet_id}/arbitrate")
def arbitrate(sheet_id: IdPath, body: ArbitrationBody, session: SessionDep, user: CurrentUser) -> dict:  # fmt: skip
    """The arbiter's numbers; a sheet failing its checks needs ``reason``. ``reject`` (with a
    reason) rejects the sheet instead: it is never exported."""
    sheet = census.arbitrate(session, user, sheet_id, body.values, body.reason, reject=body.reject)
    session.commit()
    return {
        "id": sheet.id,
        "status": sheet.status,
        "final": sheet.final,
        "problems": sheet.problems,
    }


@router.get("/{election_id}/sheets")
def sheets(election_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """The election's sheets and their status (staff, analysts)."""
    rows = census.list_sheets(session, user, election_id)
    return {"data": rows, "count": len(rows)}


@router.get("/{election_id}/stats")
def stats(election_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """Sheets by status and the share accepted without arbitration (staff, analysts)."""
    return census.census_stats(session, user, election_id)


@router.get("/{election_id}/export")
def export(election_id: IdPath, session: SessionDep, user: CurrentUser) -> Response:
    """The accepted sheets as a sheets CSV for ``pollwatch census check`` (staff, analysts)."""
    permissions.check_read_census(user)
    text = census.export_csv(session, election_id)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="sheets-{election_id}.csv"'},
    )
