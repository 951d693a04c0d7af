"""Photographed protocols and their double-blind transcriptions

Revision ID: 0008_census_transcription
Revises: 0007_quickcount
Create Date: 2026-12-05 15:30:00

Issue 21: ``census_sheets`` (one per uploaded protocol photo: station, layout, who uploaded and
who collected it, the machine reading, and the accepted numbers with how they were accepted)
and ``census_transcriptions`` (one per volunteer and sheet). New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_census_transcription"
down_revision = "0007_quickcount"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "census_sheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("election_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=20), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("station_source", sa.String(length=10), nullable=False),
        sa.Column("dhash", sa.String(length=64), nullable=True),
        sa.Column("machine", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("final", sa.JSON(), nullable=True),
        sa.Column("resolution", sa.String(length=20), nullable=False),
        sa.Column("arbiter_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["election_id"], ["elections.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["collector_id"], ["users.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["arbiter_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    with op.batch_alter_table("census_sheets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_census_sheets_election_id"), ["election_id"])
        batch_op.create_index(batch_op.f("ix_census_sheets_station_id"), ["station_id"])
        batch_op.create_index(batch_op.f("ix_census_sheets_media_id"), ["media_id"])
        batch_op.create_index(batch_op.f("ix_census_sheets_status"), ["status"])
    op.create_table(
        "census_transcriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sheet_id"], ["census_sheets.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
        sa.UniqueConstraint("sheet_id", "user_id", name="uq_transcription_user"),
    )
    with op.batch_alter_table("census_transcriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_census_transcriptions_sheet_id"), ["sheet_id"])


def downgrade() -> None:
    op.drop_table("census_transcriptions")
    op.drop_table("census_sheets")
