"""Domains: units of ownership, their admins, and the mesh bootstrap."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError
from lakemesh.identity.principals import get_domain_row, get_principal, insert_principal
from lakemesh.identity.tokens import IssuedToken, issue_token
from lakemesh.model.actions import Action
from lakemesh.model.actors import GOVERNANCE, Actor
from lakemesh.model.cron import check_cron
from lakemesh.model.names import PrincipalName, check_identifier, parse_principal
from lakemesh.store.schema import Database, Domain, DomainAdmin, Principal

SCHEMA_CHANGE_MODES = ("hold", "violate")
"""The ``schema_changes`` settings of a domain (catalog/schema_review.py acts on them)."""


def _check_schema_changes(value: str | None) -> None:
    if value is not None and value not in SCHEMA_CHANGE_MODES:
        raise InvalidInputError(
            f"Unknown schema_changes setting: {value!r} (known: {', '.join(SCHEMA_CHANGE_MODES)})",
            details={"schema_changes": value},
        )


def _insert_domain(
    session: Session,
    name: str,
    *,
    producer: bool,
    consumer: bool,
    description: str,
    schema_changes: str = SCHEMA_CHANGE_MODES[0],
    check_schedule: str | None = None,
) -> Domain:
    check_identifier(name, "domain name")
    _check_schema_changes(schema_changes)
    if session.execute(select(Domain.id).where(Domain.name == name)).first():
        raise AlreadyExistsError(f"Domain already exists: {name}", details={"domain": name})
    row = Domain(
        name=name,
        producer=producer,
        consumer=consumer,
        description=description,
        schema_changes=schema_changes,
        check_schedule=check_cron(check_schedule) if check_schedule else None,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    insert_principal(session, PrincipalName("domain", name, name))
    return row


def _admin_principal(session: Session, ref: str) -> Principal:
    """The admin named ``ref``, created when it is a user or service of a domain that exists."""
    name = parse_principal(ref)
    if name.kind == "domain":
        raise InvalidInputError(f"A domain cannot be an admin: {ref}", details={"principal": ref})
    try:
        return get_principal(session, name)
    except NotFoundError:
        if name.kind == "group":
            raise
        return insert_principal(session, name)


def _make_admin(session: Session, domain: Domain, principal: Principal) -> None:
    if session.get(DomainAdmin, (domain.id, principal.id)) is None:
        session.add(DomainAdmin(domain_id=domain.id, principal_id=principal.id))
        session.flush()


def bootstrap(session: Session, *, admin: str) -> IssuedToken:
    """Create the ``governance`` domain and its first mesh admin; return the admin's token.

    Used by ``lakemesh init`` on an empty store.
    """
    if session.execute(select(func.count(Domain.id))).scalar():
        raise ConflictError("The hub is initialised already")
    name = parse_principal(admin)
    if name.kind != "user" or name.domain != GOVERNANCE:
        raise InvalidInputError(
            f"The first mesh admin must be a user of the governance domain, got {admin}",
            details={"principal": admin},
        )
    domain = _insert_domain(
        session,
        GOVERNANCE,
        producer=False,
        consumer=False,
        description="Mesh administration: stewards, tags, guardrails.",
    )
    principal = insert_principal(session, name)
    _make_admin(session, domain, principal)
    token = issue_token(session, principal, expires_in=None, description="created by init")
    audit.record(
        session,
        actor=principal.ref,
        action=Action.HUB_INIT,
        resource=GOVERNANCE,
        details={"admin": principal.ref, "token_id": token.id},
    )
    return token


def create_domain(
    session: Session,
    *,
    actor: Actor,
    name: str,
    producer: bool = False,
    consumer: bool = False,
    description: str = "",
    admins: Sequence[str] = (),
    schema_changes: str = SCHEMA_CHANGE_MODES[0],
    check_schedule: str | None = None,
) -> Domain:
    """Create a domain (mesh admins only), its ``domain:`` principal and its admins.

    Admins named as ``user:x@NAME`` or ``service:x@NAME`` are created with the domain;
    ``schema_changes`` and ``check_schedule`` are as :func:`update_domain` says.
    """
    actor.require_mesh_admin(action=Action.DOMAIN_CREATE, resource=name)
    row = _insert_domain(
        session,
        name,
        producer=producer,
        consumer=consumer,
        description=description,
        schema_changes=schema_changes,
        check_schedule=check_schedule,
    )
    made = [_admin_principal(session, ref) for ref in admins]
    for admin in made:
        _make_admin(session, row, admin)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DOMAIN_CREATE,
        resource=name,
        details={"producer": producer, "consumer": consumer, "admins": list(admins)},
    )
    return row


def update_domain(
    session: Session,
    *,
    actor: Actor,
    name: str,
    producer: bool | None = None,
    consumer: bool | None = None,
    description: str | None = None,
    schema_changes: str | None = None,
    check_schedule: str | None = None,
) -> Domain:
    """Change a domain's flags, description, ``schema_changes`` setting (``hold`` or
    ``violate``: what a crawl does with a change that breaks a published contract; see
    :mod:`lakemesh.catalog.schema_review`) or default ``check_schedule`` (a cron expression a
    product's check schedule takes when its contract gives none; ``""`` removes it) (its
    admins or mesh admins).

    Raises:
        InvalidInputError: an unknown ``schema_changes`` setting or a bad cron expression.
    """
    row = get_domain_row(session, name)
    actor.require_domain_admin(name, action=Action.DOMAIN_UPDATE)
    _check_schema_changes(schema_changes)
    schedule = check_cron(check_schedule) if check_schedule and check_schedule.strip() else ""
    changes: dict[str, Any] = {}
    if check_schedule is not None and (row.check_schedule or "") != schedule:
        row.check_schedule = schedule or None
        changes["check_schedule"] = row.check_schedule
    for field_name, value in (
        ("producer", producer),
        ("consumer", consumer),
        ("description", description),
        ("schema_changes", schema_changes),
    ):
        if value is not None and getattr(row, field_name) != value:
            setattr(row, field_name, value)
            changes[field_name] = value
    audit.record(
        session, actor=actor.ref, action=Action.DOMAIN_UPDATE, resource=name, details=changes
    )
    return row


def add_admin(session: Session, *, actor: Actor, domain: str, principal: str) -> None:
    """Make ``principal`` an admin of ``domain`` (mesh admins and the domain's admins)."""
    row = get_domain_row(session, domain)
    actor.require_domain_admin(domain, action=Action.DOMAIN_ADD_ADMIN)
    if domain == GOVERNANCE:
        actor.require_mesh_admin(action=Action.DOMAIN_ADD_ADMIN, resource=domain)
    admin = _admin_principal(session, principal)
    _make_admin(session, row, admin)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DOMAIN_ADD_ADMIN,
        resource=domain,
        details={"admin": principal},
    )


