"""Data minimisation: personal data encrypted at rest, keyed look-ups, secret-derived ids.

* **Encryption at rest** (:func:`seal`, :func:`unseal`): observers' names and phone numbers
  (``users.full_name_enc``, ``users.phone_enc``) and the SMS log's sender and text
  (``sms_messages.sender_enc``, ``sms_messages.text``) are AES-256-GCM ciphertexts under the
  *data key*. The data key comes from ``POLLWATCH_DATA_KEY`` (64 hex digits) or
  ``POLLWATCH_DATA_KEY_FILE`` (a file outside the data directory); without either it is derived
  from the pseudonym secret in the data directory, which protects a stolen database (a dump, a
  backup, the SQLite file) but not a stolen data directory, and a warning says so.
* **Blind index** (:func:`phone_lookup_key`): HMAC-SHA-256 of the normalised phone number under
  a key derived from the data key, so the service finds an observer by number
  (``crud.users.find_observer_by_phone``) without storing the number in the clear; without the
  key, the ~10⁹ possible numbers cannot be tried against it.
* **SMS client ids** (:func:`sms_client_id`): HMAC of (sender, text, gateway message id) under
  the service's secret, never a hash anyone can recompute from a phone number.
* **Public pseudonyms** (:func:`public_pseudonym`): one per submission, so the public feed does
  not link an observer's submissions.

The SMS log's retention (``redact_sms_log``) keeps the row and its text commitment
(:func:`pollwatch.evidence.keys.text_commitment`, stored at intake) and wipes sender and text.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import os
import re
import uuid
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY_ENV = "POLLWATCH_DATA_KEY"
DATA_KEY_FILE_ENV = "POLLWATCH_DATA_KEY_FILE"
_PREFIX = "enc1:"

log = logging.getLogger("pollwatch.service.privacy")


class DataKeyError(RuntimeError):
    """The data key is malformed, unreadable, or kept inside the data directory."""


def _parse_key(raw: bytes, where: str) -> bytes:
    text = raw.strip()
    try:
        key = bytes.fromhex(text.decode())
    except ValueError:
        try:
            key = base64.b64decode(text, validate=True)
        except ValueError:
            key = b""
    if len(key) != 32:
        raise DataKeyError(f"{where} must hold a 32-byte key (64 hex digits or base64)")
    return key


def data_key_from_env(data_dir: str | os.PathLike | None = None) -> bytes | None:
    """The data key named by ``POLLWATCH_DATA_KEY`` or ``POLLWATCH_DATA_KEY_FILE``, or None.

    A key file inside ``data_dir`` is refused: beside the data it would protect nothing.
    """
    if os.environ.get(DATA_KEY_ENV):
        return _parse_key(os.environ[DATA_KEY_ENV].encode(), DATA_KEY_ENV)
    path = os.environ.get(DATA_KEY_FILE_ENV)
    if not path:
        return None
    p = Path(path).resolve()
    if data_dir is not None and p.is_relative_to(Path(data_dir).resolve()):
        raise DataKeyError(
            f"the data key file {p} is inside the data directory {data_dir}; keep it elsewhere"
        )
    try:
        return _parse_key(p.read_bytes(), str(p))
    except OSError as exc:
        raise DataKeyError(f"cannot read the data key file {p}: {exc}") from None


def derived_data_key(pseudonym_secret: bytes) -> bytes:
    """The fallback data key (no key configured): protects the database, not the data dir."""
    return hmac.new(pseudonym_secret, b"pollwatch data key/1", hashlib.sha256).digest()


def resolve_data_key(pseudonym_secret: bytes, data_dir: str | os.PathLike | None = None) -> bytes:
    key = data_key_from_env(data_dir)
    if key is not None:
        return key
    return derived_data_key(pseudonym_secret)


def warn_if_derived(data_dir: str | os.PathLike) -> None:
    """Log a warning (once per app) when no data key is configured outside the data dir."""
    if data_key_from_env(data_dir) is None:
        log.warning(
            "no %s or %s: observers' names and phones are encrypted under a key derived from "
            "the data directory's secret, which protects a copy of the database but not a copy "
            "of the data directory",
            DATA_KEY_ENV,
            DATA_KEY_FILE_ENV,
        )


def seal(key: bytes, plaintext: str | None, context: str) -> str | None:
    """AES-256-GCM ciphertext of ``plaintext`` (``enc1:`` + base64 of nonce and ciphertext),
    bound to ``context`` (the column, as associated data); None stays None."""
    if plaintext is None:
        return None
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return _PREFIX + base64.b64encode(nonce + ct).decode()


def unseal(key: bytes, sealed: str | None, context: str) -> str | None:
    """The plaintext of :func:`seal`; a value without the prefix (a row from before
    encryption) is returned as is. Raises :class:`DataKeyError` on a wrong key."""
    if sealed is None or not sealed.startswith(_PREFIX):
        return sealed
    raw = base64.b64decode(sealed[len(_PREFIX) :])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
    except InvalidTag:
        raise DataKeyError(f"cannot decrypt {context}: wrong data key") from None


PHONE_MAX = 40  # users.phone and sms_messages.sender are VARCHAR(40)
_PHONE_SEPARATORS = re.compile(r"[\s\-().\u00a0/]")
_PHONE = re.compile(r"\+?[0-9]{3,20}")


def normalise_phone(raw: str | None) -> str | None:
    """A phone number as it is registered, indexed and compared (the one normaliser: the
    registration check, the blind index and the SMS sender check all use it): separators
    (spaces, dashes, dots, parentheses, slashes) dropped, a leading ``00`` read as ``+``
    (``+994 50 123-45-67`` and ``00994501234567`` are the same number); None unless what is
    left is digits with an optional leading ``+`` (3 to 20 ASCII digits). No national-prefix
    guessing: ``+994501234567`` and ``0501234567`` are different numbers, so register
    observers' phones in the international form the SMS gateway reports."""
    if not isinstance(raw, str) or len(raw) > PHONE_MAX:
        return None
    s = _PHONE_SEPARATORS.sub("", raw)
    if s.startswith("00"):
        s = "+" + s[2:]
    return s if _PHONE.fullmatch(s) else None


