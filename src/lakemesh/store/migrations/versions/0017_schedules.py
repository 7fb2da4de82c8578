"""Schedules of checks and crawls, and their runs (each run row is its lease).

Revision ID: 0017_schedules
Revises: 0016_schema_review
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0017_schedules"
down_revision = "0016_schema_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(400), nullable=False),
        sa.Column(
            "domain_id",
            sa.Integer,
            sa.ForeignKey("domains.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("after_crawl", sa.Boolean, nullable=False),
        sa.Column("next_run_at", UTCDateTime, nullable=True, index=True),
        sa.Column("changes_seen_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("kind", "target"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "schedule_id",
            sa.Integer,
            sa.ForeignKey("schedules.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("result", sa.JSON, nullable=False),
        sa.Column("attempts", sa.JSON, nullable=False),
        sa.UniqueConstraint("schedule_id", "due_at"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("scheduled_runs")
    op.drop_table("schedules")
