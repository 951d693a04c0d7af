"""What every page needs: the templates, the user behind the session cookie, the redirect to
the login page.

Login sets an HttpOnly, SameSite=Strict session cookie holding a random token (stored hashed,
like API tokens, expiring after ``session_hours``; ``Secure`` over HTTPS or when the settings
say ``behind_tls``), so the pages and their script use the same JSON API and permission checks.
Every form of a logged-in page carries ``user.csrf_token`` (``websecurity``), which
``check_csrf``, a dependency of the whole page router, requires on every unsafe request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pollwatch.service import crud, db
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.i18n import translator
from pollwatch.service.websecurity import CSRF_FIELD, CSRF_HEADER, UNSAFE, csrf_ok, csrf_token

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["j2", "html"]),
)


def render(
    name: str, user: m.User | None, lang: str = "en", status: int = 200, **ctx
) -> HTMLResponse:
    """Template ``name`` in the user's language (``lang`` before login), with ``t`` to translate."""
    lang = user.language if user else lang
    html = _env.get_template(name).render(user=user, lang=lang, t=translator(lang), **ctx)
    return HTMLResponse(html, status_code=status)


def page_user(request: Request, session: SessionDep) -> m.User | None:
    """The user behind the session cookie, or None (the page redirects to the login)."""
    token = request.cookies.get(request.app.state.settings.session_cookie)
    if not token:
        return None
    db.begin_read(session)  # SQLite: no write lock for the lookup
    user = crud.user_by_token(session, token)
    session.commit()  # give the connection back before the next thread-pool hop (see get_db)
    if user is not None:  # for the templates' forms (not a column: this request's only)
        user.csrf_token = csrf_token(request.app.state.csrf_key, token)
    return user


async def check_csrf(request: Request) -> None:
    """403 for an unsafe request with a session cookie whose form (or ``X-CSRF-Token`` header)
    lacks the session's ``csrf_token`` (the login form has no session yet: ``websecurity.BrowserGuard``'s Origin
    check covers it)."""
    if request.method not in UNSAFE:
        return
    token = request.cookies.get(request.app.state.settings.session_cookie)
    if not token or request.url.path == "/login":
        return
    sent = request.headers.get(CSRF_HEADER)  # a script may send it as a header instead
    if sent is None:
        form = await request.form()  # parsed once: Starlette keeps it for the route's reading
        sent = form.get(CSRF_FIELD)
    if not csrf_ok(request.app.state.csrf_key, token, sent if isinstance(sent, str) else None):
        raise HTTPException(status_code=403, detail="Missing or wrong CSRF token")


def secure_cookies(request: Request) -> bool:
    """Cookies get ``Secure`` over HTTPS, or always when the service is ``behind_tls``."""
    return request.url.scheme == "https" or request.app.state.settings.behind_tls


PageUser = Annotated[m.User | None, Depends(page_user)]


def request_lang(request: Request) -> str:
    """The page language before login: ``Accept-Language`` if az or ru, else en."""
    accept = request.headers.get("accept-language", "")[:2]
    return accept if accept in ("az", "ru") else "en"


def login_redirect() -> RedirectResponse:
    """To the login page (303: the browser follows with a GET)."""
    return RedirectResponse("/login", status_code=303)
