"""Producers' writes through the Iceberg REST catalog: create a table, commit to it, drop it.

The hub keeps each table's current metadata file in the catalog (its pointer, the table property
``iceberg.metadata-location``) and moves it in the same transaction that checks the commit's
requirements against it, with the table's catalog row locked: of two commits made on the same
base, the second finds its requirements broken and gets 409 (``CommitFailedException``), and
retries on the new metadata as Iceberg clients do. The metadata is built with pyiceberg's
implementation of the spec's updates (the ``tables`` extra); the data files are the client's.

Creating and dropping tables are catalog changes for the domain's admins (as for every table);
a commit that adds snapshots needs INSERT on the table, any other change ALTER (and a schema
change, which becomes a new schema version of the catalog table, the domain's admins). Each
commit is audited (``table.commit``) and its snapshots are recorded at once.
"""

from __future__ import annotations

import importlib
import json
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.authz import require
from lakemesh.catalog.locations import list_locations
from lakemesh.catalog.snapshots import record_snapshots
from lakemesh.catalog.tables import (
    ColumnSpec,
    alter_table,
    current_columns,
)
from lakemesh.catalog.tables import (
    create_table as create_catalog_table,
)
from lakemesh.catalog.tables import (
    drop_table as drop_catalog_table,
)
from lakemesh.errors import ConflictError, InvalidInputError, StorageError
from lakemesh.iceberg.catalog import namespace_database, table_row
from lakemesh.iceberg.metadata import current_metadata
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.storage import backend_for, iceberg, join_uri
from lakemesh.store.schema import Table

# Updates that only add data: INSERT is enough for them.
_DATA_UPDATES = frozenset({"add-snapshot", "set-snapshot-ref", "set-statistics"})


def create_table(
    session: Session, *, actor: Actor, domain: str, namespace: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Create an Iceberg table: its first metadata file and its catalog table.

    Raises:
        InvalidInputError: the request is not a valid ``CreateTableRequest``.
        AccessDeniedError: the actor is not an admin of the domain.
        ConflictError: ``stage-create`` (not served).
    """
    rest = _pyiceberg("pyiceberg.catalog.rest")
    metadata_module = _pyiceberg("pyiceberg.table.metadata")
    partitioning = _pyiceberg("pyiceberg.partitioning")
    sorting = _pyiceberg("pyiceberg.table.sorting")
    # The spec's optional fields (pyiceberg's model wants them present).
    defaults = {"location": None, "partition-spec": None, "write-order": None}
    request = _parse(rest.CreateTableRequest, {**defaults, **body})
    if request.stage_create:
        raise InvalidInputError(
            "Staged table creation is not served", details={"stage-create": True}
        )
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, request.name.lower())
    location = request.location or _default_location(session, domain, database.location, namespace)
    location = location.rstrip("/") + ("" if request.location else f"/{name.table}")
    metadata = metadata_module.new_table_metadata(
        schema=request.table_schema,
        partition_spec=request.partition_spec or partitioning.UNPARTITIONED_PARTITION_SPEC,
        sort_order=request.write_order or sorting.UNSORTED_SORT_ORDER,
        location=location,
        properties=request.properties,
    )
    document = json.loads(metadata.model_dump_json())
    metadata_uri = join_uri(location, "metadata", f"00000-{uuid.uuid4()}.metadata.json")
    create_catalog_table(
        session,
        actor=actor,
        name=name,
        location=location,
        format="iceberg",
        columns=[ColumnSpec(n, t) for n, t in iceberg.schema_columns(document)],
        properties={iceberg.METADATA_POINTER: metadata_uri, "iceberg.current-snapshot": ""},
    )
    _write(session, metadata_uri, document, table=str(name))
    session.flush()
    return {"metadata-location": metadata_uri, "metadata": document, "config": {}}


def commit_table(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    table: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    """Apply a commit's updates if its requirements hold on the current metadata.

    Raises:
        ConflictError: a requirement does not hold (another commit came first): 409.
        AccessDeniedError: the actor lacks INSERT (snapshots) or ALTER (anything else).
    """
    table_module = _pyiceberg("pyiceberg.table")
    updates_module = _pyiceberg("pyiceberg.table.update")
    metadata_module = _pyiceberg("pyiceberg.table.metadata")
    exceptions = _pyiceberg("pyiceberg.exceptions")
    identifier = {"namespace": [namespace], "name": table}  # optional in the spec's request
    request = _parse(table_module.CommitTableRequest, {"identifier": identifier, **body})
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
    _write(session, new_uri, document, table=str(name))
    columns = [ColumnSpec(n, t) for n, t in iceberg.schema_columns(document)]
    if [(c.name, c.type) for c in columns] != [(c.name, c.type) for c in current_columns(row)]:
        alter_table(session, actor=actor, name=name, columns=columns)
    current = document.get("current-snapshot-id")
    row.properties = {
        **row.properties,
        iceberg.METADATA_POINTER: new_uri,
        "iceberg.current-snapshot": "" if current in (None, -1) else str(current),
    }
    snapshots = iceberg.describe_document(new_uri, document).snapshots
    added = record_snapshots(session, row, snapshots)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.TABLE_COMMIT,
        resource=str(name),
        details={
            "metadata_location": new_uri,
            "updates": sorted(kinds),
            "snapshots_added": added,
        },
    )
    return {"metadata-location": new_uri, "metadata": document}


def drop_table(session: Session, *, actor: Actor, domain: str, namespace: str, table: str) -> None:
    """Remove an Iceberg table from the catalog (its files stay where they are)."""
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    drop_catalog_table(session, actor=actor, name=ResourceName(domain, row.database.name, row.name))


def _default_location(
    session: Session, domain: str, database_location: str | None, namespace: str
) -> str:
    if database_location:
        return database_location
    locations = list_locations(session, domain=domain)
    if not locations:
        raise InvalidInputError(
            f"Domain {domain} has no location to create tables in: register one, or send a "
            "location",
            details={"domain": domain},
        )
    return join_uri(locations[0].uri, namespace)


def _write(session: Session, uri: str, document: dict[str, Any], *, table: str) -> None:
    hub = session.info.get("hub")
    properties = hub.storage_properties() if hub is not None else {}
    backend = backend_for(uri, properties=properties)
    filesystem = backend.filesystem()
    path = backend.to_path(uri)
    try:
        filesystem.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        with filesystem.open(path, "wb") as handle:
            handle.write(json.dumps(document).encode())
    except OSError as e:
        raise StorageError(
            f"Cannot write the metadata of table {table}: {e}", details={"table": table}
        ) from e


def _parse(model: Any, body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValueError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in getattr(e, "errors", lambda: [])()
        )
        raise InvalidInputError(
            f"Invalid request: {problems or e}", details={"errors": problems}
        ) from None


def _pyiceberg(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvalidInputError(
            "Writing Iceberg tables through the hub needs pyiceberg: "
            "pip install 'lakemesh[tables]'",
            details={"extra": "tables"},
        ) from e
