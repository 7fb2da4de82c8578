"""Iceberg tables: the current metadata file of a table folder, and what it says.

The metadata file is found the way a file-system catalog finds it: ``metadata/version-hint.text``
when there is one, else the metadata file of the highest version (``v3.metadata.json``,
``00003-<uuid>.metadata.json``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lakemesh.errors import StorageError
from lakemesh.storage.table_metadata import (
    OpenTable,
    Snapshot,
    TypeSpelling,
    read_json,
    read_text,
)

if TYPE_CHECKING:
    import fsspec

_SPELLING = TypeSpelling(
    "Iceberg",
    {
        "boolean": "BOOLEAN",
        "int": "INTEGER",
        "long": "BIGINT",
        "float": "FLOAT",
        "double": "DOUBLE",
        "date": "DATE",
        "time": "TIME",
        "timestamp": "TIMESTAMP",
        "timestamptz": "TIMESTAMP WITH TIME ZONE",
        "timestamp_ns": "TIMESTAMP_NS",
        "timestamptz_ns": "TIMESTAMP WITH TIME ZONE",
        "string": "VARCHAR",
        "uuid": "UUID",
        "binary": "BLOB",
    },
    list_kind="list",
    element="element",
    key="key",
    value="value",
    blob=re.compile(r"^fixed\[\s*\d+\s*\]$"),
)
_VERSION = re.compile(r"^(?:v(\d+)|(\d+)-.*)\.metadata\.json$")
_TRANSFORM = re.compile(r"^(bucket|truncate)\[(\d+)\]$")

METADATA_POINTER = "iceberg.metadata-location"
"""Table property holding the current metadata file of a table the hub commits to (its
catalog pointer, moved by each commit): readers take it over the newest file in the folder."""


def duckdb_type(iceberg_type: Any) -> str:
    """The DuckDB type name of an Iceberg type (as the table metadata writes it).

    >>> duckdb_type("long"), duckdb_type("decimal(12, 2)")
    ('BIGINT', 'DECIMAL(12,2)')
    >>> duckdb_type({"type": "list", "element-id": 3, "element": "string"})
    'VARCHAR[]'

    Raises:
        ValueError: a type this reader does not know.
    """
    return _SPELLING.duckdb_type(iceberg_type)


def current_metadata(root: str, files: Mapping[str, int], filesystem: Any) -> str:
    """The path of the table's current metadata file.

    Raises:
        StorageError: the folder holds no metadata file.
    """
    folder = f"{root.rstrip('/')}/metadata/"
    versions: dict[int, str] = {}
    for path in files:
        if path.startswith(folder) and "/" not in path[len(folder) :]:
            match = _VERSION.match(path[len(folder) :])
            if match:
                versions[int(match.group(1) or match.group(2))] = path
    hint = folder + "version-hint.text"
    if hint in files:
        text = read_text(filesystem, hint).strip()
        if text.isdigit() and int(text) in versions:
            return versions[int(text)]
    if not versions:
        raise StorageError(
            f"No Iceberg metadata file in {folder}", details={"folder": folder.rstrip("/")}
        )
    return versions[max(versions)]


def schema_columns(metadata: dict[str, Any]) -> tuple[tuple[str, str, bool], ...]:
    """(name, DuckDB type, nullable) of the current schema's columns of an Iceberg metadata
    document (a ``required`` field is not nullable)."""
    schema = _current_schema(metadata)
    return tuple(
        (field["name"], duckdb_type(field["type"]), not field.get("required", False))
        for field in schema["fields"]
    )


def metadata_version(path: str) -> int:
    """The version number of a metadata file's name (``00003-<uuid>.metadata.json`` -> 3).

    Raises:
        ValueError: the name is not a metadata file's.
    """
    match = _VERSION.match(path.rsplit("/", 1)[-1])
    if match is None:
        raise ValueError(f"not an Iceberg metadata file name: {path}")
    return int(match.group(1) or match.group(2))


def describe(
    filesystem: fsspec.AbstractFileSystem, *, root: str, files: Mapping[str, int]
) -> OpenTable:
    """Read the current metadata of the Iceberg table in folder ``root``."""
    path = current_metadata(root, files, filesystem)
    return describe_document(path, read_json(filesystem, path))


def describe_document(path: str, metadata: dict[str, Any]) -> OpenTable:
    """What the Iceberg metadata document ``metadata`` (the file ``path``) says of its table."""
    schema = _current_schema(metadata)
    names = {field["id"]: field["name"] for field in schema["fields"]}
    columns = schema_columns(metadata)
    current = metadata.get("current-snapshot-id")
    current = None if current in (None, -1) else str(current)
    snapshots = tuple(
        Snapshot(
            id=str(snapshot["snapshot-id"]),
            parent_id=_text(snapshot.get("parent-snapshot-id")),
            sequence=int(snapshot.get("sequence-number") or position + 1),
            timestamp_ms=int(snapshot["timestamp-ms"]),
            operation=str(snapshot.get("summary", {}).get("operation", "")),
            schema_id=snapshot.get("schema-id"),
            summary={str(k): str(v) for k, v in snapshot.get("summary", {}).items()},
        )
        for position, snapshot in enumerate(
            sorted(metadata.get("snapshots", []), key=lambda s: int(s["timestamp-ms"]))
        )
    )
    return OpenTable(
        format="iceberg",
        metadata_path=path,
        columns=columns,
        partition_columns=(),
        partition_spec=_partition_spec(metadata, names),
        current_snapshot=current,
        snapshots=snapshots,
        properties={
            "iceberg.format-version": str(metadata.get("format-version", 1)),
            "iceberg.table-uuid": str(metadata.get("table-uuid", "")),
        },
    )


def _current_schema(metadata: dict[str, Any]) -> dict[str, Any]:
    if "schemas" in metadata:
        current = metadata.get("current-schema-id", 0)
        for schema in metadata["schemas"]:
            if schema.get("schema-id", 0) == current:
                return dict(schema)
        raise ValueError(f"current schema {current} is not among the table's schemas")
    return dict(metadata["schema"])  # format version 1


def _partition_spec(metadata: dict[str, Any], names: dict[int, str]) -> str:
    if "partition-specs" in metadata:
        default = metadata.get("default-spec-id", 0)
        spec: dict[str, Any] = next(
            (s for s in metadata["partition-specs"] if s.get("spec-id", 0) == default),
            {"fields": []},
        )
        fields = spec["fields"]
    else:
        fields = metadata.get("partition-spec", [])  # format version 1
    parts: list[str] = []
    for field in fields:
        source = names.get(field["source-id"], str(field["source-id"]))
        transform = str(field["transform"])
        if transform == "void":
            continue
        if transform == "identity":
            parts.append(source)
        elif match := _TRANSFORM.match(transform):
            parts.append(f"{match.group(1)}({match.group(2)}, {source})")
        else:
            parts.append(f"{transform}({source})")
    return ", ".join(parts)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
