"""Quality checks of data products: runs and the result of each rule, kept as history.

Revision ID: 0012_quality_checks
Revises: 0011_principal_names_lower_case
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0012_quality_checks"
down_revision = "0011_principal_names_lower_case"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer,
            sa.ForeignKey("data_products.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("contract_version", sa.String(50), nullable=False),
        sa.Column("principal", sa.String(300), nullable=False),
        sa.Column("requested_by", sa.String(300), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("rules_total", sa.Integer, nullable=False),
        sa.Column("rules_passed", sa.Integer, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "quality_results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("quality_runs.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("rule", sa.String(300), nullable=False),
        sa.Column("table", sa.String(400), nullable=False),
        sa.Column("column", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("metric", sa.String(50), nullable=True),
        sa.Column("dimension", sa.String(50), nullable=True),
        sa.Column("threshold", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows_scanned", sa.BigInteger, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("sample", sa.JSON, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("quality_results")
    op.drop_table("quality_runs")
