"""What the service layer hands the query gateway for each table a statement reads."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from lakemesh.errors import StorageError
from lakemesh.model.access import ColumnAccess
from lakemesh.storage.s3 import S3Options, S3Storage

FORMATS = ("parquet", "csv", "json", "iceberg", "delta")


@dataclass(frozen=True)
class TableAccess:
    """One authorized table: where its bytes are and what of it the principal may read.

    ``columns`` lists ``(name, DuckDB type)`` in table order, data columns then partition columns;
    ``files`` lists every data file of the table: absolute local paths, or ``s3://bucket/key``
    URIs of objects. ``sizes`` holds the byte size of each file, in the same order, as the listing
    gave it (the service's resolution lists every table); files without one are measured when the
    query runs. ``s3`` holds the hub's S3 settings for a table on S3 (its hub settings over the
    environment), which the engine reads its objects with. For an Iceberg or Delta table,
    ``files`` are every object of the table (data, metadata, log): what the engine may open.
    """

    name: str
    format: str
    location: str
    files: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    partition_columns: tuple[str, ...]
    access: ColumnAccess
    sizes: tuple[int, ...] = ()
    proven: frozenset[str] = frozenset()
    """Row filters of ``access`` that the files' statistics prove true for every row
    (:mod:`lakemesh.query.statistics`): applied as reading every row, still reported."""
    s3: S3Options | None = field(default=None, repr=False, compare=False)
    metadata: str | None = None  # an Iceberg table's current metadata file (one of ``files``)
    snapshot: str | None = None  # the Iceberg snapshot or Delta version a query travels to
    file_columns: tuple[tuple[str, str, bool], ...] | None = None
    """``(name, DuckDB type, is partition)`` of the files when they no longer have the schema the
    table serves (a breaking change held for review): the scan reads them with this schema and
    the relation turns it back into ``columns`` (a missing column reads as NULL, a changed
    type is cast back)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column of the table, in table order."""
        return tuple(name for name, _ in self.columns)

    @property
    def visible_columns(self) -> tuple[str, ...]:
        """The columns the principal may read, in table order (case-insensitive, as in DuckDB)."""
        granted = {column.lower() for column in self.access.columns}
        return tuple(name for name in self.column_names if name.lower() in granted)

    @property
    def listed_sizes(self) -> dict[str, int]:
        """File to size, for the files whose listing gave their size."""
        return dict(zip(self.files, self.sizes, strict=False))

    def column_type(self, column: str) -> str:
        """The DuckDB type of ``column``."""
        for name, type_ in self.columns:
            if name.lower() == column.lower():
                return type_
        raise KeyError(column)


Resolver = Callable[[tuple[str, ...]], TableAccess]
"""Maps a table name as written (unquoted parts lower-cased) to its :class:`TableAccess`.

It raises :class:`~lakemesh.errors.NotFoundError` or :class:`~lakemesh.errors.AccessDeniedError`.
"""


def s3_credentials(tables: Iterable[TableAccess]) -> S3Options:
    """The S3 options, with explicit keys, that a query over ``tables`` reads objects with: the
    tables' configured ones (the hub's settings over the environment), else the environment's,
    keys from boto's credential chain when none are set.

    Raises:
        StorageError: no credentials are configured and the chain finds none.
    """
    configured = next((table.s3 for table in tables if table.s3 is not None), None)
    return (configured or S3Storage().options()).with_credentials()


def scan_bytes(tables: Iterable[TableAccess]) -> int:
    """Total size of the distinct files of ``tables``: what a query of them counts as scanned.

    Sizes come from the tables' listings; a file without one is measured now.

    Raises:
        StorageError: a file without a listed size cannot be read.
    """
    sizes: dict[str, int | None] = {}
    for table in tables:
        listed = table.listed_sizes
        for path in table.files:
            sizes.setdefault(path, listed.get(path))
    return sum(size if size is not None else _measure(path) for path, size in sizes.items())


def _measure(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as e:
        raise StorageError(f"Table data file cannot be read: {path}", details={"path": path}) from e
