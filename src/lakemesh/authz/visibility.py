"""Who may see which catalog objects (DESCRIBE): the one place catalog reads are authorized.

Mesh admins see everything; domain admins their own domain's objects; everyone else what a grant
(or a published data product, DESIGN §4) gives DESCRIBE on.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lakemesh.authz.decisions import decide
from lakemesh.errors import NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.permissions import Permission


def visible(session: Session, actor: Actor, name: ResourceName) -> bool:
    """Whether ``actor`` may see ``name`` (a domain's catalog, a database or a table)."""
    if actor.administers(name.domain):
        return True
    if name.level == "domain":
        return False
    try:
        decision = decide(session, actor=actor, permission=Permission.DESCRIBE, resource=name)
    except NotFoundError:
        return False  # an object that does not exist is as invisible as a hidden one
    return decision.allowed


def require_visible(session: Session, actor: Actor, name: ResourceName, *, action: Action) -> None:
    """Raise an audited denial unless ``actor`` may DESCRIBE ``name``."""
    if not visible(session, actor, name):
        raise actor.deny(f"{actor.ref} lacks DESCRIBE on {name}", action=action, resource=str(name))


def not_found(name: ResourceName) -> NotFoundError:
    """The error for a database, table or column that does not exist, also raised for one the
    caller may not DESCRIBE, so that the two read the same (``Table does not exist: d.db.t``)."""
    kind = {"database": "Database", "table": "Table", "column": "Column"}.get(name.level, "Domain")
    return NotFoundError(f"{kind} does not exist: {name}", details={name.level: str(name)})


def require_seen(session: Session, actor: Actor, name: ResourceName, *, action: Action) -> None:
    """Raise :func:`not_found` for a database, table or column (its table) ``actor`` may not
    DESCRIBE, as if it did not exist; the hub audits it as a denial of ``action``."""
    if name.level == "domain":
        return
    target = name.table_name if name.level == "column" else name
    if not visible(session, actor, target):
        raise actor.conceal(
            not_found(target),
            reason=f"{actor.ref} lacks DESCRIBE on {target}",
            action=action,
            resource=str(name),
        )
