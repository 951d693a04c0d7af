from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service import crud
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.schemas import AssignmentCreate, AssignmentPublic

router = APIRouter(prefix="/assignments", tags=["assignments"])


@router.get("", response_model=list[AssignmentPublic])
def list_assignments(session: SessionDep, user: CurrentUser):
    """List station assignments (observers: their own)."""
    return crud.list_assignments(session, user)


@router.post("", response_model=AssignmentPublic, status_code=201)
def create_assignment(body: AssignmentCreate, session: SessionDep, user: CurrentUser):
    """Assign an observer to a station (admin, coordinator)."""
    a = crud.assign(session, user, body.user_id, body.station_id)
    session.commit()
    return a
