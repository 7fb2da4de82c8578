"""Snapshots of Iceberg tables and versions of Delta tables, as crawls found them.

Revision ID: 0013_table_snapshots
Revises: 0012_quality_checks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0013_table_snapshots"
down_revision = "0012_quality_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "table_snapshots",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "table_id",
            sa.Integer,
            sa.ForeignKey("tables.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column("parent_id", sa.String(40), nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("committed_at", UTCDateTime, nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("table_id", "snapshot_id"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("table_snapshots")
