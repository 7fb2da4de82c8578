"""A domain's default check schedule: the cron expression a product's check schedule takes when
neither its setter nor its contract gives one.

Revision ID: 0021_domain_check_schedule
Revises: 0020_column_nullability
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_domain_check_schedule"
down_revision = "0020_column_nullability"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("domains") as batch:
        batch.add_column(sa.Column("check_schedule", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("domains") as batch:
        batch.drop_column("check_schedule")
