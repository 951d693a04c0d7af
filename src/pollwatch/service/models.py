"""SQLAlchemy ORM tables of the observation service.

Timestamps are naive UTC. Submissions of all three kinds (checklist, incident, protocol copy)
share one table so that review, quarantine, idempotency and the audit trail work the same way.
Camera watchers' tallies and camera-status log entries have tables of their own (they are
counts per time window, not forms), with the same client-id idempotency and audit trail.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    observer = "observer"
    camera_watcher = "camera_watcher"
    analyst = "analyst"
    public = "public"


class AccreditationStatus(StrEnum):
    requested = "requested"
    accredited = "accredited"
    refused = "refused"
    revoked = "revoked"


class Verification(StrEnum):
    new = "new"
    under_review = "under_review"
    verified = "verified"
    rejected = "rejected"


class Kind(StrEnum):
    checklist = "checklist"
    incident = "incident"
    protocol = "protocol"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Election(Base):
    __tablename__ = "elections"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(100), default="")
    date: Mapped[str] = mapped_column(String(10), default="")
    type: Mapped[str] = mapped_column(String(50), default="")
    hierarchy: Mapped[list[Any]] = mapped_column(default=list)
    candidates: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Station(Base):
    __tablename__ = "stations"
    __table_args__ = (UniqueConstraint("election_id", "code", name="uq_station_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(100))
    levels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)


class OfficialProtocol(Base):
    """The published protocol of one station, stored at election import: ``numbers`` maps the
    protocol lines the Election has (``pollwatch.model.fields`` names) and ``votes`` the
    candidate ids to their counts (``None`` where the published file left the cell empty)."""

    __tablename__ = "official_protocols"
    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), unique=True
    )
    numbers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    votes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # data minimisation (issue 18, ``privacy``): ``full_name`` and ``phone`` stay empty; the
    # name and number are AES-GCM ciphertexts and the number is found by its keyed blind index
    full_name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_index: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="api")  # api | session
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # no use after (docs/security)
    user: Mapped[User] = relationship()


class Accreditation(Base):
    __tablename__ = "accreditations"
    __table_args__ = (UniqueConstraint("user_id", "election_id", name="uq_accreditation"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default=AccreditationStatus.requested)
    date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    body: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "station_id", name="uq_assignment"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )


class Submission(Base):
    __tablename__ = "submissions"
    if TYPE_CHECKING:  # set on the object after the commit, never stored as columns
        receipt: str | None  # the observer's receipt (api.submit, checkpoints)
        audit_entry: tuple[int, str]  # (seq, hash) of its audit entry (throughput.writer)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(10), index=True)
    form: Mapped[str] = mapped_column(String(40))  # checklist code, incident category or "protocol"
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    observer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10), default="api")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(10), nullable=True)
    occurred_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=Verification.new, index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    station: Mapped[Station] = relationship()


class CameraTally(Base):
    """Voters a camera watcher counted in one time window at one station.

    Window times are the station's wall clock (naive). ``count`` is empty and ``usable`` false
    when the watcher could not see the box: an unwatched window is missing, never zero voters.
    """

    __tablename__ = "camera_tallies"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    watcher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    window_end: Mapped[dt.datetime] = mapped_column(DateTime)
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    usable: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CameraLog(Base):
    """A camera-status change (``kind`` "status": ``pollwatch.cameras.STATUSES``) or a
    timestamped camera event (``kind`` "event": stuffing seen, group arrival, angle change...)
    at one station, as a watcher logged it. ``at`` is the station's wall clock (naive)."""

    __tablename__ = "camera_logs"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    watcher_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Media(Base):
    __tablename__ = "media"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    published_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploader_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # SHA-256 of the upload as received, before its metadata (GPS) was stripped from the stored
    # original (``sha256``); None when the original is kept as received
    received_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AuditLog(Base):
    """Append-only; ``hash`` chains each entry to the previous one (``pollwatch.evidence.chain``)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class SmsMessage(Base):
    """The SMS log. ``sender`` stays empty: the number is ``sender_enc`` (AES-GCM) and its keyed
    blind index ``sender_index``; ``text`` and ``reply`` are ciphertexts too. The row is in the
    audit chain by ``sender_commitment`` and ``text_commitment`` (keyed commitments to the
    plaintexts, ``evidence.keys.text_commitment``; ``crud.sms_log``), never by the ciphertexts,
    so the retention's redaction changes nothing the chain holds."""

    __tablename__ = "sms_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    sender_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    sender_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    text_commitment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sender_commitment: Mapped[str | None] = mapped_column(String(64), nullable=True)
    redacted_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    reply: Mapped[str] = mapped_column(Text, default="")
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CheckpointRecord(Base):
    """A signed checkpoint of the chain the service made (``checkpoints.CheckpointJob``)."""

    __tablename__ = "checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(Integer, index=True)
    root: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CheckpointPost(Base):
    """A checkpoint sent to a witness or a timestamp authority, and its answer (cosignature,
    refusal, ``pwt1`` token, or the error); ``status`` is the HTTP status, 0 when unreachable."""

    __tablename__ = "checkpoint_posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(
        ForeignKey("checkpoints.id", ondelete="CASCADE"), index=True
    )
    target: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10))  # witness | tsa
    status: Mapped[int] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class KeyRotationRecord(Base):
    """A rotation of the evidence signing key, signed by the old and the new key (audited, so
    the chain says from which entry on the new key signs)."""

    __tablename__ = "key_rotations"
    id: Mapped[int] = mapped_column(primary_key=True)
    old_fingerprint: Mapped[str] = mapped_column(String(64))
    new_fingerprint: Mapped[str] = mapped_column(String(64))
    statement: Mapped[str] = mapped_column(Text)
    old_signature: Mapped[str] = mapped_column(String(100))
    new_signature: Mapped[str] = mapped_column(String(100))


