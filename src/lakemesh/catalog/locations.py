"""Locations: storage URIs registered by a domain. Only the hub holds the storage credential."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import visible
from lakemesh.authz.guardrail_checks import check_location_prefixes
from lakemesh.catalog.location_rules import (
    check_may_register,
    check_not_reserved,
    holds_location_access,
    shown,
)
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.storage import is_within, normalize_uri, real_uri
from lakemesh.store.schema import Domain, Location, Table


def check_location(session: Session, *, uri: str, domain: str, actor: Actor | None = None) -> str:
    """The real URI ``uri`` names, when ``domain`` may own it (see
    :mod:`lakemesh.catalog.location_rules`); compared on real paths, it must not be reserved,
    must lie within the ``location-prefixes`` guardrails, must neither contain another domain's
    location nor lie inside one (unless ``actor`` holds DATA_LOCATION_ACCESS on it), and a domain
    admin's must lie inside a prefix granted to its domain."""
    normalized = normalize_uri(uri)
    real = real_uri(normalized)
    check_not_reserved(session, uri=normalized, real=real, actor=actor)
    check_location_prefixes(session, uri=real, domain=domain, actor=actor)
    named = shown(normalized, real)
    granted_parents: list[Location] = []
    for other in session.execute(select(Location)).scalars():
        if other.uri == real:
            raise AlreadyExistsError(
                f"Location already registered: {named} (by domain {other.domain.name})",
                details={"uri": real, "domain": other.domain.name},
            )
        if is_within(real, other.uri):
            if actor is not None and holds_location_access(session, actor, other):
                granted_parents.append(other)
            elif other.domain.name != domain:
                raise ConflictError(
                    f"Location {named} is inside location {other.uri} of domain "
                    f"{other.domain.name}",
                    details={"uri": real, "conflict": other.uri, "domain": other.domain.name},
                )
        elif is_within(other.uri, real) and other.domain.name != domain:
            raise ConflictError(
                f"Location {named} contains location {other.uri} of domain {other.domain.name}",
                details={"uri": real, "conflict": other.uri, "domain": other.domain.name},
            )
    if actor is not None:
        check_may_register(
            session,
            actor=actor,
            uri=normalized,
            real=real,
            domain=domain,
            granted_parents=granted_parents,
        )
    return real


def register_location(session: Session, *, actor: Actor, uri: str, domain: str) -> Location:
    """Register a storage location for ``domain`` (its admins or mesh admins), by its real URI."""
    domain_row = get_domain_row(session, domain)
    actor.require_domain_admin(domain, action=Action.LOCATION_REGISTER, resource=uri)
    real = check_location(session, uri=uri, domain=domain, actor=actor)
    row = Location(domain_id=domain_row.id, uri=real, created_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.LOCATION_REGISTER,
        resource=real,
        details={"domain": domain, **({"given": uri} if uri != real else {})},
    )
    return row


def owning_location(
    session: Session, *, uri: str, domain: str, rows: Sequence[Location] | None = None
) -> Location:
    """The location of ``domain`` that contains ``uri``, compared on real paths (among ``rows``,
    the domain's locations, when the caller read them already).

    Raises:
        InvalidInputError: ``uri`` lies in no location of the domain.
    """
    normalized = normalize_uri(uri)
    real = real_uri(normalized)
    found = containing_location(session, uri=real, domain=domain, rows=rows)
    if found is None:
        raise InvalidInputError(
            f"{shown(normalized, real)} is not inside any location registered by domain {domain} "
            f"(run 'lakemesh location register URI --domain {domain}')",
            details={"uri": normalized, "domain": domain},
        )
    return found


def containing_location(
    session: Session, *, uri: str, domain: str, rows: Sequence[Location] | None = None
) -> Location | None:
    """The innermost location of ``domain`` (among ``rows``, its locations, when the caller read
    them already) that contains the real URI ``uri``, if any."""
    if rows is None:
        rows = domain_locations(session, domain)
    inside = [row for row in rows if is_within(uri, row.uri)]
    return max(inside, key=lambda row: len(row.uri), default=None)


def domain_locations(session: Session, domain: str) -> list[Location]:
    """The locations ``domain`` registered."""
    query = select(Location).join(Domain).where(Domain.name == domain)
    return list(session.execute(query).scalars())


def list_locations(session: Session, *, domain: str | None = None) -> Sequence[Location]:
    """Registered locations, optionally of one domain."""
    query = select(Location).join(Domain).order_by(Location.uri)
    if domain:
        query = query.where(Domain.name == domain)
    return session.execute(query).scalars().all()


def visible_locations(
    session: Session, *, actor: Actor, domain: str | None = None
) -> list[Location]:
    """The locations of domains whose catalog ``actor`` may DESCRIBE (of ``domain``, which must
    exist, when given)."""
    if domain:
        get_domain_row(session, domain)
    return [
        row
        for row in list_locations(session, domain=domain)
        if visible(session, actor, ResourceName(row.domain.name))
    ]


def deregister_location(session: Session, *, actor: Actor, uri: str) -> None:
    """Remove a location no table uses any more (named as registered or by an alias)."""
    normalized = normalize_uri(uri)
    row = find_location(session, normalized)
    if row is None:
        raise NotFoundError(f"Location does not exist: {normalized}", details={"uri": normalized})
    actor.require_domain_admin(row.domain.name, action=Action.LOCATION_DEREGISTER, resource=row.uri)
    others = [
        other.uri for other in list_locations(session, domain=row.domain.name) if other.id != row.id
    ]
    for table in session.execute(select(Table)).scalars():
        if (
            table.database.domain_id == row.domain_id
            and is_within(table.location, row.uri)
            and not any(is_within(table.location, other) for other in others)
        ):
            raise ConflictError(
                f"Location {row.uri} is still used by table "
                f"{table.database.domain.name}.{table.database.name}.{table.name}",
                details={"uri": row.uri},
            )
    session.delete(row)
    audit.record(session, actor=actor.ref, action=Action.LOCATION_DEREGISTER, resource=row.uri)


def find_location(session: Session, uri: str) -> Location | None:
    """The location registered as ``uri`` or as the real URI it resolves to."""
    for candidate in dict.fromkeys((normalize_uri(uri), real_uri(uri))):
        row = session.execute(select(Location).where(Location.uri == candidate)).scalar()
        if row is not None:
            return row
    return None
