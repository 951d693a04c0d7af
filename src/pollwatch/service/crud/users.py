"""Users, passwords and bearer tokens (and their administration: deactivate, set the role, reset
the password, revoke the tokens; each audited, so ``pollwatch evidence verify`` stays green);
observers' names and phones sealed at rest.

A user's ``full_name`` and ``phone`` are stored as AES-GCM ciphertexts (``full_name_enc``,
``phone_enc``) and the phone as a keyed blind index (``phone_index``), never in the clear
(``pollwatch.service.privacy``). Look a user up by number with :func:`find_observer_by_phone`;
read the plaintext with :func:`personal_data`.

Tokens expire (``expires_at``, set at issue from the settings' ``session_hours`` or
``token_hours``); a lookup never answers for an expired token, a deactivated user, or a token
that was revoked (deleted). Deleting tokens through the ORM notifies the token caches
(``throughput.tokens``)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from pollwatch.i18n import N_
from pollwatch.service import audit, db, privacy, security
from pollwatch.service import models as m
from pollwatch.service.errors import Conflict, Invalid, NotFound, invalid
from pollwatch.service.models import Role, utcnow
from pollwatch.service.permissions import check_administer_user, check_create_user

DEFAULT_LIFETIME = dt.timedelta(hours=12)

LANGUAGES = ("en", "az", "ru")
log = logging.getLogger("pollwatch.service.crud.users")


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
            [
                invalid(
                    ["body", "role"],
                    N_("role {role} is not one of {choices}"),
                    role=repr(role),
                    choices=str(list(Role.__members__)),
                )
            ]
        )
    if language not in LANGUAGES:
        raise Invalid(
            [
                invalid(
                    ["body", "language"],
                    N_("language {language} is not one of {choices}"),
                    language=repr(language),
                    choices=str(list(LANGUAGES)),
                )
            ]
        )
    if phone is not None:
        phone = check_phone(phone)
    if actor is not None:
        check_create_user(actor, role)
    if session.scalar(select(m.User.id).where(m.User.username == username)):
        raise Conflict(N_("Username already exists"))
    key = session.info["data_key"]
    index = phone_lookup_key(session, phone) if phone else None
    if index is not None and phone_taken(session, index):
        raise Conflict(N_("Phone number already registered"))
    user = m.User(
        username=username,
        password_hash=security.hash_password(password),
        role=role,
        full_name="",
        full_name_enc=privacy.seal(key, full_name, "users.full_name") if full_name else None,
        phone=None,
        phone_enc=privacy.seal(key, phone, "users.phone") if phone else None,
        phone_index=index,
        language=language,
    )
    session.add(user)
    audit.record(session, actor.id if actor else None, "create", user)
    return user


def check_phone(phone: str) -> str:
    """``phone`` normalised as the SMS intake compares it (``privacy.normalise_phone``, the one
    normaliser); 422 if it is not a phone number. That no other user has it is checked by its
    blind index (:func:`phone_taken`, 409), after the permission check, so that nobody who may
    not create users learns whether a number is registered."""
    normal = privacy.normalise_phone(phone)
    if normal is None:
        raise Invalid(
            [
                invalid(
                    ["body", "phone"], N_("not a phone number: digits with an optional leading +")
                )
            ]
        )
    return normal


def phone_taken(session: Session, index: str, user_id: int | None = None) -> bool:
    """Whether a user (other than ``user_id``) is registered with the phone whose blind index
    is ``index`` (``users.phone_index``, a unique index: the last line against a race)."""
    q = select(m.User.id).where(m.User.phone_index == index)
    if user_id is not None:
        q = q.where(m.User.id != user_id)
    return session.scalar(q) is not None


def authenticate(session: Session, username: str, password: str) -> m.User | None:
    """The active user with this username and password, or None, in the same time either way: an
    unknown or deactivated user's password is checked against a dummy hash.

    The user is loaded in a read transaction that ends before the password is checked: argon2
    costs ~0.1-0.3 s of CPU, and a transaction that may write holds SQLite's only write lock,
    so each login attempt (a wrong password from anyone) would stall every submission. The
    session's transaction is committed first (``db.begin_read``); write last, in a new one.
    """
    db.begin_read(session)
    user = session.scalar(select(m.User).where(m.User.username == username))
    session.commit()  # the read ends here: the check below holds no lock and no connection
    if user is None or not user.active:
        security.dummy_verify(password)
        return None
    return user if security.verify_password(user.password_hash, password) else None


def issue_token(
    session: Session, user: m.User, kind: str = "api", lifetime: dt.timedelta | None = None
) -> str:
    """A new token for ``user``, valid for ``lifetime`` (12 hours when not given)."""
    token, digest = security.new_token()
    expires = utcnow() + (lifetime or DEFAULT_LIFETIME)
    session.add(m.Token(user_id=user.id, token_hash=digest, kind=kind, expires_at=expires))
    return token


# built once: every request runs it, and building the expression costs more than executing it
_USER_BY_TOKEN = (
    select(m.User, m.Token.expires_at)
    .join(m.Token, m.Token.user_id == m.User.id)
    .where(
        m.Token.token_hash == bindparam("token_hash"),
        m.User.active.is_(True),
        m.Token.expires_at > bindparam("now"),
    )
)


def user_and_expiry(session: Session, token: str) -> tuple[m.User, dt.datetime] | None:
    """The active user behind an unexpired ``token`` and when the token expires, or None."""
    row = session.execute(
        _USER_BY_TOKEN, {"token_hash": security.hash_token(token), "now": utcnow()}
    ).first()
    return (row[0], row[1]) if row is not None else None


def user_by_token(session: Session, token: str) -> m.User | None:
    found = user_and_expiry(session, token)
    return found[0] if found is not None else None


def revoke_token(session: Session, token: str) -> None:
    row = session.scalar(select(m.Token).where(m.Token.token_hash == security.hash_token(token)))
    if row is not None:
        session.delete(row)


def phone_lookup_key(session: Session, phone: str | None) -> str | None:
    """The keyed blind index of ``phone`` (normalised; ``privacy.phone_lookup_key`` under the
    session's data key): what ``users.phone_index``, ``sms_messages.sender_index`` and the
    registered senders' ``sms_rate.key`` hold; None for what is not a phone number."""
    return privacy.phone_lookup_key(session.info["data_key"], phone)


def find_observer_by_phone(session: Session, phone: str) -> m.User | None:
    """The user registered with ``phone`` (any formatting: ``+994 50 123 45 67``,
    ``00994501234567``), or None; one indexed query, no plaintext number in the database.
    Whether the user is active and may file is the caller's check."""
    index = phone_lookup_key(session, phone)
    if index is None:  # not a phone number (``privacy.normalise_phone``)
        return None
    return session.scalar(select(m.User).where(m.User.phone_index == index))


def personal_data(session: Session, user: m.User) -> dict:
    """``{"full_name", "phone"}`` of ``user`` in the clear (decrypted; a row from before
    encryption is read as it is)."""
    key = session.info["data_key"]
    return {
        "full_name": privacy.unseal(key, user.full_name_enc, "users.full_name")
        or user.full_name
        or "",
        "phone": privacy.unseal(key, user.phone_enc, "users.phone") or user.phone,
    }


def user_view(session: Session, user: m.User) -> dict:
    """The fields of ``schemas.UserPublic`` with the name decrypted."""
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "full_name": personal_data(session, user)["full_name"],
        "language": user.language,
        "active": user.active,
    }


