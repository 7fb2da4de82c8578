"""Lineage edges from OpenLineage run events.

Revision ID: 0019_lineage
Revises: 0018_token_scram_verifiers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0019_lineage"
down_revision = "0018_token_scram_verifiers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lineage_edges",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("target", sa.String(1000), nullable=False, index=True),
        sa.Column("job", sa.String(500), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("recorded_by", sa.String(300), nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "target", "job"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("lineage_edges")
