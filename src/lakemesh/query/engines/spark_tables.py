"""Iceberg and Delta tables on Spark without their runtimes: the snapshot's Parquet files.

Neither the Iceberg nor the Delta Spark runtime is on disk (pyspark ships neither, and nothing
downloads at run time), so the hub resolves the state a query reads itself, pyiceberg planning an
Iceberg scan and :func:`lakemesh.storage.delta.live_files` replaying a Delta log, and Spark reads
that state's data files with its own Parquet reader. Whatever that reader would get wrong is
refused by name: Iceberg delete files, data files in another format, columns renamed or dropped
and added again (Spark matches Parquet columns by name, Iceberg by field id); Delta deletion
vectors and column mapping, and partition values missing from the files' paths.
"""

from __future__ import annotations

import importlib
from typing import Any

import fsspec

from lakemesh.errors import InvalidInputError, QueryRejectedError
from lakemesh.query.table import TableAccess
from lakemesh.storage import delta


def open_table_files(table: TableAccess) -> list[str]:
    """The data files of the Iceberg snapshot or Delta version ``table`` reads, each one of its
    authorized files.

    Raises:
        InvalidInputError: Spark's Parquet reader would read the table wrongly (the reason
            named), or pyiceberg is missing.
        QueryRejectedError: the table's metadata names files outside its authorized ones.
    """
    files = _iceberg_files(table) if table.format == "iceberg" else _delta_files(table)
    outside = sorted(set(files) - set(table.files))
    if outside:
        raise QueryRejectedError(
            f"Table {table.name} names data files outside its authorized files: {outside[0]}",
            details={"table": table.name},
        )
    return files


def _iceberg_files(table: TableAccess) -> list[str]:
    if table.metadata is None:
        return []  # no metadata file yet: an empty table
    static = _pyiceberg("pyiceberg.table").StaticTable.from_metadata(table.metadata)
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


def _delta_files(table: TableAccess) -> list[str]:
    root = table.location.removeprefix("file://")
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
