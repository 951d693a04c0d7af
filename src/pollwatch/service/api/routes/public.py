from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select

from pollwatch.i18n import N_
from pollwatch.service import models as m
from pollwatch.service.api.deps import SessionDep, SettingsDep, StoreDep
from pollwatch.service.checkpoints import consistency, public_status
from pollwatch.service.errors import Msg, verbatim
from pollwatch.service.models import Verification
from pollwatch.service.privacy import public_pseudonym
from pollwatch.service.schemas import CodeQuery, Limit, PublishedItem

router = APIRouter(prefix="/public", tags=["public"])


def _published(kind: str | None):
    q = select(m.Submission).where(
        m.Submission.status == Verification.verified, m.Submission.quarantined.is_(False)
    )
    return q.where(m.Submission.kind == kind) if kind else q


@router.get("/submissions", response_model=list[PublishedItem])
def published(request: Request, session: SessionDep, kind: CodeQuery = None, limit: Limit = 100):
    """Verified, unquarantined submissions (no login needed). Only reviewed text is published
    (status verified); the observer's pseudonym is one per submission, so the feed does not link
    two submissions to the same observer."""
    secret = session.info["pseudonym_secret"]
    rows = session.scalars(
        _published(kind).order_by(m.Submission.id.desc()).limit(min(limit, 1000))
    )
    out = []
    for s in rows:
        media = session.scalars(
            select(m.Media.published_sha256).where(
                m.Media.submission_id == s.id, m.Media.published_sha256.is_not(None)
            )
        ).all()
        out.append(
            PublishedItem(
                id=s.id,
                kind=s.kind,
                form=s.form,
                station_code=s.station.code,
                levels=s.station.levels,
                observer=public_pseudonym(secret, s.id),
                answers=s.answers,
                description=s.description,
                severity=s.severity,
                occurred_at=s.occurred_at,
                media=list(media),
            )
        )
    return out


@router.get("/media/{sha256}")
def published_media(sha256: str, session: SessionDep, store: StoreDep) -> Response:
    """A published (metadata-free) photo of a published submission."""
    row = session.scalar(
        select(m.Media)
        .join(m.Submission, m.Media.submission_id == m.Submission.id)
        .where(
            m.Media.published_sha256 == sha256,
            m.Submission.status == Verification.verified,
            m.Submission.quarantined.is_(False),
        )
    )
    if row is None:
        raise HTTPException(status_code=404, detail=Msg(N_("Media not found")))
    data = store.get(sha256)
    return Response(
        content=data, media_type="image/png" if data[:4] == b"\x89PNG" else "image/jpeg"
    )


@router.get("/evidence")
def evidence(session: SessionDep, settings: SettingsDep) -> dict:
    """The evidence signing key's fingerprint (publish it; retired ones for older lines) and
    the newest checkpoint of the audit chain (keep it: it fixes the chain as it is now)."""
    return public_status(session, settings.data_dir)


@router.get("/consistency")
def consistency_proof(session: SessionDep, old: int) -> dict:
    """The proof that the newest checkpoint extends the chain of size ``old`` (RFC 6962)."""
    try:
        return consistency(session, old)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=verbatim(str(exc))) from None
