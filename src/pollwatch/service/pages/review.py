"""The review queue page: verify or reject submissions (admins, coordinators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep
from pollwatch.service.errors import ServiceError, error_text
from pollwatch.service.pages.common import PageUser, login_redirect, render
from pollwatch.service.permissions import STAFF, require
from pollwatch.service.schemas import IdPath, Note, parse
from pollwatch.service.taxonomy import CATEGORIES

router = APIRouter(include_in_schema=False)


@router.get("/review", response_class=HTMLResponse)
def review_page(session: SessionDep, user: PageUser):
    if user is None:
        return login_redirect()
    require(user, STAFF)
    queue = session.scalars(
        select(m.Submission)
        .where(m.Submission.status.in_([m.Verification.new, m.Verification.under_review]))
        .order_by(m.Submission.id.desc())
        .limit(50)
    ).all()
    media: dict[int, list[int]] = {}
    ids = [s.id for s in queue]
    for mid, sid in session.execute(
        select(m.Media.id, m.Media.submission_id).where(
            m.Media.submission_id.in_(ids), m.Media.published_sha256.is_not(None)
        )
    ):
        media.setdefault(sid, []).append(mid)
    return render("review.html.j2", user, queue=queue, media=media, categories=CATEGORIES)


@router.post("/review/{sub_id}")
def review_submit(
    sub_id: IdPath,
    session: SessionDep,
    user: PageUser,
    status: Annotated[str, Form(max_length=20)],
    reason: Annotated[str, Form()] = "",
):
    if user is None:
        return login_redirect()
    try:
        crud.review(session, user, sub_id, status, parse(Note, reason))
        session.commit()
    except ServiceError as exc:
        session.rollback()
        return render(
            "login.html.j2", user, status=exc.status, message=error_text(exc, user.language)
        )
    except ValueError as exc:  # the reason beyond the API's bounds
        return render("login.html.j2", user, status=422, message=str(exc))
    return RedirectResponse("/review", status_code=303)
