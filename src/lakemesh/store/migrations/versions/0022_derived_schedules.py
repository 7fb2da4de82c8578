"""Derived check schedules: the scheduler keeps one for every published product whose contract
gives a cron, else whose domain has a default check schedule, and no schedule set explicitly.

Revision ID: 0022_derived_schedules
Revises: 0021_domain_check_schedule
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_derived_schedules"
down_revision = "0021_domain_check_schedule"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.add_column(
            sa.Column("derived", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("schedules") as batch:
        batch.drop_column("derived")
