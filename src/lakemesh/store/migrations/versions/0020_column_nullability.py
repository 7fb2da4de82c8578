"""Column nullability, as the files' format declares it (Parquet ``required``, Iceberg
``required``, Delta ``nullable``). Columns recorded before are NULL: not known until a crawl
reads them again, and learning it is no schema change.

Revision ID: 0020_column_nullability
Revises: 0019_lineage
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_column_nullability"
down_revision = "0019_lineage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("columns") as batch:
        batch.add_column(sa.Column("nullable", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("columns") as batch:
        batch.drop_column("nullable")
