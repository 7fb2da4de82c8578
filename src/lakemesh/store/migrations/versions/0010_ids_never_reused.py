"""Ids are never reused: on SQLite every table keyed by ``id`` gets AUTOINCREMENT.

Without it SQLite hands out the largest id plus one, so deleting the newest grant and creating
another reused its id, and ``grant #10`` meant two grants in the audit trail. PostgreSQL sequences
never go back, so there is nothing to do there. Tables are rebuilt (SQLite cannot alter a primary
key), which :func:`lakemesh.store.migrate.upgrade` runs with foreign keys off, as SQLite's
procedure for schema changes asks.

Revision ID: 0010_ids_never_reused
Revises: 0009_attribute_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_ids_never_reused"
down_revision = "0009_attribute_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Rebuilding a table drops the old one, which would cascade to every row that refers to it.
        raise RuntimeError(
            "Rebuilding SQLite tables needs foreign keys off (lakemesh.store.migrate)"
        )
    inspector = sa.inspect(bind)
    for name in inspector.get_table_names():
        if inspector.get_pk_constraint(name)["constrained_columns"] != ["id"]:
            continue
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).scalar()
        if "AUTOINCREMENT" in str(sql).upper():
            continue
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    # Keeping AUTOINCREMENT is harmless to the older schema: ids simply stay unique.
    pass
