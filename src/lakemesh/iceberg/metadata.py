"""The current metadata of an Iceberg table of the catalog, read from its storage by the hub.

Loads are the catalog's most frequent request, and a metadata file can be megabytes of JSON, so
the hub keeps the last documents it read (:data:`CACHE_ENTRIES`, least recently used dropped
first) keyed by their URI: Iceberg never rewrites a metadata file (each commit writes a new one
and moves the table's pointer), so a cached document is never stale, and a commit through the
hub invalidates the table's entry by moving the pointer. For a crawled table without a pointer,
finding the current file needs a listing of its ``metadata/`` folder; that answer is kept for
:data:`LISTING_SECONDS` (an outside writer's commit shows within that time) and dropped at once
when the hub commits to the table.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from lakemesh.errors import StorageError
from lakemesh.storage import backend_for, iceberg
from lakemesh.storage.s3 import describe_s3_error, storage_error
from lakemesh.storage.table_metadata import read_json
from lakemesh.store.schema import Table

CACHE_ENTRIES = 512
"""How many metadata documents (and as many listings) the cache keeps."""

LISTING_SECONDS = 5.0
"""How long a listing of a pointer-less table's ``metadata/`` folder is trusted."""


class MetadataCache:
    """Bounded least-recently-used caches of metadata documents (by URI) and of the current
    metadata file of tables without a pointer (by table location, for a few seconds)."""

    def __init__(self, entries: int = CACHE_ENTRIES, listing_seconds: float = LISTING_SECONDS):
        self.entries = entries
        self.listing_seconds = listing_seconds
        self._documents: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._listings: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def document(self, uri: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._documents.get(uri)
            if found is not None:
                self._documents.move_to_end(uri)
            return found

    def keep_document(self, uri: str, document: dict[str, Any]) -> None:
        with self._lock:
            self._documents[uri] = document
            self._documents.move_to_end(uri)
            while len(self._documents) > self.entries:
                self._documents.popitem(last=False)

    def listed(self, location: str) -> str | None:
        with self._lock:
            found = self._listings.get(location)
            if found is None or time.monotonic() - found[0] > self.listing_seconds:
                self._listings.pop(location, None)
                return None
            return found[1]

    def keep_listed(self, location: str, uri: str) -> None:
        with self._lock:
            self._listings[location] = (time.monotonic(), uri)
            self._listings.move_to_end(location)
            while len(self._listings) > self.entries:
                self._listings.popitem(last=False)

    def forget(self, location: str) -> None:
        """Drop what is known of the table at ``location`` (the hub committed to it)."""
        with self._lock:
            self._listings.pop(location, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._documents)


CACHE = MetadataCache()
"""The process's cache (documents never go stale, so replicas need not share it)."""


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
        pointer = row.properties.get(iceberg.METADATA_POINTER) or CACHE.listed(row.location)
        if pointer:
            uri = backend.to_uri(backend.to_path(pointer))
        else:
            listing = backend.list_files(f"{root.rstrip('/')}/metadata").files
            uri = backend.to_uri(iceberg.current_metadata(root, listing, filesystem))
            CACHE.keep_listed(row.location, uri)
        document = CACHE.document(uri)
        if document is None:
            document = read_json(filesystem, backend.to_path(uri))
            CACHE.keep_document(uri, document)
        return uri, document
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
