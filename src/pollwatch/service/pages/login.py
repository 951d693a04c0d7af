"""The home redirect, login and logout pages."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pollwatch.i18n import gettext
from pollwatch.service import crud, throttle
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.models import Role
from pollwatch.service.pages.common import (
    PageUser,
    login_redirect,
    render,
    request_lang,
    secure_cookies,
)
from pollwatch.service.permissions import FIELD_ROLES

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(user: PageUser):
    if user is None:
        return login_redirect()
    if user.role in FIELD_ROLES:
        return RedirectResponse("/stations", status_code=303)
    if user.role == Role.transcriber:
        return RedirectResponse("/census/transcribe", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser):
    return render("login.html.j2", None, request_lang(request))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
):
    lang = request_lang(request)
    try:
        throttle.guard(request, username)
    except throttle.TooManyAttempts as exc:
        resp = render(
            "login.html.j2",
            None,
            lang,
            429,
            message=gettext("Too many failed logins: try again later", lang),
        )
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    user = crud.authenticate(session, username, password)
    if user is None:
        return render(
            "login.html.j2",
            None,
            lang,
            400,
            message=gettext("Incorrect username or password", lang),
        )
    throttle.succeeded(request, username)
    settings = request.app.state.settings
    lifetime = dt.timedelta(hours=settings.session_hours)
    # a new token at each login (rotation): a session cookie planted before login is useless
    token = crud.issue_token(session, user, kind="session", lifetime=lifetime)
    if old := request.cookies.get(settings.session_cookie):
        crud.revoke_token(session, old)
    session.commit()
    resp = RedirectResponse("/", status_code=303)
    resp.set_cookie(
        settings.session_cookie,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        max_age=int(lifetime.total_seconds()),
        path="/",
    )
    return resp


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    name = request.app.state.settings.session_cookie
    if token := request.cookies.get(name):
        crud.revoke_token(session, token)
        session.commit()
    resp = login_redirect()
    # the phone's copy goes too: the offline outbox, cached pages, the service worker
    # (docs/offline.md); browsers without Clear-Site-Data rely on offline.js doing the same
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    resp.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=secure_cookies(request)
    )
    return resp
