"""Writing the hash-chained audit log inside the caller's transaction.

``record`` appends one entry per create/update with a pseudonymous snapshot of the row after the
change, so the log can be exported as is. Entries are serialised: SQLite transactions start with
``BEGIN IMMEDIATE`` (``db``), PostgreSQL takes a transaction-level advisory lock here
(``lock``); the UNIQUE ``prev_hash`` column is the backstop that makes a forked chain impossible.
``record_many`` appends several entries reading the chain head once; ``append`` does so for
rows written with Core (group commit, ``throughput.writer``).

Pseudonyms (issue 18): snapshots of format 2 (``"pv": 2`` in the payload) and their entries'
``actor`` name a user by :func:`pollwatch.evidence.keys.row_pseudonym`, one per audited row, so
entries taken out of the chain cannot be joined on the observer (an assignment's pseudonym
matches no submission's). Format 1 snapshots (a stable pseudonym per user) written before stay
verifiable: ``snapshot(..., version=1)``.

The hook that forgets the lock at the end of a transaction is registered on the app's own
sessionmaker (``install``, called by ``db.session_factory``), not on SQLAlchemy's ``Session``
class: a session made elsewhere neither fires it nor may take the lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from pollwatch.evidence.chain import GENESIS, AuditEntry, canonical_json, entry_hash
from pollwatch.evidence.keys import pseudonym, row_pseudonym
from pollwatch.service import models as m
from pollwatch.service.transactions import BEGIN_OPTION

LOCK_KEY = 0x706F6C6C  # "poll"
"""The key of the PostgreSQL transaction-level advisory lock that serialises audit writers
(``lock``); the group-commit writer takes the same lock in its raw SQL."""
HOOKED = "audit_hooks"  # in ``session.info`` of sessions whose sessionmaker has the hook
_PSEUDO = ("observer_id", "reviewer_id", "uploader_id", "user_id", "watcher_id")
_HIDDEN = {
    "users": {
        "username",
        "password_hash",
        "full_name",
        "phone",
        "created_at",
        "full_name_enc",
        "phone_enc",
        "phone_index",
    },
    # personal data and ciphertexts stay out of the chain: an SMS is in it by its keyed
    # commitments to sender and text (``crud.sms_log``), which the retention's redaction keeps
    "sms_messages": {"sender", "text", "reply", "sender_enc", "sender_index", "redacted_at"},
}
_OPTIONAL = {"received_sha256"}  # columns added later: left out while None (older snapshots)
PSEUDONYM_VERSION = 2
NEW_ENTRIES = "audit_new"  # in ``session.info``: (seq, entity, entity_id, hash) appended
ENTITIES = {
    "election": m.Election,
    "user": m.User,
    "accreditation": m.Accreditation,
    "assignment": m.Assignment,
    "submission": m.Submission,
    "media": m.Media,
    "camera_tally": m.CameraTally,
    "camera_log": m.CameraLog,
    "sms_message": m.SmsMessage,
    "key_rotation": m.KeyRotationRecord,
    "qc_sample": m.QcSample,
    "qc_replacement": m.QcReplacement,
    "qc_publication": m.QcPublication,
}
ENTITY_OF = {cls: name for name, cls in ENTITIES.items()}


def _plain(v):
    return v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v


def actor_pseudonym(secret: bytes, obj, user_id: int | None, version: int = PSEUDONYM_VERSION):
    """The name of ``user_id`` in the audit entry or snapshot of ``obj`` (format ``version``)."""
    if version >= 2:
        return row_pseudonym(secret, ENTITY_OF.get(type(obj), obj.__tablename__), obj.id, user_id)
    return pseudonym(secret, user_id)


def snapshot(session: Session, obj, version: int = PSEUDONYM_VERSION) -> dict:
    """The audited, pseudonymous view of a row (identities replaced by HMAC pseudonyms: one per
    row in format 2, one per user in format 1)."""
    secret = session.info["pseudonym_secret"]
    hidden = _HIDDEN.get(obj.__tablename__, set())
    out = {}
    for col in obj.__table__.columns:
        if col.name in hidden:
            continue
        v = getattr(obj, col.key)
        if v is None and col.name in _OPTIONAL:
            continue
        out[col.name] = (
            actor_pseudonym(secret, obj, v, version) if col.name in _PSEUDO else _plain(v)
        )
    if version >= 2:
        out["pv"] = version
    if isinstance(obj, m.User):
        out["pseudonym"] = actor_pseudonym(secret, obj, obj.id, version)
        del out["id"]
    if isinstance(obj, m.Election):
        out["stations_sha256"] = stations_digest(session, obj.id)
        # ids, names and coordinates too (issue 18); an election audited before this key
        # existed is compared without it (``sources.evidence.verify_database``)
        out[STATION_ROWS_KEY] = station_rows_digest(session, obj.id)
        official = official_digest(session, obj.id)
        if official is not None:  # elections imported without protocols keep their old snapshot
            out["official_sha256"] = official
    if isinstance(obj, m.QcSample):
        out[QC_STATIONS_KEY] = qc_stations_digest(session, obj.id)
    return out


QC_STATIONS_KEY = "stations_sha256"


def qc_stations_digest(session: Session, sample_id: int) -> str:
    """SHA-256 over the sample's station rows (station, stratum, role, reserve rank, weight and
    whether it counts now), so a row edited or added in the database breaks the snapshot."""
    cols = [c for c in m.QcSampleStation.__table__.columns if c.name not in ("id", "sample_id")]
    rows = session.execute(
        select(*cols)
        .where(m.QcSampleStation.sample_id == sample_id)
        .order_by(m.QcSampleStation.station_id)
    )
    return hashlib.sha256(canonical_json([list(r) for r in rows])).hexdigest()


def stations_digest(session: Session, election_id: int) -> str:
    rows = session.execute(
        select(m.Station.code, m.Station.levels, m.Station.registered)
        .where(m.Station.election_id == election_id)
        .order_by(m.Station.code)
    )
    return hashlib.sha256(canonical_json([list(r) for r in rows])).hexdigest()


STATION_ROWS_KEY = "station_rows_sha256"


def station_rows_digest(session: Session, election_id: int) -> str:
    """SHA-256 over every column of the election's stations (id, code, levels, registered,
    coordinates), so moving a station or renaming it in the database breaks the snapshot."""
    cols = [c for c in m.Station.__table__.columns if c.name != "election_id"]
    rows = session.execute(
        select(*cols).where(m.Station.election_id == election_id).order_by(m.Station.id)
    )
    return hashlib.sha256(canonical_json([list(r) for r in rows])).hexdigest()


def official_digest(session: Session, election_id: int) -> str | None:
    """SHA-256 over the official protocols stored at import (None when there are none), so an
    edit of a published figure in the database breaks the election's audit snapshot."""
    rows = session.execute(
        select(m.Station.code, m.OfficialProtocol.numbers, m.OfficialProtocol.votes)
        .join(m.OfficialProtocol, m.OfficialProtocol.station_id == m.Station.id)
        .where(m.Station.election_id == election_id)
        .order_by(m.Station.code)
    ).all()
    if not rows:
        return None
    return hashlib.sha256(canonical_json([list(r) for r in rows])).hexdigest()


