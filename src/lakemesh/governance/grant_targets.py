"""Turning what a user names in a grant or revoke into a checked grant row (DESIGN §4 targets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import CatalogNames, grant_rule
from lakemesh.catalog.databases import get_database_row
from lakemesh.catalog.lookups import CatalogRows
from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.governance.tags import check_tag_expression, get_tag, get_tag_value
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import APPLICABLE, Permission
from lakemesh.policy.rules import GrantTarget
from lakemesh.storage import normalize_uri, real_uri
from lakemesh.store.schema import DataFilterRow, Grant, Location

CATALOG_PERMISSIONS = frozenset(Permission) - {
    Permission.DATA_LOCATION_ACCESS,
    Permission.ASSOCIATE,
}
COLUMN_PERMISSIONS = frozenset({Permission.SELECT, Permission.UNMASK, Permission.ALL})
FILTER_PERMISSIONS = frozenset({Permission.SELECT})
LOCATION_PERMISSIONS = frozenset({Permission.DATA_LOCATION_ACCESS, Permission.ALL})
TAG_VALUE_PERMISSIONS = frozenset({Permission.ASSOCIATE, Permission.DESCRIBE, Permission.ALL})


@dataclass(frozen=True)
class GrantRequest:
    """What to grant or revoke, as the CLI and the API say it: exactly one target.

    - ``on``: a named resource (``sales``, ``sales.crm``, ``sales.crm.orders``, or a column
      ``sales.crm.orders.amount``), optionally with ``columns`` or ``exclude_columns``, or with a
      data ``filter`` name (``on`` is then the filter's table);
    - ``on_tags``: a tag expression over tables (``tag_resource_type="database"`` for databases),
      optionally kept inside one domain or database (``tag_scope``: a domain admin's tag grant);
    - ``location``: a registered storage URI (DATA_LOCATION_ACCESS);
    - ``tag_values``: ``key`` or ``key=v1|v2``, to delegate ASSOCIATE (and DESCRIBE) on values.
    """

    permissions: frozenset[Permission]
    on: str | None = None
    columns: tuple[str, ...] | None = None
    exclude_columns: tuple[str, ...] = ()
    filter: str | None = None
    on_tags: str | None = None
    tag_resource_type: str = "table"
    tag_scope: str | None = None
    location: str | None = None
    tag_values: str | None = None
    with_grant_option: bool = False
    details: dict[str, Any] = field(default_factory=dict)


def _check_permissions(
    permissions: frozenset[Permission], allowed: frozenset[Permission], where: str
) -> None:
    wrong = sorted(p.value for p in permissions - allowed)
    if wrong:
        raise InvalidInputError(
            f"Permission {', '.join(wrong)} does not apply to {where} "
            f"(allowed: {', '.join(sorted(p.value for p in allowed))})",
            details={"permissions": wrong},
        )


def _check_columns(names: Sequence[str], table_columns: Sequence[str], table: str) -> list[str]:
    known = {c.lower(): c for c in table_columns}
    result: list[str] = []
    for name in names:
        column = known.get(name.lower())
        if column is None:
            raise InvalidInputError(
                f"Column does not exist: {table}.{name}", details={"column": f"{table}.{name}"}
            )
        result.append(column)
    if not result:
        raise InvalidInputError(f"Empty column list for {table}")
    return result


def _check_tag_values(session: Session, key: str, values: Sequence[str] | None) -> None:
    """Every named value must exist (as in an expression: an unknown name is invalid input)."""
    try:
        get_tag(session, key)
        for value in values or ():
            get_tag_value(session, key, value)
    except NotFoundError as missing:
        raise InvalidInputError(missing.message, details=missing.details) from None


def _named_target(
    session: Session, request: GrantRequest, row: Grant, catalog: CatalogRows
) -> None:
    assert request.on is not None
    name = parse_resource(request.on)
    if name.level == "column":
        if request.columns is not None or request.exclude_columns or request.filter:
            raise InvalidInputError(
                f"A column name ({name}) takes no column list or filter; name the table instead"
            )
        request = GrantRequest(
            permissions=request.permissions,
            on=str(name.table_name),
            columns=(name.column or "",),
            with_grant_option=request.with_grant_option,
        )
        name = name.table_name
    if name.level != "table" and (
        request.columns is not None or request.exclude_columns or request.filter
    ):
        raise InvalidInputError(
            f"Column lists and filters apply to tables, not to {name.level} {name}",
            details={"resource": str(name)},
        )
    if request.columns is not None and request.exclude_columns:
        raise InvalidInputError("Give --columns or --exclude-columns, not both")
    domain = catalog.domain(name.domain)
    row.domain_id = domain.id
    if name.level == "domain":
        _check_permissions(request.permissions, CATALOG_PERMISSIONS, f"domain {name}")
        return
    database = catalog.database(name.domain, name.database or "")
    row.database_id = database.id
    if name.level == "database":
        _check_permissions(request.permissions, CATALOG_PERMISSIONS, f"database {name}")
        return
    table = catalog.table(name)
    row.table_id = table.id
    table_columns = [c.name for c in table.columns]
    if request.filter is not None:
        _check_permissions(request.permissions, FILTER_PERMISSIONS, f"filter {request.filter}")
        data_filter = session.execute(
            select(DataFilterRow).where(
                DataFilterRow.table_id == table.id, DataFilterRow.name == request.filter
            )
        ).scalar()
        if data_filter is None:
            raise NotFoundError(
                f"Data filter does not exist: {request.filter} on {name}",
                details={"filter": request.filter, "table": str(name)},
            )
        row.target_kind, row.filter_id, row.data_filter = "filter", data_filter.id, data_filter
        row.domain_id = row.database_id = row.table_id = None
        return
    if request.columns is not None or request.exclude_columns:
        _check_permissions(request.permissions, COLUMN_PERMISSIONS, "a column list")
        if request.columns is not None:
            row.columns = _check_columns(request.columns, table_columns, str(name))
        else:
            row.excluded_columns = _check_columns(request.exclude_columns, table_columns, str(name))
        return
    _check_permissions(request.permissions, APPLICABLE["table"] | {Permission.ALL}, f"table {name}")


def _tag_scope(session: Session, scope: str) -> str:
    """The domain or database a tag grant is kept inside, checked to exist."""
    name = parse_resource(scope)
    if name.level not in ("domain", "database"):
        raise InvalidInputError(
            f"A tag grant is scoped to a domain or a database, not to {name.level} {name}",
            details={"tag_scope": str(name)},
        )
    get_domain_row(session, name.domain)
    if name.level == "database":
        get_database_row(session, name.domain, name.database or "")
    return str(name)


def build_row(
    session: Session,
    request: GrantRequest,
    *,
    catalog: CatalogRows | None = None,
    expressions: dict[str, str] | None = None,
) -> Grant:
    """An unsaved grant row for ``request``, every name checked against the catalog.

    A caller building many rows passes the ``catalog`` rows it read at once, and ``expressions``
    in which the tag expressions checked so far are kept (checked once each).
    """
    targets = [
        t
        for t in (request.on, request.on_tags, request.location, request.tag_values)
        if t is not None
    ]
    if len(targets) != 1:
        raise InvalidInputError(
            "Name exactly one target: a resource (--on), a tag expression (--on-tags), "
            "a location (--location) or tag values (--on-tag-values)"
        )
    if not request.permissions:
        raise InvalidInputError("No permission given")
    if request.tag_scope is not None and request.on_tags is None:
        raise InvalidInputError("A tag scope applies to tag expression grants (--on-tags) only")
    row = Grant(
        permissions=sorted(p.value for p in request.permissions),
        with_grant_option=request.with_grant_option,
        target_kind="resource",
        excluded_columns=[],
    )
    if request.on is not None:
        _named_target(session, request, row, catalog or CatalogRows(session))
    elif request.on_tags is not None:
        if request.tag_resource_type not in ("table", "database"):
            raise InvalidInputError(
                f"Tag grants apply to tables or databases, not {request.tag_resource_type}"
            )
        _check_permissions(request.permissions, CATALOG_PERMISSIONS, "a tag expression")
        row.target_kind = "tag"
        checked = {} if expressions is None else expressions
        if request.on_tags not in checked:
            checked[request.on_tags] = str(check_tag_expression(session, request.on_tags))
        row.tag_expression = checked[request.on_tags]
        row.tag_resource_type = request.tag_resource_type
        if request.tag_scope is not None:
            row.tag_scope = _tag_scope(session, request.tag_scope)
    elif request.location is not None:
        _check_permissions(request.permissions, LOCATION_PERMISSIONS, "a location")
        uri = normalize_uri(request.location)
        location = session.execute(
            select(Location).where(Location.uri.in_({uri, real_uri(uri)}))
        ).scalar()
        if location is None:
            raise NotFoundError(f"Location does not exist: {uri}", details={"uri": uri})
        row.target_kind, row.location_id, row.location = "location", location.id, location
    else:
        assert request.tag_values is not None
        _check_permissions(request.permissions, TAG_VALUE_PERMISSIONS, "tag values")
        key, _, values = request.tag_values.partition("=")
        key = key.strip()
        chosen = sorted(v.strip() for v in values.split("|")) if values else None
        _check_tag_values(session, key, chosen)
        row.target_kind, row.tag_key, row.tag_values = "tag_values", key, chosen
    return row


def _target(session: Session, row: Grant) -> GrantTarget:
    return grant_rule(row, CatalogNames(session)).target


def same_target(first: Grant, second: Grant) -> bool:
    """Whether two grant rows name the same target (what ``revoke`` mirrors)."""
    keys = (
        "target_kind",
        "domain_id",
        "database_id",
        "table_id",
        "tag_expression",
        "tag_resource_type",
        "tag_scope",
        "filter_id",
        "location_id",
        "tag_key",
    )
    if any(getattr(first, k) != getattr(second, k) for k in keys):
        return False
    return (
        _sorted(first.columns) == _sorted(second.columns)
        and _sorted(first.excluded_columns) == _sorted(second.excluded_columns)
        and _sorted(first.tag_values) == _sorted(second.tag_values)
    )


def _sorted(values: list[str] | None) -> list[str] | None:
    return None if values is None else sorted(v.lower() for v in values)
