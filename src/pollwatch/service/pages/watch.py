"""The camera watchers' phone page ``/watch?station=ID``: files a window count or a status
change without JavaScript (rules in ``crud.cameras``, as the JSON API ``/api/camera/...``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pollwatch.cameras.data import EVENT_KINDS, STATUSES
from pollwatch.i18n import gettext
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.api.routes.watchers import Reason
from pollwatch.service.crud import cameras as watchers
from pollwatch.service.errors import ServiceError
from pollwatch.service.i18n import CAMERA_LABELS, label
from pollwatch.service.pages.common import login_redirect, page_user, render
from pollwatch.service.permissions import CAMERA_FILERS, require
from pollwatch.service.schemas import ID_MAX, Code, Count, IdQuery, Note, parse

router = APIRouter(include_in_schema=False)


def _day(election: m.Election) -> dt.date:
    try:
        return dt.date.fromisoformat(election.date)
    except ValueError:
        return dt.date.today()


def _recount_settings(request: Request) -> dict:
    st = request.app.state.settings
    return {"share": st.camera_recount_share, "seed": st.camera_recount_seed}


def _page(
    session,
    user: m.User,
    station_id: int,
    message: str | None = None,
    status: int = 200,
    *,
    recount: dict,
):
    station = crud.get_station(session, station_id)
    watchers.check_may_file(session, user, station)
    tallies, _ = watchers.list_rows(session, user, m.CameraTally, station.id, limit=1000)
    logs, _ = watchers.list_rows(session, user, m.CameraLog, station.id, limit=1000)
    mine = [r for r in tallies if r.watcher_id == user.id]
    last = max((r.window_end for r in mine), default=None)
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
        statuses=[(s, label(CAMERA_LABELS, s, user.language)) for s in STATUSES],
        events=[(e, label(CAMERA_LABELS, e, user.language)) for e in EVENT_KINDS],
        # blind: the window and the station, never what anyone else counted there
        recounts=[
            (st, a, b, str(uuid.uuid4()))
            for st, a, b in watchers.my_recounts(session, user, station.election_id, **recount)
        ],
    )


@router.get("/watch", response_class=HTMLResponse)
def watch_page(station: IdQuery, request: Request, session: SessionDep, saved: int = 0):
    user = page_user(request, session)
    if user is None:
        return login_redirect()
    msg = gettext("Received. Thank you.", user.language) if saved else None
    return _page(session, user, station, msg, recount=_recount_settings(request))


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


@router.post("/watch/tally")
def watch_tally(
    request: Request,
    session: SessionDep,
    client_id: Annotated[uuid.UUID, Form()],
    station_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    window_start: Annotated[str, Form(max_length=10)],
    window_minutes: Annotated[int, Form(ge=1, le=240)] = 15,
    count: Annotated[str, Form(max_length=20)] = "",
    not_visible: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form()] = "",
):
    def build(user, station, day):
        start = _at(day, window_start)
        n = parse(Count, count.strip()) if count.strip() else None
        cols = watchers.clean_tally(
            start,
            start + dt.timedelta(minutes=window_minutes),
            None if not_visible else n,
            not not_visible,
            parse(Reason, reason),
        )
        return m.CameraTally(
            client_id=str(client_id),
            station_id=station.id,
            watcher_id=user.id,
            channel="web",
            **cols,
        )

    return _web_file(request, session, station_id, build)


@router.post("/watch/recount")
def watch_recount(
    request: Request,
    session: SessionDep,
    client_id: Annotated[uuid.UUID, Form()],
    station_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    back: Annotated[int, Form(ge=1, le=ID_MAX)],
    window_start: Annotated[str, Form(max_length=30)],
    window_end: Annotated[str, Form(max_length=30)],
    count: Annotated[str, Form(max_length=20)] = "",
    not_visible: Annotated[str, Form(max_length=10)] = "",
    reason: Annotated[str, Form()] = "",
):
    """A blind re-count the design assigned to this watcher (any station of the election: the
    assignment, not the station's roster, gives the right to file it). ``back``: the watch
    page it was filed from."""

    def build(user, station, day):
        n = parse(Count, count.strip()) if count.strip() else None
        cols = watchers.clean_tally(
            dt.datetime.fromisoformat(window_start),
            dt.datetime.fromisoformat(window_end),
            None if not_visible else n,
            not not_visible,
            parse(Reason, reason),
        )
        return m.CameraTally(
            client_id=str(client_id), station_id=station.id, watcher_id=user.id, **cols
        )

    def store(session, user, row):
        return watchers.create_recount(session, user, row, **_recount_settings(request))

    return _web_file(request, session, station_id, build, back=back, store=store)


@router.post("/watch/log")
def watch_log(
    request: Request,
    session: SessionDep,
    client_id: Annotated[uuid.UUID, Form()],
    station_id: Annotated[int, Form(ge=1, le=ID_MAX)],
    at: Annotated[str, Form(max_length=10)],
    value: Annotated[str, Form(max_length=40)],
    note: Annotated[str, Form()] = "",
):
    def build(user, station, day):
        kind = "event" if value in EVENT_KINDS else "status"
        cols = watchers.clean_log(kind, parse(Code, value), _at(day, at), parse(Note, note))
        return m.CameraLog(
            client_id=str(client_id),
            station_id=station.id,
            watcher_id=user.id,
            channel="web",
            **cols,
        )

    return _web_file(request, session, station_id, build)


def _web_file(request: Request, session, station_id: int, build, *, back=None, store=None):
    user = page_user(request, session)
    if user is None:
        return login_redirect()
    back = back or station_id  # the watch page to return to
    recount = _recount_settings(request)
    try:
        require(user, CAMERA_FILERS)
        station = crud.get_station(session, station_id)
        election = session.scalar(select(m.Election).where(m.Election.id == station.election_id))
        (store or watchers.create)(session, user, build(user, station, _day(election)))
        session.commit()
    except ValueError as exc:  # a malformed time from a browser without time inputs
        session.rollback()
        return _page(session, user, back, str(exc), 422, recount=recount)
    except ServiceError as exc:
        session.rollback()
        if exc.status in (403, 404):
            return render("login.html.j2", user, status=exc.status, message=exc.text(user.language))
        return _page(session, user, back, exc.text(user.language), exc.status, recount=recount)
    # post/redirect/get: a reload does not resubmit, and the page gets fresh client ids
    return RedirectResponse(f"/watch?station={back}&saved=1", status_code=303)
