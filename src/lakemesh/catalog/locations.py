"""Locations: storage URIs registered by a domain. Only the hub holds the storage credential."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.visibility import can_describe
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.governance.guardrail_checks import check_location_prefixes
from lakemesh.identity.actors import Actor
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.names import ResourceName
from lakemesh.storage import is_within, normalize_uri
from lakemesh.store.schema import Domain, Location, Table
from lakemesh.store.versions import mark_policy_changed


def check_location(session: Session, *, uri: str, domain: str, actor: Actor | None = None) -> str:
    """Normalise ``uri``; refuse it when it clashes with another domain or lies outside the
    prefixes a ``location-prefixes`` guardrail allows."""
    normalized = normalize_uri(uri)
    check_location_prefixes(session, uri=normalized, actor=actor)
    for other in session.execute(select(Location)).scalars():
        if other.uri == normalized:
            raise AlreadyExistsError(
                f"Location already registered: {normalized} (by domain {other.domain.name})",
                details={"uri": normalized, "domain": other.domain.name},
            )
        if other.domain.name == domain:
            continue
        if is_within(normalized, other.uri):
            raise ConflictError(
                f"Location {normalized} is inside location {other.uri} of domain "
                f"{other.domain.name}",
                details={"uri": normalized, "conflict": other.uri, "domain": other.domain.name},
            )
        if is_within(other.uri, normalized):
            raise ConflictError(
                f"Location {normalized} contains location {other.uri} of domain "
                f"{other.domain.name}",
                details={"uri": normalized, "conflict": other.uri, "domain": other.domain.name},
            )
    return normalized


def register_location(session: Session, *, actor: Actor, uri: str, domain: str) -> Location:
    """Register a storage location for ``domain`` (its admins or mesh admins)."""
    domain_row = get_domain_row(session, domain)
    actor.require_domain_admin(domain, action="location.register", resource=uri)
    normalized = check_location(session, uri=uri, domain=domain, actor=actor)
    row = Location(domain_id=domain_row.id, uri=normalized, created_at=clock.now())
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action="location.register",
        resource=normalized,
        details={"domain": domain},
    )
    return row


def owning_location(session: Session, *, uri: str, domain: str) -> Location:
    """The location of ``domain`` that contains ``uri``.

    Raises:
        AccessDeniedError-like InvalidInputError: ``uri`` lies in no location of the domain.
    """
    normalized = normalize_uri(uri)
    rows = session.execute(select(Location).join(Domain).where(Domain.name == domain)).scalars()
    for row in rows:
        if is_within(normalized, row.uri):
            return row
    raise InvalidInputError(
        f"{normalized} is not inside any location registered by domain {domain} "
        f"(run 'lakemesh location register URI --domain {domain}')",
        details={"uri": normalized, "domain": domain},
    )


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
        if can_describe(session, actor, ResourceName(row.domain.name))
    ]


def deregister_location(session: Session, *, actor: Actor, uri: str) -> None:
    """Remove a location no table uses any more."""
    normalized = normalize_uri(uri)
    row = session.execute(select(Location).where(Location.uri == normalized)).scalar()
    if row is None:
        raise NotFoundError(f"Location does not exist: {normalized}", details={"uri": normalized})
    actor.require_domain_admin(row.domain.name, action="location.deregister", resource=normalized)
    for table in session.execute(select(Table)).scalars():
        if is_within(table.location, normalized):
            raise ConflictError(
                f"Location {normalized} is still used by table "
                f"{table.database.domain.name}.{table.database.name}.{table.name}",
                details={"uri": normalized},
            )
    session.delete(row)
    mark_policy_changed(session)
    audit.record(session, actor=actor.ref, action="location.deregister", resource=normalized)


def describe_location(row: Location) -> dict[str, Any]:
    """A location as the API shows it."""
    return {"uri": row.uri, "domain": row.domain.name, "created_at": row.created_at.isoformat()}
