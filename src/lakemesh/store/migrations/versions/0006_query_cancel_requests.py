"""Query jobs: a cancellation asked for in one hub process, seen by the process running the job.

Revision ID: 0006_query_cancel_requests
Revises: 0005_policy_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0006_query_cancel_requests"
down_revision = "0005_policy_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("query_history") as table:
        table.add_column(sa.Column("cancel_requested_by", sa.String(300), nullable=True))
        table.add_column(sa.Column("cancel_requested_at", UTCDateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("query_history") as table:
        table.drop_column("cancel_requested_at")
        table.drop_column("cancel_requested_by")