def lock(session: Session) -> None:
    """Serialise audit writers until the end of the transaction (SQLite: ``BEGIN IMMEDIATE``
    already did); a caller may take it early, before checks that must not race other writers.
    Only on a session of a sessionmaker with the hooks (``install``): elsewhere nothing would
    forget, at the end of the transaction, that the lock was taken."""
    if not session.info.get(HOOKED):
        raise RuntimeError("audit needs a session from db.session_factory (audit.install)")
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        if session.connection().get_execution_options().get(BEGIN_OPTION) == "DEFERRED":
            # a read transaction (db.reader, db.begin_read) holds no lock: writing the chain
            # in it could interleave with another writer's or fail as "database is locked"
            raise RuntimeError("the audit chain is written only in a BEGIN IMMEDIATE transaction")
    if dialect == "postgresql" and not session.info.get("audit_locked"):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        session.info["audit_locked"] = True


def install(sessions: sessionmaker[Session]) -> None:
    """Register the audit hook on ``sessions`` (an app's sessionmaker): at the end of each
    outermost transaction its sessions forget that they held the lock."""
    event.listen(sessions, "after_transaction_end", unlocked)
    event.listen(sessions, "after_rollback", _forget_new)
    sessions.configure(info={**sessions.kw.get("info", {}), HOOKED: True})


