"""Principal names are case-insensitive: existing names are lower-cased.

A name whose lower-cased spelling another principal already has (``user:MIA@marketing`` next to
``user:mia@marketing``) becomes ``user:mia+ID@marketing`` (its id appended), so no two principals
share a name and tokens keep acting as the principal they were issued to.

Revision ID: 0011_principal_names_lower_case
Revises: 0010_ids_never_reused
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_principal_names_lower_case"
down_revision = "0010_ids_never_reused"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    query = sa.text("SELECT id, ref, name FROM principals ORDER BY id").columns(
        sa.column("id", sa.Integer), sa.column("ref", sa.String), sa.column("name", sa.String)
    )
    rows: list[tuple[int, str, str]] = [tuple(row) for row in bind.execute(query)]  # type: ignore[misc]
    taken = {ref for _, ref, _ in rows}
    update = sa.text("UPDATE principals SET ref = :ref, name = :name WHERE id = :id")
    for row_id, ref, name in rows:
        if ref == ref.lower():
            continue
        new_name, new_ref = name.lower(), ref.lower()
        if new_ref in taken:
            kind, _, rest = new_ref.partition(":")
            domain = rest.rpartition("@")[2]
            new_name = f"{new_name}+{row_id}"
            new_ref = f"{kind}:{new_name}@{domain}"
        taken.discard(ref)
        taken.add(new_ref)
        bind.execute(update, {"ref": new_ref, "name": new_name, "id": row_id})


def downgrade() -> None:
    # The original spellings are not kept (the audit trail has them).
    pass
