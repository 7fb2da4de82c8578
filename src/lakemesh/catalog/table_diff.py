"""``lakemesh table diff``: two schema versions of a table compared, breaking changes marked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.catalog.tables import show_table
from lakemesh.contracts.schema_diff import diff_schemas
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.store.schema import SchemaVersion


def diff_table(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    from_version: int | None = None,
    to_version: int | None = None,
) -> dict[str, Any]:
    """Schema version ``to_version`` (default: the current one) against ``from_version``
    (default: the one before it), for anyone who may DESCRIBE the table.

    Raises:
        NotFoundError: the table or a version does not exist (``Schema version 7 of
            sales.crm.orders does not exist (versions 1-3)``).
        InvalidInputError: a version number below 1.
    """
    row = show_table(session, actor=actor, name=name)
    versions = {
        v.version: v
        for v in session.execute(
            select(SchemaVersion).where(SchemaVersion.table_id == row.id)
        ).scalars()
    }
    newest = max(versions) if versions else row.schema_version
    to_version = newest if to_version is None else to_version
    from_version = max(1, to_version - 1) if from_version is None else from_version
    for number in (from_version, to_version):
        if number < 1:
            raise InvalidInputError(
                f"Schema versions start at 1, got {number}", details={"version": number}
            )
        if number not in versions:
            raise NotFoundError(
                f"Schema version {number} of {name} does not exist (versions 1-{newest})",
                details={"table": str(name), "version": number},
            )
    diff = diff_schemas(versions[from_version].columns, versions[to_version].columns)
    return {"table": str(name), "from": from_version, "to": to_version, **diff}
