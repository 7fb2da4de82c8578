"""Query limits: concurrency per principal, explicit defaults, and the SQL's size and hash.

Every workgroup whose limits were never set gets the defaults a new one has: 8 queries at once,
2 per principal, a 60 s timeout. The history keeps, besides the (now bounded) statement text, the
full statement's size and SHA-256.

Revision ID: 0007_query_concurrency
Revises: 0006_query_cancel_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_query_concurrency"
down_revision = "0006_query_cancel_requests"
branch_labels = None
depends_on = None

DEFAULT_MAX_CONCURRENT = 8
DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL = 2
DEFAULT_TIMEOUT_SECONDS = 60
OLD_PRIMARY_DESCRIPTION = "The default workgroup: DuckDB in the hub process, no limits."
PRIMARY_DESCRIPTION = "The default workgroup: DuckDB, with the default limits."


def upgrade() -> None:
    with op.batch_alter_table("workgroups") as table:
        table.add_column(sa.Column("max_concurrent_per_principal", sa.Integer, nullable=True))
    with op.batch_alter_table("query_history") as table:
        table.add_column(sa.Column("sql_bytes", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("sql_sha256", sa.String(64), nullable=True))
    for column, value in (
        ("max_concurrent", DEFAULT_MAX_CONCURRENT),
        ("max_concurrent_per_principal", DEFAULT_MAX_CONCURRENT_PER_PRINCIPAL),
        ("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
    ):
        op.execute(
            sa.text(f"UPDATE workgroups SET {column} = :value WHERE {column} IS NULL").bindparams(
                value=value
            )
        )
    op.execute(
        sa.text("UPDATE workgroups SET description = :new WHERE description = :old").bindparams(
            new=PRIMARY_DESCRIPTION, old=OLD_PRIMARY_DESCRIPTION
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("query_history") as table:
        table.drop_column("sql_sha256")
        table.drop_column("sql_bytes")
    with op.batch_alter_table("workgroups") as table:
        table.drop_column("max_concurrent_per_principal")
