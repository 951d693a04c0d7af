"""Keys kept under the data directory: the Ed25519 evidence-signing key and the pseudonym secret.

The signing key is stored encrypted at rest (PKCS#8, ``BestAvailableEncryption``) under a
passphrase that is *not* kept beside it: it comes from ``POLLWATCH_KEY_PASSPHRASE`` or from a
file named by ``POLLWATCH_KEY_PASSPHRASE_FILE`` that must lie outside the data directory (a copy
of the data directory, or a seized disk image of it, then holds no usable key). Creating an
unencrypted key is refused unless asked for explicitly (``allow_plaintext=True`` or
``POLLWATCH_INSECURE_PLAINTEXT_KEY=1``: the demo and the tests); a key written unencrypted by an
older version still loads, with a logged warning, and :func:`rotate_signing_key` replaces it with
an encrypted one.

The public half sits beside it in ``keys/evidence-ed25519.pub`` (readable without the
passphrase), and every key rotated out keeps its public key in ``keys/retired/<fingerprint>.pub``
so checkpoints and bundles signed before a rotation still verify. :func:`rotate_signing_key`
returns a statement signed by the old and the new key, for the service to put in the chain.

The pseudonym secret turns user ids into stable pseudonyms (HMAC-SHA-256), so exports and the
audit log never carry identities. Both are created with owner-only permissions.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNING_KEY_FILE = "evidence-ed25519.pem"
PUBLIC_KEY_FILE = "evidence-ed25519.pub"
RETIRED_DIR = "retired"
SECRET_FILE = "pseudonym.secret"
PASSPHRASE_ENV = "POLLWATCH_KEY_PASSPHRASE"
PASSPHRASE_FILE_ENV = "POLLWATCH_KEY_PASSPHRASE_FILE"
INSECURE_ENV = "POLLWATCH_INSECURE_PLAINTEXT_KEY"

log = logging.getLogger("pollwatch.evidence")


class SigningKeyError(RuntimeError):
    """The signing key cannot be loaded or created as asked (no or wrong passphrase, …)."""


def _write_private(path: Path, data: bytes) -> None:
    # the folder too: its listing tells a reader which keys exist (pollwatch doctor checks it)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _replace_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    _write_private(tmp, data)
    os.replace(tmp, path)


def _keys_dir(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / "keys"


def resolve_passphrase(
    data_dir: str | os.PathLike,
    passphrase: bytes | str | None = None,
    passphrase_file: str | os.PathLike | None = None,
) -> bytes | None:
    """The passphrase given, else the one named by the environment, else ``None``.

    A passphrase file inside the data directory is refused: beside the key it protects nothing.
    """
    if passphrase is not None:
        return passphrase.encode() if isinstance(passphrase, str) else passphrase
    if passphrase_file is None and os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV].encode()
    passphrase_file = passphrase_file or os.environ.get(PASSPHRASE_FILE_ENV) or None
    if passphrase_file is None:
        return None
    pf = Path(passphrase_file).resolve()
    if pf.is_relative_to(Path(data_dir).resolve()):
        raise SigningKeyError(
            f"the key passphrase file {pf} is inside the data directory {data_dir}; keep it "
            "elsewhere (another disk, a secrets mount), or the encryption protects nothing"
        )
    try:
        value = pf.read_bytes().strip()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the key passphrase file {pf}: {exc}") from None
    if not value:
        raise SigningKeyError(f"the key passphrase file {pf} is empty")
    return value


def _plaintext_allowed(allow_plaintext: bool | None) -> bool:
    if allow_plaintext is not None:
        return allow_plaintext
    return os.environ.get(INSECURE_ENV, "").lower() in ("1", "true", "yes")


def _private_pem(key: Ed25519PrivateKey, passphrase: bytes | None) -> bytes:
    enc = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def is_encrypted(pem: bytes) -> bool:
    return b"ENCRYPTED PRIVATE KEY" in pem


def _load(path: Path, passphrase: bytes | None) -> Ed25519PrivateKey:
    pem = path.read_bytes()
    if is_encrypted(pem):
        if passphrase is None:
            raise SigningKeyError(
                f"the signing key {path} is encrypted: set {PASSPHRASE_ENV}, or "
                f"{PASSPHRASE_FILE_ENV} to a file outside the data directory"
            )
        try:
            key = serialization.load_pem_private_key(pem, password=passphrase)
        except ValueError:
            raise SigningKeyError(
                f"wrong passphrase for the signing key {path} (from {PASSPHRASE_ENV} or "
                f"{PASSPHRASE_FILE_ENV})"
            ) from None
    else:
        key = serialization.load_pem_private_key(pem, password=None)
        log.warning(
            "the evidence signing key %s is stored UNENCRYPTED; anyone with a copy of the data "
            "directory can sign as this organisation. Set %s and rotate the key "
            "(pollwatch.evidence.keys.rotate_signing_key) to encrypt it.",
            path,
            PASSPHRASE_ENV,
        )
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def load_or_create_signing_key(
    data_dir: str | os.PathLike,
    *,
    passphrase: bytes | str | None = None,
    passphrase_file: str | os.PathLike | None = None,
    allow_plaintext: bool | None = None,
) -> Ed25519PrivateKey:
    """Load the signing key of ``data_dir``, creating it (encrypted) on first use.

    Raises :class:`SigningKeyError` when the key is encrypted and no passphrase is given or it is
    wrong, and when a new key would have to be stored unencrypted without ``allow_plaintext``
    (or ``POLLWATCH_INSECURE_PLAINTEXT_KEY=1``).
    """
    path = _keys_dir(data_dir) / SIGNING_KEY_FILE
    pw = resolve_passphrase(data_dir, passphrase, passphrase_file)
    if not path.exists():
        if pw is None and not _plaintext_allowed(allow_plaintext):
            raise SigningKeyError(
                f"refusing to create an unencrypted signing key in {path.parent}: set "
                f"{PASSPHRASE_ENV}, or {PASSPHRASE_FILE_ENV} to a file outside the data "
                f"directory (for a demo or a test only: {INSECURE_ENV}=1)"
            )
        key = Ed25519PrivateKey.generate()
        try:
            _write_private(path, _private_pem(key, pw))
        except FileExistsError:  # another worker won the race; use its key
            pass
        else:
            _write_public(path.parent / PUBLIC_KEY_FILE, key.public_key())
            if pw is None:
                log.warning(
                    "created an UNENCRYPTED evidence signing key %s (%s)", path, INSECURE_ENV
                )
    key = _load(path, pw)
    pub_path = path.parent / PUBLIC_KEY_FILE
    if not pub_path.exists():  # a key from before the public file was kept
        _write_public(pub_path, key.public_key())
    return key


def _write_public(path: Path, pub: Ed25519PublicKey) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(public_pem(pub))
    os.replace(tmp, path)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    pub = serialization.load_pem_public_key(pem)
    if not isinstance(pub, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return pub


def known_public_keys(data_dir: str | os.PathLike) -> list[Ed25519PublicKey]:
    """The current public key (if any) and every retired one, without the passphrase."""
    kd = _keys_dir(data_dir)
    out = []
    if (kd / PUBLIC_KEY_FILE).exists():
        out.append(load_public_key((kd / PUBLIC_KEY_FILE).read_bytes()))
    elif (kd / SIGNING_KEY_FILE).exists() and not is_encrypted(
        (kd / SIGNING_KEY_FILE).read_bytes()
    ):
        out.append(_load(kd / SIGNING_KEY_FILE, None).public_key())
    for p in sorted((kd / RETIRED_DIR).glob("*.pub")):
        out.append(load_public_key(p.read_bytes()))
    return out


@dataclass(frozen=True)
class KeyRotation:
    """A rotation statement, signed by the key rotated out and by its successor.

    ``statement`` is canonical JSON (``type``, ``old``/``new`` fingerprints, the new public key
    raw in base64url, ``time``); the service records it as an audit entry, so the chain itself
    says from which entry on the new key signs.
    """

    statement: bytes
    old_signature: bytes
    new_signature: bytes

    def to_dict(self) -> dict:
        b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
        return {
            "statement": json.loads(self.statement),
            "old_signature": b64(self.old_signature),
            "new_signature": b64(self.new_signature),
        }

    @property
    def old_fingerprint(self) -> str:
        return json.loads(self.statement)["old"]

    @property
    def new_fingerprint(self) -> str:
        return json.loads(self.statement)["new"]


_ROTATION_CONTEXT = b"pollwatch-key-rotation/1\n"


def verify_rotation(rotation: KeyRotation, old_key: Ed25519PublicKey) -> bool:
    """True if ``rotation`` is signed by ``old_key`` and by the new key it names."""
    try:
        st = json.loads(rotation.statement)
        raw = base64.urlsafe_b64decode(st["new_public_key"] + "==")
        new = Ed25519PublicKey.from_public_bytes(raw)
        if fingerprint(new) != st["new"] or fingerprint(old_key) != st["old"]:
            return False
        old_key.verify(rotation.old_signature, _ROTATION_CONTEXT + rotation.statement)
        new.verify(rotation.new_signature, _ROTATION_CONTEXT + rotation.statement)
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def rotate_signing_key(
    data_dir: str | os.PathLike,
    *,
    passphrase: bytes | str | None = None,
    passphrase_file: str | os.PathLike | None = None,
    new_passphrase: bytes | str | None = None,
    allow_plaintext: bool | None = None,
) -> KeyRotation:
    """Replace the signing key by a new one; the old public key moves to ``keys/retired``.

    The new key is encrypted under ``new_passphrase`` (by default the current passphrase), so
    rotating also encrypts a key an older version stored in the clear. Returns the rotation
    statement signed by both keys; publish the new fingerprint and put the statement in the chain.
    """
    kd = _keys_dir(data_dir)
    pw = resolve_passphrase(data_dir, passphrase, passphrase_file)
    old = _load(kd / SIGNING_KEY_FILE, pw)
    new_pw = new_passphrase if new_passphrase is not None else pw
    if isinstance(new_pw, str):
        new_pw = new_pw.encode()
    if new_pw is None and not _plaintext_allowed(allow_plaintext):
        raise SigningKeyError(
            f"refusing to store the new signing key unencrypted: give a passphrase ({PASSPHRASE_ENV})"
        )
    new = Ed25519PrivateKey.generate()
    raw_new = new.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    statement = json.dumps(
        {
            "type": "key-rotation",
            "old": fingerprint(old),
            "new": fingerprint(new),
            "new_public_key": base64.urlsafe_b64encode(raw_new).decode().rstrip("="),
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    rotation = KeyRotation(
        statement,
        old.sign(_ROTATION_CONTEXT + statement),
        new.sign(_ROTATION_CONTEXT + statement),
    )
    # retire the old public key first: a crash after this leaves the old key current and known
    _write_public(kd / RETIRED_DIR / f"{fingerprint(old)}.pub", old.public_key())
    _replace_private(kd / SIGNING_KEY_FILE, _private_pem(new, new_pw))
    _write_public(kd / PUBLIC_KEY_FILE, new.public_key())
    with (kd / "rotations.jsonl").open("a") as fh:
        fh.write(json.dumps(rotation.to_dict()) + "\n")
    return rotation


def load_or_create_secret(data_dir: str | os.PathLike) -> bytes:
    path = _keys_dir(data_dir) / SECRET_FILE
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


def row_pseudonym(secret: bytes, entity: str, entity_id: int, user_id: int | None) -> str:
    """Pseudonym of a user *within one audited row* (format 2 snapshots): HMAC-SHA-256 of
    ``entity:entity_id:user_id``, first 16 hex digits, prefixed ``q-``.

    The same observer gets a different pseudonym on each submission, assignment and media file,
    so entries taken out of the chain (a bundle) cannot be joined on the observer: the pseudonym
    of an assignment (observer → station) matches no submission's. A bundle that should link
    them says so in its signed manifest (:func:`bundle_pseudonym`).
    """
    if user_id is None:
        return "anon"
    msg = f"row/2:{entity}:{entity_id}:{user_id}".encode()
    return "q-" + hmac.new(secret, msg, hashlib.sha256).hexdigest()[:16]


def bundle_pseudonym(bundle_key: bytes, user_id: int) -> str:
    """Pseudonym of a user inside one bundle (a fresh ``bundle_key`` per bundle): it links the
    entries of that bundle by the same person and no others, unless the organisation reuses the
    key on purpose."""
    return (
        "b-" + hmac.new(bundle_key, f"bundle/1:{user_id}".encode(), hashlib.sha256).hexdigest()[:16]
    )


def commitment_salt(secret: bytes, context: str) -> bytes:
    """The salt of :func:`text_commitment` for ``context``; revealing it (and the text) opens
    that one commitment to a third party without revealing ``secret``."""
    return hmac.new(secret, f"commitment/1:{context}".encode(), hashlib.sha256).digest()


def text_commitment(secret: bytes, context: str, text: str) -> str:
    """A hiding commitment to ``text`` (an SMS, a free-text answer): SHA-256 of a secret salt
    (:func:`commitment_salt` of ``context``, e.g. ``"sms:17"``) and the text, hex.

    Put this in the chain instead of the text: deleting the text later (retention) leaves every
    entry verifiable, and a short text (``IN4 BS S4``) cannot be guessed from the commitment
    because the salt is secret. To prove the text later, reveal the text and the salt.
    """
    return hashlib.sha256(commitment_salt(secret, context) + text.encode()).hexdigest()
