"""The resolved caller of a service: a principal with its groups, roles and attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import AccessDeniedError
from lakemesh.store.schema import Domain, DomainAdmin, GroupMember, Principal

GOVERNANCE = "governance"


@dataclass(frozen=True)
class Actor:
    """A principal acting on the hub, as resolved from its token."""

    id: int
    ref: str
    kind: str
    domain: str
    groups: frozenset[str] = frozenset()
    admin_of: frozenset[str] = frozenset()
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def is_mesh_admin(self) -> bool:
        """Admins of the ``governance`` domain are mesh admins."""
        return GOVERNANCE in self.admin_of

    def administers(self, domain: str) -> bool:
        """Mesh admins administer every domain; domain admins their own."""
        return self.is_mesh_admin or domain in self.admin_of

    def deny(self, message: str, *, action: str, resource: str) -> AccessDeniedError:
        """An access denial naming this actor (the hub audits it)."""
        return AccessDeniedError(
            message, details={"principal": self.ref, "action": action, "resource": resource}
        )

    def require_domain_admin(
        self, domain: str, *, action: str, resource: str | None = None
    ) -> None:
        """Raise unless this actor administers ``domain``."""
        if not self.administers(domain):
            raise self.deny(
                f"{self.ref} is not an admin of domain {domain}",
                action=action,
                resource=resource or domain,
            )

    def require_mesh_admin(self, *, action: str, resource: str) -> None:
        """Raise unless this actor is a mesh admin."""
        if not self.is_mesh_admin:
            raise self.deny(f"{self.ref} is not a mesh admin", action=action, resource=resource)


SYSTEM = Actor(
    id=0,
    ref="service:lakemesh@governance",
    kind="service",
    domain=GOVERNANCE,
    admin_of=frozenset({GOVERNANCE}),
)


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
