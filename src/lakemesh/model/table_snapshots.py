"""A recorded Iceberg snapshot or Delta version, field by field: one builder for the API's
``SnapshotPublic`` and the portal's table page."""

from __future__ import annotations

from typing import Any


def snapshot_fields(row: Any) -> dict[str, Any]:
    """The fields of one snapshot as the API and the portal show them (``row`` is the store's
    TableSnapshot)."""
    return {
        "id": row.snapshot_id,
        "parent_id": row.parent_id,
        "sequence": row.sequence,
        "committed_at": row.committed_at.isoformat(),
        "operation": row.operation,
        "schema_version": row.schema_version,
        "summary": row.summary,
    }
