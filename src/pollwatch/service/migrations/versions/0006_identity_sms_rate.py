"""SMS identity: the per-sender rate-limit table, and plaintext registered phones normalised

Revision ID: 0006_identity
Revises: 0005_checkpoints
Create Date: 2026-12-05 12:40:00

Phones are stored sealed (``users.phone_enc``) with a keyed blind index (``users.phone_index``,
unique) since ``0003_minimisation``; Alembic has no data key, so this revision cannot read or
rewrite a sealed phone and leaves those rows alone (their index is of the normalised number,
and the phone is sealed normalised by registration and by the start-up sealing). Only
phones still in the clear (``users.phone``, rows written before encryption at rest and not yet
sealed by the app's start-up, ``main.seal_plaintext``) are brought to the normalised form
(``privacy.normalise_phone``) here; the start-up then seals them and computes their index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_identity"
down_revision = "0005_checkpoints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_rate",
        # a registered number's blind index (64 hex digits) or a bucket name: never a number
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "slot"),
    )
    # an SMS is accepted only from the registered phone, compared in its normalised form: bring
    # the phones still in the clear to that form (an unusable one is cleared); sealed ones are
    # skipped (no key here; their blind index is already of the normalised number)
    from pollwatch.service.privacy import normalise_phone

    bind = op.get_bind()
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("phone", sa.String),
        sa.column("phone_enc", sa.Text),
    )
    rows = bind.execute(
        sa.select(users.c.id, users.c.phone)
        .where(users.c.phone.is_not(None), users.c.phone_enc.is_(None))
        .order_by(users.c.id)
    )
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
