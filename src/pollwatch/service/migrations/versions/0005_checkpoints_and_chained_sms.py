"""checkpoints, their posts to witnesses and TSAs, key rotations; SMS log in the audit chain

Revision ID: 0005_checkpoints
Revises: 0004_sessions
Create Date: 2026-12-05 13:30:00

The SMS log enters the audit chain by keyed commitments to each message's sender and text
(``sms_messages.sender_commitment`` here; ``text_commitment`` came with 0003_minimisation). At
this revision sender and text are AES-GCM ciphertexts under the data key, which Alembic does
not know (``privacy.resolve_data_key``: the environment or the data directory's secret), so the
existing rows are committed to and chained at the app's start, idempotently
(``crud.sms_log.chain_sms_log``, run by ``main.seal_plaintext`` after ``create_app``'s migration
and by ``pollwatch serve``), each with one audit entry of action ``backfill``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_checkpoints"
down_revision = "0004_sessions"
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
        batch_op.add_column(sa.Column("sender_commitment", sa.String(length=64), nullable=True))
    # the receipt of a retried submission looks up its entry (``checkpoints.stored_receipt``)
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("sender_commitment")
    op.drop_table("key_rotations")
    with op.batch_alter_table("checkpoint_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoint_posts_checkpoint_id"))
    op.drop_table("checkpoint_posts")
    with op.batch_alter_table("checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkpoints_size"))
    op.drop_table("checkpoints")
