from __future__ import annotations

from fastapi import APIRouter, Response

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep, WriterDep
from pollwatch.service.api.submit import builder, submit
from pollwatch.service.models import Kind
from pollwatch.service.schemas import (
    ChecklistCreate,
    ChecklistUpdate,
    CodeQuery,
    IdPath,
    Limit,
    Offset,
    StationFilter,
    SubmissionPublic,
    SubmissionsPublic,
)

router = APIRouter(prefix="/checklists", tags=["checklists"])


@router.post("", response_model=SubmissionPublic, status_code=201)
async def create_checklist(
    body: ChecklistCreate,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    writer: WriterDep,
):
    """File a checklist; a retry with the same client_id returns the stored one (200)."""

    def fields(station: m.Station) -> dict:
        answers, complete, flags = crud.clean_checklist(body.form, body.answers, station.registered)
        return {"answers": answers, "complete": complete, "flags": flags}

    build = builder(session, user, body, Kind.checklist, body.form, fields)
    return await submit(response, session, writer, user, body.media_ids, build)


@router.get("", response_model=SubmissionsPublic)
def list_checklists(
    session: SessionDep,
    user: CurrentUser,
    status: CodeQuery = None,
    station_id: StationFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """List checklists (observers: their own)."""
    rows, n = crud.list_submissions(
        session, user, Kind.checklist, status, station_id, limit, offset
    )
    return SubmissionsPublic(data=rows, count=n)


@router.get("/{sub_id}", response_model=SubmissionPublic)
def read_checklist(sub_id: IdPath, session: SessionDep, user: CurrentUser):
    """Return one checklist."""
    return crud.get_submission(session, user, sub_id, Kind.checklist)


@router.patch("/{sub_id}", response_model=SubmissionPublic)
def update_checklist(sub_id: IdPath, body: ChecklistUpdate, session: SessionDep, user: CurrentUser):
    """Change answers of one's own checklist before review."""
    sub = crud.get_submission(session, user, sub_id, Kind.checklist)
    merged = {**sub.answers, **body.answers}
    answers, complete, flags = crud.clean_checklist(sub.form, merged, sub.station.registered)
    crud.update_submission(
        session, user, sub, {"answers": answers, "complete": complete, "flags": flags}
    )
    session.commit()
    return sub
