"""Subscriptions: a consumer asks for a data product, the producer approves or rejects (DESIGN §3).

A principal requests access for itself or a group it belongs to (a domain's admins for anyone of
their domain), with a reason and an optional scope (:mod:`~lakemesh.sharing.scopes`). The
product's domain admins (or mesh admins) approve with a comment or reject with a reason. Approval
issues, in the approver's transaction, a share of each table to the consumer's domain and a
delegation derived from it to the subscriber (:mod:`~lakemesh.sharing.issuance`); revoking takes
them back. A product's auto-approval rule (a tag expression) approves at once a request whose
every column satisfies it. Every step is audited and kept in the subscription's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.identity.principals import get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.statuses import SubscriptionStatus
from lakemesh.sharing import products
from lakemesh.sharing.issuance import (
    APPROVED,
    PENDING,
    REJECTED,
    REVOKED,
    auto_approver,
    issue,
    qualifies,
    scope_of,
    take_back,
)
from lakemesh.sharing.scopes import Scope, make_scope, table_scopes
from lakemesh.store.schema import (
    DataProduct,
    Principal,
    Subscription,
    SubscriptionEvent,
    SubscriptionGrant,
)

STATUSES = tuple(SubscriptionStatus)


def get_subscription(session: Session, subscription_id: int) -> Subscription:
    """The subscription ``subscription_id``.

    Raises:
        NotFoundError: ``Subscription does not exist: 7``.
    """
    row = session.get(Subscription, subscription_id)
    if row is None:
        raise NotFoundError(
            f"Subscription does not exist: {subscription_id}",
            details={"subscription": subscription_id},
        )
    return row


def may_see(actor: Actor, row: Subscription) -> bool:
    """Both sides' admins, the requester, the subscriber (or its members) and mesh admins."""
    return (
        actor.administers(row.product.domain.name)
        or actor.administers(row.consumer_domain)
        or actor.ref in (row.principal, row.requested_by)
        or row.principal in actor.groups
    )


def show_subscription(
    session: Session,
    *,
    actor: Actor,
    subscription_id: int,
    action: Action = Action.SUBSCRIPTION_SHOW,
) -> Subscription:
    """A subscription ``actor`` may see (others read as missing, audited as a denial of
    ``action``)."""
    row = get_subscription(session, subscription_id)
    if not may_see(actor, row):
        raise actor.conceal(
            NotFoundError(
                f"Subscription does not exist: {subscription_id}",
                details={"subscription": subscription_id},
            ),
            reason=f"{actor.ref} may not see subscription #{subscription_id}",
            action=action,
            resource=f"subscription {subscription_id}",
        )
    return row


def _event(session: Session, row: Subscription, action: str, actor: str, **details: Any) -> None:
    now = clock.now()
    row.updated_at = now
    session.add(
        SubscriptionEvent(
            subscription_id=row.id, action=action, actor=actor, time=now, details=details
        )
    )


def _audit(session: Session, row: Subscription, action: Action, actor: str, **details: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource=products.resource(row.product.name),
        details={"subscription": row.id, "principal": row.principal, **details},
    )


def _check_requester(actor: Actor, subscriber: Principal, product: DataProduct) -> None:
    domain = subscriber.domain.name
    if actor.administers(domain):
        return
    if actor.domain == domain and subscriber.ref in (actor.ref, *actor.groups):
        return
    raise actor.deny(
        f"{actor.ref} may request access for itself or its groups only, not for {subscriber.ref} "
        f"(admins of {domain} request for anyone in {domain})",
        action=Action.SUBSCRIPTION_REQUEST,
        resource=products.resource(product.name),
    )


def _subscribable(actor: Actor, session: Session, name: str) -> DataProduct:
    product = products.show_product(
        session, actor=actor, name=name, action=Action.SUBSCRIPTION_REQUEST
    )
    if product.status != products.PUBLISHED:
        notice = products.warning(product) or f"Data product {name} is a {product.status}"
        raise ConflictError(
            f"{notice}: it takes no new subscriptions",
            details={"product": name, "status": product.status},
        )
    return product


