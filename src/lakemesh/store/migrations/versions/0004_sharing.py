"""Sharing: share answers, resource links, data products, subscriptions and their history.

Revision ID: 0004_sharing
Revises: 0003_queries
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0004_sharing"
down_revision = "0003_queries"
branch_labels = None
depends_on = None


def _fk(
    column: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE"
) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer,
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "grant_id",
            sa.Integer,
            sa.ForeignKey("grants.id", ondelete="SET NULL"),
            nullable=True,
            unique=True,
        ),
        sa.Column("grant_ref", sa.Integer, nullable=False, index=True),
        sa.Column("from_domain", sa.String(100), nullable=False, index=True),
        sa.Column("to_domain", sa.String(100), nullable=False, index=True),
        sa.Column("resource", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "resource_links",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("database_id", "databases.id"),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("target", sa.String(400), nullable=False),
        _fk("share_id", "shares.id", nullable=True, ondelete="SET NULL"),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("database_id", "name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "data_products",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        _fk("domain_id", "domains.id"),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("version", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("contract", sa.JSON, nullable=True),
        sa.Column("auto_approve", sa.Text, nullable=True),
        sa.Column("auto_approve_by", sa.String(300), nullable=True),
        sa.Column("deprecation_message", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "data_product_tables",
        sa.Column(
            "product_id",
            sa.Integer,
            sa.ForeignKey("data_products.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "table_id",
            sa.Integer,
            sa.ForeignKey("tables.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("product_id", "data_products.id"),
        sa.Column("principal", sa.String(300), nullable=False, index=True),
        sa.Column("consumer_domain", sa.String(100), nullable=False, index=True),
        sa.Column("requested_by", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("columns", sa.JSON, nullable=True),
        sa.Column("excluded_columns", sa.JSON, nullable=False),
        sa.Column("filter", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(300), nullable=True),
        sa.Column("decided_at", UTCDateTime, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "subscription_grants",
        sa.Column(
            "subscription_id",
            sa.Integer,
            sa.ForeignKey("subscriptions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "grant_id",
            sa.Integer,
            sa.ForeignKey("grants.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("table", sa.String(400), nullable=False),
    )
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("subscription_id", "subscriptions.id"),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(300), nullable=False),
        sa.Column("time", UTCDateTime, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in (
        "subscription_events",
        "subscription_grants",
        "subscriptions",
        "data_product_tables",
        "data_products",
        "resource_links",
        "shares",
    ):
        op.drop_table(table)
