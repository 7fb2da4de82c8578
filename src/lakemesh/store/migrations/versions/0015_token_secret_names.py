"""API tokens may carry the name of the secret they were made from (a token of the mesh files:
``tokens: [{secret_env: NAME}]``), so an export names the secret without holding it.

Revision ID: 0015_token_secret_names
Revises: 0014_portal_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_token_secret_names"
down_revision = "0014_portal_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("secret_name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("secret_name")
