"""Data file formats lakemesh catalogs: recognised by file name, schemas read as DuckDB types."""

from __future__ import annotations

import threading
from types import TracebackType

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from lakemesh.errors import StorageError
from lakemesh.storage.types import duckdb_type, parquet_column_type

FILE_FORMATS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".parq"),
    "csv": (".csv", ".tsv"),
    "json": (".json", ".jsonl", ".ndjson"),  # JSON-lines: one JSON object per line
}
COMPRESSIONS = (".gz", ".zst")
"""Suffixes DuckDB decompresses on the fly, accepted after a CSV or JSON extension."""

Schema = tuple[tuple[str, str, bool], ...]
"""Columns of one file, in file order: ``((name, duckdb_type, nullable), ...)``; a Parquet
field is not nullable when the file declares it ``required``, a CSV or JSON-lines column always
is."""

_DESCRIBE = {
    "csv": "DESCRIBE SELECT * FROM read_csv(?, hive_partitioning = false)",
    "json": (
        "DESCRIBE SELECT * FROM read_json(?, format = 'newline_delimited', "
        "hive_partitioning = false)"
    ),
}
_FORMAT_TITLES = {"parquet": "Parquet", "csv": "CSV", "json": "JSON-lines"}


def file_format(name: str) -> str | None:
    """The format of a data file by its name (``parquet``, ``csv``, ``json``), or None.

    >>> file_format("part-0.snappy.parquet"), file_format("events.jsonl.gz"), file_format("x.txt")
    ('parquet', 'json', None)
    """
    lower = name.lower()
    compressed = lower.endswith(COMPRESSIONS)
    if compressed:
        lower = lower.rsplit(".", 1)[0]
    for format_name, extensions in FILE_FORMATS.items():
        if lower.endswith(extensions) and not (compressed and format_name == "parquet"):
            return format_name
    return None


class SchemaReader:
    """Reads data file schemas from one filesystem; safe to share across threads.

    Parquet schemas come from the file footer through pyarrow; CSV and JSON-lines schemas from
    DuckDB's sniffer (a sample of rows), so types are what DuckDB will read at query time.
    """

    def __init__(self, filesystem: fsspec.AbstractFileSystem) -> None:
        self.filesystem = filesystem
        self._local = isinstance(filesystem, LocalFileSystem)
        self._thread = threading.local()
        self._connections: list[duckdb.DuckDBPyConnection] = []
        self._lock = threading.Lock()

    def read(self, path: str, *, file_format: str, size: int, uri: str) -> Schema:
        """The columns of the file at ``path`` (``uri`` names it in errors).

        Raises:
            StorageError: the file is corrupt, unreadable or holds a type DuckDB cannot read.
        """
        try:
            if file_format == "parquet":
                return self._parquet_schema(path)
            if size == 0:
                return ()  # an empty CSV or JSON-lines file holds no rows and no columns
            return self._sniffed_schema(path, file_format)
        except (pa.ArrowException, OSError, ValueError, duckdb.Error) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            title = _FORMAT_TITLES[file_format]
            raise StorageError(
                f"Cannot read {title} file {uri}: {reason}",
                details={"file": uri, "format": file_format, "reason": str(e)},
            ) from e

    def _parquet_schema(self, path: str) -> Schema:
        if self._local:
            with pq.ParquetFile(path) as parquet_file:
                arrow_schema, parquet_schema = parquet_file.schema_arrow, parquet_file.schema
        else:
            with self.filesystem.open(path, "rb") as handle, pq.ParquetFile(handle) as parquet_file:
                arrow_schema, parquet_schema = parquet_file.schema_arrow, parquet_file.schema
        leaves = (parquet_schema.column(i) for i in range(len(parquet_schema)))
        overrides = {leaf.path: parquet_column_type(leaf) for leaf in leaves}
        return tuple(
            (field.name, overrides.get(field.name) or duckdb_type(field.type), field.nullable)
            for field in arrow_schema
        )

    def _sniffed_schema(self, path: str, file_format: str) -> Schema:
        location = path if self._local else self.filesystem.unstrip_protocol(path)
        rows = self._connection().execute(_DESCRIBE[file_format], [location]).fetchall()
        return tuple((str(row[0]), str(row[1]), True) for row in rows)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        connection: duckdb.DuckDBPyConnection | None = getattr(self._thread, "connection", None)
        if connection is None:
            connection = duckdb.connect(config={"threads": 1, "autoload_known_extensions": False})
            if not self._local:
                connection.register_filesystem(self.filesystem)
            self._thread.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        """Close the DuckDB connections opened by reading threads."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def __enter__(self) -> SchemaReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
