"""Server-rendered pages (Jinja2, one small script for the offline outbox), usable on a phone.

Login sets an HttpOnly, SameSite=Strict session cookie holding a random token (stored hashed,
like API tokens), so the pages and their script use the same JSON API and permission checks.
Without JavaScript, forms post back here and are handled by the same ``crud`` functions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.deps import SessionDep, StoreDep
from pollwatch.service.errors import ServiceError
from pollwatch.service.forms import forms
from pollwatch.service.i18n import translator
from pollwatch.service.models import Kind, Role
from pollwatch.service.rules import PROTOCOL_FIELDS
from pollwatch.service.taxonomy import CATEGORIES, SEVERITIES

router = APIRouter(include_in_schema=False)
_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["j2", "html"]),
)


def render(
    name: str, user: m.User | None, lang: str = "en", status: int = 200, **ctx
) -> HTMLResponse:
    lang = user.language if user else lang
    html = _env.get_template(name).render(user=user, lang=lang, t=translator(lang), **ctx)
    return HTMLResponse(html, status_code=status)


def page_user(request: Request, session: SessionDep) -> m.User | None:
    token = request.cookies.get(request.app.state.settings.session_cookie)
    user = crud.user_by_token(session, token) if token else None
    session.commit()  # give the connection back before the next thread-pool hop (see deps.get_db)
    return user


PageUser = Annotated[m.User | None, Depends(page_user)]


def _lang(request: Request) -> str:
    accept = request.headers.get("accept-language", "")[:2]
    return accept if accept in ("az", "ru") else "en"


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/login", status_code=303)


@router.get("/", response_class=HTMLResponse)
def home(user: PageUser):
    if user is None:
        return _login_redirect()
    if user.role in (Role.observer, Role.camera_watcher):
        return RedirectResponse("/stations", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser):
    return render("login.html.j2", None, _lang(request))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
):
    user = crud.authenticate(session, username, password)
    if user is None:
        lang = _lang(request)
        return render("login.html.j2", None, lang, 400, message=translator(lang)("bad_login"))
    token = crud.issue_token(session, user, kind="session")
    session.commit()
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(
        request.app.state.settings.session_cookie,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=7 * 24 * 3600,
    )
    return resp


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    name = request.app.state.settings.session_cookie
    if token := request.cookies.get(name):
        crud.revoke_token(session, token)
        session.commit()
    resp = _login_redirect()
    resp.delete_cookie(name)
    return resp


@router.get("/stations", response_class=HTMLResponse)
def my_stations(session: SessionDep, user: PageUser):
    if user is None:
        return _login_redirect()
    q = select(m.Station).where(m.Station.id.in_(crud.assigned_station_ids(session, user)))
    stations = session.scalars(q.order_by(m.Station.code)).all()
    return render("stations.html.j2", user, stations=stations, forms=list(forms().values()))


def _file_page(session, user, kind: str, station_id: int, form_name: str | None = None, **extra):
    station = crud.get_station(session, station_id)
    election = crud.get_election(session, station.election_id)
    form = forms().get(form_name) if form_name else None
    t = translator(user.language)
    title = f"{t('checklist')}: {form.title[user.language]}" if form else t(kind)
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
        now=dt.datetime.now().strftime("%Y-%m-%dT%H:%M"),
        **extra,
    )


@router.get("/file/checklist/{name}", response_class=HTMLResponse)
def checklist_page(name: str, station: int, session: SessionDep, user: PageUser):
    if user is None:
        return _login_redirect()
    return _file_page(session, user, "checklist", station, name)


@router.get("/file/{kind}", response_class=HTMLResponse)
def file_page(kind: str, station: int, session: SessionDep, user: PageUser):
    if user is None:
        return _login_redirect()
    if kind not in ("incident", "protocol"):
        return render("login.html.j2", user, status=404, message="Not found")
    return _file_page(session, user, kind, station)


async def _no_js_submit(data, session, store, user: m.User, kind: str, form_name: str | None):
    """The same submission as the script would send, built from the posted form."""
    cid = str(data.get("client_id") or uuid.uuid4())
    station = crud.get_station(session, int(data.get("station_id") or 0))
    crud.check_may_submit(session, user, station, kind, form_name or str(data.get("category", "")))
    if crud.existing_by_client_id(session, user, cid) is not None:
        return
    media_ids = []
    photo = data.get("photo")
    if photo is not None and hasattr(photo, "read") and (raw := await photo.read()):
        media, _ = crud.store_media(
            session, store, user, str(uuid.uuid4()), raw, photo.content_type or "image/jpeg"
        )
        session.flush()
        media_ids.append(media.id)
    fields = {k: v for k, v in data.items() if isinstance(v, str) and v != ""}
    if kind == Kind.checklist:
        answers = {k[2:]: v for k, v in fields.items() if k.startswith("a.")}
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
        crud.clean_incident(fields.get("category", ""), fields.get("severity", "medium"))
        sub = m.Submission(
            client_id=cid,
            kind=kind,
            form=fields["category"],
            station_id=station.id,
            observer_id=user.id,
            severity=fields.get("severity", "medium"),
            channel="web",
            occurred_at=dt.datetime.fromisoformat(
                fields.get("occurred_at") or dt.datetime.now().isoformat()
            ),
            description=fields.get("description", ""),
        )
    else:

        def ints(prefix):
            return {
                k[2:]: int(v) for k, v in fields.items() if k.startswith(prefix) and v.isdigit()
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
    crud.create_submission(session, user, sub, media_ids, checked=True)
    session.commit()


@router.post("/file/checklist/{name}")
async def checklist_submit(
    name: str, request: Request, session: SessionDep, store: StoreDep, user: PageUser
):
    return await _submit(request, session, store, user, Kind.checklist, name)


@router.post("/file/{kind}")
async def file_submit(
    kind: str, request: Request, session: SessionDep, store: StoreDep, user: PageUser
):
    return await _submit(request, session, store, user, kind, None)


async def _submit(request, session, store, user, kind, form_name) -> Response:
    if user is None:
        return _login_redirect()
    data = await request.form()
    try:
        await _no_js_submit(data, session, store, user, kind, form_name)
    except (ServiceError, ValueError) as exc:
        session.rollback()
        return render("login.html.j2", user, status=getattr(exc, "status", 422), message=str(exc))
    finally:
        await data.close()  # uploaded files are spooled to temporary files
    return render(
        "stations.html.j2", user, stations=[], forms=[], message=translator(user.language)("saved")
    )


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(session: SessionDep, user: PageUser):
    if user is None:
        return _login_redirect()
    crud.require(user, crud.READ_ALL)
    elections = []
    for e in session.scalars(select(m.Election).order_by(m.Election.id)):
        groups = crud.roster(session, user, e.id)["groups"]
        elections.append({"name": e.name, "coverage": groups[0]["forms"] if groups else {}})
    incidents = session.scalars(
        select(m.Submission)
        .where(m.Submission.kind == Kind.incident)
        .order_by(m.Submission.id.desc())
        .limit(20)
    ).all()
    return render(
        "dashboard.html.j2",
        user,
        elections=elections,
        incidents=incidents,
        categories=CATEGORIES,
        map_points=_map_points(session),
    )


@router.get("/review", response_class=HTMLResponse)
def review_page(session: SessionDep, user: PageUser):
    if user is None:
        return _login_redirect()
    crud.require(user, crud.STAFF)
    queue = session.scalars(
        select(m.Submission)
        .where(m.Submission.status.in_([m.Verification.new, m.Verification.under_review]))
        .order_by(m.Submission.id.desc())
        .limit(50)
    ).all()
    media: dict[int, list[int]] = {}
    ids = [s.id for s in queue]
    for mid, sid in session.execute(
        select(m.Media.id, m.Media.submission_id).where(
            m.Media.submission_id.in_(ids), m.Media.published_sha256.is_not(None)
        )
    ):
        media.setdefault(sid, []).append(mid)
    return render("review.html.j2", user, queue=queue, media=media, categories=CATEGORIES)


@router.post("/review/{sub_id}")
def review_submit(
    sub_id: int,
    session: SessionDep,
    user: PageUser,
    status: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
):
    if user is None:
        return _login_redirect()
    try:
        crud.review(session, user, sub_id, status, reason)
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return render("login.html.j2", user, status=exc.status, message=str(exc))
    return RedirectResponse("/review", status_code=303)


def _map_points(session, width: int = 320, height: int = 240) -> list[dict]:
    """Stations with coordinates projected into an SVG box; ``hot`` = a non-rejected incident."""
    rows = session.execute(
        select(m.Station.id, m.Station.code, m.Station.lat, m.Station.lon)
        .where(m.Station.lat.is_not(None), m.Station.lon.is_not(None))
        .limit(20000)
    ).all()
    if not rows:
        return []
    hot = set(
        session.scalars(
            select(m.Submission.station_id).where(
                m.Submission.kind == Kind.incident, m.Submission.status != m.Verification.rejected
            )
        )
    )
    lats, lons = [r.lat for r in rows], [r.lon for r in rows]
    dy, dx = (max(lats) - min(lats)) or 1.0, (max(lons) - min(lons)) or 1.0
    return [
        {
            "x": 5 + (r.lon - min(lons)) / dx * (width - 10),
            "y": 5 + (max(lats) - r.lat) / dy * (height - 10),
            "code": r.code,
            "hot": r.id in hot,
        }
        for r in rows
    ]
