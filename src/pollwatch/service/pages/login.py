"""The home redirect, login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pollwatch.service import crud
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.i18n import translator
from pollwatch.service.pages.common import PageUser, login_redirect, render, request_lang
from pollwatch.service.permissions import FIELD_ROLES

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(user: PageUser):
    if user is None:
        return login_redirect()
    if user.role in FIELD_ROLES:
        return RedirectResponse("/stations", status_code=303)
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
    user = crud.authenticate(session, username, password)
    if user is None:
        lang = request_lang(request)
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
    resp = login_redirect()
    resp.delete_cookie(name)
    return resp
