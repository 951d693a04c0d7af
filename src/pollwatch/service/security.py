"""Passwords (argon2id via argon2-cffi) and bearer tokens (random, stored only as SHA-256).

The per-process cache of the users behind tokens is ``throughput.tokens``.

A password check costs argon2id's ~0.1-0.3 s of CPU and 64 MiB of memory, and anyone can ask
for one (a wrong password). The checks run on a pool of ``max_password_checks`` threads of
lowered CPU priority (nice +10, inherited by argon2's own lane threads): a crowd of anonymous
guessers waits its turn (holding no lock and no database connection), cannot grow the server by
64 MiB each, and leaves the cores to the submissions first. ``limits.Gate`` keeps the waiting
requests off the thread pool too.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
NICE = 10  # the password checkers' CPU priority, relative to the rest of the process


def _background() -> None:
    """Lower this thread's priority (Linux: per thread, inherited by the threads it starts)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: the bound still holds
        pass


def _checkers(n: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, n), "pollwatch-password", initializer=_background)


_checks = _checkers(2)


def limit_password_checks(n: int) -> None:
    """At most ``n`` password checks at once in this process (``Settings.max_password_checks``)."""
    global _checks
    old, _checks = _checks, _checkers(n)
    old.shutdown(wait=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; computed on the password checkers' pool (see above)."""
    return _checks.submit(_verify, password_hash, password).result()


def _verify(password_hash: str, password: str) -> bool:
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
