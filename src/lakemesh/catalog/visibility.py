"""Who may see which catalog objects (DESCRIBE): the one place catalog reads are authorized."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lakemesh.identity.actors import Actor
from lakemesh.model.names import ResourceName


def can_describe(session: Session, actor: Actor, name: ResourceName) -> bool:
    """Mesh admins see everything; domain admins their own domain's objects."""
    return actor.administers(name.domain)


def require_describe(session: Session, actor: Actor, name: ResourceName, *, action: str) -> None:
    """Raise an audited denial unless ``actor`` may DESCRIBE ``name``."""
    if not can_describe(session, actor, name):
        raise actor.deny(f"{actor.ref} lacks DESCRIBE on {name}", action=action, resource=str(name))
