"""What an open table's own metadata says: its schema, partitioning and snapshots (or versions).

Shared by the readers of each format (:mod:`.iceberg`, :mod:`.delta`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lakemesh.storage.type_names import quote_field

if TYPE_CHECKING:
    import fsspec

_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$")


@dataclass(frozen=True)
class Snapshot:
    """One snapshot of an Iceberg table or one version of a Delta table."""

    id: str  # the Iceberg snapshot id, or the Delta version, as text
    parent_id: str | None
    sequence: int  # order of commits (Iceberg sequence number, Delta version)
    timestamp_ms: int
    operation: str  # append, overwrite, delete, WRITE, ...
    schema_id: int | None = None
    summary: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "sequence": self.sequence,
            "timestamp_ms": self.timestamp_ms,
            "operation": self.operation,
            "schema_id": self.schema_id,
            "summary": dict(self.summary),
        }


@dataclass(frozen=True)
class OpenTable:
    """What a table's own metadata says about it."""

    format: str  # iceberg | delta
    metadata_path: str  # the current metadata file (Iceberg) or the log folder (Delta)
    columns: tuple[tuple[str, str, bool], ...]  # (name, DuckDB type, nullable), in schema order
    partition_columns: tuple[str, ...]  # Delta partition columns (Iceberg partitions are hidden)
    partition_spec: str  # "region", "day(ordered_at), bucket(16, id)", "" when unpartitioned
    current_snapshot: str | None
    snapshots: tuple[Snapshot, ...]  # oldest first
    properties: dict[str, str] = field(default_factory=dict)

    def catalog_properties(self) -> dict[str, str]:
        """The table properties the catalog records (``table show`` prints them)."""
        return {
            **self.properties,
            f"{self.format}.partition-spec": self.partition_spec,
            f"{self.format}.current-snapshot": self.current_snapshot or "",
        }


@dataclass(frozen=True)
class TypeSpelling:
    """How a table format writes column types in its JSON metadata: primitive names, and the
    keys of its list and map types (structs and ``decimal(p, s)`` are spelled alike by both).

    >>> spelling = TypeSpelling("Demo", {"long": "BIGINT"}, "list", "element", "key", "value")
    >>> spelling.duckdb_type({"type": "map", "key": "long", "value": "decimal(9, 2)"})
    'MAP(BIGINT, DECIMAL(9,2))'
    """

    format: str
    """The format's name, for errors."""
    primitives: Mapping[str, str]
    """Primitive type name to DuckDB's."""
    list_kind: str
    element: str
    key: str
    value: str
    blob: re.Pattern[str] | None = None
    """Other primitive names read as BLOB (Iceberg's ``fixed[n]``)."""

    def duckdb_type(self, spelled: Any) -> str:
        """The DuckDB type name of the type ``spelled`` (a name, or a nested type's object).

        Raises:
            ValueError: a type this reader does not know.
        """
        if isinstance(spelled, str):
            if spelled in self.primitives:
                return self.primitives[spelled]
            if match := _DECIMAL.match(spelled):
                return f"DECIMAL({match.group(1)},{match.group(2)})"
            if self.blob is not None and self.blob.match(spelled):
                return "BLOB"
            raise ValueError(f"unknown {self.format} type {spelled!r}")
        kind = spelled.get("type")
        if kind == "struct":
            fields = ", ".join(
                f"{quote_field(field['name'])} {self.duckdb_type(field['type'])}"
                for field in spelled["fields"]
            )
            return f"STRUCT({fields})"
        if kind == self.list_kind:
            return f"{self.duckdb_type(spelled[self.element])}[]"
        if kind == "map":
            key, value = self.duckdb_type(spelled[self.key]), self.duckdb_type(spelled[self.value])
            return f"MAP({key}, {value})"
        raise ValueError(f"unknown {self.format} type {spelled!r}")


def read_text(filesystem: fsspec.AbstractFileSystem, path: str) -> str:
    """The text of the metadata file at ``path`` (UTF-8)."""
    with filesystem.open(path, "rb") as handle:
        return bytes(handle.read()).decode()


def read_json(filesystem: fsspec.AbstractFileSystem, path: str) -> Any:
    """The JSON document at ``path``."""
    return json.loads(read_text(filesystem, path))
