"""``BodyLimit``: a streaming request-size limit, per route, in front of everything else;
``Gate``: at most a few requests at once on the routes anyone may call that cost CPU.

Without it, an anonymous client could make the server hold any body it sent: the submission
fast path, FastAPI's JSON and form parsing all read the whole body before anyone checks who
sent it (a 200 MB anonymous POST grew the server by 1 GB before its 401). This pure ASGI
middleware is the outermost layer of the app, so it runs before authentication and before
anything reads the body:

* a ``Content-Length`` above the route's limit is answered 413 at once, the body unread;
* otherwise the body is counted as it streams in (``Transfer-Encoding: chunked`` included) and
  the request fails with 413 as soon as it passes the limit; nothing downstream ever holds more
  than the limit.

The limit is the longest matching path prefix's (``Settings.body_limits``: smaller for the SMS
webhook, larger for media uploads and election imports), but a limit larger than the default
applies only to a request that presents a credential (a bearer token or the session cookie):
nobody needs to send an anonymous photo. The credential is only looked at, not checked (that costs a database lookup):
an attacker with a made-up token gets the upload limit, bounded all the same.
"""

from __future__ import annotations

import asyncio
import json
import weakref

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once the body passes the limit: a Starlette ``HTTPException``, so
    FastAPI's body parsing re-raises it (others become a 400) and its handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"Request body too large: at most {limit} bytes here"


class BodyLimit:
    """``limits``: path prefix -> bytes (above ``default``: for requests with a credential);
    ``default`` for every other path. ``cookie``: the session cookie's name."""

    def __init__(self, app: ASGIApp, *, default: int, limits: dict[str, int], cookie: str) -> None:
        self.app = app
        self.default = default
        self.limits = sorted(limits.items(), key=lambda kv: -len(kv[0]))
        self.cookie = cookie.encode()
        self.refused = 0  # 413s sent (tests)

    def limit_for(self, scope: Scope) -> int:
        path = scope["path"]
        limit = next((n for prefix, n in self.limits if path.startswith(prefix)), self.default)
        if limit <= self.default:
            return limit
        for name, value in scope["headers"]:
            if name == b"authorization" or (name == b"cookie" and self.cookie + b"=" in value):
                return limit
        return self.default  # more than the default only for a request with a credential

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reply(send, 400, "Invalid Content-Length")
                    return
                break
        if declared is not None and declared > limit:
            await self._reply(send, 413, too_large(limit))
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reply(send, 413, too_large(limit))

    async def _reply(self, send: Send, status: int, detail: str) -> None:
        if status == 413:
            self.refused += 1
        body = json.dumps({"detail": detail}).encode()
        # Connection: close, so the server does not read the rest of the body to keep it alive
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class Gate:
    """At most ``n`` requests at once on each of the gated routes (``rules``: (method, path
    prefix) -> n), the others waiting on the event loop, before any thread, connection or body
    is taken for them. For the routes anyone may call that cost CPU: the password checks of the
    logins (argon2, ~0.1-0.3 s and 64 MiB each) and the public feed. Without it, 32 clients
    sending wrong passwords held 32 of the thread pool's 40 threads and every core; here they
    queue behind ``n`` checks, and the submissions, which need a thread and the CPU only for
    milliseconds, pass them."""

    def __init__(self, app: ASGIApp, *, rules: dict[tuple[str, str], int]) -> None:
        self.app = app
        self.rules = sorted(rules.items(), key=lambda kv: -len(kv[0][1]))
        self._sems: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _semaphore(self, key: tuple[str, str], n: int) -> asyncio.Semaphore:
        # one per event loop (a TestClient runs each request on a new one)
        per_loop = self._sems.setdefault(asyncio.get_running_loop(), {})
        if key not in per_loop:
            per_loop[key] = asyncio.Semaphore(n)
        return per_loop[key]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            for (m, prefix), n in self.rules:
                if method == m and path.startswith(prefix):
                    async with self._semaphore((m, prefix), n):
                        await self.app(scope, receive, send)
                    return
        await self.app(scope, receive, send)
