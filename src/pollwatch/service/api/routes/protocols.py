from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy.orm import object_session

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep, WriterDep
from pollwatch.service.api.submit import builder, submit
from pollwatch.service.models import Kind
from pollwatch.service.schemas import (
    CodeQuery,
    IdPath,
    Limit,
    Offset,
    ProtocolCreate,
    StationFilter,
    SubmissionPublic,
    SubmissionsPublic,
)

router = APIRouter(prefix="/protocols", tags=["protocols"])


@router.post("", response_model=SubmissionPublic, status_code=201)
async def create_protocol(
    body: ProtocolCreate,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    writer: WriterDep,
):
    """File a protocol copy (numbers as copied, photo via media_ids); retries are stored once."""

    def fields(station: m.Station) -> dict:
        # the station's own session: this runs in the writer's transaction (SQLite: the request
        # session would wait for the write lock the writer holds)
        election = crud.get_election(object_session(station), station.election_id)
        answers, flags = crud.clean_protocol(election, body.numbers, body.votes, station.registered)
        return {"answers": answers, "flags": flags}

    build = builder(session, user, body, Kind.protocol, "protocol", fields)
    return await submit(response, session, writer, user, body.media_ids, build)


@router.get("", response_model=SubmissionsPublic)
def list_protocols(
    session: SessionDep,
    user: CurrentUser,
    status: CodeQuery = None,
    station_id: StationFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """List protocol copies (observers: their own)."""
    rows, n = crud.list_submissions(session, user, Kind.protocol, status, station_id, limit, offset)
    return SubmissionsPublic(data=rows, count=n)


@router.get("/reconciled/{station_id}")
def reconciled(station_id: IdPath, session: SessionDep, user: CurrentUser) -> dict:
    """One record per station from every observer's copy; disagreeing fields in ``conflicts``."""
    return crud.reconciled_protocol(session, user, station_id)


@router.get("/{sub_id}", response_model=SubmissionPublic)
def read_protocol(sub_id: IdPath, session: SessionDep, user: CurrentUser):
    """Return one protocol copy."""
    return crud.get_submission(session, user, sub_id, Kind.protocol)
