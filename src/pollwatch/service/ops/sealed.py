"""A passphrase-sealed stream: what a backup is written in (``docs/deploy.md`` §8).

A backup holds the pseudonym secret and the data key that decrypt observers' names and phone
numbers, so it is never written in the clear by default. Format: ``PWBK1`` magic, a 16-byte
scrypt salt (Percival 2009; n = 2^17, r = 8, p = 1, as RFC 7914 §2 suggests for interactive use
at the high end), a 7-byte nonce prefix, then 1 MiB chunks sealed with AES-256-GCM, each nonce
the prefix + a 4-byte counter + a last-chunk flag byte: the STREAM construction (Hoang,
Reyhanitabar, Rogaway & Vizár 2015, "Online authenticated-encryption and its nonce-reuse
misuse-resistance", CRYPTO), so chunks cannot be reordered, dropped or cut off at the end.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"PWBK1"
CHUNK = 1 << 20
TAG = 16

__all__ = ["SealError", "is_sealed", "open_sealed", "seal"]


class SealError(ValueError):
    """Wrong passphrase, or the file was altered or cut short."""


def _key(passphrase: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=2**17, r=8, p=1).derive(passphrase)


def _nonce(prefix: bytes, i: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", i) + (b"\x01" if last else b"\x00")


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


def seal(src: BinaryIO, dst: BinaryIO, passphrase: bytes) -> None:
    """Encrypt ``src`` into ``dst`` under ``passphrase``."""
    if not passphrase:
        raise SealError("an empty passphrase seals nothing")
    salt, prefix = os.urandom(16), os.urandom(7)
    aead = AESGCM(_key(passphrase, salt))
    dst.write(MAGIC + salt + prefix)
    i, block = 0, src.read(CHUNK)
    while True:
        nxt = src.read(CHUNK)
        last = not nxt
        dst.write(aead.encrypt(_nonce(prefix, i, last), block, MAGIC))
        if last:
            return
        i, block = i + 1, nxt


def open_sealed(src: BinaryIO, passphrase: bytes) -> Iterator[bytes]:
    """Decrypt chunk by chunk; raises :class:`SealError` on any alteration or a wrong passphrase."""
    head = src.read(len(MAGIC) + 23)
    if not is_sealed(head) or len(head) < len(MAGIC) + 23:
        raise SealError("not a pollwatch sealed backup")
    salt, prefix = head[len(MAGIC) : len(MAGIC) + 16], head[len(MAGIC) + 16 :]
    aead = AESGCM(_key(passphrase, salt))
    i, block = 0, src.read(CHUNK + TAG)
    if not block:
        raise SealError("the backup is cut short (no data after the header)")
    while True:
        nxt = src.read(CHUNK + TAG)
        last = not nxt
        try:
            yield aead.decrypt(_nonce(prefix, i, last), block, MAGIC)
        except InvalidTag:
            raise SealError(
                "wrong passphrase, or the backup was altered or cut short"
                + (f" (chunk {i})" if i else "")
            ) from None
        if last:
            return
        i, block = i + 1, nxt
