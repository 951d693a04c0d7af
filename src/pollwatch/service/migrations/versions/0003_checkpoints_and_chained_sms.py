"""checkpoints, their posts to witnesses and TSAs, key rotations; SMS log in the audit chain

Revision ID: 0003_checkpoints
Revises: 0002
Create Date: 2026-12-05 12:40:00

Existing SMS messages get a salt and the commitments to their sender and text, and one audit
entry each (action ``backfill``), so that the whole SMS log is inside the chain from now on.
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

from pollwatch.evidence.chain import GENESIS, AuditEntry, canonical_json, entry_hash

revision = "0003_checkpoints"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkpoints_size"), ["size"], unique=False)
    op.create_table(
        "checkpoint_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkpoint_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["checkpoint_id"], ["checkpoints.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checkpoint_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_checkpoint_posts_checkpoint_id"), ["checkpoint_id"], unique=False
        )
    op.create_table(
        "key_rotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("new_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("old_signature", sa.String(length=100), nullable=False),
        sa.Column("new_signature", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("salt", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("sender_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("text_sha256", sa.String(length=64), nullable=True))
    # the receipt of a retried submission looks up its entry (``checkpoints.stored_receipt``)
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    _backfill_sms(op.get_bind())


def _commit(salt: str, value: str) -> str:
    import hashlib

    return hashlib.sha256(bytes.fromhex(salt) + value.encode("utf-8", "surrogatepass")).hexdigest()


def _backfill_sms(conn) -> None:
    """Salt, commitments and an audit entry for each SMS stored before this revision (the
    payload is what ``audit.snapshot`` makes of the row at this revision)."""
    sms = sa.table(
        "sms_messages",
        sa.column("id", sa.Integer),
        sa.column("sender", sa.String),
        sa.column("text", sa.Text),
        sa.column("ok", sa.Boolean),
        sa.column("submission_id", sa.Integer),
        sa.column("received_at", sa.DateTime),
        sa.column("salt", sa.String),
        sa.column("sender_sha256", sa.String),
        sa.column("text_sha256", sa.String),
    )
    rows = conn.execute(sa.select(sms).order_by(sms.c.id)).mappings().all()
    if not rows:
        return
    log = sa.table(
        "audit_log",
        *(
            sa.column(c, sa.Integer if c in ("seq", "entity_id") else sa.String)
            for c in ("seq", "ts", "actor", "action", "entity", "entity_id", "payload")
        ),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    head = conn.execute(
        sa.select(log.c.seq, log.c.hash).order_by(log.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    for r in rows:
        salt = secrets.token_hex(16)
        s_sha, t_sha = _commit(salt, r["sender"] or ""), _commit(salt, r["text"] or "")
        conn.execute(
            sms.update()
            .where(sms.c.id == r["id"])
            .values(salt=salt, sender_sha256=s_sha, text_sha256=t_sha)
        )
        received = r["received_at"]
        snap = {
            "id": r["id"],
            "ok": bool(r["ok"]),
            "submission_id": r["submission_id"],
            "received_at": received.isoformat() if received is not None else None,
            "sender_sha256": s_sha,
            "text_sha256": t_sha,
        }
        seq += 1
        e = AuditEntry(
            seq=seq,
            ts=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
            actor="anon",
            action="backfill",
            entity="sms_message",
            entity_id=r["id"],
            payload=canonical_json(snap).decode(),
            prev_hash=prev,
        )
        prev = entry_hash(e)
        conn.execute(log.insert().values(**e.body(), hash=prev))


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("text_sha256")
        batch_op.drop_column("sender_sha256")
        batch_op.drop_column("salt")
    op.drop_table("key_rotations")
    with op.batch_alter_table("checkpoint_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoint_posts_checkpoint_id"))
    op.drop_table("checkpoint_posts")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoints_size"))
    op.drop_table("checkpoints")
