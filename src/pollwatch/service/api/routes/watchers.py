"""Camera watchers: ``/api/camera/tallies`` and ``/api/camera/logs`` (JSON); their phone page
``/watch`` is ``pages/watch.py``.

Rules in ``crud.cameras``; a retried ``client_id`` answers 200 with the stored row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.crud import cameras as watchers
from pollwatch.service.permissions import CAMERA_FILERS, require
from pollwatch.service.schemas import (
    Code,
    Count,
    Id,
    IdPath,
    Limit,
    Note,
    Offset,
    StationFilter,
    When,
    check_text,
)

router = APIRouter(prefix="/camera", tags=["camera watchers"])
Reason = Annotated[str, Field(max_length=500), AfterValidator(check_text)]
LogKind = Annotated[str, Field(max_length=10), AfterValidator(check_text)]


class TallyCreate(BaseModel):
    client_id: uuid.UUID
    station_id: Id
    window_start: When
    window_end: When
    count: Count | None = None
    usable: bool | None = None
    reason: Reason = ""


class TallyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    client_id: str
    station_id: int
    watcher_id: int
    window_start: dt.datetime
    window_end: dt.datetime
    count: int | None
    usable: bool
    reason: str
    channel: str
    created_at: dt.datetime


class TalliesPublic(BaseModel):
    data: list[TallyPublic]
    count: int


class LogCreate(BaseModel):
    client_id: uuid.UUID
    station_id: Id
    kind: LogKind = "status"
    value: Code
    at: When
    note: Note = ""


class LogPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    client_id: str
    station_id: int
    watcher_id: int
    kind: str
    value: str
    at: dt.datetime
    note: str
    channel: str
    created_at: dt.datetime


class LogsPublic(BaseModel):
    data: list[LogPublic]
    count: int


def _file(session, user: m.User, response: Response, row):
    row, created = watchers.create(session, user, row)
    session.commit()
    response.status_code = 201 if created else 200
    return row


@router.post("/tallies", response_model=TallyPublic, status_code=201)
def create_tally(body: TallyCreate, response: Response, session: SessionDep, user: CurrentUser):
    """Voters counted in one window (camera watchers at assigned stations; admin, coordinator)."""
    require(user, CAMERA_FILERS)
    cols = watchers.clean_tally(
        body.window_start, body.window_end, body.count, body.usable, body.reason
    )
    row = m.CameraTally(
        client_id=str(body.client_id), station_id=body.station_id, watcher_id=user.id, **cols
    )
    return _file(session, user, response, row)


@router.get("/tallies", response_model=TalliesPublic)
def list_tallies(
    session: SessionDep,
    user: CurrentUser,
    station_id: StationFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Tallies (camera watchers: their own; admin, coordinator, analyst: all)."""
    rows, n = watchers.list_rows(session, user, m.CameraTally, station_id, limit, offset)
    return TalliesPublic(data=rows, count=n)


@router.get("/tallies/{row_id}", response_model=TallyPublic)
def read_tally(row_id: IdPath, session: SessionDep, user: CurrentUser):
    """One tally (another watcher's: 404)."""
    return watchers.get(session, user, m.CameraTally, row_id)


@router.post("/logs", response_model=LogPublic, status_code=201)
def create_log(body: LogCreate, response: Response, session: SessionDep, user: CurrentUser):
    """A camera-status change (online, offline, audio_muted, turned_away, covered,
    box_out_of_frame...) or an event (stuffing_seen, group_arrival, angle_change...)."""
    require(user, CAMERA_FILERS)
    cols = watchers.clean_log(body.kind, body.value, body.at, body.note)
    row = m.CameraLog(
        client_id=str(body.client_id), station_id=body.station_id, watcher_id=user.id, **cols
    )
    return _file(session, user, response, row)


@router.get("/logs", response_model=LogsPublic)
def list_logs(
    session: SessionDep,
    user: CurrentUser,
    station_id: StationFilter = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Camera-status log entries and events (camera watchers: their own)."""
    rows, n = watchers.list_rows(session, user, m.CameraLog, station_id, limit, offset)
    return LogsPublic(data=rows, count=n)


@router.get("/logs/{row_id}", response_model=LogPublic)
def read_log(row_id: IdPath, session: SessionDep, user: CurrentUser):
    """One log entry (another watcher's: 404)."""
    return watchers.get(session, user, m.CameraLog, row_id)
