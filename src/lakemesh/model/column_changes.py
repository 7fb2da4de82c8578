"""How a changed column reads in a schema diff, for the hub's summaries and the CLI alike.

>>> change_text({"from": "BIGINT", "to": "INTEGER"})
'BIGINT -> INTEGER'
>>> change_text({"from": "DOUBLE", "to": "DOUBLE", "nullable_from": True, "nullable_to": False})
'nullable -> NOT NULL'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def change_text(change: Mapping[str, Any]) -> str:
    """``BIGINT -> INTEGER``, ``nullable -> NOT NULL``, or both joined by a comma."""
    parts = [f"{change['from']} -> {change['to']}"] if change["from"] != change["to"] else []
    if change.get("nullable_from") is not None:
        before, after = (
            "nullable" if change[key] else "NOT NULL" for key in ("nullable_from", "nullable_to")
        )
        parts.append(f"{before} -> {after}")
    return ", ".join(parts) or f"{change['from']} -> {change['to']}"
