"""Tables on S3 on the local Spark, without the Hadoop S3A connector: a Python data source.

pyspark ships no S3 file system (S3A is ``hadoop-aws`` and the AWS SDK, jars nobody here may
download), so for a table on S3 the Spark engine replaces the file scan, and only that, with
:class:`ObjectSource`, a Spark 4 Python data source whose readers fetch the table's objects with
s3fs and pyarrow in Spark's Python workers, one Spark partition per object. Everything above the
scan (the governed view: column grants, row filters, masks) is the same SQL as for local files.

What a scan may read and the credentials it reads it with never enter the Spark plan: the hub
writes them to a file only its own user can read (a fresh private folder per query, removed when
the query ends), and the plan carries that file's path alone. A reader opens nothing but the
objects listed there, each under the table's location, and skips those whose partition values
(from their paths) fail an equality or IN filter Spark pushes to the scan. Errors come back as a
storage reason (:func:`~lakemesh.storage.s3.describe_s3_error`), never with the S3 client's or
the file parser's own text (which may quote request details or the data).

A Spark Connect cluster runs its Python workers on its own machines: the credentials would have
to travel to it in the plan, so S3 tables are refused there by name
(:func:`lakemesh.query.engines.spark.SparkEngine.execute`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition

from lakemesh.errors import QueryRejectedError, StorageError
from lakemesh.storage.s3 import S3Options, S3Storage, describe_s3_error

SOURCE_NAME = "lakemesh_objects"
"""The data source's name in the session (``spark.read.format(SOURCE_NAME)``)."""

SCAN_OPTION = "scan"
"""The one option of a scan: the path of its private scan file."""

ERROR_MARKER = "LAKEMESH_OBJECT_ERROR"
"""Starts the message a reader fails with, so the engine can name the reason."""

_ERROR = re.compile(ERROR_MARKER + r"\[(\w+)\]\[([^\]]*)\] ([^\n]*)")

# Spark's Hive-style spelling of a NULL partition value.
_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class ObjectScan:
    """What one table's scan reads: its format, location, objects, which of its columns come
    from the objects' paths, and the credentials to read them with."""

    table: str
    format: str
    location: str
    files: tuple[str, ...]
    partition_columns: tuple[str, ...]
    s3: dict[str, Any]
    sizes: dict[str, int]
    """The objects' sizes as the table's listing gave them: an object with one is opened without
    a HEAD request."""


