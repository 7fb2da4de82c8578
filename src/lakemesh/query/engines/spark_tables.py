"""Iceberg and Delta tables on Spark without their runtimes: the snapshot's Parquet files.

Neither the Iceberg nor the Delta Spark runtime is on disk (pyspark ships neither, and nothing
downloads at run time), so the hub resolves the state a query reads itself, pyiceberg planning an
Iceberg scan and :func:`lakemesh.storage.delta.live_files` replaying a Delta log, and Spark reads
that state's data files with its own Parquet reader. Whatever that reader would get wrong is
refused by name: Iceberg delete files, data files in another format, columns renamed or dropped
and added again (Spark matches Parquet columns by name, Iceberg by field id); Delta deletion
vectors and column mapping, and partition values missing from the files' paths.

On S3 the hub reads the metadata with its own credentials (s3fs, also under pyiceberg), and the
engine's object data source reads the data files
(:mod:`~lakemesh.query.engines.spark_objects`).
"""

from __future__ import annotations

import importlib
from typing import Any

import fsspec

from lakemesh.errors import InvalidInputError, LakemeshError, QueryRejectedError
from lakemesh.query.table import TableAccess
from lakemesh.storage import S3Options, delta
from lakemesh.storage.s3 import storage_error


def open_table_files(table: TableAccess, s3: S3Options | None = None) -> list[str]:
    """The data files of the Iceberg snapshot or Delta version ``table`` reads, each one of its
    authorized files; ``s3`` are the credentials to read the metadata of a table on S3 with.

    Raises:
        InvalidInputError: Spark's Parquet reader would read the table wrongly (the reason
            named), or pyiceberg is missing.
        QueryRejectedError: the table's metadata names files outside its authorized ones.
        StorageError: the metadata of a table on S3 cannot be read (the reason named).
    """
    read = _iceberg_files if table.format == "iceberg" else _delta_files
    try:
        files = read(table, s3)
    except LakemeshError:
        raise
    except Exception as e:
        if s3 is None:
            raise
        message = f"Cannot read the metadata of table {table.name}"
        raise storage_error(e, message=message, details={"table": table.name}) from None
    outside = sorted(set(files) - set(table.files))
    if outside:
        raise QueryRejectedError(
            f"Table {table.name} names data files outside its authorized files: {outside[0]}",
            details={"table": table.name},
        )
    return files


def _iceberg_files(table: TableAccess, s3: S3Options | None) -> list[str]:
    if table.metadata is None:
        return []  # no metadata file yet: an empty table
    properties = _pyiceberg_properties(s3) if s3 is not None else {}
    static = _pyiceberg("pyiceberg.table").StaticTable.from_metadata(table.metadata, properties)
    _check_field_names(table, static.metadata)
    snapshot = int(table.snapshot) if table.snapshot is not None else None
    if snapshot is None and static.metadata.current_snapshot_id is None:
        return []
    files: list[str] = []
    for task in static.scan(snapshot_id=snapshot).plan_files():
        if task.delete_files:
            raise _unreadable(table, "it has delete files (rows deleted after they were written)")
        file_format = str(getattr(task.file.file_format, "value", task.file.file_format))
        if file_format.upper() != "PARQUET":
            raise _unreadable(table, f"it has {file_format} data files")
        path = str(task.file.file_path)
        files.append(path.removeprefix("file://"))
    return files


def _check_field_names(table: TableAccess, metadata: Any) -> None:
    """Refuse a table where one field id had two names, or one name two field ids."""
    names: dict[int, str] = {}
    ids: dict[str, int] = {}
    for schema in metadata.schemas:
        for field in schema.fields:
            if names.setdefault(field.field_id, field.name) != field.name:
                raise _unreadable(table, f"its column {field.name} was renamed")
            if ids.setdefault(field.name, field.field_id) != field.field_id:
                raise _unreadable(table, f"its column {field.name} was dropped and added again")


def _pyiceberg_properties(s3: S3Options) -> dict[str, str]:
    """pyiceberg's file IO over s3fs with the hub's credentials (s3fs: errors botocore names)."""
    properties = {
        "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
        "s3.force-virtual-addressing": str(s3.effective_url_style == "vhost").lower(),
    }
    for key, value in (
        ("s3.endpoint", s3.endpoint_url),
        ("s3.access-key-id", s3.key),
        ("s3.secret-access-key", s3.secret),
        ("s3.session-token", s3.token),
        ("s3.region", s3.region),
    ):
        if value:
            properties[key] = value
    return properties


def _delta_files(table: TableAccess, s3: S3Options | None) -> list[str]:
    root = table.location.removeprefix("file://")
    if s3 is not None:
        import s3fs

        filesystem = s3fs.S3FileSystem(**s3.filesystem_kwargs())
    else:
        filesystem = fsspec.filesystem("file")
    version = int(table.snapshot) if table.snapshot is not None else None
    listing = dict.fromkeys(table.files, 0)
    try:
        files = delta.live_files(filesystem, root=root, files=listing, version=version)
    except InvalidInputError as e:
        features = ", ".join(e.details.get("features") or [])
        raise _unreadable(table, f"it uses {features}") from None
    prefix = root.rstrip("/") + "/"
    for path in files:
        segments = path.removeprefix(prefix).split("/")[:-1]
        present = {segment.split("=", 1)[0] for segment in segments if "=" in segment}
        if not set(table.partition_columns) <= present:
            raise _unreadable(table, f"its partition values are not in its files' paths: {path}")
    return files


def _unreadable(table: TableAccess, reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"Table {table.name} cannot be queried on the spark engine: {reason}, which Spark reads "
        f"only with the {table.format.capitalize()} runtime (run the query in a workgroup on the "
        "duckdb engine)",
        details={"table": table.name, "engine": "spark", "format": table.format},
    )


def _pyiceberg(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise InvalidInputError(
            "Querying Iceberg tables on Spark needs pyiceberg: pip install 'lakemesh[tables]'",
            details={"extra": "tables"},
        ) from e
