"""The audit hash chain: canonical JSON, entry hashes and the check that finds the first break.

Each entry's hash is SHA-256 over the canonical JSON of its fields, including the hash of the
previous entry (``prev_hash``), so editing, inserting or deleting any entry breaks every later
link. Only deleting entries at the *end* of the chain is invisible to the chain alone; a signed
bundle (``bundle``) fixes the head hash and the count at export time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

GENESIS = "0" * 64


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8 (the input of every hash)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry; ``payload`` is the canonical JSON text of the record after the change."""

    seq: int
    ts: str
    actor: str
    action: str
    entity: str
    entity_id: int
    payload: str
    prev_hash: str
    hash: str = ""

    def body(self) -> dict:
        # every field but the hash; not dataclasses.asdict, whose deep copy of these plain values
        # was most of the cost of hashing an entry (tens of thousands per camera-watched election)
        return {k: getattr(self, k) for k in _BODY}


_BODY = tuple(f.name for f in fields(AuditEntry) if f.name != "hash")


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) of the canonical JSON of every field except ``hash`` itself."""
    return hashlib.sha256(canonical_json(entry.body())).hexdigest()


def first_broken(entries: Iterable[AuditEntry]) -> tuple[int | None, str]:
    """Return ``(seq, reason)`` of the first entry that breaks the chain, or ``(None, "")``.

    Checks, in order: sequence numbers run 1, 2, 3 … without gaps; each ``prev_hash`` equals the
    previous entry's ``hash``; each ``hash`` equals the recomputed hash of the entry.
    """
    prev, expected_seq = GENESIS, 1
    for e in entries:
        if e.seq != expected_seq:
            return e.seq, f"sequence gap: expected entry {expected_seq}, found {e.seq}"
        if e.prev_hash != prev:
            return e.seq, "prev_hash does not match the previous entry's hash"
        if entry_hash(e) != e.hash:
            return e.seq, "content does not match its hash (entry was altered)"
        prev, expected_seq = e.hash, expected_seq + 1
    return None, ""


def relink(entries: Iterable[AuditEntry], *, renumber: bool = True) -> list[AuditEntry]:
    """The entries linked into a valid chain: numbered 1, 2, 3 … (``renumber``), each
    ``prev_hash`` the previous entry's hash and each ``hash`` recomputed.

    What the service does as it appends, and what an operator rewriting history would do after
    an edit: the result passes :func:`first_broken`, which is why checkpoints held outside the
    server (:mod:`pollwatch.evidence.checkpoint`) are needed to catch it.
    """
    out, prev = [], GENESIS
    for i, e in enumerate(entries, 1):
        e = replace(e, seq=i if renumber else e.seq, prev_hash=prev, hash="")
        e = replace(e, hash=entry_hash(e))
        out.append(e)
        prev = e.hash
    return out


def head(entries: Sequence[AuditEntry]) -> str:
    """Hash of the last entry (the genesis value for an empty chain)."""
    return entries[-1].hash if entries else GENESIS
