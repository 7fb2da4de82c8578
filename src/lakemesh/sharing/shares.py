"""Shares as producers and consumers see them; the consumer's admins accept or decline them.

A share is a grant to ``domain:X`` of another domain's objects (DESIGN §3); it is named by its
grant's number (``lakemesh share accept 12`` answers grant #12). What X accepted reaches X's admins,
who delegate it or any part of it to X's principals (the grant service derives and cascades).
A share that was answered or linked keeps its row once revoked, and then lists as ``revoked``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import CatalogNames, grant_rule, policy_index
from lakemesh.authz.share_status import (
    ACCEPTED,
    ANY_DOMAIN,
    DECLINED,
    PENDING,
    REVOKED,
    domain_names,
    is_share,
    share_statuses,
    shared_domain,
)
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName
from lakemesh.model.statuses import ShareStatus
from lakemesh.policy import FilterTarget, ResourceTarget, TagTarget
from lakemesh.policy.coverage import contains
from lakemesh.store.schema import Grant, Share

DIRECTIONS = ("incoming", "outgoing")
STATUSES = tuple(ShareStatus)
GRANT_ORIGIN, SUBSCRIPTION_ORIGIN = "grant", "subscription"


@dataclass(frozen=True)
class ShareView:
    """One share as ``lakemesh share list`` shows it."""

    id: int
    resource: str
    from_domain: str
    to_domain: str
    status: str
    permissions: tuple[str, ...] = ()
    granted_by: str | None = None
    created_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    origin: str = GRANT_ORIGIN
    delegations: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "resource": self.resource,
            "from_domain": self.from_domain,
            "to_domain": self.to_domain,
            "status": self.status,
            "permissions": list(self.permissions),
            "granted_by": self.granted_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "origin": self.origin,
            "delegations": self.delegations,
        }


def _records(session: Session) -> dict[int, Share]:
    """Answered shares by grant id (fresh from the store: a revoke may have emptied grant_id)."""
    rows = session.execute(
        select(Share).where(Share.grant_id.is_not(None)).execution_options(populate_existing=True)
    ).scalars()
    return {row.grant_id: row for row in rows if row.grant_id is not None}


def _delegation_counts(session: Session, grant_ids: list[int]) -> dict[int, int]:
    if not grant_ids:
        return {}
    rows = session.execute(
        select(Grant.parent_id, func.count(Grant.id))
        .where(Grant.parent_id.in_(grant_ids))
        .group_by(Grant.parent_id)
    )
    return {parent: count for parent, count in rows if parent is not None}


def _live_views(session: Session) -> list[ShareView]:
    grants = list(session.execute(select(Grant).order_by(Grant.id)).scalars())
    statuses = share_statuses(session, grants)
    if not statuses:
        return []
    names, domains, records = CatalogNames(session), domain_names(session), _records(session)
    counts = _delegation_counts(session, list(statuses))
    views: list[ShareView] = []
    for row in grants:
        if row.id not in statuses:
            continue
        record = records.get(row.id)
        views.append(
            ShareView(
                id=row.id,
                resource=str(grant_rule(row, names).target),
                from_domain=shared_domain(row, domains),
                to_domain=row.grantee.domain.name,
                status=statuses[row.id],
                permissions=tuple(sorted(row.permissions)),
                granted_by=row.granted_by,
                created_at=row.created_at,
                decided_by=record.decided_by if record else None,
                decided_at=record.decided_at if record else None,
                origin=record.origin if record else GRANT_ORIGIN,
                delegations=counts.get(row.id, 0),
            )
        )
    return views


def _revoked_views(session: Session) -> list[ShareView]:
    rows = session.execute(
        select(Share)
        .where(Share.grant_id.is_(None))
        .order_by(Share.grant_ref)
        .execution_options(populate_existing=True)
    ).scalars()
    return [
        ShareView(
            id=row.grant_ref,
            resource=row.resource,
            from_domain=row.from_domain,
            to_domain=row.to_domain,
            status=REVOKED,
            created_at=row.created_at,
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            origin=row.origin,
        )
        for row in rows
    ]


def may_see(actor: Actor, view: ShareView) -> bool:
    """Admins of either side, the grantor and mesh admins see a share."""
    return (
        actor.is_mesh_admin
        or actor.administers(view.to_domain)
        or (view.from_domain != ANY_DOMAIN and actor.administers(view.from_domain))
        or view.granted_by == actor.ref
    )


def _direction_matches(actor: Actor, view: ShareView, direction: str, domain: str | None) -> bool:
    side = view.to_domain if direction == "incoming" else view.from_domain
    if domain is not None:
        return side == domain
    return actor.is_mesh_admin or side in actor.admin_of


def list_shares(
    session: Session,
    *,
    actor: Actor,
    direction: str | None = None,
    domain: str | None = None,
    status: str | None = None,
) -> list[ShareView]:
    """The shares ``actor`` may see: ``incoming`` to or ``outgoing`` from ``domain`` (the
    actor's own domains when None), optionally of one ``status``; revoked ones last."""
    if direction is not None and direction not in DIRECTIONS:
        raise InvalidInputError(
            f"Unknown share direction: {direction!r} (known: {', '.join(DIRECTIONS)})",
            details={"direction": direction},
        )
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            f"Unknown share status: {status!r} (known: {', '.join(STATUSES)})",
            details={"status": status},
        )
    views = [*_live_views(session), *_revoked_views(session)]
    return [
        view
        for view in views
        if may_see(actor, view)
        and (status is None or view.status == status)
        and (direction is None or _direction_matches(actor, view, direction, domain))
        and (
            direction is not None or domain is None or domain in (view.to_domain, view.from_domain)
        )
    ]