def unlocked(session: Session, transaction) -> None:
    """The hook: the outermost transaction's end released the transaction-level lock."""
    if transaction.parent is None:
        session.info.pop("audit_locked", None)


def _forget_new(session: Session) -> None:
    session.info.pop(NEW_ENTRIES, None)


def committed_entries(session: Session) -> list[tuple[int, str, int, str]]:
    """``(seq, entity, entity_id, hash)`` of the entries this session appended (and, once it
    committed, stored): what a receipt is made of (``checkpoints.receipt_for``)."""
    return session.info.get(NEW_ENTRIES, [])


def record(session: Session, actor_id: int | None, action: str, obj) -> m.AuditLog:
    """Append an audit entry for ``obj`` (flushed first so it has an id); caller commits."""
    return record_many(session, [(actor_id, action, obj)])[0]


def record_many(session: Session, changes: list[tuple[int | None, str, object]]) -> list:
    """Append chained entries for ``(actor_id, action, obj)`` in order, reading the head once."""
    if not changes:
        return []
    session.flush()
    rows = [m.AuditLog(**body) for body in _entries(session, changes)]
    session.add_all(rows)
    return rows


def append(session: Session, changes: list[tuple[int | None, str, object]]) -> list[dict]:
    """As ``record_many`` for objects written with Core (not in the session): the entries go in
    with one multi-row insert, without the unit of work (group commit, ``throughput.writer``).
    Returns their column values."""
    if not changes:
        return []
    rows = _entries(session, changes)
    session.execute(insert(m.AuditLog.__table__), rows)
    return rows


HEAD = select(m.AuditLog.seq, m.AuditLog.hash).order_by(m.AuditLog.seq.desc()).limit(1)


def _entries(session: Session, changes: list[tuple[int | None, str, object]]) -> list[dict]:
    """The chained column values of the new entries (takes the lock, reads the head once)."""
    lock(session)
    return chain(session, session.execute(HEAD).first(), changes)


def chain(
    session: Session,
    head,
    changes: list[tuple[int | None, str, object]],
    payloads: list[str] | None = None,
) -> list[dict]:
    """The column values of entries for ``changes`` following ``head`` (``(seq, hash)`` of the
    last entry, read under the lock, or None for an empty log). ``payloads``: the objects'
    ``payload`` texts if already made (outside the lock: they do not depend on the chain)."""
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    secret = session.info["pseudonym_secret"]
    rows = []
    for k, (actor_id, action, obj) in enumerate(changes):
        seq += 1
        entry = AuditEntry(
            seq=seq,
            ts=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            actor=actor_pseudonym(secret, obj, actor_id),
            action=action,
            entity=ENTITY_OF[type(obj)],
            entity_id=_entity_id(obj),
            payload=payloads[k] if payloads is not None else payload(session, obj),
            prev_hash=prev,
        )
        prev = entry_hash(entry)
        rows.append({**entry.body(), "hash": prev})
    new = session.info.setdefault(NEW_ENTRIES, [])
    new.extend((r["seq"], r["entity"], r["entity_id"], r["hash"]) for r in rows)
    return rows


def payload(session: Session, obj) -> str:
    """The audited text of ``obj``: the canonical JSON of its snapshot."""
    return canonical_json(snapshot(session, obj)).decode()


def _entity_id(obj) -> int:
    return obj.id


def to_entry(row: m.AuditLog) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
