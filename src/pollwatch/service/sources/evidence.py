"""Signed bundles and verification of a live service database.

``export_database`` writes a signed bundle of the whole audit log and every published media
derivative (:func:`pollwatch.service.sources.dossier.write_dossier_bundle` one for chosen
stations). ``verify_database`` checks, besides the chain itself, that every audited row still
equals the snapshot in its latest audit entry (an edit made directly in the database, bypassing
the service, shows up here) and that every media file in the store still hashes to its name;
given checkpoints held outside the server (``checkpoints=``), it also compares the chain with
them, which is what catches a rewrite by someone holding the database and the signing key.
``checkpoint_database`` signs a checkpoint of the live chain.

The chain, the media store, the keys and the bundle format are :mod:`pollwatch.evidence`'s
(standard library, Pillow and ``cryptography`` only); this module only reads the service's
tables into them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select

from pollwatch.evidence.bundle import MediaItem, VerificationResult, write_bundle
from pollwatch.evidence.chain import canonical_json, first_broken, head
from pollwatch.evidence.checkpoint import (
    Checkpoint,
    Held,
    make_checkpoint,
    verify_against_checkpoints,
)
from pollwatch.evidence.keys import load_or_create_secret, load_or_create_signing_key
from pollwatch.evidence.media import MediaStore
from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.checkpoints import checkpoint_sizes, latest_checkpoint
from pollwatch.service.db import make_engine, session_factory

__all__ = [
    "checkpoint_database",
    "checkpoint_sizes",
    "latest_checkpoint",
    "export_database",
    "load_entries",
    "open_database",
    "record_rotation",
    "verify_database",
]


def open_database(url: str, data_dir: Path):
    """An engine and a session factory for the service database at ``url`` (the pseudonym
    secret from ``data_dir``); the caller disposes of the engine."""
    engine = make_engine(url)
    return engine, session_factory(engine, load_or_create_secret(data_dir))


def load_entries(session) -> list:
    """Every audit entry of the database, in chain order."""
    return [audit.to_entry(r) for r in session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))]


def export_database(url: str, data_dir: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Write a signed bundle of the whole audit log and every published media derivative."""
    data_dir = Path(data_dir)
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(url, data_dir)
    try:
        with sessions() as session:
            entries = load_entries(session)
            sizes = checkpoint_sizes(session)
            media = [
                MediaItem(r.sha256, r.published_sha256, store.get(r.published_sha256))
                for r in session.scalars(
                    select(m.Media)
                    .where(m.Media.published_sha256.is_not(None))
                    .order_by(m.Media.id)
                )
            ]
    finally:
        engine.dispose()
    return write_bundle(
        out, entries, media, load_or_create_signing_key(data_dir), consistency_from=sizes
    )


def checkpoint_database(
    url: str, data_dir: str | os.PathLike, *, origin: str = "pollwatch"
) -> Checkpoint:
    """A checkpoint of the live chain, signed with the data directory's evidence key."""
    data_dir = Path(data_dir)
    engine, sessions = open_database(url, data_dir)
    try:
        with sessions() as session:
            entries = load_entries(session)
    finally:
        engine.dispose()
    return make_checkpoint(entries, load_or_create_signing_key(data_dir), origin=origin)


def record_rotation(settings, *, new_passphrase: bytes | None = None):
    """Rotate the evidence signing key of ``settings.data_dir`` and record the rotation
    statement (signed by the old and the new key) as an audit entry; returns the rotation."""
    from pollwatch.evidence.checkpoint import b64
    from pollwatch.evidence.keys import rotate_signing_key

    settings.signing_key()  # the current key must load (passphrase) before anything changes
    rotation = rotate_signing_key(
        settings.data_dir,
        passphrase=settings.key_passphrase or None,
        passphrase_file=settings.key_passphrase_file,
        new_passphrase=new_passphrase,
        allow_plaintext=settings.insecure_plaintext_key,
    )
    engine, sessions = open_database(settings.database_url, Path(settings.data_dir))
    try:
        with sessions() as session:
            row = m.KeyRotationRecord(
                old_fingerprint=rotation.old_fingerprint,
                new_fingerprint=rotation.new_fingerprint,
                statement=rotation.statement.decode(),
                old_signature=b64(rotation.old_signature),
                new_signature=b64(rotation.new_signature),
            )
            session.add(row)
            audit.record(session, None, "rotate", row)
            session.commit()
    finally:
        engine.dispose()
    return rotation


