"""What every page needs: the templates, the user behind the session cookie, the redirect to
the login page.

Login sets an HttpOnly, SameSite=Strict session cookie holding a random token (stored hashed,
like API tokens, expiring after ``session_hours``; ``Secure`` over HTTPS or when the settings
say ``behind_tls``), so the pages and their script use the same JSON API and permission checks.
Every form of a logged-in page carries ``user.csrf_token`` (``websecurity``), which
``check_csrf``, a dependency of the whole page router, requires on every unsafe request.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader

from pollwatch.fusion.dossier import direction_label, strength_label
from pollwatch.i18n import (
    N_,
    current_language,
    gettext,
    jinja_environment,
    negotiate,
    normalise,
    use_language,
)
from pollwatch.report.glossary import term
from pollwatch.service import crud, db
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.errors import Msg
from pollwatch.service.forms import forms
from pollwatch.service.i18n import (
    CAMERA_LABELS,
    CENSUS_FINDING_LABELS,
    CENSUS_RESOLUTION_LABELS,
    CENSUS_STATUS_LABELS,
    KIND_LABELS,
    OFFICIAL_LABELS,
    PROTOCOL_FIELD_LABELS,
    QC_VERDICT_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    label,
)
from pollwatch.service.rules import flag_text
from pollwatch.service.taxonomy import CATEGORIES
from pollwatch.service.websecurity import CSRF_FIELD, CSRF_HEADER, UNSAFE, csrf_ok, csrf_token

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# what ``label(kind, code)`` in a template looks up (service.i18n)
_LABELS = {
    "camera": CAMERA_LABELS,
    "census_finding": CENSUS_FINDING_LABELS,
    "census_resolution": CENSUS_RESOLUTION_LABELS,
    "census_status": CENSUS_STATUS_LABELS,
    "qc_verdict": QC_VERDICT_LABELS,
    "kind": KIND_LABELS,
    "official": OFFICIAL_LABELS,
    "protocol": PROTOCOL_FIELD_LABELS,
    "severity": SEVERITY_LABELS,
    "status": STATUS_LABELS,
}


@cache
def _env(lang: str) -> Environment:
    """The templates in ``lang``: ``_``/``gettext``/``ngettext`` from its catalogue,
    ``label(kind, code)`` for a stored code, ``forms`` for checklist titles."""
    env = jinja_environment(FileSystemLoader(TEMPLATES), lang)
    env.globals["label"] = lambda kind, code: label(_LABELS[kind], code, lang)
    # these read the current language, which render() sets to the page's
    env.globals.update(
        strength=strength_label,
        direction=direction_label,
        source=gettext,
        term=lambda code: term(code).name,
        flag_text=_flag_text,
        form_title=_form_title,
    )
    return env


def _form_title(kind: str, form: str | None) -> str:
    """A submission's form in the page's language: the incident's category, the checklist's
    title (the code when neither is known)."""
    lang = current_language()
    if kind == "incident" and form in CATEGORIES:
        return str(CATEGORIES[form].get(lang) or CATEGORIES[form]["en"])
    f = forms().get(form) if form else None
    return str(f.title.get(lang) or f.title.get("en")) if f else str(form or "")


def _flag_text(flag: dict, form: str | None = None) -> str:
    """A submission's flag in the page's language, naming the question by its label."""
    f = forms().get(form) if form else None
    q = f.question(str((flag.get("params") or {}).get("question"))) if f else None
    text = (q.text.get(current_language()) or q.text.get("en")) if q else None
    return flag_text(flag, question=text)


def render(
    name: str, user: m.User | None, lang: str = "en", status: int = 200, **ctx
) -> HTMLResponse:
    """Template ``name`` in the user's language (``lang`` before login)."""
    lang = normalise(user.language if user else lang)
    # the checklists per call, not as a global of the cached environment: an imported XLSForm
    # (forms.use_directory) shows without a new environment
    ctx.setdefault("forms", forms())
    with use_language(lang):  # for the Python helpers the templates call (strength, flag_text)
        html = _env(lang).get_template(name).render(user=user, lang=lang, **ctx)
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
        raise HTTPException(status_code=403, detail=Msg(N_("Missing or wrong CSRF token")))


def secure_cookies(request: Request) -> bool:
    """Cookies get ``Secure`` over HTTPS, or always when the service is ``behind_tls``."""
    return request.url.scheme == "https" or request.app.state.settings.behind_tls


PageUser = Annotated[m.User | None, Depends(page_user)]


def request_lang(request: Request) -> str:
    """The page language before login, negotiated from ``Accept-Language`` (q-values, region
    subtags; English when it names neither az nor ru)."""
    return negotiate(request.headers.get("accept-language"))


def login_redirect() -> RedirectResponse:
    """To the login page (303: the browser follows with a GET)."""
    return RedirectResponse("/login", status_code=303)
