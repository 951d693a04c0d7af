"""Evidence integrity: hash-chained audit entries, a content-addressed media store, signed bundles.

``chain`` (canonical JSON and the SHA-256 hash chain), ``media`` (content-addressed files and
EXIF-free published derivatives), ``keys`` (the Ed25519 signing key and the pseudonym secret)
and ``bundle`` (signed export and its verification) need only the standard library, Pillow and
``cryptography``. ``database`` reads a live service database and needs SQLAlchemy (the
``[service]`` extra); it is imported lazily. Imports nothing from ``pollwatch.service`` at import
time.
"""

from __future__ import annotations

from pollwatch.evidence.bundle import VerificationResult, verify_bundle
from pollwatch.evidence.chain import GENESIS, AuditEntry, canonical_json, entry_hash, first_broken
from pollwatch.evidence.media import MediaStore, sha256_bytes, strip_metadata

__all__ = [
    "GENESIS",
    "AuditEntry",
    "MediaStore",
    "VerificationResult",
    "canonical_json",
    "entry_hash",
    "first_broken",
    "sha256_bytes",
    "strip_metadata",
    "verify_bundle",
]