def request_subscription(
    session: Session,
    *,
    actor: Actor,
    product: str,
    principal: str,
    reason: str,
    columns: Sequence[str] | None = None,
    exclude_columns: Sequence[str] = (),
    filter: str | None = None,
) -> Subscription:
    """Ask for access to ``product`` for ``principal`` (approved at once by an auto-approval
    rule the request satisfies).

    Raises:
        InvalidInputError: no reason, a bad scope, or a subscriber of the producing domain.
        AccessDeniedError: ``actor`` may not request for ``principal`` (audited).
        ConflictError: the product is not published, or the principal already has a pending or
            approved subscription to it.
    """
    if not reason.strip():
        raise InvalidInputError("A subscription request needs a reason (--reason)")
    row_product = _subscribable(actor, session, product)
    subscriber = get_principal(session, principal)
    consumer = subscriber.domain.name
    if consumer == row_product.domain.name:
        raise InvalidInputError(
            f"{subscriber.ref} is in domain {consumer}, which produces {product}: its admins "
            "grant access directly",
            details={"principal": subscriber.ref, "product": product},
        )
    _check_requester(actor, subscriber, row_product)
    scope = make_scope(columns, exclude_columns, filter)
    scopes = table_scopes(session, row_product, scope)
    open_ = session.execute(
        select(Subscription).where(
            Subscription.product_id == row_product.id,
            Subscription.principal == subscriber.ref,
            Subscription.status.in_((PENDING, APPROVED)),
        )
    ).scalar()
    if open_ is not None:
        raise ConflictError(
            f"{subscriber.ref} already has subscription #{open_.id} to {product} ({open_.status})",
            details={"subscription": open_.id, "status": open_.status},
        )
    now = clock.now()
    row = Subscription(
        product_id=row_product.id,
        principal=subscriber.ref,
        consumer_domain=consumer,
        requested_by=actor.ref,
        reason=reason.strip(),
        columns=list(scope.columns) if scope.columns is not None else None,
        excluded_columns=list(scope.excluded_columns),
        filter=scope.filter,
        status=PENDING,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _event(session, row, "requested", actor.ref, reason=row.reason, scope=scope.to_dict())
    _audit(
        session, row, Action.SUBSCRIPTION_REQUEST, actor.ref, reason=row.reason, **scope.to_dict()
    )
    approver = auto_approver(session, row_product)
    if approver is not None and qualifies(session, row_product, scopes):
        comment = f"auto-approved: every column satisfies {row_product.auto_approve}"
        _approve(session, actor=approver, row=row, comment=comment, automatic=True)
    return row


def _decidable(
    session: Session, *, actor: Actor, subscription_id: int, action: Action
) -> Subscription:
    row = show_subscription(session, actor=actor, subscription_id=subscription_id, action=action)
    actor.require_domain_admin(
        row.product.domain.name, action=action, resource=products.resource(row.product.name)
    )
    return row


def _require_status(row: Subscription, wanted: str, doing: str) -> None:
    if row.status != wanted:
        raise ConflictError(
            f"Subscription #{row.id} is {row.status}: only a {wanted} subscription can be {doing}",
            details={"subscription": row.id, "status": row.status},
        )


def _approve(
    session: Session, *, actor: Actor, row: Subscription, comment: str, automatic: bool
) -> None:
    issued = issue(session, actor=actor, row=row)
    row.status, row.comment = APPROVED, comment
    row.decided_by, row.decided_at = actor.ref, clock.now()
    _event(session, row, "approved", actor.ref, comment=comment, automatic=automatic, grants=issued)
    _audit(
        session,
        row,
        Action.SUBSCRIPTION_APPROVE,
        actor.ref,
        comment=comment,
        automatic=automatic,
        grants=issued,
        scope=scope_of(row).to_dict(),
    )


def _narrowed(session: Session, row: Subscription, exclude_columns: Sequence[str]) -> Scope:
    """The scope ``row`` asked for less ``exclude_columns`` (the approver's narrowing).

    Raises:
        InvalidInputError: a column of no product table, a request for a data filter (its
            columns are the filter's), or nothing left.
    """
    dropped = tuple(dict.fromkeys(c.strip() for c in exclude_columns if c.strip()))
    asked = scope_of(row)
    if not dropped:
        return asked
    if asked.filter is not None:
        raise InvalidInputError(
            f"Subscription #{row.id} asks for data filter {asked.filter}, whose columns are its "
            "own: approve it as asked or reject it",
            details={"subscription": row.id, "filter": asked.filter},
        )
    known = {c.name.lower() for item in row.product.tables for c in item.table.columns}
    unknown = [c for c in dropped if c.lower() not in known]
    if unknown:
        raise InvalidInputError(
            f"Column does not exist in data product {row.product.name}: {', '.join(unknown)}",
            details={"product": row.product.name, "columns": unknown},
        )
    if asked.columns is not None:
        left = {c.lower() for c in dropped}
        kept = tuple(c for c in asked.columns if c.lower() not in left)
        if not kept:
            raise InvalidInputError(
                f"Leaving out {', '.join(dropped)} leaves subscription #{row.id} nothing",
                details={"subscription": row.id, "exclude_columns": list(dropped)},
            )
        return Scope(kept, (), None)
    return Scope(None, tuple(dict.fromkeys([*asked.excluded_columns, *dropped])), None)


def approve_subscription(
    session: Session,
    *,
    actor: Actor,
    subscription_id: int,
    comment: str = "",
    exclude_columns: Sequence[str] = (),
) -> Subscription:
    """Approve a pending request: share and delegations in the caller's transaction.

    ``exclude_columns`` narrows the request: those columns are left out of what it asked for
    (the history and the audit event keep both scopes).
    """
    row = _decidable(
        session, actor=actor, subscription_id=subscription_id, action=Action.SUBSCRIPTION_APPROVE
    )
    _require_status(row, PENDING, "approved")
    _subscribable(actor, session, row.product.name)
    scope = _narrowed(session, row, exclude_columns)
    if scope != scope_of(row):
        table_scopes(session, row.product, scope)  # something must be left in some table
        asked = scope_of(row).to_dict()
        row.columns = list(scope.columns) if scope.columns is not None else None
        row.excluded_columns = list(scope.excluded_columns)
        _event(session, row, "narrowed", actor.ref, asked=asked, scope=scope.to_dict())
    _approve(session, actor=actor, row=row, comment=comment.strip(), automatic=False)
    return row


def reject_subscription(
    session: Session, *, actor: Actor, subscription_id: int, reason: str
) -> Subscription:
    """Reject a pending request with a reason (required: the requester reads it)."""
    row = _decidable(
        session, actor=actor, subscription_id=subscription_id, action=Action.SUBSCRIPTION_REJECT
    )
    if not reason.strip():
        raise InvalidInputError("Rejecting a subscription needs a reason (--reason)")
    _require_status(row, PENDING, "rejected")
    row.status, row.comment = REJECTED, reason.strip()
    row.decided_by, row.decided_at = actor.ref, clock.now()
    _event(session, row, "rejected", actor.ref, reason=row.comment)
    _audit(session, row, Action.SUBSCRIPTION_REJECT, actor.ref, reason=row.comment)
    return row


def revoke_subscription(
    session: Session, *, actor: Actor, subscription_id: int, reason: str = ""
) -> Subscription:
    """Revoke an approved subscription: its delegations, and the shares subscriptions issued
    that no other approved subscription relies on (their cascade takes every delegation made from
    them). Shares made by hand stay."""
    row = _decidable(
        session, actor=actor, subscription_id=subscription_id, action=Action.SUBSCRIPTION_REVOKE
    )
    _require_status(row, APPROVED, "revoked")
    revoked = take_back(session, actor=actor, row=row)
    row.status, row.comment = REVOKED, reason.strip() or row.comment
    row.decided_by, row.decided_at = actor.ref, clock.now()
    _event(session, row, "revoked", actor.ref, reason=reason.strip(), grants_revoked=revoked)
    _audit(
        session, row, Action.SUBSCRIPTION_REVOKE, actor.ref, reason=reason.strip(), grants=revoked
    )
    return row


def list_subscriptions(
    session: Session,
    *,
    actor: Actor,
    product: str | None = None,
    consumer: str | None = None,
    principal: str | None = None,
    status: str | None = None,
) -> list[Subscription]:
    """Subscriptions ``actor`` may see, newest first, filtered by product, consuming domain,
    subscriber or status (a product's or a consumer's full history without ``status``)."""
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            f"Unknown subscription status: {status!r} (known: {', '.join(STATUSES)})",
            details={"status": status},
        )
    query = select(Subscription).order_by(Subscription.id.desc())
    if product is not None:
        seen = products.show_product(session, actor=actor, name=product)  # a hidden draft: 404
        query = query.where(Subscription.product_id == seen.id)
    if consumer is not None:
        query = query.where(Subscription.consumer_domain == consumer)
    if principal is not None:
        query = query.where(Subscription.principal == get_principal(session, principal).ref)
    if status is not None:
        query = query.where(Subscription.status == status)
    return [row for row in session.execute(query).scalars() if may_see(actor, row)]


@dataclass(frozen=True)
class SubscriptionRecord:
    """A subscription with the grants it relies on now and its whole history."""

    row: Subscription
    grants: list[SubscriptionGrant]
    events: list[SubscriptionEvent]

    @property
    def active(self) -> bool:
        """Approved and still holding grants."""
        return self.row.status == APPROVED and bool(self.grants)


def subscription_record(session: Session, row: Subscription) -> SubscriptionRecord:
    """``row`` with its live grants and its events, read afresh."""
    live = session.execute(
        select(SubscriptionGrant)
        .where(SubscriptionGrant.subscription_id == row.id)
        .order_by(SubscriptionGrant.grant_id)
        .execution_options(populate_existing=True)
    ).scalars()
    events = session.execute(
        select(SubscriptionEvent)
        .where(SubscriptionEvent.subscription_id == row.id)
        .order_by(SubscriptionEvent.id)
    ).scalars()
    return SubscriptionRecord(row, list(live), list(events))
