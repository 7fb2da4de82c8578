"""The last commit of an open table (Iceberg snapshot, Delta version), read from its own metadata.

A table's freshness is when its current snapshot was committed, which its metadata records; the
data files' modification times say when bytes were copied, which a rewrite, a compaction or a
restore from backup changes while the data stays as old as it was.
"""

from __future__ import annotations

from lakemesh.storage import delta, iceberg
from lakemesh.storage.base import StorageBackend
from lakemesh.storage.open_tables import DELTA_LOG_FOLDER, ICEBERG_METADATA_FOLDER, OPEN_FORMATS
from lakemesh.storage.table_metadata import Snapshot, read_json


def last_commit(
    backend: StorageBackend, *, location: str, table_format: str, pointer: str | None = None
) -> Snapshot | None:
    """The current snapshot of the Iceberg table, or the newest version of the Delta table, at
    ``location`` (``pointer``: the Iceberg metadata file the catalog holds as current, when it
    holds one); None for other formats and for a table with no snapshot yet.

    Raises:
        OSError, ValueError, KeyError: the metadata cannot be listed or read.
        StorageError: the folder holds no metadata of the format.
    """
    if table_format not in OPEN_FORMATS:
        return None
    filesystem = backend.filesystem()
    root = backend.to_path(location).rstrip("/")
    if table_format == "delta":
        listing = backend.list_files(f"{root}/{DELTA_LOG_FOLDER}").files
        snapshots = delta.describe(filesystem, root=root, files=listing).snapshots
        return snapshots[-1] if snapshots else None
    if pointer:
        path = backend.to_path(pointer)
    else:
        listing = backend.list_files(f"{root}/{ICEBERG_METADATA_FOLDER}").files
        path = iceberg.current_metadata(root, listing, filesystem)
    table = iceberg.describe_document(path, read_json(filesystem, path))
    return next((s for s in table.snapshots if s.id == table.current_snapshot), None)
