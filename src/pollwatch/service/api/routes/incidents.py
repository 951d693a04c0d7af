from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep, WriterDep
from pollwatch.service.api.submit import builder, submit
from pollwatch.service.models import Kind
from pollwatch.service.schemas import (
    CodeQuery,
    IdPath,
    IncidentCreate,
    IncidentUpdate,
    Limit,
    Offset,
    StationFilter,
    SubmissionPublic,
    SubmissionsPublic,
)

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.post("", response_model=SubmissionPublic, status_code=201)
async def create_incident(
    body: IncidentCreate,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    writer: WriterDep,
):
    """Report an incident; a retry with the same client_id returns the stored one (200)."""

    def fields(station: m.Station) -> dict:
        occurred = body.occurred_at
        if occurred.tzinfo is not None:  # stored as naive UTC
            occurred = occurred.astimezone(dt.UTC).replace(tzinfo=None)
        return {"severity": body.severity, "occurred_at": occurred, "description": body.description}

    build = builder(
        session,
        user,
        body,
        Kind.incident,
        body.category,
        fields,
        before_checks=lambda: crud.clean_incident(body.category, body.severity),
    )
    return await submit(response, session, writer, user, body.media_ids, build)


@router.get("", response_model=SubmissionsPublic)
def list_incidents(
    session: SessionDep,
    user: CurrentUser,
    status: CodeQuery = None,
    station_id: StationFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """List incidents (observers: their own)."""
    rows, n = crud.list_submissions(session, user, Kind.incident, status, station_id, limit, offset)
    return SubmissionsPublic(data=rows, count=n)


@router.get("/{sub_id}", response_model=SubmissionPublic)
def read_incident(sub_id: IdPath, session: SessionDep, user: CurrentUser):
    """Return one incident."""
    return crud.get_submission(session, user, sub_id, Kind.incident)


@router.patch("/{sub_id}", response_model=SubmissionPublic)
def update_incident(sub_id: IdPath, body: IncidentUpdate, session: SessionDep, user: CurrentUser):
    """Change severity or description of one's own incident before review."""
    sub = crud.get_submission(session, user, sub_id, Kind.incident)
    changes = body.model_dump(exclude_none=True)
    if "severity" in changes:
        crud.clean_incident(sub.form, changes["severity"])
    crud.update_submission(session, user, sub, changes)
    session.commit()
    return sub
