from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.models import Verification
from pollwatch.service.permissions import STAFF, require
from pollwatch.service.schemas import (
    CodeQuery,
    IdPath,
    Limit,
    QuarantineCreate,
    ReviewCreate,
    SubmissionPublic,
    SubmissionsPublic,
)

router = APIRouter(prefix="/review", tags=["review"])


@router.get("", response_model=SubmissionsPublic)
def review_queue(
    session: SessionDep, user: CurrentUser, kind: CodeQuery = None, limit: Limit = 100
):
    """Submissions awaiting review (new, under review), flagged and critical first (admin, coordinator)."""
    require(user, STAFF)
    q = select(m.Submission).where(
        m.Submission.status.in_([Verification.new, Verification.under_review])
    )
    if kind:
        q = q.where(m.Submission.kind == kind)
    rows = session.scalars(q.order_by(m.Submission.id.desc()).limit(limit)).all()
    rank = {"critical": 0, "high": 1}
    rows = sorted(rows, key=lambda s: (not s.flags, rank.get(s.severity or "", 2), -s.id))
    return SubmissionsPublic(data=rows, count=len(rows))


@router.post("/{sub_id}", response_model=SubmissionPublic)
def review_submission(sub_id: IdPath, body: ReviewCreate, session: SessionDep, user: CurrentUser):
    """Set the verification status with a reason (admin, coordinator)."""
    sub = crud.review(session, user, sub_id, body.status, body.reason)
    session.commit()
    return sub


@router.post("/{sub_id}/quarantine", response_model=SubmissionPublic)
def quarantine_submission(
    sub_id: IdPath, body: QuarantineCreate, session: SessionDep, user: CurrentUser
):
    """Keep a suspect submission out of results, or release it (admin, coordinator)."""
    sub = crud.quarantine(session, user, sub_id, body.quarantined, body.reason)
    session.commit()
    return sub
