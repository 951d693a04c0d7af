"""Observers' pages: their stations and the filing forms (checklists, incidents, protocol
copies), usable on a phone; one small script (``static/offline.js``) keeps an offline outbox.

The script posts to the JSON API. Without JavaScript, forms post back here and are handled by
the same ``crud`` functions.
"""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from pollwatch.i18n import gettext
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep, StoreDep
from pollwatch.service.checkpoints import receipt_for
from pollwatch.service.errors import ServiceError, error_text
from pollwatch.service.forms import forms
from pollwatch.service.i18n import KIND_LABELS, label
from pollwatch.service.models import Kind
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import assigned_station_ids, quickcount_marks
from pollwatch.service.rules import PROTOCOL_FIELDS
from pollwatch.service.schemas import (
    Code,
    Count,
    Description,
    Id,
    IdQuery,
    Json,
    Severity,
    When,
    parse,
)
from pollwatch.service.taxonomy import CATEGORIES, SEVERITIES

router = APIRouter(include_in_schema=False)


def _field(tp, data, name: str, default):
    """Form field ``name`` validated as ``tp``; a ValueError that names the field."""
    value = data.get(name)
    try:
        return parse(tp, default if value in (None, "") else value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


@router.get("/stations", response_class=HTMLResponse)
def my_stations(session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    q = select(m.Station).where(m.Station.id.in_(assigned_station_ids(session, user)))
    stations = session.scalars(q.order_by(m.Station.code)).all()
    marks = quickcount_marks(session, user, [s.id for s in stations])
    return render(
        "stations.html.j2", user, stations=stations, forms=list(forms().values()), qc_marks=marks
    )


def _file_page(session, user, kind: str, station_id: int, form_name: str | None = None, **extra):
    station = crud.get_station(session, station_id)
    election = crud.get_election(session, station.election_id)
    form = forms().get(form_name) if form_name else None
    lang = user.language
    kind_label = label(KIND_LABELS, kind, lang)
    title = f"{kind_label}: {form.title.get(lang, form.title['en'])}" if form else kind_label
    api = {
        "checklist": "/api/checklists",
        "incident": "/api/incidents",
        "protocol": "/api/protocols",
    }[kind]
    return render(
        "file.html.j2",
        user,
        kind=kind,
        api=api,
        station=station,
        form=form,
        title=title,
        client_id=str(uuid.uuid4()),
        categories=CATEGORIES,
        severities=SEVERITIES,
        protocol_fields=PROTOCOL_FIELDS,
        candidates=election.candidates,
        qc_mark=bool(quickcount_marks(session, user, [station.id])),
        now=dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    )


@router.get("/file/checklist/{name}", response_class=HTMLResponse)
def checklist_page(name: str, station: IdQuery, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    return _file_page(session, user, "checklist", station, name)


@router.get("/file/{kind}", response_class=HTMLResponse)
def file_page(kind: str, station: IdQuery, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    if kind not in ("incident", "protocol"):
        return render("login.html.j2", user, status=404, message="Not found")
    return _file_page(session, user, kind, station)


async def _no_js_submit(
    data,
    session,
    store,
    user: m.User,
    kind: str,
    form_name: str | None,
    written: list[str],
    max_pixels: int,
):
    """The same submission as the script would send, built from the posted form, each field
    within the API's bounds (``schemas.parse``: a ``ValueError`` naming the field otherwise);
    the files it adds to the store are listed in ``written`` (see ``crud.media_files``)."""
    cid = str(uuid.UUID(str(data.get("client_id") or uuid.uuid4())))
    station = crud.get_station(session, _field(Id, data, "station_id", 0))
    category = _field(Code, data, "category", "")
    crud.check_may_submit(session, user, station, kind, form_name or category)
    if crud.existing_by_client_id(session, user, cid) is not None:
        return None
    media_ids = []
    photo = data.get("photo")
    if photo is not None and hasattr(photo, "read") and (raw := await photo.read()):
        media, _ = crud.store_media(
            session,
            store,
            user,
            str(uuid.uuid4()),
            raw,
            photo.content_type or "image/jpeg",
            max_pixels=max_pixels,
            written=written,
        )
        session.flush()
        media_ids.append(media.id)
    fields = {k: v for k, v in data.items() if isinstance(v, str) and v != ""}
    if kind == Kind.checklist:
        answers = parse(Json, {k[2:]: v for k, v in fields.items() if k.startswith("a.")})
        answers, complete, flags = crud.clean_checklist(form_name, answers, station.registered)
        sub = m.Submission(
            client_id=cid,
            kind=kind,
            form=form_name,
            station_id=station.id,
            channel="web",
            observer_id=user.id,
            answers=answers,
            complete=complete,
            flags=flags,
        )
    elif kind == Kind.incident:
        severity = _field(Severity, fields, "severity", "medium")
        crud.clean_incident(category, severity)
        sub = m.Submission(
            client_id=cid,
            kind=kind,
            form=category,
            station_id=station.id,
            observer_id=user.id,
            severity=severity,
            channel="web",
            occurred_at=_field(When, fields, "occurred_at", dt.datetime.now()).replace(tzinfo=None),
            description=_field(Description, fields, "description", ""),
        )
    else:

        def ints(prefix):
            return {
                k[2:]: parse(Count, v)
                for k, v in fields.items()
                if k.startswith(prefix) and v.isdigit()
            }

        election = crud.get_election(session, station.election_id)
        answers, flags = crud.clean_protocol(election, ints("n."), ints("v."), station.registered)
        sub = m.Submission(
            client_id=cid,
            kind=kind,
            form="protocol",
            station_id=station.id,
            channel="web",
            observer_id=user.id,
            answers=answers,
            flags=flags,
        )
    row, _ = crud.create_submission(session, user, sub, media_ids, checked=True)
    session.commit()
    return row


@router.post("/file/checklist/{name}")
async def checklist_submit(
    name: str, request: Request, session: SessionDep, store: StoreDep, user: PageUser
):
    return await _submit(request, session, store, user, Kind.checklist, name)


@router.post("/file/{kind}")
async def file_submit(
    kind: str, request: Request, session: SessionDep, store: StoreDep, user: PageUser
):
    if user is not None and kind not in (
        Kind.incident,
        Kind.protocol,
    ):  # as the page: no other kind is filed here
        return render("login.html.j2", user, status=404, message="Not found")
    return await _submit(request, session, store, user, kind, None)


async def _submit(request, session, store, user, kind, form_name) -> Response:
    if user is None:
        return login_redirect()
    data = await request.form()
    try:
        with crud.media_files(session, store) as written:
            max_pixels = request.app.state.settings.max_image_pixels
            row = await _no_js_submit(
                data, session, store, user, kind, form_name, written, max_pixels
            )
    except (ServiceError, ValueError) as exc:
        session.rollback()
        return render(
            "login.html.j2",
            user,
            status=getattr(exc, "status", 422),
            message=error_text(exc, user.language),
        )
    finally:
        await data.close()  # uploaded files are spooled to temporary files
    receipt = receipt_for(request.app.state.notary, session, row) if row is not None else None
    return render(
        "stations.html.j2",
        user,
        stations=[],
        forms=[],
        message=gettext("Received. Thank you.", user.language),
        receipt=receipt.text() if receipt is not None else None,
    )