def remove_admin(session: Session, *, actor: Actor, domain: str, principal: str) -> None:
    """Remove an admin. The last mesh admin cannot be removed, and a domain's last admin only by
    a mesh admin (a domain admin would leave the domain with nobody to run it)."""
    row = get_domain_row(session, domain)
    actor.require_domain_admin(domain, action=Action.DOMAIN_REMOVE_ADMIN)
    target = get_principal(session, principal)
    link = session.get(DomainAdmin, (row.id, target.id))
    if link is None:
        raise NotFoundError(f"{principal} is not an admin of domain {domain}")
    count = session.execute(
        select(func.count()).select_from(DomainAdmin).where(DomainAdmin.domain_id == row.id)
    ).scalar()
    if domain == GOVERNANCE and count == 1:
        raise ConflictError("Cannot remove the last mesh admin")
    if count == 1 and not actor.is_mesh_admin:
        raise ConflictError(
            f"Cannot remove the last admin of domain {domain}: {principal} (add another admin "
            "first, or ask a mesh admin)",
            details={"domain": domain, "principal": target.ref},
        )
    session.delete(link)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.DOMAIN_REMOVE_ADMIN,
        resource=domain,
        details={"admin": principal},
    )


def delete_domain(session: Session, *, actor: Actor, name: str) -> None:
    """Delete an empty domain (mesh admins only); ``governance`` stays."""
    actor.require_mesh_admin(action=Action.DOMAIN_DELETE, resource=name)
    row = get_domain_row(session, name)
    if name == GOVERNANCE:
        raise ConflictError("The governance domain cannot be deleted")
    databases = session.execute(
        select(func.count(Database.id)).where(Database.domain_id == row.id)
    ).scalar()
    if databases:
        raise ConflictError(
            f"Domain {name} still has {databases} database(s); drop them first",
            details={"domain": name, "databases": databases},
        )
    session.delete(row)
    audit.record(session, actor=actor.ref, action=Action.DOMAIN_DELETE, resource=name)


def list_domains(session: Session) -> Sequence[Domain]:
    """Every domain: domain names are not secret, their contents are governed."""
    return session.execute(select(Domain).order_by(Domain.name)).scalars().all()


def domain_admins(session: Session, row: Domain) -> list[str]:
    """The principals administering the domain, by name."""
    admins = session.execute(
        select(Principal.ref)
        .join(DomainAdmin, DomainAdmin.principal_id == Principal.id)
        .where(DomainAdmin.domain_id == row.id)
        .order_by(Principal.ref)
    ).scalars()
    return list(admins)
