"""The current metadata of an Iceberg table of the catalog, read from its storage by the hub."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lakemesh.errors import StorageError
from lakemesh.storage import backend_for, iceberg
from lakemesh.storage.s3 import describe_s3_error, storage_error
from lakemesh.storage.table_metadata import read_json
from lakemesh.store.schema import Table


def current_metadata(session: Session, row: Table) -> tuple[str, dict[str, Any]]:
    """(URI of the current metadata file, its JSON) of the Iceberg table ``row``.

    Raises:
        StorageError: the table's metadata cannot be listed or read (the reason named).
    """
    hub = session.info.get("hub")
    properties = hub.storage_properties() if hub is not None else {}
    backend = backend_for(row.location, properties=properties)
    root = backend.to_path(row.location)
    name = f"{row.database.domain.name}.{row.database.name}.{row.name}"
    try:
        filesystem = backend.filesystem()
        pointer = row.properties.get(iceberg.METADATA_POINTER)
        if pointer:
            path = backend.to_path(pointer)
        else:
            listing = backend.list_files(f"{root.rstrip('/')}/metadata").files
            path = iceberg.current_metadata(root, listing, filesystem)
        return backend.to_uri(path), read_json(filesystem, path)
    except StorageError:
        raise
    except Exception as e:  # OSError, the S3 client's own, a broken JSON document
        if not isinstance(e, OSError | ValueError) and describe_s3_error(e) is None:
            raise
        raise storage_error(
            e,
            message=f"Cannot read the Iceberg metadata of table {name}",
            details={"table": name, "location": row.location},
        ) from e
