"""What changed between two versions of a table's schema, and whether it breaks consumers.

A change is breaking when a consumer's query could stop working or read different values: a
column dropped (a rename reads as a drop and an add), a type narrowed or changed to one that
does not hold the old values, or a column moved in or out of the partition columns. Nullability
tightened (a nullable column now NOT NULL) is breaking too, and so is a column a contract makes
``required`` (or part of its primary key) that becomes nullable. A new column, a type widened
(INTEGER to BIGINT, DATE to TIMESTAMP) or another column becoming nullable is compatible.
Nullability counts only where both versions know it (columns recorded before lakemesh read it
have none).

>>> old = [{"name": "id", "type": "INTEGER", "partition": False}]
>>> new = [{"name": "id", "type": "BIGINT", "partition": False},
...        {"name": "note", "type": "VARCHAR", "partition": False}]
>>> diff = diff_schemas(old, new)
>>> diff["breaking"], [c["name"] for c in diff["added"]], diff["changed"][0]["breaking"]
(False, ['note'], False)
>>> diff_schemas([{**old[0], "nullable": True}], [{**old[0], "nullable": False}])["breaking"]
True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from lakemesh.contracts.odcs import validate_contract
from lakemesh.storage.type_names import widen_type

Columns = Sequence[Mapping[str, Any]]


def nullability(column: Mapping[str, Any]) -> bool | None:
    """A column's nullability as schema versions keep it (None: not known)."""
    found = column.get("nullable")
    return found if isinstance(found, bool) else None


def same_columns(first: Columns, second: Columns) -> bool:
    """Whether two schemas are the same: names, types and partitioning in order, and
    nullability where both know it."""
    return len(first) == len(second) and all(
        _same_column(a, b) for a, b in zip(first, second, strict=True)
    )


def _same_column(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    shape = (first["name"], first["type"], bool(first.get("partition")))
    if shape != (second["name"], second["type"], bool(second.get("partition"))):
        return False
    known = nullability(first), nullability(second)
    return None in known or known[0] == known[1]


def contract_required(document: Mapping[str, Any], table_names: Collection[str]) -> set[str]:
    """The columns of the table (named any of ``table_names``) that the contract ``document``
    makes ``required`` or part of its primary key, lower-cased."""
    names = {name.lower() for name in table_names}
    return {
        prop.name.lower()
        for item in validate_contract(document).tables
        if item.name.lower() in names
        for prop in item.properties
        if prop.required or prop.primary_key
    }


def diff_schemas(old: Columns, new: Columns, *, required: Collection[str] = ()) -> dict[str, Any]:
    """Added, removed and changed columns of ``new`` against ``old`` (``{name, type, partition,
    nullable}`` each, as schema versions keep them), each change marked breaking or not.

    ``required`` names (in any case) the columns a contract makes ``required`` or a key: one of
    them becoming nullable is breaking. A change of nullability carries ``nullable_from`` and
    ``nullable_to``.
    """
    must_hold = {name.lower() for name in required}
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
        was_nullable, nullable = nullability(previous), nullability(column)
        renulled = None not in (was_nullable, nullable) and was_nullable != nullable
        if old_type == new_type and not moved and not renulled:
            continue
        widened = old_type == new_type or widen_type(old_type, new_type) == new_type
        reasons = []
        if not widened:
            reasons.append(f"type {old_type} -> {new_type} does not hold every old value")
        if moved:
            reasons.append("moved in or out of the partition columns")
        if renulled and was_nullable:
            reasons.append("nullability tightened: nullable -> NOT NULL")
        elif renulled and key in must_hold:
            reasons.append("NOT NULL -> nullable, but the contract requires a value")
        change: dict[str, Any] = {
            "name": column["name"],
            "from": old_type,
            "to": new_type,
            "partition": bool(column.get("partition")),
            "breaking": bool(reasons),
            "reasons": reasons,
        }
        if renulled:
            change |= {"nullable_from": was_nullable, "nullable_to": nullable}
        changed.append(change)
    breaking = bool(removed) or any(change["breaking"] for change in changed)
    return {"added": added, "removed": removed, "changed": changed, "breaking": breaking}
