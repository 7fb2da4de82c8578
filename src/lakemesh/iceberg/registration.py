"""What a write leaves in the catalog and the storage: a new Iceberg table registered with its
first metadata file, the catalog's pointer to a table's current metadata, metadata files written,
and where a new table goes when its request names no location."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.catalog.columns import ColumnSpec
from lakemesh.catalog.locations import list_locations
from lakemesh.catalog.tables import check_table_location, get_table_row
from lakemesh.catalog.tables import create_table as create_catalog_table
from lakemesh.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from lakemesh.governance.grants import grant_to_creator
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.storage import backend_for, iceberg, join_uri
from lakemesh.store.schema import Table


def register(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    document: dict[str, Any],
    default: str,
) -> tuple[Table, str]:
    """The catalog table of a new Iceberg table and its first metadata file (its URI returned
    with the table's row); a creator that is not an admin of the domain gets ALL on it."""
    location = str(document["location"])
    metadata_uri = join_uri(location.rstrip("/"), "metadata", f"00000-{uuid.uuid4()}.metadata.json")
    row = create_catalog_table(
        session,
        actor=actor,
        name=name,
        location=location,
        format="iceberg",
        columns=[
            ColumnSpec(n, t, nullable=null) for n, t, null in iceberg.schema_columns(document)
        ],
        properties={iceberg.METADATA_POINTER: metadata_uri, "iceberg.current-snapshot": ""},
        default_location=default,
    )
    if not actor.administers(name.domain):
        grant_to_creator(session, creator=actor, table=name)
    write_metadata(session, metadata_uri, document, table=str(name))
    point(row, metadata_uri, document)
    session.flush()
    return row, metadata_uri


def check_new_table(
    session: Session, *, actor: Actor, name: ResourceName, location: str, default: str
) -> None:
    """What creating the table would check, for a staged create (which registers nothing)."""
    if table_exists(session, name):
        raise AlreadyExistsError(f"Table already exists: {name}", details={"table": str(name)})
    check_table_location(
        session, actor=actor, name=name, location=location, default_location=default
    )


def table_exists(session: Session, name: ResourceName) -> bool:
    """Whether the catalog has a table ``name``."""
    try:
        get_table_row(session, name)
    except NotFoundError:
        return False
    return True


def point(row: Table, uri: str, document: dict[str, Any]) -> None:
    """Make ``uri`` the table's current metadata, and its current snapshot the catalog's."""
    current = document.get("current-snapshot-id")
    row.properties = {
        **row.properties,
        iceberg.METADATA_POINTER: uri,
        "iceberg.current-snapshot": "" if current in (None, -1) else str(current),
    }


def write_metadata(session: Session, uri: str, document: dict[str, Any], *, table: str) -> None:
    """Write the metadata ``document`` of ``table`` at ``uri`` (with the hub's storage settings)."""
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


def default_location(
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


def attach_credentials(answer: dict[str, Any], credentials: list[dict[str, Any]]) -> None:
    """Add vended ``credentials`` (when there are some) to a LoadTableResult ``answer``."""
    if credentials:
        answer["storage-credentials"] = credentials
        answer["config"] = {**answer["config"], **credentials[0]["config"]}
