"""``/subscriptions``: requests for data products, their approval, rejection and revocation."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas import (
    SubscriptionApprove,
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionReject,
    SubscriptionRevoke,
)
from lakemesh.sharing import subscriptions
from lakemesh.store.schema import Subscription


def _public(session: Session, row: Subscription) -> SubscriptionPublic:
    return SubscriptionPublic.from_record(subscriptions.subscription_record(session, row))


router = APIRouter(prefix="/subscriptions", tags=["products"])


@router.get(
    "",
    summary="Subscriptions the caller may see, newest first, with their history",
    response_model=list[SubscriptionPublic],
)
def list_subscriptions(
    session: SessionDep,
    actor: CurrentActor,
    product: str | None = None,
    consumer: str | None = None,
    principal: str | None = None,
    status: str | None = None,
) -> list[SubscriptionPublic]:
    rows = subscriptions.list_subscriptions(
        session,
        actor=actor,
        product=product,
        consumer=consumer,
        principal=principal,
        status=status,
    )
    return [_public(session, row) for row in rows]


@router.post(
    "",
    status_code=201,
    summary="Request access to a data product",
    response_model=SubscriptionPublic,
)
def request_subscription(
    body: SubscriptionCreate, session: SessionDep, actor: CurrentActor
) -> SubscriptionPublic:
    row = subscriptions.request_subscription(
        session,
        actor=actor,
        product=body.product,
        principal=body.principal,
        reason=body.reason,
        columns=body.columns,
        exclude_columns=body.exclude_columns,
        filter=body.filter,
    )
    return _public(session, row)


@router.get(
    "/{subscription_id}",
    summary="One subscription with its grants and history",
    response_model=SubscriptionPublic,
)
def show_subscription(
    subscription_id: Id, session: SessionDep, actor: CurrentActor
) -> SubscriptionPublic:
    row = subscriptions.show_subscription(session, actor=actor, subscription_id=subscription_id)
    return _public(session, row)


@router.post(
    "/{subscription_id}/approve",
    summary="Approve, as asked or with columns left out: issue the share and delegations",
    response_model=SubscriptionPublic,
)
def approve_subscription(
    subscription_id: Id, body: SubscriptionApprove, session: SessionDep, actor: CurrentActor
) -> SubscriptionPublic:
    row = subscriptions.approve_subscription(
        session,
        actor=actor,
        subscription_id=subscription_id,
        comment=body.comment,
        exclude_columns=body.exclude_columns,
    )
    return _public(session, row)


@router.post(
    "/{subscription_id}/reject",
    summary="Reject a request with a reason",
    response_model=SubscriptionPublic,
)
def reject_subscription(
    subscription_id: Id, body: SubscriptionReject, session: SessionDep, actor: CurrentActor
) -> SubscriptionPublic:
    row = subscriptions.reject_subscription(
        session, actor=actor, subscription_id=subscription_id, reason=body.reason
    )
    return _public(session, row)


@router.post(
    "/{subscription_id}/revoke",
    summary="Revoke an approved subscription's grants",
    response_model=SubscriptionPublic,
)
def revoke_subscription(
    subscription_id: Id, body: SubscriptionRevoke, session: SessionDep, actor: CurrentActor
) -> SubscriptionPublic:
    row = subscriptions.revoke_subscription(
        session, actor=actor, subscription_id=subscription_id, reason=body.reason
    )
    return _public(session, row)
