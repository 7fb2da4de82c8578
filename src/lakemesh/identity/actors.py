"""Resolving a principal row into an :class:`~lakemesh.model.actors.Actor`: its groups
(transitively) and the domains it administers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.model.actors import Actor
from lakemesh.store.schema import Domain, DomainAdmin, GroupMember, Principal


def group_closure(session: Session, principal_id: int) -> dict[int, str]:
    """Every group ``principal_id`` belongs to, directly or through nested groups: id -> ref."""
    found: dict[int, str] = {}
    frontier = {principal_id}
    while frontier:
        rows = session.execute(
            select(Principal.id, Principal.ref)
            .join(GroupMember, GroupMember.group_id == Principal.id)
            .where(GroupMember.member_id.in_(frontier))
        ).all()
        frontier = {row.id for row in rows if row.id not in found}
        found.update({row.id: row.ref for row in rows})
    return found


def load_actor(session: Session, principal: Principal) -> Actor:
    """Resolve ``principal``'s groups (transitively) and the domains it administers."""
    groups = group_closure(session, principal.id)
    admin_ids = {principal.id, *groups}
    admin_of = session.execute(
        select(Domain.name)
        .join(DomainAdmin, DomainAdmin.domain_id == Domain.id)
        .where(DomainAdmin.principal_id.in_(admin_ids))
    ).scalars()
    return Actor(
        id=principal.id,
        ref=principal.ref,
        kind=principal.kind,
        domain=principal.domain.name,
        groups=frozenset(groups.values()),
        admin_of=frozenset(admin_of),
        attributes=dict(principal.attributes or {}),
    )


def first_admin(session: Session, domain: str) -> Actor | None:
    """The first (by name) principal named admin of ``domain``, as an actor; None without one.

    For what acts on a hub without a token: the demo as its personas, the disaster-recovery drill
    as a mesh admin (``governance``'s first admin).
    """
    principal = session.execute(
        select(Principal)
        .join(DomainAdmin, DomainAdmin.principal_id == Principal.id)
        .join(Domain, Domain.id == DomainAdmin.domain_id)
        .where(Domain.name == domain)
        .order_by(Principal.ref)
    ).scalar()
    return None if principal is None else load_actor(session, principal)
