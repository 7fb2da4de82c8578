"""Queries: workgroups (with the default ``primary``) and the query history.

Revision ID: 0003_queries
Revises: 0002_governance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh import clock
from lakemesh.store.types import UTCDateTime

revision = "0003_queries"
down_revision = "0002_governance"
branch_labels = None
depends_on = None

DEFAULT_WORKGROUP = "primary"
DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600
SYSTEM = "service:lakemesh@governance"


def upgrade() -> None:
    workgroups = op.create_table(
        "workgroups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("max_bytes_per_query", sa.BigInteger, nullable=True),
        sa.Column("max_bytes_per_month", sa.BigInteger, nullable=True),
        sa.Column("max_concurrent", sa.Integer, nullable=True),
        sa.Column("timeout_seconds", sa.Integer, nullable=True),
        sa.Column("result_retention_seconds", sa.Integer, nullable=False),
        sa.Column("spark_remote", sa.String(300), nullable=True),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "query_history",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(300), nullable=False, index=True),
        sa.Column("sql", sa.Text, nullable=False),
        sa.Column("workgroup", sa.String(100), nullable=False, index=True),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("tables", sa.JSON, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("masks", sa.JSON, nullable=False),
        sa.Column("bytes_scanned", sa.BigInteger, nullable=False),
        sa.Column("rows_returned", sa.BigInteger, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=True),
        sa.Column("error_type", sa.String(50), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("submitted_at", UTCDateTime, nullable=False, index=True),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("result_expires_at", UTCDateTime, nullable=True),
    )
    now = clock.now()
    op.bulk_insert(
        workgroups,
        [
            {
                "name": DEFAULT_WORKGROUP,
                "engine": "duckdb",
                "description": "The default workgroup: DuckDB in the hub process, no limits.",
                "result_retention_seconds": DEFAULT_RETENTION_SECONDS,
                "created_by": SYSTEM,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("query_history")
    op.drop_table("workgroups")
