"""Open table formats in a folder: an Iceberg table (``metadata/*.metadata.json``) or a Delta
table (``_delta_log/``), recognised from a listing and described from their own metadata.

Only the table's metadata is read (no data file): its schema as DuckDB types, its partitioning,
its current snapshot (Iceberg) or version (Delta) and the history of snapshots or versions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from lakemesh.errors import StorageError
from lakemesh.storage import delta, iceberg
from lakemesh.storage.table_metadata import OpenTable

if TYPE_CHECKING:
    import fsspec

OPEN_FORMATS = ("iceberg", "delta")
"""Table formats whose folder holds its own metadata (as opposed to plain data files)."""

ICEBERG_METADATA_FOLDER = "metadata"
DELTA_LOG_FOLDER = "_delta_log"


def open_table_root(parts: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """The folder of the open table a file belongs to, and its format, from the file's path
    parts (relative to a crawled folder); None for a file of no open table.

    >>> open_table_root(("orders", "metadata", "00001-a.metadata.json"))
    (('orders',), 'iceberg')
    >>> open_table_root(("events", "_delta_log", "00000000000000000000.json"))
    (('events',), 'delta')
    >>> open_table_root(("orders", "part-0.parquet")) is None
    True
    """
    if DELTA_LOG_FOLDER in parts[:-1]:
        return parts[: parts.index(DELTA_LOG_FOLDER)], "delta"
    if (
        len(parts) >= 2
        and parts[-2] == ICEBERG_METADATA_FOLDER
        and (parts[-1].endswith(".metadata.json") or parts[-1] == "version-hint.text")
    ):
        return parts[:-2], "iceberg"
    return None


def open_table_roots(paths: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Every open table folder among ``paths`` (path parts), with its format."""
    roots: dict[tuple[str, ...], str] = {}
    for parts in paths:
        found = open_table_root(parts)
        if found is not None:
            roots.setdefault(found[0], found[1])
    return roots


def describe_open_table(
    filesystem: fsspec.AbstractFileSystem,
    *,
    table_format: str,
    root: str,
    files: Mapping[str, int],
    uri: str,
) -> OpenTable:
    """Read the metadata of the open table in folder ``root`` (``files``: its listing, path to
    size; ``uri`` names it in errors).

    Raises:
        StorageError: the metadata is missing, unreadable or not of the format.
    """
    try:
        if table_format == "iceberg":
            return iceberg.describe(filesystem, root=root, files=files)
        return delta.describe(filesystem, root=root, files=files)
    except StorageError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as e:
        title = "Iceberg" if table_format == "iceberg" else "Delta"
        raise StorageError(
            f"Cannot read the {title} metadata of {uri}: {type(e).__name__}: {e}",
            details={"uri": uri, "format": table_format},
        ) from e
