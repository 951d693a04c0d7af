"""Users, passwords and bearer tokens."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pollwatch.service import audit, security
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, Invalid, invalid
from pollwatch.service.models import Role
from pollwatch.service.permissions import check_create_user
from pollwatch.service.sms import normalise_phone

LANGUAGES = ("en", "az", "ru")


def create_user(
    session: Session,
    actor: m.User | None,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    phone: str | None = None,
    language: str = "en",
) -> m.User:
    if role not in Role.__members__:
        raise Invalid(
            [invalid(["body", "role"], f"role {role!r} is not one of {list(Role.__members__)}")]
        )
    if language not in LANGUAGES:
        raise Invalid(
            [
                invalid(
                    ["body", "language"], f"language {language!r} is not one of {list(LANGUAGES)}"
                )
            ]
        )
    if phone is not None:
        phone = check_phone(session, phone)
    if actor is not None:
        check_create_user(actor, role)
    if session.scalar(select(m.User.id).where(m.User.username == username)):
        raise Conflict("Username already exists")
    user = m.User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        full_name=full_name,
        phone=phone,
        language=language,
    )
    session.add(user)
    audit.record(session, actor.id if actor else None, "create", user)
    return user


def check_phone(session: Session, phone: str) -> str:
    """``phone`` normalised as the SMS intake compares it (``sms.normalise_phone``); 422 if it
    is not a phone number, 409 if another user has it (an SMS names one observer)."""
    normal = normalise_phone(phone)
    if normal is None:
        raise Invalid(
            [invalid(["body", "phone"], "not a phone number: digits with an optional leading +")]
        )
    if session.scalar(select(m.User.id).where(m.User.phone == normal)):
        raise Conflict("Phone number already registered")
    return normal


def authenticate(session: Session, username: str, password: str) -> m.User | None:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if (
        user is None
        or not user.active
        or not security.verify_password(user.password_hash, password)
    ):
        return None
    return user


def issue_token(session: Session, user: m.User, kind: str = "api") -> str:
    token, digest = security.new_token()
    session.add(m.Token(user_id=user.id, token_hash=digest, kind=kind))
    return token


# built once: every request runs it, and building the expression costs more than executing it
_USER_BY_TOKEN = (
    select(m.User)
    .join(m.Token, m.Token.user_id == m.User.id)
    .where(m.Token.token_hash == bindparam("token_hash"), m.User.active.is_(True))
)


def user_by_token(session: Session, token: str) -> m.User | None:
    return session.scalar(_USER_BY_TOKEN, {"token_hash": security.hash_token(token)})


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(m.Token).where(m.Token.token_hash == security.hash_token(token)))
    if row is not None:
        session.delete(row)
