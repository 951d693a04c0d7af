"""Signed bundles and verification of a live service database.

``export_database`` writes a signed bundle that discloses only what it must
(:func:`disclosure_selection`): the entries of reviewed (verified) submissions, their media and
the camera counts, of all stations or chosen ones, each with its inclusion proof against a
checkpoint of the whole chain; never the users', accreditations' or assignments' entries;
unreviewed and rejected submissions only when asked (``include_unreviewed``); the whole chain
only when asked (``full``, for an auditor who must see everything).
:func:`pollwatch.service.sources.dossier.write_dossier_bundle` writes one for chosen stations'
dossiers. ``verify_database`` checks, besides the chain itself, that every audited row still
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

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from collections.abc import Collection, Iterable
from pathlib import Path

from sqlalchemy import select

from pollwatch.evidence.bundle import MediaItem, VerificationResult, write_bundle
from pollwatch.evidence.chain import canonical_json, first_broken, head
from pollwatch.evidence.checkpoint import (
    Checkpoint,
    Held,
    b64,
    make_checkpoint,
    verify_against_checkpoints,
)
from pollwatch.evidence.keys import (
    bundle_pseudonym,
    load_or_create_secret,
    load_or_create_signing_key,
    rotate_signing_key,
)
from pollwatch.evidence.media import MediaStore
from pollwatch.service import audit
from pollwatch.service import models as m
from pollwatch.service.checkpoints import checkpoint_sizes, latest_checkpoint
from pollwatch.service.crud.sms_log import sms_problems
from pollwatch.service.db import make_engine, session_factory

__all__ = [
    "Disclosure",
    "checkpoint_database",
    "checkpoint_sizes",
    "clean_orphans",
    "disclosure_selection",
    "export_database",
    "latest_checkpoint",
    "load_entries",
    "open_database",
    "orphaned_media",
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


class Disclosure:
    """What a bundle discloses: ``seqs`` (the entry numbers), ``owners`` (entry number → the user
    whose row it is, for the bundle's own pseudonyms), ``media`` (the media rows whose published
    derivative goes in)."""

    def __init__(self, seqs: list[int], owners: dict[int, int], media: list) -> None:
        self.seqs, self.owners, self.media = seqs, owners, media


def disclosure_selection(
    session,
    entries: list,
    *,
    stations: Collection[int] | None = None,
    include_unreviewed: bool = False,
) -> Disclosure:
    """The entries a bundle of ``stations`` (service station ids; None: every station) needs.

    Kept: the elections' entries (the station list and official figures they fix); each
    submission of those stations that a reviewer verified and that is not quarantined, with all
    its entries (so its history shows) and its media's; camera tallies and logs of those
    stations without free text. With ``include_unreviewed`` also unreviewed, rejected and
    quarantined submissions and camera entries with free text. Never: users (their entries name
    the raw user id), accreditations and assignments (observer → station)."""
    subq = select(
        m.Submission.id,
        m.Submission.station_id,
        m.Submission.observer_id,
        m.Submission.status,
        m.Submission.quarantined,
    )
    if stations is not None:
        subq = subq.where(m.Submission.station_id.in_(list(stations)))
    subs = {
        sid: observer
        for sid, _, observer, status, quarantined in session.execute(subq)
        if include_unreviewed or (status == m.Verification.verified and not quarantined)
    }
    media_rows = (
        list(
            session.scalars(
                select(m.Media).where(m.Media.submission_id.in_(list(subs))).order_by(m.Media.id)
            )
        )
        if subs
        else []
    )
    keep: dict[tuple[str, int], int | None] = {("submission", k): v for k, v in subs.items()}
    keep.update({("media", r.id): r.uploader_id for r in media_rows})
    for entity, cls, text_col in (
        ("camera_tally", m.CameraTally, m.CameraTally.reason),
        ("camera_log", m.CameraLog, m.CameraLog.note),
    ):
        q = select(cls.id, cls.watcher_id, text_col)
        if stations is not None:
            q = q.where(cls.station_id.in_(list(stations)))
        for rid, watcher, free in session.execute(q):
            if include_unreviewed or not free:
                keep[(entity, rid)] = watcher
    elections = None
    if stations is not None:
        elections = set(
            session.scalars(
                select(m.Station.election_id).where(m.Station.id.in_(list(stations))).distinct()
            )
        )
    seqs, owners = [], {}
    for e in entries:
        if e.entity == "election" and (elections is None or e.entity_id in elections):
            seqs.append(e.seq)
        elif (e.entity, e.entity_id) in keep:
            seqs.append(e.seq)
            owner = keep[(e.entity, e.entity_id)]
            if owner is not None:
                owners[e.seq] = owner
    return Disclosure(seqs, owners, media_rows)


def bundle_links(disclosure: Disclosure, link_key: bytes | None = None) -> dict:
    """The ``observers`` block of a bundle's signed manifest: entry number → a pseudonym of the
    observer under a key of this bundle (fresh unless ``link_key``), so a reader sees which
    entries come from the same person in this bundle, and two bundles cannot be joined."""
    key = link_key if link_key is not None else secrets.token_bytes(32)
    return {
        "observers": {
            "key": "organisation link key" if link_key is not None else "fresh for this bundle",
            "by_entry": {
                str(seq): bundle_pseudonym(key, uid) for seq, uid in disclosure.owners.items()
            },
        }
    }


def export_database(
    url: str,
    data_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    stations: Collection[str] | None = None,
    include_unreviewed: bool = False,
    full: bool = False,
    link_key: bytes | None = None,
) -> dict:
    """Write a signed bundle; returns the manifest.

    By default the bundle discloses only what it must (:func:`disclosure_selection`) of every
    station or of ``stations`` (codes), with inclusion proofs against a checkpoint of the whole
    chain and per-bundle observer pseudonyms (:func:`bundle_links`; ``link_key`` reuses a key
    so that bundles can be joined on purpose). ``include_unreviewed``: also unreviewed and
    rejected submissions, free text included. ``full``: the whole chain and every published
    media derivative, as before issue 18 (users' ids, assignments, every text: for an auditor).
    """
    data_dir = Path(data_dir)
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(url, data_dir)
    try:
        with sessions() as session:
            entries = load_entries(session)
            sizes = checkpoint_sizes(session)
            if full:
                rows = session.scalars(
                    select(m.Media)
                    .where(m.Media.published_sha256.is_not(None))
                    .order_by(m.Media.id)
                )
                chosen = None
                extra: dict = {"disclosure": "full"}
            else:
                ids = None
                if stations is not None:
                    ids = _station_ids(session, stations)
                chosen = disclosure_selection(
                    session, entries, stations=ids, include_unreviewed=include_unreviewed
                )
                rows = [r for r in chosen.media if r.published_sha256 is not None]
                extra = {
                    "disclosure": "selected",
                    "unreviewed_included": include_unreviewed,
                    **bundle_links(chosen, link_key),
                }
                if stations is not None:
                    extra["station_codes"] = sorted(stations)
            media = [
                MediaItem(r.sha256, r.published_sha256, store.get(r.published_sha256)) for r in rows
            ]
    finally:
        engine.dispose()
    return write_bundle(
        out,
        entries,
        media,
        load_or_create_signing_key(data_dir),
        extra=extra,
        select=None if chosen is None else chosen.seqs,
        consistency_from=sizes,
    )


def _station_ids(session, codes: Collection[str]) -> list[int]:
    """Service station ids of ``codes`` (every election's); unknown codes are an error."""
    rows = session.execute(
        select(m.Station.id, m.Station.code).where(m.Station.code.in_(list(codes)))
    )
    found = {}
    for sid, code in rows:
        found.setdefault(code, []).append(sid)
    missing = sorted(set(codes) - set(found))
    if missing:
        raise ValueError(f"unknown station codes: {', '.join(missing)}")
    return [sid for ids in found.values() for sid in ids]


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
                elif isinstance(row, m.SmsMessage) and (sms := sms_problems(session, row)):
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
            for path in orphaned_media(session, store):
                problems.append(
                    f"media store: {path.relative_to(store.root)} belongs to no media row (an "
                    "orphan: an upload that failed before its commit, or a row deleted outside "
                    "the service); `--clean-orphans` moves it aside"
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
    """The snapshot of ``row`` as ``entry`` would hold it now: in the entry's pseudonym format,
    and without the station rows' digest for an election audited before it was added."""
    snap = audit.snapshot(session, row, json.loads(entry.payload).get("pv", 1))
    if isinstance(row, m.Election) and f'"{audit.STATION_ROWS_KEY}"' not in entry.payload:
        del snap[audit.STATION_ROWS_KEY]  # audited before station rows were in the snapshot
    return canonical_json(snap).decode()


def orphaned_media(session, store: MediaStore, min_age: float = 0.0) -> list[Path]:
    """Files in the media store that no media row names (as original or published copy), and
    any temporary file an interrupted write left; only those not modified for ``min_age``
    seconds (an upload in flight writes its file just before its row is committed)."""
    referenced: set[str] = set()
    for sha, published in session.execute(select(m.Media.sha256, m.Media.published_sha256)):
        referenced.add(sha)
        if published:
            referenced.add(published)
    cutoff = time.time() - min_age
    return [
        p
        for p in store.files()
        if store.name_of(p) not in referenced and (min_age <= 0 or p.stat().st_mtime < cutoff)
    ]


def clean_orphans(
    url: str, data_dir: str | os.PathLike, *, min_age: float = 300.0
) -> tuple[Path | None, list[dict]]:
    """Move the orphaned media files (``orphaned_media``) out of the store, into
    ``data_dir/orphans/<UTC time>/`` with a ``manifest.json`` of each one (its path in the store,
    size, SHA-256 of its content, when it was moved): nothing is deleted, since an orphan may
    be evidence whose row someone removed. Returns that directory (None if nothing was moved)
    and the manifest's entries."""
    data_dir = Path(data_dir)
    store = MediaStore(data_dir / "media")
    engine, sessions = open_database(url, data_dir)
    try:
        with sessions() as session:
            orphans = orphaned_media(session, store, min_age)
    finally:
        engine.dispose()
    if not orphans:
        return None, []
    now = dt.datetime.now(dt.UTC)
    dest = data_dir / "orphans" / now.strftime("%Y%m%dT%H%M%S.%fZ")
    dest.mkdir(parents=True)
    moved = []
    for p in orphans:
        rel = p.relative_to(store.root)
        data = p.read_bytes()
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, target)
        moved.append(
            {
                "path": str(rel),
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "moved_at": now.isoformat(),
            }
        )
    (dest / "manifest.json").write_text(json.dumps(moved, indent=2) + "\n")
    return dest, moved


def _unaudited(session, latest: dict) -> list[str]:
    """Rows that exist but were never written through the service (inserted directly)."""
    problems = []
    for name, cls in audit.ENTITIES.items():
        for (rid,) in session.execute(select(cls.id)):
            if (name, rid) not in latest:
                problems.append(f"{name} {rid} has no audit entry (inserted outside the service)")
    return problems
