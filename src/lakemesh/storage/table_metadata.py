"""What an open table's own metadata says: its schema, partitioning and snapshots (or versions).

Shared by the readers of each format (:mod:`.iceberg`, :mod:`.delta`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import fsspec


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


def read_json(filesystem: fsspec.AbstractFileSystem, path: str) -> Any:
    """The JSON document at ``path``."""
    with filesystem.open(path, "rb") as handle:
        return json.loads(handle.read())
