"""Databases of a domain's catalog: create, alter, drop, list and show the ones an actor may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import require_visible, visible
from lakemesh.catalog.locations import owning_location
from lakemesh.errors import AlreadyExistsError, ConflictError, NotFoundError
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier
from lakemesh.storage import real_uri
from lakemesh.store.schema import Database, Domain, Table


def get_database_row(session: Session, domain: str, database: str) -> Database:
    row = session.execute(
        select(Database).join(Domain).where(Domain.name == domain, Database.name == database)
    ).scalar()
    if row is None:
        raise database_not_found(domain, database)
    return row


def database_not_found(domain: str, database: str) -> NotFoundError:
    """The error for a database that does not exist (or that the caller may not see)."""
    return NotFoundError(
        f"Database does not exist: {domain}.{database}",
        details={"database": f"{domain}.{database}"},
    )


def create_database(
    session: Session,
    *,
    actor: Actor,
    domain: str,
    name: str,
    description: str = "",
    location: str | None = None,
) -> Database:
    """Create a database in ``domain``'s catalog (its admins)."""
    resource = f"{domain}.{name}"
    domain_row = get_domain_row(session, domain)
    actor.require_domain_admin(domain, action=Action.DATABASE_CREATE, resource=resource)
    check_identifier(name, "database name")
    if session.execute(
        select(Database.id).where(Database.domain_id == domain_row.id, Database.name == name)
    ).first():
        raise AlreadyExistsError(
            f"Database already exists: {resource}", details={"database": resource}
        )
    if location is not None:
        owning_location(session, uri=location, domain=domain)
        location = real_uri(location)
    row = Database(
        domain_id=domain_row.id,
        name=name,
        description=description,
        location=location,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DATABASE_CREATE,
        resource=resource,
        details={"location": location},
    )
    return row


def ensure_database(session: Session, *, actor: Actor, domain: str, name: str) -> Database:
    """The database, created when missing."""
    try:
        return get_database_row(session, domain, name)
    except NotFoundError:
        return create_database(session, actor=actor, domain=domain, name=name)


def alter_database(
    session: Session, *, actor: Actor, domain: str, name: str, description: str
) -> Database:
    # Authority first: to anyone else a database that exists reads as one that does not.
    actor.require_domain_admin(domain, action=Action.DATABASE_ALTER, resource=f"{domain}.{name}")
    row = get_database_row(session, domain, name)
    row.description = description
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DATABASE_ALTER,
        resource=f"{domain}.{name}",
        details={"description": description},
    )
    return row


def drop_database(
    session: Session, *, actor: Actor, domain: str, name: str, cascade: bool = False
) -> None:
    """Drop a database; with tables in it only when ``cascade`` (the files stay where they are)."""
    resource = f"{domain}.{name}"
    actor.require_domain_admin(domain, action=Action.DATABASE_DROP, resource=resource)
    row = get_database_row(session, domain, name)
    tables = session.execute(select(Table.name).where(Table.database_id == row.id)).scalars().all()
    if tables and not cascade:
        raise ConflictError(
            f"Database {resource} still has tables: {', '.join(sorted(tables))} (use cascade)",
            details={"database": resource, "tables": sorted(tables)},
        )
    session.delete(row)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DATABASE_DROP,
        resource=resource,
        details={"tables": sorted(tables)},
    )


def list_databases(session: Session, *, domain: str | None = None) -> Sequence[Database]:
    query = select(Database).join(Domain).order_by(Domain.name, Database.name)
    if domain:
        query = query.where(Domain.name == domain)
    return session.execute(query).scalars().all()


def visible_databases(
    session: Session, *, actor: Actor, domain: str | None = None
) -> list[Database]:
    """The databases ``actor`` may DESCRIBE (of ``domain``, which must exist, when given)."""
    if domain:
        get_domain_row(session, domain)
    return [
        row
        for row in list_databases(session, domain=domain)
        if visible(session, actor, ResourceName(row.domain.name, row.name))
    ]


def show_database(session: Session, *, actor: Actor, name: ResourceName) -> Database:
    """A database ``actor`` may DESCRIBE."""
    require_visible(session, actor, name, action=Action.DATABASE_SHOW)
    return get_database_row(session, name.domain, name.database or "")