class ObjectPartition(InputPartition):
    """One object of a scan (what one Spark task reads)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class ObjectSource(DataSource):
    """Reads the objects of one scan file (the ``scan`` option); the schema is always given."""

    @classmethod
    def name(cls) -> str:
        return SOURCE_NAME

    def schema(self) -> str:
        raise StorageError("A lakemesh object scan needs its schema from the catalog")

    def reader(self, schema: Any) -> DataSourceReader:
        return ObjectReader(self.options[SCAN_OPTION], schema)


class ObjectReader(DataSourceReader):
    """Reads the scan's objects as Arrow batches of exactly the Spark schema.

    Pickled into the plan and to every task: it holds the scan file's path and the schema, never
    the credentials (each task reads them from the scan file when it runs).
    """

    def __init__(self, handle: str, schema: Any) -> None:
        self.handle = handle
        self.schema = schema
        self.pruning: list[tuple[str, tuple[Any, ...]]] = []

    def pushFilters(self, filters: list[Any]) -> list[Any]:
        """Note the equality filters on partition columns, to skip the objects none of whose rows
        could pass them. Every filter is returned: Spark still applies them all."""
        from pyspark.sql.datasource import EqualTo, In

        partitions = {column.lower() for column in _load(self.handle).partition_columns}
        for item in filters:
            if not isinstance(item, EqualTo | In) or len(item.attribute) != 1:
                continue
            column = item.attribute[0].lower()
            if column in partitions:
                values = tuple(item.value) if isinstance(item, In) else (item.value,)
                self.pruning.append((column, values))
        return list(filters)

    def partitions(self) -> list[InputPartition]:
        from pyspark.sql.pandas.types import to_arrow_schema

        scan = _load(self.handle)
        types = {f.name.lower(): f.type for f in to_arrow_schema(self.schema, timezone="UTC")}
        return [
            ObjectPartition(path)
            for path in scan.files
            if _may_match(_partition_values(scan, path), self.pruning, types)
        ]

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        from pyspark.sql.pandas.types import to_arrow_schema

        path = getattr(partition, "path", None)
        scan = _load(self.handle)
        if path is None and not scan.files:
            return  # Spark's one partition of an empty scan (an Iceberg table without rows)
        if path not in scan.files:
            raise RuntimeError(f"{ERROR_MARKER}[outside][{scan.table}] {path} is not its object")
        target = to_arrow_schema(self.schema, timezone="UTC")
        try:
            filesystem = _filesystem(scan)
            constants = _partition_values(scan, path)
            source = filesystem.open(path, "rb", size=scan.sizes.get(path))
            for batch in _batches(source, scan.format, target, constants):
                yield _conform(batch, target, constants)
        except Exception as e:
            described = describe_s3_error(e)
            reason, explanation = described or (
                "unreadable",
                f"{path} cannot be read as {scan.format} ({type(e).__name__})",
            )
            # from None: neither the S3 client's text nor the parser's (it may quote data).
            raise RuntimeError(f"{ERROR_MARKER}[{reason}][{scan.table}] {explanation}") from None


def read_error(text: str) -> StorageError | None:
    """The storage error a reader reported somewhere in ``text`` (a Spark error), or None."""
    match = _ERROR.search(text)
    if match is None:
        return None
    reason, table, explanation = match.groups()
    return StorageError(
        f"Could not read the objects of table {table}: {explanation}",
        details={"reason": reason, "table": table},
    )


@contextmanager
def scan_files(scans: Sequence[ObjectScan]) -> Iterator[list[str]]:
    """Write each scan to a file only this user can read, in a fresh private folder removed when
    the block ends; yields the files' paths (the scans' ``scan`` options)."""
    folder = tempfile.mkdtemp(prefix="lakemesh-spark-")  # mode 0700
    try:
        paths = []
        for index, scan in enumerate(scans):
            path = os.path.join(folder, f"scan-{index}.json")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                json.dump(asdict(scan), handle)
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def object_scan(
    *,
    table: str,
    format: str,
    location: str,
    files: Sequence[str],
    partition_columns: Sequence[str],
    options: S3Options,
    sizes: Mapping[str, int] | None = None,
) -> ObjectScan:
    """The scan of ``files`` (each an object under ``location``) with the hub's credentials.

    Raises:
        QueryRejectedError: a file is not an object under the table's location.
    """
    storage = S3Storage()
    prefix = storage.normalize(location).rstrip("/") + "/"
    for path in files:
        if not path.startswith("s3://") or storage.normalize(path) != path:
            raise QueryRejectedError(f"Table {table} reads an object spelled otherwise: {path}")
        if not path.startswith(prefix):
            raise QueryRejectedError(f"Table {table} reads an object outside its location: {path}")
    return ObjectScan(
        table=table,
        format=format,
        location=prefix.rstrip("/"),
        files=tuple(files),
        partition_columns=tuple(partition_columns),
        s3=asdict(options),
        sizes={path: size for path, size in (sizes or {}).items() if path in files},
    )


def _load(handle: str) -> ObjectScan:
    with open(handle) as file:
        raw = json.load(file)
    return ObjectScan(
        table=raw["table"],
        format=raw["format"],
        location=raw["location"],
        files=tuple(raw["files"]),
        partition_columns=tuple(raw["partition_columns"]),
        s3=raw["s3"],
        sizes=raw["sizes"],
    )


def _filesystem(scan: ObjectScan) -> Any:
    import s3fs

    return s3fs.S3FileSystem(**S3Options(**scan.s3).filesystem_kwargs())


def _partition_values(scan: ObjectScan, path: str) -> dict[str, str | None]:
    """The partition columns' values in ``path`` (``column=value`` folders, URL-decoded)."""
    values: dict[str, str | None] = {}
    wanted = {column.lower(): column for column in scan.partition_columns}
    for segment in path[len(scan.location) + 1 :].split("/")[:-1]:
        key, separator, value = segment.partition("=")
        column = wanted.get(unquote(key).lower())
        if separator and column is not None:
            decoded = unquote(value)
            values[column] = None if decoded == _NULL_PARTITION else decoded
    return values


