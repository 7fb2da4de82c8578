"""Data filters (data cells filters): a row predicate and a column include or exclude list on one
table, granted with ``lakemesh grant SELECT --on D.DB.T --filter NAME`` (DESIGN §3-4).

The predicate is checked against the grammar of DESIGN §4 when the filter is created or changed,
and stored as the canonical text the policy engine binds. Only admins of the table's domain (and
mesh admins) manage, list and read filters. Changing a filter changes what its grants give;
deleting one that grants still use is refused unless forced, which revokes those grants with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier, parse_resource
from lakemesh.policy.predicates import validate_predicate
from lakemesh.store.schema import Database, DataFilterRow, Domain, Grant, Table


def _table(name: str | ResourceName) -> ResourceName:
    return parse_resource(name, level="table") if isinstance(name, str) else name


def _filter_name(row: DataFilterRow) -> str:
    return f"{row.name} on {table_name(row.table)}"


def get_filter(
    session: Session,
    *,
    actor: Actor,
    name: str,
    table: str | ResourceName | None = None,
    action: Action = Action.FILTER_SHOW,
) -> DataFilterRow:
    """The filter ``name`` that ``actor`` administers (on ``table``; without it the name must be
    unique among the filters of the domains ``actor`` administers).

    A filter of another domain reads as one that does not exist.

    Raises:
        AccessDeniedError: ``table`` is in a domain ``actor`` does not administer.
        NotFoundError: ``Data filter does not exist: eu_rows on sales.crm.customers``.
        InvalidInputError: the name is used on several tables and no table was given.
    """
    if table is not None:
        resource = _table(table)
        actor.require_domain_admin(resource.domain, action=action, resource=str(resource))
        table_row = get_table_row(session, resource)
        row = session.execute(
            select(DataFilterRow).where(
                DataFilterRow.table_id == table_row.id, DataFilterRow.name == name
            )
        ).scalar()
        if row is None:
            raise NotFoundError(
                f"Data filter does not exist: {name} on {resource}",
                details={"filter": name, "table": str(resource)},
            )
        return row
    rows = [
        row
        for row in session.execute(
            select(DataFilterRow).where(DataFilterRow.name == name)
        ).scalars()
        if actor.administers(table_name(row.table).domain)
    ]
    if not rows:
        missing = NotFoundError(f"Data filter does not exist: {name}", details={"filter": name})
        if session.execute(select(DataFilterRow.id).where(DataFilterRow.name == name)).first():
            raise actor.conceal(
                missing,
                reason=f"{actor.ref} administers no domain with a data filter {name}",
                action=action,
                resource=f"filter {name}",
            )
        raise missing
    if len(rows) > 1:
        tables = sorted(str(table_name(row.table)) for row in rows)
        raise InvalidInputError(
            f"Data filter {name} exists on several tables: {', '.join(tables)} (name the table)",
            details={"filter": name, "tables": tables},
        )
    return rows[0]


def check_columns(row: Table, names: Sequence[str]) -> list[str]:
    """``names`` spelled as the table spells its columns, each once, in table order.

    Raises:
        InvalidInputError: ``Column does not exist: sales.crm.customers.nickname`` (as for the
            column lists of grants).
    """
    known = {column.name.lower(): column.name for column in row.columns}
    wanted: set[str] = set()
    for name in names:
        column = known.get(name.strip().lower())
        if column is None:
            full = f"{table_name(row)}.{name.strip()}"
            raise InvalidInputError(f"Column does not exist: {full}", details={"column": full})
        wanted.add(column)
    return [column.name for column in row.columns if column.name in wanted]


def _choice(
    row: Table, columns: Sequence[str] | None, excluded: Sequence[str]
) -> tuple[list[str] | None, list[str]]:
    """A checked column include list or exclude list (at most one; at least one column left)."""
    if columns is not None and excluded:
        raise InvalidInputError("Give a column include list or an exclude list, not both")
    if columns is not None:
        if not columns:
            raise InvalidInputError("A column include list may not be empty")
        return check_columns(row, columns), []
    dropped = check_columns(row, excluded)
    if len(dropped) == len(row.columns):
        raise InvalidInputError(
            f"A data filter must leave at least one column of {table_name(row)}",
            details={"excluded": dropped},
        )
    return None, dropped


def _predicate(row: Table, rows: str | None) -> str | None:
    return None if rows is None else validate_predicate(rows, columns=[c.name for c in row.columns])


def create_filter(
    session: Session,
    *,
    actor: Actor,
    name: str,
    table: str | ResourceName,
    rows: str | None = None,
    columns: Sequence[str] | None = None,
    excluded_columns: Sequence[str] = (),
) -> DataFilterRow:
    """Create a data filter on a table (admins of its domain); ``rows`` None reads every row.

    Raises:
        InvalidInputError: a predicate outside the grammar, naming the offending token.
    """
    resource = _table(table)
    actor.require_domain_admin(resource.domain, action=Action.FILTER_CREATE, resource=str(resource))
    table_row = get_table_row(session, resource)
    check_identifier(name, "data filter name")
    if session.execute(
        select(DataFilterRow.id).where(
            DataFilterRow.table_id == table_row.id, DataFilterRow.name == name
        )
    ).first():
        raise AlreadyExistsError(
            f"Data filter already exists: {name} on {resource}",
            details={"filter": name, "table": str(resource)},
        )
    predicate = _predicate(table_row, rows)
    included, excluded = _choice(table_row, columns, excluded_columns)
    now = clock.now()
    row = DataFilterRow(
        table_id=table_row.id,
        name=name,
        predicate=predicate,
        columns=included,
        excluded_columns=excluded,
        created_by=actor.ref,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.FILTER_CREATE,
        resource=str(resource),
        details=_definition(row),
    )
    return row


def update_filter(
    session: Session,
    *,
    actor: Actor,
    name: str,
    table: str | ResourceName | None = None,
    rows: str | None = None,
    all_rows: bool = False,
    columns: Sequence[str] | None = None,
    excluded_columns: Sequence[str] | None = None,
    all_columns: bool = False,
) -> DataFilterRow:
    """Change a filter's predicate (``rows``, or ``all_rows``) or columns (``columns``,
    ``excluded_columns``, or ``all_columns``); every grant through it changes with it."""
    row = get_filter(session, actor=actor, name=name, table=table, action=Action.FILTER_UPDATE)
    resource = table_name(row.table)
    if rows is not None and all_rows:
        raise InvalidInputError("Give a row predicate or all rows, not both")
    if all_columns and (columns is not None or excluded_columns is not None):
        raise InvalidInputError("Give a column list or all columns, not both")
    before = _definition(row)
    if rows is not None or all_rows:
        row.predicate = _predicate(row.table, rows)
    if all_columns:
        row.columns, row.excluded_columns = None, []
    elif columns is not None or excluded_columns is not None:
        row.columns, row.excluded_columns = _choice(row.table, columns, excluded_columns or ())
    after = _definition(row)
    if after == before:
        return row
    row.updated_at = clock.now()
    session.flush()
    through = [grant.id for grant in filter_grants(session, row)]
    audit.record(
        session,
        actor=actor.ref,
        action=Action.FILTER_UPDATE,
        resource=str(resource),
        details={**after, "before": before, "grants": through},
    )
    return row


def filter_grants(session: Session, row: DataFilterRow) -> list[Grant]:
    """The grants through ``row`` and every grant derived from them, by id."""
    found: dict[int, Grant] = {
        grant.id: grant
        for grant in session.execute(select(Grant).where(Grant.filter_id == row.id)).scalars()
    }
    frontier = set(found)
    while frontier:
        children = session.execute(select(Grant).where(Grant.parent_id.in_(frontier))).scalars()
        frontier = set()
        for child in children:
            if child.id not in found:
                found[child.id] = child
                frontier.add(child.id)
    return [found[grant_id] for grant_id in sorted(found)]


def _grant_text(grant: Grant) -> str:
    return f"#{grant.id} {', '.join(sorted(grant.permissions))} to {grant.grantee.ref}"


@dataclass(frozen=True)
class FilterDeletion:
    """A deleted filter and the grants revoked with it."""

    name: str
    table: ResourceName
    revoked_grants: list[int]


def delete_filter(
    session: Session,
    *,
    actor: Actor,
    name: str,
    table: str | ResourceName | None = None,
    force: bool = False,
) -> FilterDeletion:
    """Delete a filter (admins of its table's domain), with the grants through it when forced.

    Raises:
        ConflictError: grants use the filter and ``force`` is not set; the message lists them.
    """
    row = get_filter(session, actor=actor, name=name, table=table, action=Action.FILTER_DELETE)
    resource = table_name(row.table)
    grants = filter_grants(session, row)
    if grants and not force:
        raise ConflictError(
            f"Data filter {_filter_name(row)} is used by grants: "
            f"{'; '.join(_grant_text(g) for g in grants)} (force the deletion to revoke them)",
            details={
                "filter": row.name,
                "table": str(resource),
                "grants": [
                    {"id": g.id, "grantee": g.grantee.ref, "permissions": sorted(g.permissions)}
                    for g in grants
                ],
            },
        )
    definition = _definition(row)
    revoked = [grant.id for grant in grants]
    for grant in grants:
        audit.record(
            session,
            actor=actor.ref,
            action=Action.GRANT_REVOKE,
            resource=str(resource),
            details={
                "grant_id": grant.id,
                "grantee": grant.grantee.ref,
                "cascade_from": grant.parent_id,
                "filter_deleted": row.name,
            },
        )
    if revoked:
        session.execute(delete(Grant).where(Grant.id.in_(revoked)))
        for grant in grants:
            session.expunge(grant)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.FILTER_DELETE,
        resource=str(resource),
        details={**definition, "revoked_grants": revoked},
    )
    return FilterDeletion(row.name, resource, revoked)


def list_filters(
    session: Session, *, actor: Actor, table: str | ResourceName | None = None
) -> list[DataFilterRow]:
    """The filters on tables of domains the actor administers (all of them for mesh admins)."""
    query = (
        select(DataFilterRow)
        .join(Table, DataFilterRow.table_id == Table.id)
        .join(Database, Table.database_id == Database.id)
        .join(Domain, Database.domain_id == Domain.id)
        .order_by(Domain.name, Database.name, Table.name, DataFilterRow.name)
    )
    if table is not None:
        resource = _table(table)
        actor.require_domain_admin(
            resource.domain, action=Action.FILTER_LIST, resource=str(resource)
        )
        query = query.where(DataFilterRow.table_id == get_table_row(session, resource).id)
    elif not actor.is_mesh_admin:
        query = query.where(Domain.name.in_(sorted(actor.admin_of)))
    return list(session.execute(query).scalars())


def show_filter(
    session: Session, *, actor: Actor, name: str, table: str | ResourceName | None = None
) -> DataFilterRow:
    """One filter, for admins of its table's domain."""
    return get_filter(session, actor=actor, name=name, table=table)


def _definition(row: DataFilterRow) -> dict[str, Any]:
    return {
        "filter": row.name,
        "rows": row.predicate,
        "columns": list(row.columns) if row.columns is not None else None,
        "excluded_columns": list(row.excluded_columns or []),
    }
