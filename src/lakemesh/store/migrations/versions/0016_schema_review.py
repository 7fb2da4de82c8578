"""Reviewed schema changes (proposals, product versions, the domains' setting, the files' schema
of a held table) and notifications (inboxes, webhooks, their secrets and deliveries).

Revision ID: 0016_schema_review
Revises: 0015_token_secret_names
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0016_schema_review"
down_revision = "0015_token_secret_names"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True)


def _reference(name: str, target: str, ondelete: str = "CASCADE") -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=False, index=True
    )


def upgrade() -> None:
    with op.batch_alter_table("domains") as batch:
        batch.add_column(
            sa.Column("schema_changes", sa.String(20), nullable=False, server_default="hold")
        )
    with op.batch_alter_table("tables") as batch:
        batch.add_column(sa.Column("file_columns", sa.JSON, nullable=True))
    op.create_table(
        "schema_proposals",
        _id(),
        _reference("table_id", "tables.id"),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.Column("breaking", sa.Boolean, nullable=False),
        sa.Column("products", sa.JSON, nullable=False),
        sa.Column("proposed_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("schema_version", sa.Integer, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "product_versions",
        _id(),
        _reference("product_id", "data_products.id"),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("contract", sa.JSON, nullable=True),
        sa.Column("schemas", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
        sa.Column("proposal_id", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "notifications",
        _id(),
        sa.Column("event", sa.String(40), nullable=False, index=True),
        sa.Column("recipient", sa.String(300), nullable=False, index=True),
        sa.Column("kind", sa.String(50), nullable=False, index=True),
        sa.Column("product", sa.String(100), nullable=True, index=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("read_at", UTCDateTime, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhook_secrets",
        _id(),
        sa.Column("owner", sa.String(300), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("owner", "name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhooks",
        _id(),
        sa.Column("owner", sa.String(300), nullable=False, index=True),
        sa.Column("url", sa.String(2000), nullable=False),
        _reference("secret_id", "webhook_secrets.id", ondelete="RESTRICT"),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("product", sa.String(100), nullable=True),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "webhook_deliveries",
        _id(),
        _reference("webhook_id", "webhooks.id"),
        sa.Column("event", sa.String(40), nullable=False, index=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", UTCDateTime, nullable=True),
        sa.Column("delivered_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in (
        "webhook_deliveries",
        "webhooks",
        "webhook_secrets",
        "notifications",
        "product_versions",
        "schema_proposals",
    ):
        op.drop_table(table)
    with op.batch_alter_table("tables") as batch:
        batch.drop_column("file_columns")
    with op.batch_alter_table("domains") as batch:
        batch.drop_column("schema_changes")
