"""A thin path for the submission POSTs, in front of FastAPI's router.

On election day nearly every request is ``POST /api/incidents`` (or checklists, protocols), and
FastAPI's generic machinery around each one (router matching, dependency resolution through
``solve_dependencies``, its exit stacks and sub-response) cost more server CPU than the route
and the writer together. :class:`SubmissionFastPath` is a pure ASGI middleware that handles the
common case of those routes itself, with FastAPI's own pieces, in the same order:

* the bearer token from ``Authorization`` (``HTTPBearer``'s parsing), the user from
  ``deps.user_for_token`` (the token cache, or the lookup on a session as ``get_db`` opens it);
* the body: ``json.loads`` then the route's ``body_field.validate`` (FastAPI's two calls);
* the route's own endpoint function, awaited with those values (so it builds the same draft);
* the reply: the route's ``response_field`` validation and ``serialize_json`` (FastAPI's
  ``dump_json`` path), or the app's exception handler for a ``ServiceError``.

Anything else goes to the FastAPI app unchanged, with the body replayed: no bearer token (a
session cookie), a token that finds no user, another content type, a body that is not JSON or
does not validate, media attached, dependency overrides. So every reply the fast path does not
make itself is FastAPI's, and the ones it makes are built from the same parts.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Response
from fastapi.exceptions import ResponseValidationError
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pollwatch.service.api import deps


@dataclass(frozen=True)
class _Route:
    route: APIRoute
    call: Callable[..., Awaitable[Any]]
    params: dict[str, str]  # endpoint parameter -> "body" | "response" | "session" | ...


_PROVIDERS = {deps.get_db: "session", deps.get_current_user: "user", deps.get_writer: "writer"}


def fast_route(route: APIRoute) -> _Route:
    """The fast-path description of ``route``; ``ValueError`` if it takes anything the fast
    path does not provide (then it must stay on FastAPI's path: change ``FAST_ROUTES``)."""
    d = route.dependant
    extra = d.path_params or d.query_params or d.header_params or d.cookie_params
    single_body = len(d.body_params) == 1 and d.body_params[0] is route.body_field
    if extra or d.request_param_name or d.background_tasks_param_name or not single_body:
        raise ValueError(f"{route.path}: parameters the fast path does not provide")
    if route._embed_body_fields or route.response_field is None:
        raise ValueError(f"{route.path}: body or reply not as the fast path makes them")
    params = {route.body_field.name: "body"}
    if d.response_param_name:
        params[d.response_param_name] = "response"
    for sub in d.dependencies:
        if sub.call not in _PROVIDERS or sub.name is None:
            raise ValueError(f"{route.path}: dependency {sub.call} is not on the fast path")
        params[sub.name] = _PROVIDERS[sub.call]
    return _Route(route, d.call, params)


class SubmissionFastPath:
    """ASGI middleware: ``routes`` maps a full path (``/api/incidents``) to its POST route."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI, routes: dict[str, APIRoute]) -> None:
        self.app = app
        self.fastapi = fastapi
        self.routes = {path: fast_route(r) for path, r in routes.items()}
        self.handled = 0  # replies made here (tests, benchmarks)
        fastapi.state.fast_path = self  # built with the middleware stack, at the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope.get("root_path")
            or (fast := self.routes.get(scope["path"])) is None
            or self.fastapi.dependency_overrides
        ):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if body is None or not await self._handle(fast, scope, body, send):
            await self.app(scope, _replay(messages, receive), send)

    async def _handle(self, fast: _Route, scope: Scope, body: bytes, send: Send) -> bool:
        """Reply and return True, or return False having sent nothing (FastAPI replies)."""
        authorization = content_type = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers.get
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value
        scheme, token = get_authorization_scheme_param(authorization)
        if content_type != b"application/json" or not token or scheme.lower() != "bearer":
            return False
        try:
            payload = json.loads(body)
        except ValueError:
            return False
        route = fast.route
        model, errors = route.body_field.validate(payload, {}, loc=("body",))
        if errors or getattr(model, "media_ids", None):  # media: checked on the request session
            return False
        state = self.fastapi.state
        session = state.sessions()
        try:
            user = await deps.user_for_token(state, session, token)
            if user is None:
                return False
            deps.remember_language(scope, user)  # the error handlers answer in it
            sub_response = Response()
            del sub_response.headers["content-length"]
            sub_response.status_code = None  # as FastAPI's solved sub-response
            provided = {
                "body": model,
                "response": sub_response,
                "session": session,
                "user": user,
                "writer": state.writer,
            }
            try:
                row = await fast.call(**{p: provided[k] for p, k in fast.params.items()})
            except Exception as exc:
                handler = self._handler(exc)
                if handler is None:
                    raise
                reply = handler(Request(scope), exc)
                if hasattr(reply, "__await__"):
                    reply = await reply
                await reply(scope, _no_receive, send)
                self.handled += 1
                return True
        finally:
            session.close()
        value, errors = route.response_field.validate(row, {}, loc=("response",))
        if errors:
            raise ResponseValidationError(errors=errors, body=row)
        content = route.response_field.serialize_json(
            value,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
        )
        headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
            *sub_response.raw_headers,
        ]
        status = sub_response.status_code or route.status_code or 200
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        self.handled += 1
        return True

    def _handler(self, exc: Exception):
        """The app's exception handler for ``exc`` (by class, most specific first), as
        Starlette's ``ExceptionMiddleware`` chooses it; None: let it propagate (500)."""
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers and cls is not Exception:
                return handlers[cls]
        return None


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message up to the end of the body, and the body (None: the client went away)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been read: the messages taken, then the rest."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
