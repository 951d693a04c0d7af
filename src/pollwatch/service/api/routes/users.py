from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from pollwatch.service import crud
from pollwatch.service import models as m
from pollwatch.service.api.deps import CurrentUser, SessionDep
from pollwatch.service.permissions import STAFF, require
from pollwatch.service.schemas import (
    IdPath,
    PasswordReset,
    RoleChange,
    TokensRevoked,
    UserCreate,
    UserPublic,
)

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


@router.post("/{user_id}/deactivate", response_model=UserPublic)
def deactivate_user(user_id: IdPath, session: SessionDep, user: CurrentUser):
    """Deactivate a user and revoke every token of theirs (admin; audited)."""
    target = crud.set_active(session, user, user_id, False)
    session.commit()
    return crud.user_view(session, target)


@router.post("/{user_id}/activate", response_model=UserPublic)
def activate_user(user_id: IdPath, session: SessionDep, user: CurrentUser):
    """Reactivate a user (admin; audited)."""
    target = crud.set_active(session, user, user_id, True)
    session.commit()
    return crud.user_view(session, target)


@router.post("/{user_id}/role", response_model=UserPublic)
def set_role(user_id: IdPath, body: RoleChange, session: SessionDep, user: CurrentUser):
    """Change a user's role (admin; audited; holds at once for their open sessions)."""
    target = crud.set_role(session, user, user_id, body.role)
    session.commit()
    return crud.user_view(session, target)


@router.post("/{user_id}/password", response_model=UserPublic)
def reset_password(user_id: IdPath, body: PasswordReset, session: SessionDep, user: CurrentUser):
    """Set a new password and revoke every token of the user (admin; audited)."""
    target = crud.reset_password(session, user, user_id, body.password)
    session.commit()
    return crud.user_view(session, target)


@router.post("/{user_id}/revoke-tokens", response_model=TokensRevoked)
def revoke_tokens(user_id: IdPath, session: SessionDep, user: CurrentUser):
    """End every session and API token of the user (admin; audited)."""
    n = crud.revoke_tokens(session, user, user_id)
    session.commit()
    return TokensRevoked(revoked=n)
