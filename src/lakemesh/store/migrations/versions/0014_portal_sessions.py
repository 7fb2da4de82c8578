"""Portal sessions: a signed-in browser's cookie (hashed), its principal and sign-in token.

Revision ID: 0014_portal_sessions
Revises: 0013_table_snapshots
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lakemesh.store.types import UTCDateTime

revision = "0014_portal_sessions"
down_revision = "0013_table_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("session_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "principal_id",
            sa.Integer,
            sa.ForeignKey("principals.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "token_id",
            sa.Integer,
            sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
            nullable=True,
            index=True,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime, nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("portal_sessions")
