"""The browser's side of the service: security headers, the Origin check and CSRF tokens.

``BrowserGuard`` (pure ASGI middleware, outermost, so the submission fast path's answers get
the headers too) does two things:

* adds to every response ``Content-Security-Policy`` (``CSP``: this origin's scripts, styles
  and images only, no inline script or style, no framing, forms post only here, the
  service worker ``/sw.js`` from this origin only),
  ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff`` and
  ``Referrer-Policy: same-origin`` (not ``no-referrer``: with it, browsers send
  ``Origin: null`` on same-origin POSTs, which would defeat the check below);
* refuses (403) an unsafe request (POST, PUT, PATCH, DELETE) that a browser could have been
  tricked into sending: one that carries no bearer token but the session cookie, or that
  posts the login form, and whose ``Origin`` (else ``Referer``) names another origin than the
  request's own host (other requests, the SMS gateway's for one, are not a browser's). A request with neither header is let through: browsers send
  ``Origin`` on every POST, scripts and API clients with bearer tokens are not at risk.

Cookie forms also carry a synchronizer token (``csrf_token``: an HMAC, under a key derived
from the service's secret, of the session token, so it changes with each login and needs no
storage), which the page router checks on every unsafe request (``pages.common.check_csrf``).
Bearer-token API calls are exempt from both: a browser never adds that header on its own.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' data:; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def csrf_key(secret: bytes) -> bytes:
    """The key of the CSRF tokens, derived from the service's secret (never the secret)."""
    return hmac.new(secret, b"pollwatch csrf v1", hashlib.sha256).digest()


def csrf_token(key: bytes, session_token: str) -> str:
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: bytes, session_token: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(key, session_token), sent)


def _header(scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return v.decode("latin-1")
    return None


def cross_origin(scope) -> bool:
    """True when ``Origin`` (else ``Referer``) is present and names another host than
    ``Host``: the request came from another site's page."""
    source = _header(scope, b"origin") or _header(scope, b"referer")
    if source is None:
        return False
    host = _header(scope, b"host")
    parts = urlsplit(source)
    return source == "null" or not parts.netloc or parts.netloc != host


class BrowserGuard:
    """Security headers on every response; cross-origin cookie requests refused (module doc)."""

    def __init__(self, app, cookie: str = "pollwatch_session") -> None:
        self.app = app
        self._cookie = cookie + "="

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in UNSAFE and self._browser_borne(scope) and cross_origin(scope):
            await _forbidden(send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _browser_borne(self, scope) -> bool:
        """No bearer token, and the session cookie or the login form."""
        auth = _header(scope, b"authorization") or ""
        if auth.lower().startswith("bearer "):
            return False
        if scope["path"] == "/login":
            return True
        cookies = _header(scope, b"cookie") or ""
        return any(c.strip().startswith(self._cookie) for c in cookies.split(";"))


async def _forbidden(send) -> None:
    body = b'{"detail":"Cross-origin request refused"}'
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