def encrypt_plaintext_rows(session: Session) -> int:
    """Seal the names, phones and SMS log rows stored in the clear by a version before
    encryption at rest (migration 0003 cannot: Alembic has no data key); phones are sealed in
    their normalised form (``privacy.normalise_phone``). Idempotent; the audit
    snapshots do not include these columns, so the chain is unchanged. Returns the rows
    changed; caller commits. On SQLite, ``VACUUM`` afterwards removes the old plaintext from
    free pages."""
    key = session.info["data_key"]
    n = 0
    for u in session.scalars(
        select(m.User).where((m.User.phone.is_not(None)) | (m.User.full_name != ""))
    ):
        if u.phone:
            # normalised as registration does; a value that is not a number, or a number
            # another user already holds (the blind index is unique), is dropped, as the
            # identity migration does with the plaintext phones it sees
            normal = privacy.normalise_phone(u.phone)
            index = phone_lookup_key(session, normal) if normal else None
            if index is None or phone_taken(session, index, u.id):
                log.warning("user %s: unusable or duplicate phone number dropped", u.id)
            else:
                u.phone_enc = privacy.seal(key, normal, "users.phone")
                u.phone_index = index
            u.phone = None
        if u.full_name:
            u.full_name_enc = privacy.seal(key, u.full_name, "users.full_name")
            u.full_name = ""
        n += 1
    for row in session.scalars(select(m.SmsMessage).where(m.SmsMessage.sender != "")):
        row.sender_enc = privacy.seal(key, row.sender, "sms_messages.sender")
        row.sender_index = phone_lookup_key(session, row.sender)
        row.sender = ""
        if not row.text.startswith("enc1:"):
            row.text = privacy.seal(key, row.text, "sms_messages.text")
        if row.reply and not row.reply.startswith("enc1:"):
            row.reply = privacy.seal(key, row.reply, "sms_messages.reply")
        n += 1
    return n


