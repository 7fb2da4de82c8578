"""The grants behind a subscription: issued on approval, taken back on revocation.

Approval issues, per product table and through the grant service, a share to the consumer's
domain (recorded as accepted: the consumer asked for it) and a delegation to the subscriber derived
from that share, so that revoking the share, by the subscription or by the producer, revokes the
delegation too. Revocation takes back the delegations and the shares subscriptions issued that no
other approved subscription relies on; a share made by hand stays with its grantor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.authz import policy_index
from lakemesh.authz.share_status import ACCEPTED, share_statuses
from lakemesh.errors import ConflictError, NotFoundError
from lakemesh.governance import grants
from lakemesh.governance.grant_targets import build_row, same_target
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.model.actors import Actor
from lakemesh.model.permissions import Permission
from lakemesh.model.statuses import SubscriptionStatus
from lakemesh.policy import parse_tag_expression
from lakemesh.sharing.scopes import Scope, TableScope, table_scopes
from lakemesh.sharing.shares import SUBSCRIPTION_ORIGIN, record_answer
from lakemesh.store.schema import DataProduct, Grant, Subscription, SubscriptionGrant

PENDING, APPROVED, REJECTED, REVOKED = (
    SubscriptionStatus.PENDING,
    SubscriptionStatus.APPROVED,
    SubscriptionStatus.REJECTED,
    SubscriptionStatus.REVOKED,
)
SHARE, SHARED, DELEGATION = "share", "shared", "delegation"
"""Roles of a subscription's grants: the share it issued, a share it found, the delegation."""


def scope_of(row: Subscription) -> Scope:
    """The scope a subscription asked for."""
    return Scope(
        tuple(row.columns) if row.columns is not None else None,
        tuple(row.excluded_columns or ()),
        row.filter,
    )


def auto_approver(session: Session, product: DataProduct) -> Actor | None:
    """The author of the product's auto-approval rule, while still an admin of its domain."""
    if not product.auto_approve or not product.auto_approve_by:
        return None
    try:
        author = load_actor(session, get_principal(session, product.auto_approve_by))
    except NotFoundError:
        return None
    return author if author.administers(product.domain.name) else None


def qualifies(session: Session, product: DataProduct, scopes: Sequence[TableScope]) -> bool:
    """Whether every column a request would get satisfies the product's auto-approval rule."""
    expression = parse_tag_expression(product.auto_approve or "")
    index = policy_index(session)
    for scope in scopes:
        facts = index.table_facts(scope.table)
        if not all(expression.matches(facts.tags_of(column)) for column in scope.columns):
            return False
    return True


def _accept_share(session: Session, share: Grant, row: Subscription, role: str) -> None:
    """The consumer asked for the data: its share counts as accepted."""
    status = share_statuses(session, [share]).get(share.id)
    if status == ACCEPTED and role == SHARED:
        return
    record_answer(
        session,
        grant=share,
        status=ACCEPTED,
        decided_by=f"{row.requested_by} (subscription #{row.id})",
        origin=SUBSCRIPTION_ORIGIN,
    )


def _delegate(
    session: Session, *, actor: Actor, row: Subscription, scope: TableScope, share: Grant
) -> Grant | None:
    """The subscriber's grant, derived from ``share``; None when it holds that access already."""
    subscriber = get_principal(session, row.principal)
    probe = build_row(session, scope.request)
    held = [
        other
        for other in session.execute(
            select(Grant).where(
                Grant.grantee_id == subscriber.id,
                Grant.parent_id.is_(None),
                Grant.with_grant_option.is_(False),
            )
        ).scalars()
        if same_target(other, probe)
    ]
    if held and Permission.SELECT.value in held[0].permissions:
        return None
    if held:
        raise ConflictError(
            f"{row.principal} holds grant #{held[0].id} on {scope.table} with the same scope but "
            f"other permissions; revoke it before approving subscription #{row.id}",
            details={"grant": held[0].id, "subscription": row.id},
        )
    # Derived from the share (as its consumer's admins would delegate it), so that revoking the
    # share, by this subscription or by the producer, revokes the delegation with it.
    return grants.grant(
        session, actor=actor, grantee=row.principal, request=scope.request, derived_from=share.id
    )


def issue(session: Session, *, actor: Actor, row: Subscription) -> list[dict[str, Any]]:
    """Issue the shares and delegations of an approved subscription, in the caller's
    transaction; returns ``[{"grant_id", "role", "table"}]``."""
    consumer = get_principal(session, f"domain:{row.consumer_domain}")
    issued: list[dict[str, Any]] = []
    for scope in table_scopes(session, row.product, scope_of(row)):
        before = set(
            session.execute(select(Grant.id).where(Grant.grantee_id == consumer.id)).scalars()
        )
        share = grants.grant(session, actor=actor, grantee=consumer.ref, request=scope.request)
        role = SHARED if share.id in before else SHARE
        _accept_share(session, share, row, role)
        found = [(share, role)]
        if row.principal != consumer.ref:
            delegation = _delegate(session, actor=actor, row=row, scope=scope, share=share)
            if delegation is not None:
                found.append((delegation, DELEGATION))
        for grant, kind in found:
            session.add(
                SubscriptionGrant(
                    subscription_id=row.id, grant_id=grant.id, role=kind, table=str(scope.table)
                )
            )
            issued.append({"grant_id": grant.id, "role": kind, "table": str(scope.table)})
    session.flush()
    return issued


def _issued_by_subscription(session: Session, grant_id: int) -> bool:
    """Whether a subscription made this share (a share made by hand is left to its grantor)."""
    return (
        session.execute(
            select(SubscriptionGrant.subscription_id).where(
                SubscriptionGrant.grant_id == grant_id, SubscriptionGrant.role == SHARE
            )
        ).first()
        is not None
    )


def _relied_on_elsewhere(session: Session, grant_id: int, subscription_id: int) -> bool:
    return (
        session.execute(
            select(SubscriptionGrant.subscription_id)
            .join(Subscription, Subscription.id == SubscriptionGrant.subscription_id)
            .where(
                SubscriptionGrant.grant_id == grant_id,
                SubscriptionGrant.subscription_id != subscription_id,
                Subscription.status == APPROVED,
            )
        ).first()
        is not None
    )


def take_back(session: Session, *, actor: Actor, row: Subscription) -> list[int]:
    """Revoke what an approved subscription holds (see module); returns the grant ids revoked."""
    held = session.execute(
        select(SubscriptionGrant.grant_id, SubscriptionGrant.role).where(
            SubscriptionGrant.subscription_id == row.id
        )
    ).all()
    revoked: list[int] = []
    delegations = [grant_id for grant_id, role in held if role == DELEGATION]
    used_shares = [grant_id for grant_id, role in held if role in (SHARE, SHARED)]
    for grant_id in [*delegations, *used_shares]:
        if grant_id in revoked or session.get(Grant, grant_id) is None:
            continue
        if grant_id in used_shares and (
            not _issued_by_subscription(session, grant_id)
            or _relied_on_elsewhere(session, grant_id, row.id)
        ):
            continue
        revoked.extend(grants.revoke_grant(session, actor=actor, grant_id=grant_id))
    return revoked
