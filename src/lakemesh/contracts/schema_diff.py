"""What changed between two versions of a table's schema, and whether it breaks consumers.

A change is breaking when a consumer's query could stop working or read different values: a
column dropped (a rename reads as a drop and an add), a type narrowed or changed to one that
does not hold the old values, or a column moved in or out of the partition columns. A new
column, or a type widened (INTEGER to BIGINT, DATE to TIMESTAMP), is compatible.

>>> old = [{"name": "id", "type": "INTEGER", "partition": False}]
>>> new = [{"name": "id", "type": "BIGINT", "partition": False},
...        {"name": "note", "type": "VARCHAR", "partition": False}]
>>> diff = diff_schemas(old, new)
>>> diff["breaking"], [c["name"] for c in diff["added"]], diff["changed"][0]["breaking"]
(False, ['note'], False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lakemesh.storage.types import widen_type

Columns = Sequence[Mapping[str, Any]]


def diff_schemas(old: Columns, new: Columns) -> dict[str, Any]:
    """Added, removed and changed columns of ``new`` against ``old`` (``{name, type,
    partition}`` each, as schema versions keep them), each change marked breaking or not."""
    before = {str(c["name"]).lower(): c for c in old}
    after = {str(c["name"]).lower(): c for c in new}
    added = [dict(c) for key, c in after.items() if key not in before]
    removed = [dict(c) for key, c in before.items() if key not in after]
    changed: list[dict[str, Any]] = []
    for key, column in after.items():
        previous = before.get(key)
        if previous is None:
            continue
        old_type, new_type = str(previous["type"]), str(column["type"])
        moved = bool(previous.get("partition")) != bool(column.get("partition"))
        if old_type == new_type and not moved:
            continue
        widened = old_type == new_type or widen_type(old_type, new_type) == new_type
        reasons = []
        if not widened:
            reasons.append(f"type {old_type} -> {new_type} does not hold every old value")
        if moved:
            reasons.append("moved in or out of the partition columns")
        changed.append(
            {
                "name": column["name"],
                "from": old_type,
                "to": new_type,
                "partition": bool(column.get("partition")),
                "breaking": bool(reasons),
                "reasons": reasons,
            }
        )
    breaking = bool(removed) or any(change["breaking"] for change in changed)
    return {"added": added, "removed": removed, "changed": changed, "breaking": breaking}
