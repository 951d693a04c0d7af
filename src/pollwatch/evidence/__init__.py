"""Evidence integrity: hash-chained audit entries, a content-addressed media store, signed bundles.

``chain`` (canonical JSON and the SHA-256 hash chain), ``media`` (content-addressed files and
EXIF-free published derivatives), ``keys`` (the Ed25519 signing key, encrypted at rest and
rotatable, and the pseudonym secret), ``merkle`` (the RFC 6962 tree over the entry hashes and
its proofs), ``checkpoint`` (signed checkpoints and receipts that leave the server, and the
check of a chain against them), ``witness`` (what a second organisation accepts) and ``bundle``
(signed export and its verification) need only the standard library, Pillow and
``cryptography``, and import only ``results`` from the rest of pollwatch; ``timestamp`` (RFC 3161
tokens) needs the ``[timestamp]`` extra and nothing here imports it. docs/evidence.md says what
each defends against. Exporting and
verifying a live service database (SQLAlchemy, the ``[service]`` extra) is
:mod:`pollwatch.service.sources.evidence`, above this package; the service writes every row
through ``service.audit`` into this chain.
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
