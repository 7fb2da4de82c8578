"""Workgroups: a memory limit per query (its worker process), and limits on a query's result.

Every workgroup, the default one included, gets the defaults: 2 GiB of memory, 1,000,000 rows and
100 MiB of result per query.

Revision ID: 0008_workgroup_limits
Revises: 0007_query_concurrency
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_workgroup_limits"
down_revision = "0007_query_concurrency"
branch_labels = None
depends_on = None

DEFAULT_MEMORY_BYTES = 2 * 1024**3
DEFAULT_MAX_ROWS = 1_000_000
DEFAULT_MAX_RESULT_BYTES = 100 * 1024**2


def upgrade() -> None:
    with op.batch_alter_table("workgroups") as table:
        table.add_column(
            sa.Column(
                "max_memory_bytes",
                sa.BigInteger,
                nullable=False,
                server_default=str(DEFAULT_MEMORY_BYTES),
            )
        )
        table.add_column(sa.Column("max_rows", sa.BigInteger, nullable=True))
        table.add_column(sa.Column("max_result_bytes", sa.BigInteger, nullable=True))
    op.execute(
        sa.text("UPDATE workgroups SET max_rows = :rows, max_result_bytes = :size").bindparams(
            rows=DEFAULT_MAX_ROWS, size=DEFAULT_MAX_RESULT_BYTES
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("workgroups") as table:
        table.drop_column("max_result_bytes")
        table.drop_column("max_rows")
        table.drop_column("max_memory_bytes")
