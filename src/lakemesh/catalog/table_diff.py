"""``lakemesh table diff``: two schema versions of a table compared, breaking changes marked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.catalog.schema_review import contracted_products, open_proposal, required_columns
from lakemesh.catalog.tables import show_table
from lakemesh.contracts.schema_diff import diff_schemas
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.store.schema import SchemaProposal, SchemaVersion


def diff_table(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    from_version: int | None = None,
    to_version: int | None = None,
    proposal: int | None = None,
) -> dict[str, Any]:
    """Schema version ``to_version`` (default: the current one) against ``from_version``
    (default: the one before it), for anyone who may DESCRIBE the table; with ``proposal``,
    the schema a crawl proposed (``to`` is then null) against the version it would replace.
    ``pending_proposal`` names the table's proposal waiting for review, if any.

    Raises:
        NotFoundError: the table or a version does not exist (``Schema version 7 of
            sales.crm.orders does not exist (versions 1-3)``).
        InvalidInputError: a version number below 1.
    """
    row = show_table(session, actor=actor, name=name)
    required = required_columns(row, contracted_products(session, row))
    pending = open_proposal(session, row)
    waiting = pending.id if pending is not None else None
    if proposal is not None:
        found = session.get(SchemaProposal, proposal)
        if found is None or found.table_id != row.id:
            raise NotFoundError(
                f"Schema proposal {proposal} of {name} does not exist",
                details={"table": str(name), "proposal": proposal},
            )
        base = session.execute(
            select(SchemaVersion).where(
                SchemaVersion.table_id == row.id, SchemaVersion.version == found.base_version
            )
        ).scalar()
        diff = diff_schemas(
            base.columns if base is not None else [], found.columns, required=required
        )
        return {
            "table": str(name),
            "from": found.base_version,
            "to": None,
            "proposal": proposal,
            "pending_proposal": waiting,
            **diff,
        }
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
    diff = diff_schemas(
        versions[from_version].columns, versions[to_version].columns, required=required
    )
    return {
        "table": str(name),
        "from": from_version,
        "to": to_version,
        "proposal": None,
        "pending_proposal": waiting,
        **diff,
    }
