"""What every page needs: the templates, the user behind the session cookie, the redirect to
the login page.

Login sets an HttpOnly, SameSite=Strict session cookie holding a random token (stored hashed,
like API tokens), so the pages and their script use the same JSON API and permission checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pollwatch.service import crud, db
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.i18n import translator

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
    return user


PageUser = Annotated[m.User | None, Depends(page_user)]


def request_lang(request: Request) -> str:
    """The page language before login: ``Accept-Language`` if az or ru, else en."""
    accept = request.headers.get("accept-language", "")[:2]
    return accept if accept in ("az", "ru") else "en"


def login_redirect() -> RedirectResponse:
    """To the login page (303: the browser follows with a GET)."""
    return RedirectResponse("/login", status_code=303)
