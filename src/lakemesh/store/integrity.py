"""Constraint violations of the store as lakemesh errors: the one place a driver's
``IntegrityError`` is translated (``Hub.transaction`` calls it).

Services check names before inserting, so a violation means another transaction wrote the same
row in between (two concurrent ``domain create sales``): the loser gets the error it would have
had a moment later, not a 500.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError

from lakemesh.errors import AlreadyExistsError, ConflictError, LakemeshError

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
POSTGRES_KEY = re.compile(r"Key \((?P<columns>.+?)\)=\((?P<values>.*)\) already exists")


def noun(table: str) -> str:
    """``domains`` -> ``Domain``, ``data_filters`` -> ``Data filter``: a row of ``table``.

    >>> noun("data_filters"), noun("policies")
    ('Data filter', 'Policy')
    """
    words = table.replace("_", " ")
    if words.endswith("ies"):
        words = words[:-3] + "y"
    elif words.endswith("s"):
        words = words[:-1]
    return words[:1].upper() + words[1:]


def _unique_violation(error: IntegrityError) -> tuple[str, list[str], list[str]] | None:
    """``(table, columns, values)`` of a unique violation (values known on PostgreSQL only)."""
    original: Any = error.orig
    if getattr(original, "sqlstate", None) == UNIQUE_VIOLATION:
        diagnostic = original.diag
        match = POSTGRES_KEY.search(diagnostic.message_detail or "")
        columns = match.group("columns").split(", ") if match else []
        values = match.group("values").split(", ") if match else []
        return str(diagnostic.table_name or ""), columns, values
    found = SQLITE_UNIQUE.search(str(original))
    if found is None:
        return None
    qualified = [name.strip() for name in found.group(1).split(",")]
    table = qualified[0].partition(".")[0]
    return table, [name.partition(".")[2] for name in qualified], []


def translate_integrity_error(error: IntegrityError) -> LakemeshError:
    """The lakemesh error for a constraint violation (raise it ``from`` the driver's)."""
    unique = _unique_violation(error)
    if unique is not None:
        table, columns, values = unique
        shown = ", ".join(values) if values else f"the same {', '.join(columns)}"
        return AlreadyExistsError(
            f"{noun(table)} already exists: {shown}",
            details={"table": table, "columns": columns, "values": values},
        )
    first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    return ConflictError(
        f"The change conflicts with the hub's current state: {first_line}",
        details={"constraint": first_line},
    )