def verify_database(
    url: str, data_dir: str | os.PathLike, *, checkpoints: Iterable[Held] = ()
) -> VerificationResult:
    """Check the live chain, every audited row against its last snapshot, and the media store;
    and the chain against ``checkpoints`` held outside the server (their holders vouch for them,
    so their signatures are not checked against keys the server could have replaced)."""
    data_dir = Path(data_dir)
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(url, data_dir)
    problems: list[str] = []
    try:
        with sessions() as session:
            entries = load_entries(session)
            broken, why = first_broken(entries)
            bad = [broken] if broken is not None else []
            if broken is not None:
                problems.append(f"audit entry #{broken}: {why}")
            latest = {(e.entity, e.entity_id): e for e in entries}
            # one query per table, not one per audited row (tens of thousands of camera tallies)
            rows = {
                name: {r.id: r for r in session.scalars(select(cls))}
                for name, cls in audit.ENTITIES.items()
            }
            for (entity, eid), e in sorted(latest.items(), key=lambda kv: kv[1].seq):
                row = rows.get(entity, {}).get(eid)
                if row is None:
                    if e.action != "delete":
                        bad.append(e.seq)
                        problems.append(
                            f"audit entry #{e.seq}: {entity} {eid} is missing from the database"
                        )
                    continue
                if _snapshot_text(session, row, e) != e.payload:
                    bad.append(e.seq)
                    problems.append(
                        f"audit entry #{e.seq}: {entity} {eid} was changed outside the service"
                    )
                elif isinstance(row, m.SmsMessage) and (sms := audit.sms_problems(row)):
                    bad.append(e.seq)
                    problems += [f"audit entry #{e.seq}: {p}" for p in sms]
            problems += _unaudited(session, latest)
            n_media = 0
            for e in entries:
                if e.entity != "media":
                    continue
                p = json.loads(e.payload)
                for sha in (p.get("sha256"), p.get("published_sha256")):
                    if sha and not store.check(sha):
                        n_media += 1
                        bad.append(e.seq)
                        problems.append(
                            f"audit entry #{e.seq}: media file {sha} is missing or altered"
                        )
    finally:
        engine.dispose()
    held = list(checkpoints)
    report = verify_against_checkpoints(entries, held) if held else None
    if report is not None and not report.ok:
        problems += report.problems
        if report.first_differing_entry is not None:
            bad.append(report.first_differing_entry)
    first = min(bad) if bad else None
    n_files = len({json.loads(e.payload).get("sha256") for e in entries if e.entity == "media"})
    return VerificationResult(
        not problems,
        url.split("@")[-1],
        len(entries),
        n_files,
        head(entries),
        first,
        None,
        tuple(dict.fromkeys(problems)),
        n_checkpoints_checked=report.n_checked if report is not None else 0,
        differing_range=report.differing_range if report is not None else None,
    )


def _snapshot_text(session, row, entry) -> str:
    snap = audit.snapshot(session, row)
    if isinstance(row, m.Election) and f'"{audit.STATION_ROWS_KEY}"' not in entry.payload:
        del snap[audit.STATION_ROWS_KEY]  # audited before station rows were in the snapshot
    return canonical_json(snap).decode()


def _unaudited(session, latest: dict) -> list[str]:
    """Rows that exist but were never written through the service (inserted directly)."""
    problems = []
    for name, cls in audit.ENTITIES.items():
        for (rid,) in session.execute(select(cls.id)):
            if (name, rid) not in latest:
                problems.append(f"{name} {rid} has no audit entry (inserted outside the service)")
    return problems
