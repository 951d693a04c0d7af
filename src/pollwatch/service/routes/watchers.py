"""Camera watchers: ``/api/camera/tallies`` and ``/api/camera/logs`` (JSON) and the phone page
``/watch?station=ID`` that files a window count or a status change without JavaScript.

Rules in ``service.watchers``; a retried ``client_id`` answers 200 with the stored row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from pollwatch.cameras.data import EVENT_KINDS, STATUSES
from pollwatch.service import crud, watchers
from pollwatch.service import models as m
from pollwatch.service.deps import CurrentUser, SessionDep
from pollwatch.service.errors import ServiceError

router = APIRouter(prefix="/camera", tags=["camera watchers"])
page_router = APIRouter(include_in_schema=False)


class TallyCreate(BaseModel):
    client_id: uuid.UUID
    station_id: int
    window_start: dt.datetime
    window_end: dt.datetime
    count: int | None = None
    usable: bool | None = None
    reason: str = Field("", max_length=500)


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
    station_id: int
    kind: str = "status"
    value: str = Field(max_length=40)
    at: dt.datetime
    note: str = Field("", max_length=2000)


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
    crud.require(user, watchers.FILERS)
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
    station_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
):
    """Tallies (camera watchers: their own; admin, coordinator, analyst: all)."""
    rows, n = watchers.list_rows(session, user, m.CameraTally, station_id, limit, offset)
    return TalliesPublic(data=rows, count=n)


@router.get("/tallies/{row_id}", response_model=TallyPublic)
def read_tally(row_id: int, session: SessionDep, user: CurrentUser):
    """One tally (another watcher's: 404)."""
    return watchers.get(session, user, m.CameraTally, row_id)


@router.post("/logs", response_model=LogPublic, status_code=201)
def create_log(body: LogCreate, response: Response, session: SessionDep, user: CurrentUser):
    """A camera-status change (online, offline, audio_muted, turned_away, covered,
    box_out_of_frame...) or an event (stuffing_seen, group_arrival, angle_change...)."""
    crud.require(user, watchers.FILERS)
    cols = watchers.clean_log(body.kind, body.value, body.at, body.note)
    row = m.CameraLog(
        client_id=str(body.client_id), station_id=body.station_id, watcher_id=user.id, **cols
    )
    return _file(session, user, response, row)


@router.get("/logs", response_model=LogsPublic)
def list_logs(
    session: SessionDep,
    user: CurrentUser,
    station_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
):
    """Camera-status log entries and events (camera watchers: their own)."""
    rows, n = watchers.list_rows(session, user, m.CameraLog, station_id, limit, offset)
    return LogsPublic(data=rows, count=n)


@router.get("/logs/{row_id}", response_model=LogPublic)
def read_log(row_id: int, session: SessionDep, user: CurrentUser):
    """One log entry (another watcher's: 404)."""
    return watchers.get(session, user, m.CameraLog, row_id)


# ---- the phone page ---------------------------------------------------------------------------


def _day(election: m.Election) -> dt.date:
    try:
        return dt.date.fromisoformat(election.date)
    except ValueError:
        return dt.date.today()


def _page(session, user: m.User, station_id: int, message: str | None = None, status: int = 200):
    from pollwatch.service.i18n import translator
    from pollwatch.service.web import render

    station = crud.get_station(session, station_id)
    watchers.check_may_file(session, user, station)
    tallies, _ = watchers.list_rows(session, user, m.CameraTally, station.id, limit=1000)
    logs, _ = watchers.list_rows(session, user, m.CameraLog, station.id, limit=1000)
    mine = [r for r in tallies if r.watcher_id == user.id]
    last = max((r.window_end for r in mine), default=None)
    t = translator(user.language)
    day = _day(crud.get_election(session, station.election_id)).isoformat()
    return render(
        "watch.html.j2",
        user,
        status=status,
        station=station,
        message=message,
        day=day,
        tally_id=str(uuid.uuid4()),
        log_id=str(uuid.uuid4()),
        next_start=last.strftime("%H:%M") if last else "08:00",
        now=dt.datetime.now().strftime("%H:%M"),
        tallies=mine[-12:],
        logs=[r for r in logs if r.watcher_id == user.id][-12:],
        statuses=[(s, t(f"cam_{s}")) for s in STATUSES],
        events=[(e, t(f"cam_{e}")) for e in EVENT_KINDS],
    )


def _page_user(request: Request, session):
    from pollwatch.service.web import page_user

    return page_user(request, session)


@page_router.get("/watch", response_class=HTMLResponse)
def watch_page(station: int, request: Request, session: SessionDep, saved: int = 0):
    from pollwatch.service.i18n import translator
    from pollwatch.service.web import _login_redirect

    user = _page_user(request, session)
    if user is None:
        return _login_redirect()
    return _page(session, user, station, translator(user.language)("saved") if saved else None)


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


@page_router.post("/watch/tally")
def watch_tally(
    request: Request,
    session: SessionDep,
    client_id: Annotated[uuid.UUID, Form()],
    station_id: Annotated[int, Form()],
    window_start: Annotated[str, Form()],
    window_minutes: Annotated[int, Form()] = 15,
    count: Annotated[str, Form()] = "",
    not_visible: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
):
    def build(user, station, day):
        start = _at(day, window_start)
        n = int(count) if count.strip() else None
        cols = watchers.clean_tally(
            start,
            start + dt.timedelta(minutes=window_minutes),
            None if not_visible else n,
            not not_visible,
            reason,
        )
        return m.CameraTally(
            client_id=str(client_id),
            station_id=station.id,
            watcher_id=user.id,
            channel="web",
            **cols,
        )

    return _web_file(request, session, station_id, build)


@page_router.post("/watch/log")
def watch_log(
    request: Request,
    session: SessionDep,
    client_id: Annotated[uuid.UUID, Form()],
    station_id: Annotated[int, Form()],
    at: Annotated[str, Form()],
    value: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
):
    def build(user, station, day):
        kind = "event" if value in EVENT_KINDS else "status"
        cols = watchers.clean_log(kind, value, _at(day, at), note)
        return m.CameraLog(
            client_id=str(client_id),
            station_id=station.id,
            watcher_id=user.id,
            channel="web",
            **cols,
        )

    return _web_file(request, session, station_id, build)


def _web_file(request: Request, session, station_id: int, build):
    from pollwatch.service.web import _login_redirect, render

    user = _page_user(request, session)
    if user is None:
        return _login_redirect()
    try:
        crud.require(user, watchers.FILERS)
        station = crud.get_station(session, station_id)
        election = session.scalar(select(m.Election).where(m.Election.id == station.election_id))
        watchers.create(session, user, build(user, station, _day(election)))
        session.commit()
    except ValueError as exc:  # a malformed time from a browser without time inputs
        session.rollback()
        return _page(session, user, station_id, str(exc), 422)
    except ServiceError as exc:
        session.rollback()
        if exc.status in (403, 404):
            return render("login.html.j2", user, status=exc.status, message=str(exc))
        return _page(session, user, station_id, str(exc), exc.status)
    # post/redirect/get: a reload does not resubmit, and the page gets fresh client ids
    return RedirectResponse(f"/watch?station={station_id}&saved=1", status_code=303)
