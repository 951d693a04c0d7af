"""The import page (issue 22): observers from a CSV file (staff) and checklists from an XLSForm
(admin), each with a dry run; the same checks as ``pollwatch users import`` and
``pollwatch forms import`` (``crud.people``, ``service.xlsform``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.crud import people
from pollwatch.service.errors import ServiceError, error_text
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import ADMIN, STAFF, require
from pollwatch.service.xlsform import XLSFormError, convert

router = APIRouter(include_in_schema=False)
MAX_BYTES = 25 * 1024 * 1024


def _page(request: Request, session, user: m.User, status: int = 200, **result) -> HTMLResponse:
    elections = list(session.scalars(select(m.Election).order_by(m.Election.id)))
    return render(
        "people.html.j2",
        user,
        status=status,
        elections=elections,
        admin=user.role in ADMIN,
        forms_dir_set=request.app.state.settings.forms_dir is not None,
        **result,
    )


async def _upload(data) -> tuple[str, bytes]:
    f = data.get("file")
    if f is None or not hasattr(f, "read"):
        raise ValueError("no file")
    raw = await f.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"{f.filename}: file too large")
    return getattr(f, "filename", None) or "upload", raw


@router.get("/people", response_class=HTMLResponse)
def people_page(request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    require(user, STAFF)
    return _page(request, session, user)


@router.post("/people/import", response_class=HTMLResponse)
async def people_import(request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    require(user, STAFF)
    data = await request.form()
    try:
        name, raw = await _upload(data)
        election = str(data.get("election_id") or "")
        plan = people.plan_people(
            session, user, raw.decode("utf-8"), int(election) if election.isdigit() else 0, name
        )
        dry = bool(data.get("dry_run"))
        if not plan.ok:
            problems = [p.msg().in_language(user.language) for p in plan.problems]
            return _page(request, session, user, 422, kind="people", problems=problems)
        passwords = {}
        if not dry:
            passwords = people.apply_people(session, user, plan)
            session.commit()
        actions = [p.describe() for p in plan.people]
        return _page(request, session, user, kind="people", dry=dry, actions=actions, summary=plan.summary(), passwords=passwords)  # fmt: skip
    except (ServiceError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        session.rollback()
        return _page(request, session, user, getattr(exc, "status", 422), kind="people", problems=[error_text(exc, user.language)])  # fmt: skip
    finally:
        await data.close()


@router.post("/people/forms", response_class=HTMLResponse)
async def forms_import(request: Request, session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    require(user, ADMIN)
    data = await request.form()
    try:
        name, raw = await _upload(data)
        done = convert(raw, source=name)
        forms_dir = request.app.state.settings.forms_dir
        dry = bool(data.get("dry_run")) or forms_dir is None
        written = None if dry else done.write(forms_dir).name
        actions = [f"{q['code']}. {q['id']} ({q['type']})" for q in done.checklist["questions"]]
        return _page(request, session, user, kind="forms", dry=dry, actions=actions, warnings=done.warnings, written=written)  # fmt: skip
    except XLSFormError as exc:
        return _page(request, session, user, 422, kind="forms", problems=[str(p) for p in exc.problems])  # fmt: skip
    except ValueError as exc:
        return _page(request, session, user, 422, kind="forms", problems=[str(exc)])
    finally:
        await data.close()
