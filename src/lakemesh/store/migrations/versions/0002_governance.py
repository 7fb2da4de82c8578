"""Governance: tags and their assignments, data filters, grants, masks, guardrails.

Revision ID: 0002_governance
Revises: 0001_hub
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0002_governance"
down_revision = "0001_hub"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, *, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(
        column,
        sa.Integer,
        sa.ForeignKey(target, ondelete="CASCADE"),
        nullable=nullable,
        index=True,
    )


def upgrade() -> None:
    op.create_table(
        "tag_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(100), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "tag_values",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("key_id", "tag_keys.id", nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.UniqueConstraint("key_id", "value"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "tag_assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("key_id", "tag_keys.id", nullable=False),
        _fk("value_id", "tag_values.id", nullable=False),
        _fk("database_id", "databases.id"),
        _fk("table_id", "tables.id"),
        _fk("column_id", "columns.id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "data_filters",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("table_id", "tables.id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("predicate", sa.Text, nullable=True),
        sa.Column("columns", sa.JSON, nullable=True),
        sa.Column("excluded_columns", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("table_id", "name"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("grantee_id", "principals.id", nullable=False),
        sa.Column("permissions", sa.JSON, nullable=False),
        sa.Column("with_grant_option", sa.Boolean, nullable=False),
        sa.Column("target_kind", sa.String(20), nullable=False),
        _fk("domain_id", "domains.id"),
        _fk("database_id", "databases.id"),
        _fk("table_id", "tables.id"),
        sa.Column("columns", sa.JSON, nullable=True),
        sa.Column("excluded_columns", sa.JSON, nullable=False),
        sa.Column("tag_expression", sa.Text, nullable=True),
        sa.Column("tag_resource_type", sa.String(20), nullable=True),
        sa.Column("tag_scope", sa.String(300), nullable=True),
        sa.Column("tag_key", sa.String(100), nullable=True),
        sa.Column("tag_values", sa.JSON, nullable=True),
        _fk("filter_id", "data_filters.id"),
        _fk("location_id", "locations.id"),
        _fk("parent_id", "grants.id"),
        sa.Column("granted_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "masks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("tag_expression", sa.Text, nullable=False),
        sa.Column("function", sa.String(30), nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "guardrails",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in (
        "policy_version",
        "guardrails",
        "masks",
        "grants",
        "data_filters",
        "tag_assignments",
        "tag_values",
        "tag_keys",
    ):
        op.drop_table(table)
