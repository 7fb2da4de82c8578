"""Permissions of DESIGN §4 and the resource types they apply to."""

from __future__ import annotations

from enum import StrEnum

from lakemesh.errors import InvalidInputError


class Permission(StrEnum):
    """A permission a grant can give."""

    DESCRIBE = "DESCRIBE"
    SELECT = "SELECT"
    INSERT = "INSERT"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DROP = "DROP"
    CREATE_DATABASE = "CREATE_DATABASE"
    CREATE_TABLE = "CREATE_TABLE"
    DATA_LOCATION_ACCESS = "DATA_LOCATION_ACCESS"
    ASSOCIATE = "ASSOCIATE"
    UNMASK = "UNMASK"
    ALL = "ALL"


APPLICABLE: dict[str, frozenset[Permission]] = {
    "domain": frozenset(
        {Permission.DESCRIBE, Permission.CREATE_DATABASE, Permission.ALTER, Permission.DROP}
    ),
    "database": frozenset(
        {Permission.DESCRIBE, Permission.CREATE_TABLE, Permission.ALTER, Permission.DROP}
    ),
    "table": frozenset(
        {
            Permission.DESCRIBE,
            Permission.SELECT,
            Permission.INSERT,
            Permission.DELETE,
            Permission.ALTER,
            Permission.DROP,
            Permission.UNMASK,
        }
    ),
    "column": frozenset({Permission.SELECT, Permission.UNMASK}),
    "location": frozenset({Permission.DATA_LOCATION_ACCESS}),
    "tag": frozenset({Permission.ASSOCIATE, Permission.DESCRIBE}),
}


def expand(permissions: frozenset[Permission], resource_type: str) -> frozenset[Permission]:
    """Replace ``ALL`` by every permission that applies to ``resource_type``."""
    if Permission.ALL in permissions:
        return APPLICABLE[resource_type]
    return permissions


def parse_permissions(text: str) -> frozenset[Permission]:
    """Parse ``SELECT,DESCRIBE`` (case-insensitive), naming any unknown permission.

    >>> sorted(parse_permissions("select, describe"))
    [<Permission.DESCRIBE: 'DESCRIBE'>, <Permission.SELECT: 'SELECT'>]
    """
    result: set[Permission] = set()
    for raw in text.split(","):
        word = raw.strip().upper()
        if not word:
            continue
        try:
            result.add(Permission(word))
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise InvalidInputError(
                f"Unknown permission: {raw.strip()!r} (known: {known})",
                details={"permission": raw.strip()},
            ) from None
    if not result:
        raise InvalidInputError("No permission given", details={"permissions": text})
    return frozenset(result)
