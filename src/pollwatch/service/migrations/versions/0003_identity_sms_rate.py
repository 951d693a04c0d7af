"""SMS identity: the per-sender rate-limit table, and registered phones normalised

Revision ID: 0003_identity
Revises: 0002
Create Date: 2026-12-05 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_identity"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_rate",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "slot"),
    )
    # an SMS is accepted only from the registered phone, compared in its normalised form: bring
    # phones registered before this revision to that form (an unusable one is cleared)
    from pollwatch.service.sms import normalise_phone

    bind = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("phone", sa.String))
    rows = bind.execute(sa.select(users.c.id, users.c.phone).where(users.c.phone.is_not(None)))
    seen: set[str] = set()
    changed: dict[int, str | None] = {}
    for uid, phone in rows.fetchall():
        new = normalise_phone(phone)
        if new in seen:  # two spellings of one number: the later one is cleared
            new = None
        if new is not None:
            seen.add(new)
        if new != phone:
            changed[uid] = new
    # cleared first, then rewritten: a rewrite never meets the unique constraint on the way
    for uid in changed:
        bind.execute(users.update().where(users.c.id == uid).values(phone=None))
    for uid, new in changed.items():
        if new is not None:
            bind.execute(users.update().where(users.c.id == uid).values(phone=new))


def downgrade() -> None:
    op.drop_table("sms_rate")
