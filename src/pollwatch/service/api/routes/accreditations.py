from __future__ import annotations

from fastapi import APIRouter

from pollwatch.service import crud
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.schemas import (
    AccreditationCreate,
    AccreditationPublic,
    AccreditationUpdate,
    IdPath,
)

router = APIRouter(prefix="/accreditations", tags=["accreditations"])


@router.get("", response_model=list[AccreditationPublic])
def list_accreditations(session: SessionDep, user: CurrentUser):
    """List accreditations (observers: their own)."""
    return crud.list_accreditations(session, user)


@router.post("", response_model=AccreditationPublic, status_code=201)
def request_accreditation(body: AccreditationCreate, session: SessionDep, user: CurrentUser):
    """Request accreditation for an election (observers, camera watchers)."""
    acc = crud.request_accreditation(session, user, body.election_id, body.body)
    session.commit()
    return acc


@router.patch("/{acc_id}", response_model=AccreditationPublic)
def decide_accreditation(
    acc_id: IdPath, body: AccreditationUpdate, session: SessionDep, user: CurrentUser
):
    """Accredit, refuse or revoke (admin, coordinator)."""
    acc = crud.decide_accreditation(session, user, acc_id, body.status, body.body, body.date)
    session.commit()
    return acc
