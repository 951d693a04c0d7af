from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from pollwatch.i18n import N_
from pollwatch.service import crud, throttle
from pollwatch.service.api.deps import CurrentUser, SessionDep, SettingsDep
from pollwatch.service.errors import Msg
from pollwatch.service.schemas import Token

router = APIRouter(tags=["login"])


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else None


@router.post("/login/access-token", response_model=Token)
def login_access_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
):
    """Exchange a username and password for a bearer token (valid ``token_hours``). Failed
    logins are throttled per account and per address: 429 with ``Retry-After``."""
    throttle.guard(request, form.username)
    user = crud.authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(status_code=400, detail=Msg(N_("Incorrect username or password")))
    throttle.succeeded(request, form.username)
    token = crud.issue_token(session, user, lifetime=dt.timedelta(hours=settings.token_hours))
    session.commit()
    return Token(access_token=token)


@router.post("/login/refresh", response_model=Token)
def refresh_token(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    """Exchange the bearer token of this request for a new one (valid ``token_hours`` from
    now); the old one stops working at once."""
    old = _bearer(request)
    new = crud.rotate_token(session, old, dt.timedelta(hours=settings.token_hours)) if old else None
    if new is None:
        raise HTTPException(status_code=400, detail=Msg(N_("Only a bearer token can be refreshed")))
    session.commit()
    return Token(access_token=new)


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, user: CurrentUser) -> None:
    """Revoke the token used for this request (bearer token or session cookie)."""
    token = _bearer(request) or request.cookies.get(request.app.state.settings.session_cookie)
    if token:
        crud.revoke_token(session, token)
        session.commit()
