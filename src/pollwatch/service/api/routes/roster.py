from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service import crud
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.schemas import CodeQuery, IdPath

router = APIRouter(prefix="/roster", tags=["roster"])


@router.get("/{election_id}")
def roster(
    election_id: IdPath, session: SessionDep, user: CurrentUser, level: CodeQuery = None
) -> dict:
    """Expected checklists per station and per level: complete, partial, missing."""
    return crud.roster(session, user, election_id, level)
