"""Searching the audit trail by actor, resource, action and time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.audit.chain import VerifyResult, verify
from lakemesh.errors import InvalidInputError
from lakemesh.model.actions import FAMILIES, VALUES, Action, is_action_filter
from lakemesh.model.actors import Actor
from lakemesh.model.durations import DURATION, parse_duration
from lakemesh.store.schema import AuditEvent

MAX_RESULTS = 10_000


def require_reader(actor: Actor, *, action: Action) -> None:
    """Raise an audited denial unless ``actor`` may read the whole trail (mesh admins: it names
    every principal and resource of the mesh)."""
    actor.require_mesh_admin(action=action, resource="audit")


def domain_events(domains: Iterable[str]) -> ColumnElement[bool]:
    """The events about any of ``domains``: on the domain or anything in it
    (``sales.crm.customers``), on one of its principals (``user:sam@sales``, ``domain:sales``),
    or done by one of its principals (their queries, their grants)."""
    conditions: list[ColumnElement[bool]] = []
    for domain in sorted(domains):
        conditions += [
            AuditEvent.resource == domain,
            AuditEvent.resource.startswith(domain + ".", autoescape=True),
            AuditEvent.resource == f"domain:{domain}",
            AuditEvent.resource.endswith(f"@{domain}", autoescape=True),
            AuditEvent.actor.endswith(f"@{domain}", autoescape=True),
        ]
    return or_(false(), *conditions)


def readable_by(reader: Actor) -> ColumnElement[bool] | None:
    """The events ``reader`` may search: all for mesh admins (None), those about the domains it
    administers for domain admins; anyone else is denied (audited)."""
    if reader.is_mesh_admin:
        return None
    if not reader.admin_of:
        raise reader.deny(
            f"{reader.ref} is not a mesh admin or a domain admin",
            action=Action.AUDIT_SEARCH,
            resource="audit",
        )
    return domain_events(reader.admin_of)


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
    (``grant`` finds ``grant.create``). Mesh admins read the whole trail, domain admins the
    events about their domains (:func:`domain_events`).

    Raises:
        InvalidInputError: ``action`` names no action and no family of them.
    """
    if action and not is_action_filter(action):
        raise InvalidInputError(
            f"Unknown action: {action!r} (known: {', '.join(sorted(VALUES))}; "
            f"or all of a family: {', '.join(sorted(FAMILIES))})",
            details={"action": action},
        )
    query = select(AuditEvent)
    scope = readable_by(reader)
    if scope is not None:
        query = query.where(scope)
    if actor:
        # Principal names are case-insensitive and recorded in lower case.
        spelled = actor.strip()
        query = query.where(AuditEvent.actor == (spelled.lower() if ":" in spelled else spelled))
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


def verify_trail(session: Session, *, reader: Actor) -> VerifyResult:
    """Verify the whole chain on behalf of ``reader`` (mesh admins only)."""
    require_reader(reader, action=Action.AUDIT_VERIFY)
    return verify(session)


def parse_time(text: str | None, field: str) -> datetime | None:
    """``90d`` means now minus 90 days; otherwise an ISO timestamp (UTC when it names no zone)."""
    if text is None or not text.strip():
        return None
    if DURATION.match(text.strip()):
        return clock.now() - parse_duration(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as e:
        raise InvalidInputError(
            f"Invalid {field}: {text!r} (expected an ISO timestamp like 2026-01-31T00:00:00Z "
            "or a duration like 90d)",
            details={field: text},
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
