"""The limits a workgroup sets, by name: one list for the service that checks them, the API that
shows them and the mesh files that hold them."""

from __future__ import annotations

from typing import Any

LIMIT_FIELDS = (
    "max_bytes_per_query",
    "max_bytes_per_month",
    "max_concurrent",
    "max_concurrent_per_principal",
    "timeout_seconds",
    "max_rows",
    "max_result_bytes",
)
"""Limits that are a positive whole number or None (no limit)."""

ALL_LIMITS = (*LIMIT_FIELDS, "max_memory_bytes")
"""Every limit of a workgroup, the memory limit (never None) included."""


def limits_of(row: Any) -> dict[str, int | None]:
    """A workgroup row's limits by name (``row`` is the store's Workgroup)."""
    return {name: getattr(row, name) for name in ALL_LIMITS}