class SmsRate(Base):
    """SMS webhook messages per sender (``key``: an HMAC of the normalised number, or a bucket
    name) in one fixed window (``slot``: seconds since the epoch // window); kept in the
    database so that every worker counts against the same limit."""

    __tablename__ = "sms_rate"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)


class QcSample(Base):
    """The registered quick-count sample of one election (``pollwatch quickcount design``'s
    file, imported by a coordinator): its SHA-256, the file's replacement rule and sidecar. The
    stations are ``QcSampleStation`` rows (file format: ``pollwatch.quickcount.sample``); the audited snapshot carries their digest
    (``audit.qc_stations_digest``), so an edit of a row in the database breaks it."""

    __tablename__ = "qc_samples"
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="RESTRICT"), unique=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200), default="")
    rule: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QcSampleStation(Base):
    """One station of a registered sample: ``role`` "primary" or "reserve" (``reserve_rank``
    orders the reserves of a stratum), its design ``weight``; ``active`` says whether it counts
    now (primaries until replaced, reserves once they replace one)."""

    __tablename__ = "qc_sample_stations"
    __table_args__ = (UniqueConstraint("sample_id", "station_id", name="uq_qc_sample_station"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("qc_samples.id", ondelete="RESTRICT"), index=True
    )
    station_id: Mapped[int] = mapped_column(
        ForeignKey("stations.id", ondelete="RESTRICT"), index=True
    )
    stratum: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    reserve_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    stratum_stations: Mapped[int] = mapped_column(Integer)  # N_h, frame stations of the stratum
    weight: Mapped[float] = mapped_column(Float)  # N_h / n_h
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class QcReplacement(Base):
    """A reserve station put in the place of an unreachable sampled one: who (``user_id``),
    when, why, and the rule that chose the reserve."""

    __tablename__ = "qc_replacements"
    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("qc_samples.id", ondelete="RESTRICT"), index=True
    )
    out_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    in_station_id: Mapped[int] = mapped_column(ForeignKey("stations.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QcPublication(Base):
    """A published quick-count estimate, frozen: ``statement`` is the canonical JSON of the
    numbers, the inputs (submission ids and the SHA-256 of each copy) and the time, signed with
    the service's evidence key (``signature``, Ed25519 over the statement's bytes). Never
    updated; its audit entry puts it in the chain."""

    __tablename__ = "qc_publications"
    id: Mapped[int] = mapped_column(primary_key=True)
    election_id: Mapped[int] = mapped_column(
        ForeignKey("elections.id", ondelete="RESTRICT"), index=True
    )
    statement: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(100))
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