def _may_match(
    values: dict[str, str | None],
    pruning: Sequence[tuple[str, tuple[Any, ...]]],
    types: Mapping[str, pa.DataType],
) -> bool:
    """False when an object's partition values fail one of the equality filters ``pruning``
    (compared only for string and integer columns; anything else may match)."""
    lowered = {column.lower(): value for column, value in values.items()}
    for column, allowed in pruning:
        if column not in lowered or column not in types:
            continue
        raw, type_ = lowered[column], types[column]
        if raw is None:
            return False  # NULL equals nothing
        if pa.types.is_string(type_) or pa.types.is_large_string(type_):
            value: Any = raw
        elif pa.types.is_integer(type_):
            try:
                value = pa.scalar(raw).cast(type_).as_py()
            except (pa.ArrowInvalid, ValueError):
                continue
        else:
            continue
        if all(type(item) is type(value) for item in allowed) and value not in allowed:
            return False
    return True


def _batches(
    source: Any, format: str, target: pa.Schema, constants: dict[str, Any]
) -> Iterator[pa.RecordBatch]:
    """The rows of the open object ``source`` in batches, the data columns (those not from the
    path) as stored."""
    data = pa.schema([field for field in target if field.name not in constants])
    with source:
        if format == "parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(source)
            present = {name.lower(): name for name in parquet.schema_arrow.names}
            columns = [present[f.name.lower()] for f in data if f.name.lower() in present]
            yield from parquet.iter_batches(columns=columns)
        elif format == "csv":
            import pyarrow.csv as csv

            table = csv.read_csv(
                source,
                parse_options=csv.ParseOptions(
                    quote_char='"', double_quote=True, newlines_in_values=True
                ),
                convert_options=csv.ConvertOptions(
                    column_types={field.name: _naive(field.type) for field in data},
                    strings_can_be_null=True,
                ),
            )
            yield from table.to_batches()
        elif format == "json":
            import pyarrow.json as pj

            table = pj.read_json(
                source,
                parse_options=pj.ParseOptions(
                    explicit_schema=data, unexpected_field_behavior="ignore"
                ),
            )
            yield from table.to_batches()
        else:
            raise ValueError(f"not a file format: {format}")


def _naive(type_: pa.DataType) -> pa.DataType:
    """A CSV column's type to parse with: timestamps without their zone (the values have none;
    :func:`_conform` reads them as UTC, the session's zone, as Spark's CSV reader does)."""
    if pa.types.is_timestamp(type_) and type_.tz is not None:
        return pa.timestamp(type_.unit)
    return type_


def _conform(batch: pa.RecordBatch, target: pa.Schema, constants: dict[str, Any]) -> pa.RecordBatch:
    """``batch`` with exactly ``target``'s columns and types: columns matched by name as Spark's
    readers do (case-insensitively), missing ones NULL, partition columns from the path."""
    present = {name.lower(): index for index, name in enumerate(batch.schema.names)}
    arrays = []
    for field in target:
        if field.name in constants:
            value = pa.scalar(constants[field.name], pa.string()).cast(field.type)
            arrays.append(pa.repeat(value, batch.num_rows))
        elif field.name.lower() in present:
            arrays.append(batch.column(present[field.name.lower()]).cast(field.type))
        else:
            arrays.append(pa.nulls(batch.num_rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=target)
