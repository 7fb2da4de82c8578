"""The resolved caller of a service: a principal with its groups, roles and attributes.

A plain value: :func:`lakemesh.identity.actors.load_actor` builds one from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from lakemesh.errors import AccessDeniedError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.names import PrincipalName, parse_principal

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

    @cached_property
    def principal(self) -> PrincipalName:
        """The actor's name, parsed once (every decision on its behalf reads it)."""
        return parse_principal(self.ref)

    @property
    def is_mesh_admin(self) -> bool:
        """Admins of the ``governance`` domain are mesh admins."""
        return GOVERNANCE in self.admin_of

    def administers(self, domain: str) -> bool:
        """Mesh admins administer every domain; domain admins their own."""
        return self.is_mesh_admin or domain in self.admin_of

    def deny(self, message: str, *, action: Action, resource: str) -> AccessDeniedError:
        """An access denial naming this actor (the hub audits it)."""
        return AccessDeniedError(
            message, principal=self.ref, resource=resource, details={"action": action}
        )

    def conceal(
        self, error: NotFoundError, *, reason: str, action: Action, resource: str
    ) -> NotFoundError:
        """``error`` (a not-found) standing for a denial of something that exists but that this
        actor may not see: answered as ``error``, audited as the denial ``reason``."""
        error.concealing = self.deny(reason, action=action, resource=resource)
        return error

    def require_domain_admin(
        self, domain: str, *, action: Action, resource: str | None = None
    ) -> None:
        """Raise unless this actor administers ``domain``."""
        if not self.administers(domain):
            raise self.deny(
                f"{self.ref} is not an admin of domain {domain}",
                action=action,
                resource=resource or domain,
            )

    def require_mesh_admin(self, *, action: Action, resource: str) -> None:
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
