"""Governed principal attributes: keys with allowed values, their delegates, who set each value.

Revision ID: 0009_attribute_keys
Revises: 0008_workgroup_limits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0009_attribute_keys"
down_revision = "0008_workgroup_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attribute_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("allowed_values", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "attribute_delegates",
        sa.Column(
            "key_id",
            sa.Integer,
            sa.ForeignKey("attribute_keys.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "principal_id",
            sa.Integer,
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("principals") as table:
        table.add_column(sa.Column("attribute_sources", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("principals") as table:
        table.drop_column("attribute_sources")
    op.drop_table("attribute_delegates")
    op.drop_table("attribute_keys")
