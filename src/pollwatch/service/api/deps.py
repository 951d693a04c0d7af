"""FastAPI dependencies: settings, session, the current user (bearer token or session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from pollwatch.evidence.media import MediaStore
from pollwatch.i18n import N_, negotiate, normalise
from pollwatch.service import crud, db, security
from pollwatch.service import models as m
from pollwatch.service.config import Settings
from pollwatch.service.errors import Msg
from pollwatch.service.throughput.tokens import TokenCache
from pollwatch.service.throughput.writer import GroupCommitter

_bearer = HTTPBearer(auto_error=False)
READS = frozenset({"GET", "HEAD"})


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request):
    # async: opening a Session does no I/O, so it needs no thread-pool hop. Closing is done here
    # on the event loop (at most a ROLLBACK): awaiting a pool thread while holding a connection
    # could deadlock with pool threads that are all waiting for a connection.
    # GET and HEAD only read: on SQLite their transactions take no write lock (db.reader).
    state = request.app.state
    session = state.sessions(bind=state.reader) if request.method in READS else state.sessions()
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


async def get_current_user(
    request: Request,
    session: SessionDep,
    cred: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> m.User:
    """The user behind the bearer token or session cookie, else 401 (see ``user_for_token``)."""
    token = (
        cred.credentials if cred else request.cookies.get(request.app.state.settings.session_cookie)
    )
    user = await user_for_token(request.app.state, session, token) if token else None
    if user is None:
        raise _unauthenticated()
    remember_language(request.scope, user)
    return user


def remember_language(scope: Scope, user: m.User) -> None:
    """Note ``user``'s language on the request (``scope["state"]``, what ``request.state``
    reads): the error handlers answer in it. Costs nothing, the user is already loaded."""
    scope.setdefault("state", {})["lang"] = normalise(user.language)


def request_language(request: Request) -> str:
    """The language of an error reply: the authenticated user's (``remember_language``), else
    negotiated from ``Accept-Language``, English by default. No database query: a request that
    fails before its user is known (a 401, a bad body) answers in the header's language."""
    return request.scope.get("state", {}).get("lang") or negotiate(
        request.headers.get("accept-language")
    )


async def user_for_token(state, session: Session, token: str) -> m.User | None:
    """The active user behind ``token`` (unexpired, unrevoked), or None. On PostgreSQL a user seen before comes from
    this process's ``TokenCache`` (``state.tokens``: no round trip, no thread); otherwise the
    lookup runs in the thread pool and its result is remembered. Shared with ``fastpath``."""
    cache: TokenCache | None = state.tokens
    digest = security.hash_token(token)
    if cache is not None:
        user = cache.get(digest)
        if user is not None:
            return user
        generation = cache.generation  # before the lookup: a change meanwhile discards its result
    found = await run_in_threadpool(_user_by_token, session, token)
    if found is None:
        return None
    user, expires_at = found
    if cache is not None:
        cache.put(digest, user, generation, expires_at)
    return user


def _user_by_token(session: Session, token: str):
    db.begin_read(session)  # SQLite: no write lock for a lookup (an unknown token is anonymous)
    found = crud.user_and_expiry(session, token)
    session.commit()  # give the connection back before the next thread-pool hop (see get_db)
    return found


def _unauthenticated() -> HTTPException:
    return HTTPException(
        status_code=401,
        detail=Msg(N_("Not authenticated")),
        headers={"WWW-Authenticate": "Bearer"},
    )


CurrentUser = Annotated[m.User, Depends(get_current_user)]
