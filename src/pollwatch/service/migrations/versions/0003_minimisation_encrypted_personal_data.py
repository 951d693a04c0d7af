"""data minimisation: encrypted names, phones and SMS log, blind indexes, received media hash

Revision ID: 0003_minimisation
Revises: 0002
Create Date: 2026-12-05 12:50:00

New columns only (issue 18, ``pollwatch.service.privacy``). Rows written before keep their
plaintext until the app starts: ``privacy``'s data key is not known to Alembic, so
``pollwatch.service.crud.users.encrypt_plaintext_rows`` (run by ``create_app``) seals them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_minimisation"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name_enc", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("phone_enc", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("phone_index", sa.String(length=64), nullable=True))
    op.create_index("ix_users_phone_index", "users", ["phone_index"], unique=True)
    op.add_column("media", sa.Column("received_sha256", sa.String(length=64), nullable=True))
    op.add_column("sms_messages", sa.Column("sender_enc", sa.Text(), nullable=True))
    op.add_column("sms_messages", sa.Column("sender_index", sa.String(length=64), nullable=True))
    op.add_column("sms_messages", sa.Column("text_commitment", sa.String(length=64), nullable=True))
    op.add_column("sms_messages", sa.Column("redacted_at", sa.DateTime(), nullable=True))
    op.create_index("ix_sms_messages_sender_index", "sms_messages", ["sender_index"])


def downgrade() -> None:
    op.drop_index("ix_sms_messages_sender_index", table_name="sms_messages")
    with op.batch_alter_table("sms_messages") as b:
        for col in ("redacted_at", "text_commitment", "sender_index", "sender_enc"):
            b.drop_column(col)
    with op.batch_alter_table("media") as b:
        b.drop_column("received_sha256")
    op.drop_index("ix_users_phone_index", table_name="users")
    with op.batch_alter_table("users") as b:
        for col in ("phone_index", "phone_enc", "full_name_enc"):
            b.drop_column(col)
