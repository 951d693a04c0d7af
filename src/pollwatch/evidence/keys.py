"""Keys kept under the data directory: the Ed25519 export-signing key and the pseudonym secret.

Both are created on first use with owner-only permissions. The pseudonym secret turns user ids
into stable pseudonyms (HMAC-SHA-256), so exports and the audit log never carry identities.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_KEY_FILE = "evidence-ed25519.pem"
SECRET_FILE = "pseudonym.secret"


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_or_create_signing_key(data_dir: str | os.PathLike) -> Ed25519PrivateKey:
    path = Path(data_dir) / "keys" / SIGNING_KEY_FILE
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            _write_private(path, pem)
        except FileExistsError:  # another worker won the race; use its key
            pass
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, Ed25519PrivateKey)
    return loaded


def load_or_create_secret(data_dir: str | os.PathLike) -> bytes:
    path = Path(data_dir) / "keys" / SECRET_FILE
    if not path.exists():
        try:
            _write_private(path, secrets.token_bytes(32))
        except FileExistsError:
            pass
    return path.read_bytes()


def public_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex; publish it so readers can pin the signer."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def pseudonym(secret: bytes, user_id: int | None) -> str:
    """Stable pseudonym of a user id (``"anon"`` for none): HMAC-SHA-256, first 16 hex digits."""
    if user_id is None:
        return "anon"
    return "p-" + hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()[:16]