def share_grant(session: Session, share_id: int) -> Grant:
    """The grant of the live share ``share_id``.

    Raises:
        NotFoundError: ``Share does not exist: 12`` (no grant, or a grant that is no share).
    """
    row = session.get(Grant, share_id)
    if row is None or not is_share(row, domain_names(session)):
        raise NotFoundError(f"Share does not exist: {share_id}", details={"share": share_id})
    return row


def show_share(
    session: Session, *, actor: Actor, share_id: int, action: Action = Action.SHARE_SHOW
) -> ShareView:
    """One share (live or revoked) that ``actor`` may see; another reads as missing (audited as
    a denial of ``action``)."""
    views = [
        view for view in [*_live_views(session), *_revoked_views(session)] if view.id == share_id
    ]
    for view in views:
        if may_see(actor, view):
            return view
    missing = NotFoundError(f"Share does not exist: {share_id}", details={"share": share_id})
    if views:
        raise actor.conceal(
            missing,
            reason=f"{actor.ref} may not see share #{share_id}",
            action=action,
            resource=f"share {share_id}",
        )
    raise missing


def record_answer(
    session: Session, *, grant: Grant, status: str, decided_by: str | None, origin: str
) -> Share:
    """Record the consumer's answer to the share ``grant`` (creating its row when needed)."""
    row = session.execute(select(Share).where(Share.grant_id == grant.id)).scalar()
    now = clock.now()
    if row is None:
        row = Share(
            grant_id=grant.id,
            grant_ref=grant.id,
            from_domain=shared_domain(grant, domain_names(session)),
            to_domain=grant.grantee.domain.name,
            resource=str(grant_rule(grant, CatalogNames(session)).target),
            origin=origin,
            created_at=now,
        )
        session.add(row)
    row.status, row.decided_by, row.decided_at = status, decided_by, now
    session.flush()
    return row


def share_record(session: Session, grant: Grant) -> Share:
    """The share row of ``grant``, made (with its current status) when nobody answered yet."""
    row = session.execute(select(Share).where(Share.grant_id == grant.id)).scalar()
    if row is not None:
        return row
    status = share_statuses(session, [grant]).get(grant.id, PENDING)
    decided_by = "setting:auto_accept_shares" if status == ACCEPTED else None
    return record_answer(
        session, grant=grant, status=status, decided_by=decided_by, origin=GRANT_ORIGIN
    )


def _answer(session: Session, *, actor: Actor, share_id: int, status: str) -> ShareView:
    action = Action.SHARE_ACCEPT if status == ACCEPTED else Action.SHARE_DECLINE
    # One it may not see reads as missing.
    show_share(session, actor=actor, share_id=share_id, action=action)
    grant = share_grant(session, share_id)
    consumer = grant.grantee.domain.name
    resource = str(grant_rule(grant, CatalogNames(session)).target)
    actor.require_domain_admin(consumer, action=action, resource=resource)
    current = share_statuses(session, [grant]).get(grant.id)
    if status == DECLINED:
        derived = (
            session.execute(select(Grant.id).where(Grant.parent_id == grant.id).order_by(Grant.id))
            .scalars()
            .all()
        )
        if derived:
            listed = ", ".join(f"#{i}" for i in derived)
            raise ConflictError(
                f"Share #{grant.id} of {resource} was delegated (grants {listed}); revoke those "
                "grants before declining it",
                details={"share": grant.id, "grants": list(derived)},
            )
    recorded = session.execute(select(Share.id).where(Share.grant_id == grant.id)).first()
    if current != status or recorded is None:
        record_answer(
            session, grant=grant, status=status, decided_by=actor.ref, origin=GRANT_ORIGIN
        )
        audit.record(
            session,
            actor=actor.ref,
            action=action,
            resource=resource,
            details={
                "share": grant.id,
                "from_domain": shared_domain(grant, domain_names(session)),
                "to_domain": consumer,
                "previous": current,
            },
        )
    return show_share(session, actor=actor, share_id=grant.id)


def accept_share(session: Session, *, actor: Actor, share_id: int) -> ShareView:
    """Accept a share to a domain ``actor`` administers; it takes effect at once."""
    return _answer(session, actor=actor, share_id=share_id, status=ACCEPTED)


def decline_share(session: Session, *, actor: Actor, share_id: int) -> ShareView:
    """Decline a share: it stays inert until accepted (refused while delegations rely on it)."""
    return _answer(session, actor=actor, share_id=share_id, status=DECLINED)


def covering_shares(session: Session, *, consumer: str, target: ResourceName) -> list[Grant]:
    """Accepted shares to ``domain:consumer`` that give something on ``target`` (a database or a
    table), oldest first."""
    grants = [
        row
        for row in session.execute(select(Grant).order_by(Grant.id)).scalars()
        if row.grantee.kind == "domain" and row.grantee.domain.name == consumer
    ]
    statuses = share_statuses(session, grants)
    names = CatalogNames(session)
    found: list[Grant] = []
    for row in grants:
        if statuses.get(row.id) != ACCEPTED:
            continue
        rule_target = grant_rule(row, names).target
        if isinstance(rule_target, ResourceTarget):
            # A column grant gives (part of) its table: compare at table level.
            covered = contains(rule_target.resource.table_name, target)
        elif isinstance(rule_target, FilterTarget):
            covered = rule_target.data_filter.table == target
        elif isinstance(rule_target, TagTarget) and target.level == "table":
            index = policy_index(session)
            covered = target in index.tables_matching(rule_target.expression) and (
                rule_target.scope is None or contains(rule_target.scope, target)
            )
        else:
            covered = False
        if covered:
            found.append(row)
    return found
