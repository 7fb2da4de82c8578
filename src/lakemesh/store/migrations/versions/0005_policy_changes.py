"""Policy change log: what each policy version changed, for incremental policy index refresh.

Revision ID: 0005_policy_changes
Revises: 0004_sharing
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_policy_changes"
down_revision = "0004_sharing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_changes",
        sa.Column(
            "version",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("change", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_changes")
