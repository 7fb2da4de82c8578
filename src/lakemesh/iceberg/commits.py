"""Commits through the Iceberg REST catalog: a commit's updates applied if its requirements hold
on the current metadata, with the table's catalog row locked, so of two commits made on the same
base the second gets 409 (``CommitFailedException``); and a staged create's commit
(``assert-create``), which registers the table (:mod:`lakemesh.iceberg.writes`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.authz import require
from lakemesh.catalog.columns import ColumnSpec, current_columns
from lakemesh.catalog.snapshots import record_snapshots
from lakemesh.catalog.tables import alter_table, require_change, table_name
from lakemesh.errors import ConflictError, InvalidInputError
from lakemesh.iceberg.catalog import namespace_database, table_row
from lakemesh.iceberg.metadata import CACHE, current_metadata
from lakemesh.iceberg.registration import (
    default_location,
    point,
    register,
    table_exists,
    write_metadata,
)
from lakemesh.iceberg.spec import parse_request, pyiceberg
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.storage import iceberg, join_uri
from lakemesh.store.schema import Table

# Updates that only add data: INSERT is enough for them.
_DATA_UPDATES = frozenset({"add-snapshot", "set-snapshot-ref", "set-statistics"})


def commit_table(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    table: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Apply a commit's updates if its requirements hold on the current metadata; a commit
    requiring ``assert-create`` creates the table (a staged create's second step).

    Raises:
        ConflictError: a requirement does not hold (another commit came first): 409.
        AccessDeniedError: the actor lacks INSERT (snapshots) or ALTER (anything else), or
            CREATE_TABLE for a create.
    """
    table_module = pyiceberg("pyiceberg.table")
    updates_module = pyiceberg("pyiceberg.table.update")
    metadata_module = pyiceberg("pyiceberg.table.metadata")
    exceptions = pyiceberg("pyiceberg.exceptions")
    identifier = {"namespace": [namespace], "name": table}  # optional in the spec's request
    request = parse_request(table_module.CommitTableRequest, {"identifier": identifier, **body})
    if any(requirement.type == "assert-create" for requirement in request.requirements):
        return _create_by_commit(
            session, actor=actor, domain=domain, namespace=namespace, table=table, request=request
        )
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    name = ResourceName(domain, row.database.name, row.name)
    kinds = {update.action for update in request.updates}
    needed = {Permission.INSERT} if kinds <= _DATA_UPDATES else {Permission.ALTER}
    for permission in sorted(needed):
        require(
            session, actor=actor, permission=permission, resource=name, action=Action.TABLE_COMMIT
        )
    # The table's row, locked until the transaction ends: commits to one table take turns.
    session.execute(select(Table.id).where(Table.id == row.id).with_for_update()).all()
    session.refresh(row)
    base_uri, base_document = current_metadata(session, row)
    base = metadata_module.TableMetadataUtil.parse_raw(json.dumps(base_document))
    try:
        for requirement in request.requirements:
            requirement.validate(base)
        updated = updates_module.update_table_metadata(
            base, tuple(request.updates), metadata_location=base_uri
        )
    except exceptions.CommitFailedException as e:
        raise ConflictError(
            f"Commit to {name} failed: {e} (the table changed since it was loaded; load it again)",
            details={"table": str(name), "iceberg_type": "CommitFailedException"},
        ) from None
    except ValueError as e:
        raise InvalidInputError(
            f"Invalid commit to {name}: {e}", details={"table": str(name)}
        ) from None
    document = json.loads(updated.model_dump_json())
    version = iceberg.metadata_version(base_uri) + 1
    new_uri = join_uri(row.location, "metadata", f"{version:05d}-{uuid.uuid4()}.metadata.json")
    write_metadata(session, new_uri, document, table=str(name))
    columns = [ColumnSpec(n, t, nullable=null) for n, t, null in iceberg.schema_columns(document)]
    if [(c.name, c.type, c.nullable) for c in columns] != [
        (c.name, c.type, c.nullable) for c in current_columns(row)
    ]:
        alter_table(session, actor=actor, name=name, columns=columns)
    point(row, new_uri, document)
    CACHE.forget(row.location)
    _audit_commit(session, actor=actor, row=row, uri=new_uri, document=document, kinds=kinds)
    return {"metadata-location": new_uri, "metadata": document}


def _create_by_commit(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    table: str,
    request: Any,
) -> dict[str, Any]:
    """The commit of a staged create: the table's metadata built from the commit's updates."""
    schema_module = pyiceberg("pyiceberg.schema")
    metadata_module = pyiceberg("pyiceberg.table.metadata")
    updates_module = pyiceberg("pyiceberg.table.update")
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, table.lower())
    require_change(
        session,
        actor,
        Permission.CREATE_TABLE,
        ResourceName(domain, database.name),
        action=Action.TABLE_CREATE,
    )
    if table_exists(session, name):
        raise ConflictError(
            f"Commit to {name} failed: Table already exists",
            details={"table": str(name), "iceberg_type": "CommitFailedException"},
        )
    try:
        created = updates_module.update_table_metadata(
            # What the updates of a create transaction start from (as pyiceberg's catalogs do).
            metadata_module.TableMetadataV1.model_construct(
                last_column_id=-1, schema=schema_module.Schema()
            ),
            tuple(request.updates),
            enforce_validation=True,
        )
    except ValueError as e:
        raise InvalidInputError(
            f"Invalid commit to {name}: {e}", details={"table": str(name)}
        ) from None
    document = json.loads(created.model_dump_json())
    location = str(document.get("location") or "").rstrip("/")
    if not location:
        raise InvalidInputError(
            f"Invalid commit to {name}: it sets no location", details={"table": str(name)}
        )
    default = default_location(session, domain, database.location, namespace, name)
    row, metadata_uri = register(
        session, actor=actor, name=name, document=document, default=default
    )
    kinds = {update.action for update in request.updates}
    _audit_commit(session, actor=actor, row=row, uri=metadata_uri, document=document, kinds=kinds)
    return {"metadata-location": metadata_uri, "metadata": document}


def _audit_commit(
    session: Session,
    *,
    actor: Actor,
    row: Table,
    uri: str,
    document: dict[str, Any],
    kinds: set[str],
) -> None:
    """Record the commit's snapshots in the catalog and audit it."""
    snapshots = iceberg.describe_document(uri, document).snapshots
    added = record_snapshots(session, row, snapshots)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TABLE_COMMIT,
        resource=str(table_name(row)),
        details={"metadata_location": uri, "updates": sorted(kinds), "snapshots_added": added},
    )