def phone_lookup_key(key: bytes, phone: str | None) -> str | None:
    """The blind index of a phone number: HMAC-SHA-256 (hex) of the normalised number under a
    key derived from the data key ``key``. Equal numbers give equal values; None for what is
    not a phone number (:func:`normalise_phone`)."""
    normal = normalise_phone(phone)
    if normal is None:
        return None
    k = hmac.new(key, b"pollwatch phone index/1", hashlib.sha256).digest()
    return hmac.new(k, normal.encode(), hashlib.sha256).hexdigest()


def sms_client_id(secret: bytes, sender: str, text: str, message_id: str | None = None) -> str:
    """The client id of an SMS submission: HMAC-SHA-256 under the service's ``secret`` over the
    normalised sender, the text and the gateway's message id (when it sends one), as a UUID.

    A gateway retry of the same message gives the same id (so it is stored once); nobody without
    the secret can test a phone number against it."""
    msg = "\x1f".join(("sms/2", normalise_phone(sender) or sender, text, message_id or ""))
    digest = hmac.new(secret, msg.encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16]))


def public_pseudonym(secret: bytes, submission_id: int) -> str:
    """The observer's name in the public feed: one per submission (HMAC of its id), so two
    published submissions cannot be linked to the same observer."""
    mac = hmac.new(secret, f"public submission/1:{submission_id}".encode(), hashlib.sha256)
    return "s-" + mac.hexdigest()[:16]


def cutoff(days: int, now: dt.datetime | None = None) -> dt.datetime:
    """Naive UTC time ``days`` ago (the SMS log's retention limit)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now - dt.timedelta(days=days)
