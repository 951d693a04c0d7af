"""tokens expire: tokens.expires_at (existing tokens get 12 hours from the upgrade)

Revision ID: 0004_sessions
Revises: 0003_minimisation
Create Date: 2026-12-05 12:45:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0004_sessions"
down_revision = "0003_minimisation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
    deadline = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=12)
    op.execute(sa.text("UPDATE tokens SET expires_at = :t").bindparams(t=deadline))
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
