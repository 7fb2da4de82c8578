"""Searching the audit trail by actor, resource, action and time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lakemesh.audit.chain import VerifyResult, verify
from lakemesh.identity.actors import Actor
from lakemesh.store.schema import AuditEvent

MAX_RESULTS = 10_000


def require_reader(actor: Actor, *, action: str) -> None:
    """Raise an audited denial unless ``actor`` may read the trail (mesh admins: it names every
    principal and resource of the mesh)."""
    actor.require_mesh_admin(action=action, resource="audit")


def search(
    session: Session,
    *,
    reader: Actor,
    actor: str | None = None,
    resource: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Events matching every given criterion, newest first.

    ``resource`` matches the object itself and anything inside it (``sales.crm`` finds events on
    ``sales.crm.customers``); ``action`` matches exactly or as a prefix ending in ``.``
    (``grant`` finds ``grant.create``). Only mesh admins may read the trail.
    """
    require_reader(reader, action="audit.search")
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if resource:
        query = query.where(
            or_(AuditEvent.resource == resource, AuditEvent.resource.startswith(resource + "."))
        )
    if action:
        query = query.where(
            or_(AuditEvent.action == action, AuditEvent.action.startswith(action + "."))
        )
    if since:
        query = query.where(AuditEvent.time >= since)
    if until:
        query = query.where(AuditEvent.time <= until)
    limit = max(1, min(limit, MAX_RESULTS))
    return session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit)).scalars().all()


def describe_event(event: AuditEvent) -> dict[str, Any]:
    """An audit event as the API shows it."""
    return {
        "seq": event.seq,
        "time": event.time.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "resource": event.resource,
        "outcome": event.outcome,
        "details": event.details,
        "hash": event.hash,
    }


def verify_trail(session: Session, *, reader: Actor) -> VerifyResult:
    """Verify the whole chain on behalf of ``reader`` (mesh admins only)."""
    require_reader(reader, action="audit.verify")
    return verify(session)
