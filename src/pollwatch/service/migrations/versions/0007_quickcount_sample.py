"""The registered quick-count sample, its replacements and the published estimates

Revision ID: 0007_quickcount
Revises: 0006_identity
Create Date: 2026-12-05 15:00:00

Issue 19: the sample a coordinator imports (``qc_samples``, one per election, with the file's
SHA-256 and replacement rule; ``qc_sample_stations``, one row per primary or reserve station),
the reserves put in for unreachable stations (``qc_replacements``) and the frozen, signed
estimates (``qc_publications``). New tables only: nothing existing is rewritten.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_quickcount"
down_revision = "0006_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qc_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("election_id"),
    )
    op.create_table(
        "qc_sample_stations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("reserve_rank", sa.Integer(), nullable=True),
        sa.Column("stratum_stations", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["qc_samples.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sample_id", "station_id", name="uq_qc_sample_station"),
    )
    with op.batch_alter_table("qc_sample_stations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qc_sample_stations_sample_id"), ["sample_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qc_sample_stations_station_id"), ["station_id"], unique=False
        )
    op.create_table(
        "qc_replacements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("out_station_id", sa.Integer(), nullable=False),
        sa.Column("in_station_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sample_id"], ["qc_samples.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["out_station_id"], ["stations.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["in_station_id"], ["stations.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("qc_replacements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qc_replacements_sample_id"), ["sample_id"], unique=False
        )
    op.create_table(
        "qc_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    with op.batch_alter_table("qc_publications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qc_publications_election_id"), ["election_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("qc_publications")
    op.drop_table("qc_replacements")
    op.drop_table("qc_sample_stations")
    op.drop_table("qc_samples")
