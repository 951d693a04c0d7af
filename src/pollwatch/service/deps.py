"""FastAPI dependencies: settings, session, the current user (bearer token or session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from pollwatch.evidence.media import MediaStore
from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.config import Settings
from pollwatch.service.writer import GroupCommitter

_bearer = HTTPBearer(auto_error=False)


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request):
    # async: opening a Session does no I/O, so it needs no thread-pool hop. Closing is done here
    # on the event loop (at most a ROLLBACK): awaiting a pool thread while holding a connection
    # could deadlock with pool threads that are all waiting for a connection.
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


async def get_store(request: Request) -> MediaStore:
    return request.app.state.store


async def get_writer(request: Request) -> GroupCommitter:
    return request.app.state.writer


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_db)]
StoreDep = Annotated[MediaStore, Depends(get_store)]
WriterDep = Annotated[GroupCommitter, Depends(get_writer)]


def get_current_user(
    request: Request,
    session: SessionDep,
    cred: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> m.User:
    token = (
        cred.credentials if cred else request.cookies.get(request.app.state.settings.session_cookie)
    )
    user = crud.user_by_token(session, token) if token else None
    session.commit()  # give the connection back before the next thread-pool hop (see get_db)
    if user is None:
        raise HTTPException(
            status_code=401, detail="Not authenticated", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


CurrentUser = Annotated[m.User, Depends(get_current_user)]
