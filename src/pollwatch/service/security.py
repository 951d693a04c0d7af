"""Passwords (argon2id via argon2-cffi) and bearer tokens (random, stored only as SHA-256).

The per-process cache of the users behind tokens is ``throughput.tokens``.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_dummy: dict[int, str] = {}  # a hash made by each hasher, see dummy_verify


def dummy_verify(password: str) -> bool:
    """Spend the time of a real verification against a hash made with the current hasher's
    parameters, and answer False: the login of an unknown or deactivated user takes as long
    as a wrong password for a real one, so timing does not tell which accounts exist."""
    hasher = _hasher
    digest = _dummy.get(id(hasher))
    if digest is None:
        digest = _dummy[id(hasher)] = hasher.hash(secrets.token_urlsafe(16))
    verify_password(digest, password)
    return False


def new_token(nbytes: int = 32) -> tuple[str, str]:
    """A fresh token and the hash to store; the token itself is shown once and never stored."""
    token = secrets.token_urlsafe(nbytes)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
