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


def new_token(nbytes: int = 32) -> tuple[str, str]:
    """A fresh token and the hash to store; the token itself is shown once and never stored."""
    token = secrets.token_urlsafe(nbytes)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
