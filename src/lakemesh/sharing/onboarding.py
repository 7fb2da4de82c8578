"""Onboarding: a producer or consumer domain in one step, repeatable (DESIGN §3).

``lakemesh onboard producer sales --location URI --admin user:sam@sales --tag owner=sales``
creates the domain and its admin, registers the location, crawls it and tags what it found.
Layout: each visible sub-folder of the location is a database and each of its sub-folders a table
(``URI/crm/orders/...`` is ``sales.crm.orders``); with ``--database DB`` the location's own
sub-folders are the tables of ``DB``. Tags go on each onboarded database (tables and columns
inherit them). ``lakemesh onboard consumer analytics --admin user:ana@analytics`` creates the
domain and its admin.

Running either again changes nothing, or only what is missing (a new folder, a schema change);
anything that contradicts what exists (another admin, a location of another domain, a database
tagged otherwise) is refused before any change, naming what conflicts. A crawl runs in its own
transactions, so a producer is made in steps (each audited); re-running completes a partial one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit
from lakemesh.catalog import crawler, domains, locations
from lakemesh.catalog.databases import get_database_row
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from lakemesh.governance.tag_assignments import assign_tags
from lakemesh.governance.tagged import TaggedObject, own_tags
from lakemesh.governance.tags import get_tag_value
from lakemesh.hub import Hub
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier, parse_principal
from lakemesh.storage import backend_for, join_uri, real_uri
from lakemesh.store.schema import Domain, DomainAdmin, Location, Principal

PRODUCER, CONSUMER = "producer", "consumer"


@dataclass
class Onboarding:
    """What onboarding found and did; ``changes`` is empty when everything was in place."""

    domain: str
    role: str
    admin: str
    location: str | None = None
    databases: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "role": self.role,
            "admin": self.admin,
            "location": self.location,
            "databases": self.databases,
            "tags": self.tags,
            "changes": self.changes,
        }


def _check_admin(name: str, admin: str) -> str:
    principal = parse_principal(admin)
    if principal.kind == "domain" or principal.domain != name:
        raise InvalidInputError(
            f"The admin of domain {name} is a user, service or group of it, got {principal}",
            details={"domain": name, "admin": str(principal)},
        )
    return str(principal)


def _admins(session: Session, domain: Domain) -> list[str]:
    return list(
        session.execute(
            select(Principal.ref)
            .join(DomainAdmin, DomainAdmin.principal_id == Principal.id)
            .where(DomainAdmin.domain_id == domain.id)
            .order_by(Principal.ref)
        ).scalars()
    )


def _existing_domain(
    session: Session, *, actor: Actor, name: str, admin: str, action: Action
) -> Domain | None:
    """The domain when it exists (its admins must include ``admin``); None when it is new."""
    try:
        row = get_domain_row(session, name)
    except NotFoundError:
        actor.require_mesh_admin(action=action, resource=name)
        return None
    actor.require_domain_admin(name, action=action)
    admins = _admins(session, row)
    if admin not in admins:
        raise ConflictError(
            f"Domain {name} exists and {admin} is not its admin (admins: "
            f"{', '.join(admins) or 'none'}); a mesh admin adds admins with 'lakemesh domain "
            "add-admin'",
            details={"domain": name, "admin": admin, "admins": admins},
        )
    return row


def _ensure_domain(
    session: Session, *, actor: Actor, name: str, admin: str, role: str, description: str
) -> list[str]:
    row = session.execute(select(Domain).where(Domain.name == name)).scalar()
    if row is None:
        domains.create_domain(
            session,
            actor=actor,
            name=name,
            producer=role == PRODUCER,
            consumer=role == CONSUMER,
            description=description,
            admins=[admin],
        )
        return [f"created domain {name} ({role}) with admin {admin}"]
    if not getattr(row, role):
        domains.update_domain(
            session,
            actor=actor,
            name=name,
            producer=True if role == PRODUCER else None,
            consumer=True if role == CONSUMER else None,
        )
        return [f"marked domain {name} as {role}"]
    return []


def database_folders(uri: str, database: str | None) -> dict[str, str]:
    """``{database: folder URI}``: ``uri`` itself for ``database``, else each visible sub-folder.

    Raises:
        StorageError: the location cannot be listed.
        InvalidInputError: no database folder, or a folder name that is no identifier.
    """
    if database is not None:
        return {check_identifier(database, "database name"): uri}
    backend = backend_for(uri)
    filesystem = backend.filesystem()
    path = backend.to_path(uri)
    try:
        if not filesystem.isdir(path):
            raise StorageError(f"Storage location does not exist: {uri}", details={"uri": uri})
        entries = filesystem.ls(path, detail=True)
    except OSError as e:
        raise StorageError(f"Cannot list {uri}: {e}", details={"uri": uri}) from e
    folders: dict[str, str] = {}
    for entry in entries:
        folder = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
        if entry.get("type") != "directory" or folder.startswith((".", "_")):
            continue
        name = folder.lower().replace("-", "_")
        folders[check_identifier(name, f"database name (from folder {folder})")] = join_uri(
            uri, folder
        )
    if not folders:
        raise InvalidInputError(
            f"No database folders under {uri} (each sub-folder is a database; use --database DB "
            "to register the tables found there in one database)",
            details={"uri": uri},
        )
    return dict(sorted(folders.items()))


def _check_location(session: Session, uri: str, name: str) -> bool:
    """Whether ``uri`` is registered by ``name`` already (another domain's is a conflict)."""
    row = session.execute(select(Location).where(Location.uri == uri)).scalar()
    if row is None:
        return False
    if row.domain.name != name:
        raise ConflictError(
            f"Location {uri} is registered by domain {row.domain.name}, not {name}",
            details={"uri": uri, "domain": row.domain.name},
        )
    return True


def _check_tags(
    session: Session, name: str, folders: Mapping[str, str], tags: Mapping[str, str]
) -> None:
    for key, value in tags.items():
        try:
            get_tag_value(session, key, value)
        except NotFoundError as missing:
            raise InvalidInputError(missing.message, details=missing.details) from None
    for database in folders:
        try:
            row = get_database_row(session, name, database)
        except NotFoundError:
            continue
        current = own_tags(session, TaggedObject(ResourceName(name, database), row))
        for key, value in tags.items():
            if current.get(key, value) != value:
                raise ConflictError(
                    f"Database {name}.{database} is tagged {key}={current[key]}, not {key}={value}",
                    details={"database": f"{name}.{database}", "tag_key": key},
                )


def onboard_producer(
    hub: Hub,
    *,
    actor: Actor,
    name: str,
    location: str,
    admin: str,
    tags: Mapping[str, str] | None = None,
    database: str | None = None,
    description: str = "",
) -> Onboarding:
    """Make ``name`` a producer: domain, admin, location, crawled databases, tags (see module).

    Raises:
        AccessDeniedError: a new domain needs a mesh admin; an existing one its admins.
        ConflictError: what exists contradicts the request (named).
        InvalidInputError, StorageError: bad names, an unreadable or empty location.
    """
    check_identifier(name, "domain name")
    admin = _check_admin(name, admin)
    uri = real_uri(location)
    wanted = dict(sorted((tags or {}).items()))
    with hub.read() as session:
        _existing_domain(
            session, actor=actor, name=name, admin=admin, action=Action.ONBOARD_PRODUCER
        )
        registered = _check_location(session, uri, name)
        if not registered:
            locations.check_location(session, uri=uri, domain=name, actor=actor)
        folders = database_folders(uri, database)
        _check_tags(session, name, folders, wanted)
    result = Onboarding(name, PRODUCER, admin, uri, tags=wanted)
    with hub.transaction() as session:
        result.changes += _ensure_domain(
            session, actor=actor, name=name, admin=admin, role=PRODUCER, description=description
        )
        if not registered:
            locations.register_location(session, actor=actor, uri=uri, domain=name)
            result.changes.append(f"registered location {uri}")
    for db, folder in folders.items():
        crawled = crawler.crawl(hub, actor=actor, uri=folder, domain=name, database=db)
        result.databases[db] = [table.to_dict() for table in crawled]
        moved = [t for t in crawled if t.status != "unchanged"]
        if moved:
            summary = ", ".join(f"{t.name} {t.status}" for t in moved)
            result.changes.append(f"crawled {name}.{db}: {summary}")
    with hub.transaction() as session:
        for db in folders:
            if wanted and assign_tags(session, actor=actor, resource=f"{name}.{db}", tags=wanted):
                shown = ", ".join(f"{k}={v}" for k, v in wanted.items())
                result.changes.append(f"tagged {name}.{db} {shown}")
        audit.record(
            session,
            actor=actor.ref,
            action=Action.ONBOARD_PRODUCER,
            resource=name,
            details={**result.to_dict(), "databases": sorted(result.databases)},
        )
    return result


def onboard_consumer(
    hub: Hub, *, actor: Actor, name: str, admin: str, description: str = ""
) -> Onboarding:
    """Make ``name`` a consumer domain with ``admin`` (repeatable; see module)."""
    check_identifier(name, "domain name")
    admin = _check_admin(name, admin)
    result = Onboarding(name, CONSUMER, admin)
    with hub.transaction() as session:
        _existing_domain(
            session, actor=actor, name=name, admin=admin, action=Action.ONBOARD_CONSUMER
        )
        result.changes += _ensure_domain(
            session, actor=actor, name=name, admin=admin, role=CONSUMER, description=description
        )
        audit.record(
            session,
            actor=actor.ref,
            action=Action.ONBOARD_CONSUMER,
            resource=name,
            details=result.to_dict(),
        )
    return result
