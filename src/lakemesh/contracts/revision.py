"""A contract revised for an accepted schema change: the next major version, its schema object
brought in line with the table's new columns.

>>> next_major("1.4.2"), next_major("v2.0")
('2.0.0', 'v3.0.0')
>>> doc = {"version": "1.0.0", "schema": [{"name": "items", "properties": [
...     {"name": "id", "logicalType": "integer"}, {"name": "note", "logicalType": "string"}]}]}
>>> changes = {"removed": [{"name": "note"}], "added": [{"name": "day", "type": "DATE"}],
...            "changed": [{"name": "id", "from": "BIGINT", "to": "VARCHAR"}]}
>>> revised = revise_contract(doc, table_names=["sales.items", "items"], changes=changes,
...                           version="2.0.0")
>>> revised["version"], revised["schema"][0]["properties"]
('2.0.0', [{'name': 'id', 'logicalType': 'string'}, {'name': 'day', 'logicalType': 'date'}])
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lakemesh.contracts.conformance import FLOAT_TYPES, INTEGER_TYPES, type_matches
from lakemesh.errors import InvalidInputError

_VERSION = re.compile(r"^(v?)(\d+)(?:\.\d+)*(?:[-+].*)?$")


def next_major(version: str) -> str:
    """The next major version after ``version`` (``1.4.2`` -> ``2.0.0``).

    Raises:
        InvalidInputError: ``version`` does not start with a number (give the new one).
    """
    match = _VERSION.match(version.strip())
    if match is None:
        raise InvalidInputError(
            f"Cannot bump contract version {version!r}: it is not MAJOR.MINOR.PATCH "
            "(give the new version with --version)",
            details={"version": version},
        )
    return f"{match.group(1)}{int(match.group(2)) + 1}.0.0"


def logical_type(column_type: str) -> str:
    """The ODCS ``logicalType`` of a DuckDB column type."""
    base = re.sub(r"\(.*\)$", "", column_type.strip().upper())
    if base in INTEGER_TYPES:
        return "integer"
    if base in FLOAT_TYPES or base == "DECIMAL":
        return "number"
    for logical in ("boolean", "date", "timestamp", "time", "array", "object"):
        if type_matches(logical, column_type):
            return logical
    return "string"


def revise_contract(
    document: Mapping[str, Any],
    *,
    table_names: Sequence[str],
    changes: Mapping[str, Any],
    version: str,
) -> dict[str, Any]:
    """``document`` at ``version`` with the schema object naming the table (any of
    ``table_names``) following ``changes`` (a :func:`~lakemesh.contracts.schema_diff.diff_schemas`
    result): dropped columns' properties removed, changed ones retyped (and no longer
    ``required`` once nullable), new ones added."""
    revised = copy.deepcopy(dict(document))
    revised["version"] = version
    names = {name.lower() for name in table_names}
    removed = {str(c["name"]).lower() for c in changes.get("removed", [])}
    retyped = {str(c["name"]).lower(): str(c["to"]) for c in changes.get("changed", [])}
    loosened = {
        str(c["name"]).lower() for c in changes.get("changed", []) if c.get("nullable_to") is True
    }
    for item in revised.get("schema") or []:
        if not isinstance(item, dict) or str(item.get("name", "")).lower() not in names:
            continue
        properties = [
            prop
            for prop in item.get("properties") or []
            if not (isinstance(prop, dict) and str(prop.get("name", "")).lower() in removed)
        ]
        for prop in properties:
            if str(prop.get("name", "")).lower() in loosened:
                prop.pop("required", None)
            new_type = retyped.get(str(prop.get("name", "")).lower())
            if new_type is None:
                continue
            if "physicalType" in prop:
                prop["physicalType"] = new_type
            logical = prop.get("logicalType")
            if isinstance(logical, str) and not type_matches(logical, new_type):
                prop["logicalType"] = logical_type(new_type)
        known = {str(prop.get("name", "")).lower() for prop in properties}
        for column in changes.get("added", []):
            if str(column["name"]).lower() not in known:
                properties.append(
                    {"name": column["name"], "logicalType": logical_type(str(column["type"]))}
                )
        item["properties"] = properties
    return revised
