"""Reading through resource links: which table a name of a query stands for, who may use a
link, and explaining access through one (see :mod:`lakemesh.sharing.links`)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from lakemesh.authz import decide, visible
from lakemesh.errors import AccessDeniedError, NotFoundError
from lakemesh.governance import explanations
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.policy import Decision
from lakemesh.sharing.link_status import (
    BROKEN,
    catalog_object_exists,
    database_link,
    link_name,
    link_status,
    table_link,
)
from lakemesh.store.schema import ResourceLink


def reads_target_from_home(
    session: Session, actor: Actor, link: ResourceName, target: ResourceName
) -> bool:
    """Whether ``actor`` may use ``link`` without DESCRIBE on it: the link is in its own
    domain's catalog and ``actor`` may read the table it points to."""
    if actor.domain != link.domain:
        return False
    try:
        decision = decide(session, actor=actor, permission=Permission.SELECT, resource=target)
    except NotFoundError:
        return False
    return decision.allowed


def resolve_link(session: Session, name: ResourceName) -> ResourceName | None:
    """The table ``name`` stands for through a link, or None when no link is involved.

    A table link maps its own name; a database link maps every table name inside it.
    """
    if name.level != "table":
        return None
    row = table_link(session, name)
    if row is not None:
        return parse_resource(row.target)
    row = database_link(session, name.domain, name.database or "")
    if row is not None:
        target = parse_resource(row.target)
        return ResourceName(target.domain, target.database, name.table)
    return None


def broken_link_error(actor: Actor, row: ResourceLink, message: str) -> AccessDeniedError:
    """The denial for reading through a broken link: the message names target and share."""
    return AccessDeniedError(
        message,
        details={
            "principal": actor.ref,
            "action": Action.QUERY,
            "resource": str(link_name(row)),
            "link": str(link_name(row)),
            "target": row.target,
        },
    )


def follow_link(session: Session, *, actor: Actor, name: ResourceName) -> ResourceName:
    """The table a name of a query stands for (the query service's hook).

    A catalog table of that name wins; a link is followed only for ``actor`` with DESCRIBE on
    it or, in the link's own domain, with SELECT on its target, and only while it is not broken.
    The caller then checks the permission on the target.

    Raises:
        AccessDeniedError: no DESCRIBE on the link, or the link is broken.
    """
    if name.level != "table" or catalog_object_exists(session, name):
        return name
    target = resolve_link(session, name)
    if target is None:
        return name
    row = table_link(session, name) or database_link(session, name.domain, name.database or "")
    assert row is not None
    if not (
        visible(session, actor, ResourceName(name.domain, name.database))
        or reads_target_from_home(session, actor, name, target)
    ):
        raise actor.deny(
            f"{actor.ref} lacks DESCRIBE on {name}", action=Action.QUERY, resource=str(name)
        )
    status, message = link_status(session, row)
    if status == BROKEN:
        raise broken_link_error(actor, row, message or f"Link {name} is broken")
    return target


def explain_access(
    session: Session, *, actor: Actor, principal: str, permission: Permission, resource: str
) -> Decision:
    """:func:`lakemesh.governance.decisions.explain`, through a resource link when ``resource``
    names one: the target's decision, with the reasons the link may (or may not) be used."""
    name = None if "://" in resource or resource.startswith("tag:") else parse_resource(resource)
    target = None
    if name is not None and name.level == "table" and not catalog_object_exists(session, name):
        target = resolve_link(session, name)
    if name is None or target is None:
        return explanations.explain(
            session, actor=actor, principal=principal, permission=permission, resource=resource
        )
    decision = explanations.explain(
        session, actor=actor, principal=principal, permission=permission, resource=str(target)
    )
    subject = load_actor(session, get_principal(session, principal))
    link_line = f"{name} is a resource link to {target}"
    if visible(session, subject, ResourceName(name.domain, name.database)):
        usable = f"{subject.ref} may use the link (DESCRIBE on {name.domain}.{name.database})"
    elif reads_target_from_home(session, subject, name, target):
        usable = (
            f"{subject.ref} may use the link: it is in {subject.ref}'s own domain's catalog and "
            f"{subject.ref} may read {target} (no DESCRIBE on the link needed)"
        )
    else:
        usable = f"{subject.ref} may not use the link: it lacks DESCRIBE on {name}"
        return replace(decision, allowed=False, reasons=[link_line, usable, *decision.reasons])
    return replace(decision, reasons=[link_line, usable, *decision.reasons])
