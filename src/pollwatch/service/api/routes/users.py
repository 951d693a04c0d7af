from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.permissions import STAFF, require
from pollwatch.service.schemas import UserCreate, UserPublic

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", response_model=UserPublic)
def read_me(session: SessionDep, user: CurrentUser):
    """Return the current user."""
    return crud.user_view(session, user)


@router.get("", response_model=list[UserPublic])
def list_users(session: SessionDep, user: CurrentUser):
    """List users (admin, coordinator)."""
    require(user, STAFF)
    return [crud.user_view(session, u) for u in session.scalars(select(m.User).order_by(m.User.id))]


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, user: CurrentUser):
    """Create a user (admin: any role; coordinator: observers and camera watchers)."""
    new = crud.create_user(session, user, **body.model_dump())
    session.commit()
    return crud.user_view(session, new)
