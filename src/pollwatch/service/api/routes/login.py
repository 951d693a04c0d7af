from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordRequestForm

from pollwatch.service import crud
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.schemas import Token

router = APIRouter(tags=["login"])


@router.post("/login/access-token", response_model=Token)
def login_access_token(session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]):
    """Exchange a username and password for a bearer token."""
    user = crud.authenticate(session, form.username, form.password)
    if user is None:
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    token = crud.issue_token(session, user)
    session.commit()
    return Token(access_token=token)


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, user: CurrentUser) -> None:
    """Revoke the token used for this request."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        crud.revoke_token(session, auth[7:])
        session.commit()
