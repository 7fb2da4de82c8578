"""Tables of a domain's catalog: created, altered and dropped (a schema change makes a new
version, :mod:`lakemesh.catalog.columns`), where a new one may lie, and who sees which."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import require, require_seen, require_visible, visible
from lakemesh.catalog.columns import (
    ColumnSpec,
    check_columns,
    current_columns,
    learns_nullability,
    record_version,
    schema_changes,
    set_columns,
)
from lakemesh.catalog.databases import database_not_found, get_database_row
from lakemesh.catalog.location_rules import holds_location_access
from lakemesh.catalog.locations import domain_locations, owning_location
from lakemesh.errors import AlreadyExistsError, InvalidInputError, NotFoundError, batch_item
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier
from lakemesh.model.permissions import Permission
from lakemesh.storage import is_within, real_uri
from lakemesh.store.schema import Database, Domain, Location, Table

FORMATS = ("parquet", "csv", "json", "iceberg", "delta")


def get_table_row(session: Session, name: ResourceName) -> Table:
    if name.database is None or name.table is None:
        raise InvalidInputError(f"Expected a table name DOMAIN.DATABASE.TABLE, got {name}")
    row = session.execute(
        select(Table)
        .join(Database)
        .join(Domain)
        .where(Domain.name == name.domain, Database.name == name.database, Table.name == name.table)
    ).scalar()
    if row is None:
        raise NotFoundError(
            f"Table does not exist: {name.table_name}", details={"table": str(name.table_name)}
        )
    return row


def table_name(row: Table) -> ResourceName:
    return ResourceName(row.database.domain.name, row.database.name, row.name)


@dataclass(frozen=True)
class NewTable:
    """A table to register in a batch (see :func:`create_tables`)."""

    name: ResourceName
    location: str
    format: str
    columns: Sequence[ColumnSpec]
    description: str = ""
    properties: dict[str, str] | None = None
    default_location: str | None = None


def create_table(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    location: str,
    format: str,
    columns: Sequence[ColumnSpec],
    description: str = "",
    properties: dict[str, str] | None = None,
    default_location: str | None = None,
) -> Table:
    """Register a table whose files lie in a location of its domain.

    Domain admins create tables in their domain's databases; anyone else needs CREATE_TABLE on
    the database, and its table lies at ``default_location`` (where the front would put a new
    table of that name) or in a location it holds DATA_LOCATION_ACCESS on (as in Lake
    Formation), never where another table's files are.
    """
    new = NewTable(name, location, format, columns, description, properties, default_location)
    return create_tables(session, actor=actor, tables=[new])[0]


class _Existing:
    """The databases, their tables' names and their domains' locations that a batch of new
    tables names, read at once (with the tables the batch adds)."""

    def __init__(self, session: Session, names: Sequence[ResourceName]) -> None:
        self.session = session
        self.databases: dict[tuple[str, str], Database] = {}
        query = (
            select(Database, Domain.name)
            .join(Domain, Domain.id == Database.domain_id)
            .where(
                Domain.name.in_({n.domain for n in names}),
                Database.name.in_({n.database or "" for n in names}),
            )
        )
        for database, domain in session.execute(query):
            self.databases[(domain, database.name)] = database
        ids = [database.id for database in self.databases.values()]
        self.tables = set(
            tuple(row)
            for row in session.execute(
                select(Table.database_id, Table.name).where(Table.database_id.in_(ids))
            )
        )
        self.locations: dict[str, list[Location]] = {}

    def database(self, domain: str, name: str) -> Database:
        """As :func:`get_database_row`."""
        row = self.databases.get((domain, name))
        return row if row is not None else get_database_row(self.session, domain, name)

    def domain_locations(self, domain: str) -> list[Location]:
        if domain not in self.locations:
            self.locations[domain] = domain_locations(self.session, domain)
        return self.locations[domain]


def create_tables(session: Session, *, actor: Actor, tables: Sequence[NewTable]) -> list[Table]:
    """Register ``tables`` in order, each checked exactly as :func:`create_table` checks one
    made by hand after the ones before it, with one audit event each; the databases, the names
    taken and the domains' locations are read at once and the rows written in one flush.

    Raises:
        LakemeshError: the first refusal, its ``batch_item`` the position of the refused item;
            the caller's transaction then holds part of the batch (roll it back).
    """
    existing = _Existing(session, [new.name for new in tables])
    rows: list[Table] = []
    with session.no_autoflush:
        for position, new in enumerate(tables):
            with batch_item(position):
                rows.append(_new_table(session, actor, new, existing))
    session.flush()
    entries: list[audit.Entry] = []
    for new, row in zip(tables, rows, strict=True):
        record_version(session, row, actor=actor, changes=schema_changes([], new.columns))
        details = {"location": row.location, "format": new.format, "columns": len(new.columns)}
        entries.append(
            audit.Entry(
                actor=actor.ref,
                action=Action.TABLE_CREATE,
                resource=str(new.name.table_name),
                details=details,
            )
        )
    audit.record_many(session, entries)
    return rows


def _new_table(session: Session, actor: Actor, new: NewTable, existing: _Existing) -> Table:
    """Check one table of :func:`create_tables` and add it to the session."""
    name = new.name
    resource = str(name.table_name)
    database = existing.database(name.domain, name.database or "")
    database_name = ResourceName(name.domain, database.name)
    require_change(
        session, actor, Permission.CREATE_TABLE, database_name, action=Action.TABLE_CREATE
    )
    check_identifier(name.table or "", "table name")
    if new.format not in FORMATS:
        raise InvalidInputError(
            f"Unknown table format: {new.format} (known: {', '.join(FORMATS)})",
            details={"format": new.format},
        )
    check_columns(new.columns)
    if (database.id, name.table) in existing.tables:
        raise AlreadyExistsError(f"Table already exists: {resource}", details={"table": resource})
    check_table_location(
        session,
        actor=actor,
        name=name,
        location=new.location,
        default_location=new.default_location,
        locations=existing.domain_locations(name.domain),
    )
    now = clock.now()
    row = Table(
        database_id=database.id,
        name=name.table,
        location=real_uri(new.location),
        format=new.format,
        description=new.description,
        properties=dict(new.properties or {}),
        schema_version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    set_columns(row, new.columns)
    existing.tables.add((database.id, name.table))
    return row


def alter_table(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    description: str | None = None,
    properties: dict[str, str] | None = None,
    columns: Sequence[ColumnSpec] | None = None,
) -> dict[str, Any]:
    """Change a table's description, properties or schema; a schema change makes a new version.

    Returns the schema changes (empty lists when the schema stayed the same).
    """
    resource = str(name.table_name)
    require_change(session, actor, Permission.ALTER, name.table_name, action=Action.TABLE_ALTER)
    row = get_table_row(session, name)
    details: dict[str, Any] = {}
    changes: dict[str, Any] = {"added": [], "removed": [], "changed": []}
    if description is not None:
        row.description = description
        details["description"] = description
    if properties is not None:
        row.properties = {**row.properties, **properties}
        details["properties"] = properties
    if columns is not None:
        check_columns(columns)
        changes = schema_changes(current_columns(row), columns)
        if any(changes.values()):
            row.schema_version += 1
            set_columns(row, columns)
            session.flush()
            record_version(session, row, actor=actor, changes=changes)
            details["schema_version"] = row.schema_version
            details["changes"] = changes
        elif learns_nullability(current_columns(row), columns):
            set_columns(row, columns)  # the files' nullability, first read: no new version
    if details:
        row.updated_at = clock.now()
        audit.record(
            session, actor=actor.ref, action=Action.TABLE_ALTER, resource=resource, details=details
        )
    return changes


def drop_table(session: Session, *, actor: Actor, name: ResourceName) -> None:
    """Remove a table from the catalog (its files stay where they are)."""
    resource = str(name.table_name)
    require_change(session, actor, Permission.DROP, name.table_name, action=Action.TABLE_DROP)
    row = get_table_row(session, name)
    session.delete(row)
    audit.record(session, actor=actor.ref, action=Action.TABLE_DROP, resource=resource)


def require_change(
    session: Session, actor: Actor, permission: Permission, name: ResourceName, *, action: Action
) -> None:
    """Raise unless ``actor`` may make a catalog change needing ``permission`` on ``name``.

    Domain admins change their domain's catalog; anyone else needs the permission granted
    (CREATE_TABLE on a database, ALTER or DROP on a table). Authority first: to anyone who may
    not DESCRIBE ``name``, one that exists reads as one that does not.

    Raises:
        NotFoundError: ``Table does not exist: d.db.t`` (also for one the actor may not see).
        AccessDeniedError: ``user:x@d lacks DROP on d.db.t``.
    """
    if actor.administers(name.domain):
        return
    require_seen(session, actor, name, action=action)
    require(session, actor=actor, permission=permission, resource=name, action=action)


def check_table_location(
    session: Session,
    *,
    actor: Actor,
    name: ResourceName,
    location: str,
    default_location: str | None = None,
    locations: Sequence[Location] | None = None,
) -> None:
    """Raise unless the new table ``name`` may lie at ``location``: in a location of its
    domain (``locations``, when the caller read them already), and where
    :func:`_check_creator_location` allows for a creator that is not an admin of the domain.

    Raises:
        InvalidInputError: ``location`` lies in no location of the domain.
        AccessDeniedError: the creator may not put a table there (the reason named).
    """
    owner = owning_location(session, uri=location, domain=name.domain, rows=locations)
    if not actor.administers(name.domain):
        _check_creator_location(
            session,
            actor=actor,
            location=location,
            table=str(name.table_name),
            default_location=default_location,
            owner=owner,
        )


def _check_creator_location(
    session: Session,
    *,
    actor: Actor,
    location: str,
    table: str,
    default_location: str | None,
    owner: Location,
) -> None:
    """Refuse a location for a new table of a creator that is not an admin of its domain: the
    creator will read and write its files (the Iceberg catalog vends it credentials for them).

    It must be ``default_location``, or lie in the registered location ``owner`` on which the
    creator holds DATA_LOCATION_ACCESS; and it may not be, hold or lie inside another table's.

    Raises:
        AccessDeniedError: naming the missing DATA_LOCATION_ACCESS, or the table whose files
            those are.
    """
    real = real_uri(location)
    at_default = default_location is not None and real == real_uri(default_location)
    if not at_default and not holds_location_access(session, actor, owner):
        raise actor.deny(
            f"{actor.ref} lacks DATA_LOCATION_ACCESS on {owner.uri}: without it, table {table} "
            f"may lie only at its default location"
            + (f" {default_location}" if default_location else " (none here)"),
            action=Action.TABLE_CREATE,
            resource=table,
        )
    for row in session.execute(select(Table)).scalars():
        if is_within(real, row.location) or is_within(row.location, real):
            other = table_name(row)
            whose = f"table {other}" if visible(session, actor, other) else "another table"
            raise actor.deny(
                f"Table {table} may not lie at {location}: the files of {whose} are there "
                f"({row.location}); choose a location of its own",
                action=Action.TABLE_CREATE,
                resource=table,
            )


def list_tables(
    session: Session, *, domain: str | None = None, database: str | None = None
) -> Sequence[Table]:
    query = (
        select(Table).join(Database).join(Domain).order_by(Domain.name, Database.name, Table.name)
    )
    if domain:
        query = query.where(Domain.name == domain)
    if database:
        query = query.where(Database.name == database)
    return session.execute(query).scalars().all()


def visible_tables(
    session: Session, *, actor: Actor, domain: str | None = None, database: str | None = None
) -> list[Table]:
    """The tables ``actor`` may DESCRIBE, of ``domain`` and ``database`` when given.

    ``database`` is ``DATABASE`` or ``DOMAIN.DATABASE``. A filter naming a domain or a database
    that does not exist is an error; a database ``actor`` may not DESCRIBE (and in which no
    table is visible to it) reads the same as a missing one.

    Raises:
        NotFoundError: ``Domain does not exist: x`` or ``Database does not exist: d.db``.
        InvalidInputError: ``database`` names another domain than ``domain``.
    """
    if database and "." in database:
        database_domain, database = database.split(".", 1)
        if domain and domain != database_domain:
            raise InvalidInputError(
                f"database {database_domain}.{database} names domain {database_domain}, "
                f"but domain is {domain}",
                details={"domain": domain, "database": f"{database_domain}.{database}"},
            )
        domain = database_domain
    if domain:
        get_domain_row(session, domain)
    readable = [
        row
        for row in list_tables(session, domain=domain, database=database)
        if visible(session, actor, table_name(row))
    ]
    if domain and database and not readable:
        get_database_row(session, domain, database)
        if not visible(session, actor, ResourceName(domain, database)):
            raise actor.conceal(
                database_not_found(domain, database),
                reason=f"{actor.ref} lacks DESCRIBE on {domain}.{database}",
                action=Action.TABLE_LIST,
                resource=f"{domain}.{database}",
            )
    return readable


def show_table(session: Session, *, actor: Actor, name: ResourceName) -> Table:
    """A table ``actor`` may DESCRIBE."""
    require_visible(session, actor, name.table_name, action=Action.TABLE_SHOW)
    return get_table_row(session, name)
