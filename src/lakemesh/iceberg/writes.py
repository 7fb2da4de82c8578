"""Producers' writes through the Iceberg REST catalog: create a table, commit to it, drop it.

The hub keeps each table's current metadata file in the catalog (its pointer, the table property
``iceberg.metadata-location``) and moves it in the same transaction that checks the commit's
requirements against it, with the table's catalog row locked: of two commits made on the same
base, the second finds its requirements broken and gets 409 (``CommitFailedException``), and
retries on the new metadata as Iceberg clients do. The metadata is built with pyiceberg's
implementation of the spec's updates (the ``tables`` extra); the data files are the client's.

Who may write (as for every table of the catalog, :func:`lakemesh.catalog.tables.require_change`):
the domain's admins, and principals granted CREATE_TABLE on the namespace (creating; the creator
then holds ALL on its table), INSERT on a table (a commit that only adds snapshots) or ALTER
(any other commit) or DROP. A creator that is not an admin puts its table at the default
location unless it holds DATA_LOCATION_ACCESS, and never on another table's files. A staged
create (``stage-create``) registers nothing until the client commits with ``assert-create``.
Each commit is audited (``table.commit``) and its snapshots are recorded at once.
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
    check_table_location,
    current_columns,
    get_table_row,
    require_change,
    table_name,
)
from lakemesh.catalog.tables import (
    create_table as create_catalog_table,
)
from lakemesh.catalog.tables import (
    drop_table as drop_catalog_table,
)
from lakemesh.errors import (
    AlreadyExistsError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from lakemesh.governance.grants import grant_to_creator
from lakemesh.iceberg.catalog import namespace_database, table_row
from lakemesh.iceberg.credentials import storage_credentials, vend, vend_refusal
from lakemesh.iceberg.metadata import CACHE, current_metadata
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission
from lakemesh.storage import backend_for, iceberg, join_uri
from lakemesh.store.schema import Table

# Updates that only add data: INSERT is enough for them.
_DATA_UPDATES = frozenset({"add-snapshot", "set-snapshot-ref", "set-statistics"})


def create_table(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    namespace: str,
    body: dict[str, Any],
    vended_credentials: bool = False,
) -> dict[str, Any]:
    """Create an Iceberg table: its first metadata file and its catalog table; or, with
    ``stage-create``, only the metadata, for the client to commit with ``assert-create``.

    With ``vended_credentials`` the answer carries credentials for the new table's prefix:
    read-write for its creator.

    Raises:
        InvalidInputError: the request is not a valid ``CreateTableRequest``.
        NotFoundError: the namespace does not exist or the actor may not DESCRIBE it.
        AccessDeniedError: the actor lacks CREATE_TABLE on the namespace, or the location is
            not one it may put a table at (the reason named).
        AlreadyExistsError: the table exists (409).
    """
    rest = _pyiceberg("pyiceberg.catalog.rest")
    metadata_module = _pyiceberg("pyiceberg.table.metadata")
    partitioning = _pyiceberg("pyiceberg.partitioning")
    sorting = _pyiceberg("pyiceberg.table.sorting")
    # The spec's optional fields (pyiceberg's model wants them present).
    defaults = {"location": None, "partition-spec": None, "write-order": None}
    request = _parse(rest.CreateTableRequest, {**defaults, **body})
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, request.name.lower())
    require_change(
        session,
        actor,
        Permission.CREATE_TABLE,
        ResourceName(domain, database.name),
        action=Action.TABLE_CREATE,
    )
    default = _default_location(session, domain, database.location, namespace, name)
    location = (request.location or default).rstrip("/")
    metadata = metadata_module.new_table_metadata(
        schema=request.table_schema,
        partition_spec=request.partition_spec or partitioning.UNPARTITIONED_PARTITION_SPEC,
        sort_order=request.write_order or sorting.UNSORTED_SORT_ORDER,
        location=location,
        properties=request.properties,
    )
    document = json.loads(metadata.model_dump_json())
    if request.stage_create:
        # Nothing is registered until the client commits; the location is checked now, since
        # the credentials for it are vended now.
        _check_new_table(session, actor=actor, name=name, location=location, default=default)
        answer: dict[str, Any] = {"metadata": document, "config": {}}
        if vended_credentials:
            _attach(answer, vend(session, actor=actor, table=name, location=location, write=True))
        return answer
    metadata_uri = join_uri(location, "metadata", f"00000-{uuid.uuid4()}.metadata.json")
    row = _register(
        session,
        actor=actor,
        name=name,
        document=document,
        metadata_uri=metadata_uri,
        default=default,
    )
    answer = {"metadata-location": metadata_uri, "metadata": document, "config": {}}
    if vended_credentials and vend_refusal(session, actor=actor, row=row) is None:
        _attach(answer, storage_credentials(session, actor=actor, row=row))
    return answer


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
    table_module = _pyiceberg("pyiceberg.table")
    updates_module = _pyiceberg("pyiceberg.table.update")
    metadata_module = _pyiceberg("pyiceberg.table.metadata")
    exceptions = _pyiceberg("pyiceberg.exceptions")
    identifier = {"namespace": [namespace], "name": table}  # optional in the spec's request
    request = _parse(table_module.CommitTableRequest, {"identifier": identifier, **body})
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
    _write(session, new_uri, document, table=str(name))
    columns = [ColumnSpec(n, t, nullable=null) for n, t, null in iceberg.schema_columns(document)]
    if [(c.name, c.type, c.nullable) for c in columns] != [
        (c.name, c.type, c.nullable) for c in current_columns(row)
    ]:
        alter_table(session, actor=actor, name=name, columns=columns)
    _point(row, new_uri, document)
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
    schema_module = _pyiceberg("pyiceberg.schema")
    metadata_module = _pyiceberg("pyiceberg.table.metadata")
    updates_module = _pyiceberg("pyiceberg.table.update")
    database = namespace_database(session, actor, domain, namespace)
    name = ResourceName(domain, database.name, table.lower())
    require_change(
        session,
        actor,
        Permission.CREATE_TABLE,
        ResourceName(domain, database.name),
        action=Action.TABLE_CREATE,
    )
    if _exists(session, name):
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
    metadata_uri = join_uri(location, "metadata", f"00000-{uuid.uuid4()}.metadata.json")
    default = _default_location(session, domain, database.location, namespace, name)
    row = _register(
        session,
        actor=actor,
        name=name,
        document=document,
        metadata_uri=metadata_uri,
        default=default,
    )
    kinds = {update.action for update in request.updates}
    _audit_commit(session, actor=actor, row=row, uri=metadata_uri, document=document, kinds=kinds)
    return {"metadata-location": metadata_uri, "metadata": document}


def _register(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    document: dict[str, Any],
    metadata_uri: str,
    default: str,
) -> Table:
    """The catalog table of a new Iceberg table and its first metadata file; a creator that is
    not an admin of the domain gets ALL on it."""
    row = create_catalog_table(
        session,
        actor=actor,
        name=name,
        location=str(document["location"]),
        format="iceberg",
        columns=[
            ColumnSpec(n, t, nullable=null) for n, t, null in iceberg.schema_columns(document)
        ],
        properties={iceberg.METADATA_POINTER: metadata_uri, "iceberg.current-snapshot": ""},
        default_location=default,
    )
    if not actor.administers(name.domain):
        grant_to_creator(session, creator=actor, table=name)
    _write(session, metadata_uri, document, table=str(name))
    _point(row, metadata_uri, document)
    session.flush()
    return row


def _check_new_table(
    session: Session, *, actor: Actor, name: ResourceName, location: str, default: str
) -> None:
    """What creating the table would check, for a staged create (which registers nothing)."""
    if _exists(session, name):
        raise AlreadyExistsError(f"Table already exists: {name}", details={"table": str(name)})
    check_table_location(
        session, actor=actor, name=name, location=location, default_location=default
    )


def _exists(session: Session, name: ResourceName) -> bool:
    try:
        get_table_row(session, name)
    except NotFoundError:
        return False
    return True


def _point(row: Table, uri: str, document: dict[str, Any]) -> None:
    """Make ``uri`` the table's current metadata, and its current snapshot the catalog's."""
    current = document.get("current-snapshot-id")
    row.properties = {
        **row.properties,
        iceberg.METADATA_POINTER: uri,
        "iceberg.current-snapshot": "" if current in (None, -1) else str(current),
    }


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


def _attach(answer: dict[str, Any], credentials: list[dict[str, Any]]) -> None:
    if credentials:
        answer["storage-credentials"] = credentials
        answer["config"] = {**answer["config"], **credentials[0]["config"]}


def drop_table(session: Session, *, actor: Actor, domain: str, namespace: str, table: str) -> None:
    """Remove an Iceberg table from the catalog (its files stay where they are)."""
    row = table_row(session, actor=actor, domain=domain, namespace=namespace, table=table)
    drop_catalog_table(session, actor=actor, name=ResourceName(domain, row.database.name, row.name))
    CACHE.forget(row.location)


def _default_location(
    session: Session,
    domain: str,
    database_location: str | None,
    namespace: str,
    name: ResourceName,
) -> str:
    """Where a new table goes when the request names no location: under its database's
    location, else under the domain's first location, in a folder named after the namespace."""
    if database_location:
        return join_uri(database_location, name.table or "")
    locations = list_locations(session, domain=domain)
    if not locations:
        raise InvalidInputError(
            f"Domain {domain} has no location to create tables in: register one, or send a "
            "location",
            details={"domain": domain},
        )
    return join_uri(locations[0].uri, namespace, name.table or "")


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
