"""The signing key at rest: encrypted under a passphrase kept apart, rotation, old keys."""

from __future__ import annotations

import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pollwatch.evidence.chain import AuditEntry, relink
from pollwatch.evidence.checkpoint import make_checkpoint, verify_against_checkpoints
from pollwatch.evidence.keys import (
    INSECURE_ENV,
    PASSPHRASE_ENV,
    PASSPHRASE_FILE_ENV,
    SigningKeyError,
    fingerprint,
    known_public_keys,
    load_or_create_signing_key,
    rotate_signing_key,
    verify_rotation,
)


@pytest.fixture
def secure(monkeypatch):
    monkeypatch.delenv(INSECURE_ENV)


def key_file(data_dir):
    return data_dir / "keys" / "evidence-ed25519.pem"


def test_refuses_to_create_an_unencrypted_key(secure, tmp_path):
    with pytest.raises(SigningKeyError, match="refusing to create an unencrypted"):
        load_or_create_signing_key(tmp_path)
    assert not key_file(tmp_path).exists()
    load_or_create_signing_key(tmp_path, allow_plaintext=True)  # the explicit dev flag
    assert b"ENCRYPTED" not in key_file(tmp_path).read_bytes()


def test_encrypted_with_the_env_passphrase(secure, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    k = load_or_create_signing_key(tmp_path)
    pem = key_file(tmp_path).read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY")
    assert key_file(tmp_path).stat().st_mode & 0o077 == 0
    assert fingerprint(load_or_create_signing_key(tmp_path)) == fingerprint(k)
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        load_or_create_signing_key(tmp_path)
    monkeypatch.delenv(PASSPHRASE_ENV)
    with pytest.raises(SigningKeyError, match="is encrypted"):
        load_or_create_signing_key(tmp_path)
    # verifying needs no passphrase: the public key sits beside it
    assert [fingerprint(p) for p in known_public_keys(tmp_path)] == [fingerprint(k)]


def test_passphrase_file_must_live_outside_the_data_dir(secure, tmp_path, monkeypatch):
    data = tmp_path / "data"
    inside = data / "pass.txt"
    inside.parent.mkdir()
    inside.write_text("s3cret\n")
    monkeypatch.setenv(PASSPHRASE_FILE_ENV, str(inside))
    with pytest.raises(SigningKeyError, match="inside the data directory"):
        load_or_create_signing_key(data)
    outside = tmp_path / "secrets" / "pass.txt"
    outside.parent.mkdir()
    outside.write_text("s3cret\n")
    monkeypatch.setenv(PASSPHRASE_FILE_ENV, str(outside))
    k = load_or_create_signing_key(data)
    loaded = serialization.load_pem_private_key(key_file(data).read_bytes(), password=b"s3cret")
    assert fingerprint(loaded) == fingerprint(k)


def test_old_unencrypted_key_loads_with_a_logged_warning(tmp_path, caplog):
    key_file(tmp_path).parent.mkdir()
    old = Ed25519PrivateKey.generate()
    key_file(tmp_path).write_bytes(
        old.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with caplog.at_level(logging.WARNING, logger="pollwatch.evidence"):
        k = load_or_create_signing_key(tmp_path, allow_plaintext=False)
    assert fingerprint(k) == fingerprint(old) and "UNENCRYPTED" in caplog.text


def test_rotation_keeps_old_checkpoints_verifiable(secure, tmp_path):
    entries = relink(
        AuditEntry(i, "t", "p", "create", "incident", i, "{}", "") for i in range(1, 6)
    )
    old = load_or_create_signing_key(tmp_path, passphrase="one", allow_plaintext=False)
    cp_old = make_checkpoint(entries[:3], old)
    rot = rotate_signing_key(tmp_path, passphrase="one", new_passphrase="two")
    new = load_or_create_signing_key(tmp_path, passphrase="two")
    assert fingerprint(new) != fingerprint(old)
    assert rot.old_fingerprint == fingerprint(old) and rot.new_fingerprint == fingerprint(new)
    assert verify_rotation(rot, old.public_key())
    assert not verify_rotation(rot, new.public_key())
    assert (tmp_path / "keys" / "retired" / f"{fingerprint(old)}.pub").exists()
    with pytest.raises(SigningKeyError, match="wrong passphrase"):
        load_or_create_signing_key(tmp_path, passphrase="one")
    keys = known_public_keys(tmp_path)
    assert {fingerprint(k) for k in keys} == {fingerprint(old), fingerprint(new)}
    rep = verify_against_checkpoints(entries, [cp_old, make_checkpoint(entries, new)], keys=keys)
    assert rep.ok and rep.n_checked == 2


def test_rotation_encrypts_a_plaintext_key(tmp_path, monkeypatch):
    old = load_or_create_signing_key(tmp_path)  # plaintext (the tests' flag)
    monkeypatch.delenv(INSECURE_ENV)
    with pytest.raises(SigningKeyError, match="unencrypted"):
        rotate_signing_key(tmp_path)
    rot = rotate_signing_key(tmp_path, new_passphrase="now-encrypted")
    assert verify_rotation(rot, old.public_key())
    assert b"ENCRYPTED" in key_file(tmp_path).read_bytes()
