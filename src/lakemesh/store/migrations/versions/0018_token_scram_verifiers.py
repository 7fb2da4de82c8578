"""SCRAM-SHA-256 verifiers of API tokens (PostgreSQL clients authenticate without sending them).

Revision ID: 0018_token_scram_verifiers
Revises: 0017_schedules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_token_scram_verifiers"
down_revision = "0017_schedules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scram_verifier", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scram_verifier")