def rotate_token(session: Session, token: str, lifetime: dt.timedelta | None = None) -> str | None:
    """Exchange a valid ``token`` for a new one of the same kind (the old one is revoked)."""
    row = session.scalar(select(m.Token).where(m.Token.token_hash == security.hash_token(token)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    new = issue_token(session, row.user, row.kind, lifetime)
    session.delete(row)
    return new


def _target(session: Session, user_id: int) -> m.User:
    user = session.get(m.User, user_id)
    if user is None:
        raise NotFound(N_("User not found"))
    return user


def user_by_name(session: Session, username: str) -> m.User:
    user = session.scalar(select(m.User).where(m.User.username == username))
    if user is None:
        raise NotFound(N_("User not found: {username}"), username=repr(username))
    return user


def _drop_tokens(session: Session, user: m.User) -> int:
    rows = session.scalars(select(m.Token).where(m.Token.user_id == user.id)).all()
    for row in rows:
        session.delete(row)  # through the ORM: the token caches are notified
    return len(rows)


def revoke_tokens(session: Session, actor: m.User | None, user_id: int) -> int:
    """End every session and API token of the user (audited as ``revoke_tokens``); how many."""
    user = _target(session, user_id)
    if actor is not None:
        check_administer_user(actor, user, "revoke_tokens")
    n = _drop_tokens(session, user)
    audit.record(session, actor.id if actor else None, "revoke_tokens", user)
    return n


def set_active(session: Session, actor: m.User | None, user_id: int, active: bool) -> m.User:
    """Deactivate (every token revoked) or reactivate a user, audited."""
    user = _target(session, user_id)
    if actor is not None:
        check_administer_user(actor, user, "deactivate" if not active else "activate")
    user.active = active
    if not active:
        _drop_tokens(session, user)
    audit.record(
        session, actor.id if actor else None, "deactivate" if not active else "activate", user
    )
    return user


def set_role(session: Session, actor: m.User | None, user_id: int, role: str) -> m.User:
    if role not in Role.__members__:
        raise Invalid(
            [
                invalid(
                    ["body", "role"],
                    N_("role {role} is not one of {choices}"),
                    role=repr(role),
                    choices=str(list(Role.__members__)),
                )
            ]
        )
    user = _target(session, user_id)
    if actor is not None:
        check_administer_user(actor, user, "set_role")
    user.role = role
    audit.record(session, actor.id if actor else None, "set_role", user)
    return user


def reset_password(session: Session, actor: m.User | None, user_id: int, password: str) -> m.User:
    """A new password (at least 8 characters); every token of the user is revoked."""
    if len(password) < 8:
        raise Invalid([invalid(["body", "password"], N_("at least 8 characters"))])
    user = _target(session, user_id)
    if actor is not None:
        check_administer_user(actor, user, "reset_password")
    user.password_hash = security.hash_password(password)
    _drop_tokens(session, user)
    audit.record(session, actor.id if actor else None, "reset_password", user)
    return user
