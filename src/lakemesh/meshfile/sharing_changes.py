"""Changes to sharing: answering a share, publishing a data product (deprecating it), and taking
a subscription from its status to the one the files say, through the sharing services."""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh.errors import InvalidInputError, NotFoundError
from lakemesh.meshfile.change_context import Context
from lakemesh.meshfile.resources import Resource
from lakemesh.sharing import products, shares, subscriptions
from lakemesh.store.schema import DataProduct, Subscription


def answer_share(session: Session, context: Context, resource: Resource) -> None:
    share_id = context.grant_id(resource.key)
    answer = shares.accept_share if resource.body["status"] == "accepted" else shares.decline_share
    answer(session, actor=context.actor, share_id=share_id)


def publish(session: Session, context: Context, resource: Resource) -> None:
    body = resource.body
    contract = body["contract"]
    products.publish_product(
        session,
        actor=context.actor,
        spec=products.ProductSpec(
            name=resource.key,
            domain=resource.folder,
            tables=body["tables"],
            title=body["title"],
            description=body["description"],
            owner=body["owner"],
            tags=body["tags"],
            version=None if contract is not None else body["version"],
            contract=yaml.safe_dump(contract, sort_keys=False) if contract is not None else None,
            draft=body["status"] == "draft",
            auto_approve=body["auto_approve"] or "",
        ),
    )
    if body["status"] == "deprecated":
        products.deprecate_product(
            session,
            actor=context.actor,
            name=resource.key,
            message=body["deprecation_message"] or "",
        )


def subscription_row(session: Session, key: str) -> Subscription:
    product, principal = key.split("|")
    row = session.execute(
        select(Subscription)
        .join(DataProduct, DataProduct.id == Subscription.product_id)
        .where(DataProduct.name == product, Subscription.principal == principal)
        .order_by(Subscription.id.desc())
        .limit(1)
    ).scalar()
    if row is None:
        raise NotFoundError(
            f"Subscription does not exist: {principal} to {product}",
            details={"product": product, "principal": principal},
        )
    return row


def move_subscription(
    session: Session, context: Context, row: Subscription, body: dict[str, Any]
) -> None:
    """Take a subscription from its status to the one the files say."""
    wanted, actor = body["status"], context.actor
    comment = body["comment"] or ""
    if row.status == wanted:
        return
    if row.status == "pending" and wanted == "approved":
        subscriptions.approve_subscription(
            session, actor=actor, subscription_id=row.id, comment=comment
        )
    elif row.status == "pending" and wanted == "rejected":
        subscriptions.reject_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    elif row.status == "approved" and wanted == "revoked":
        subscriptions.revoke_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    elif row.status == "pending" and wanted == "revoked":
        subscriptions.approve_subscription(session, actor=actor, subscription_id=row.id)
        subscriptions.revoke_subscription(
            session, actor=actor, subscription_id=row.id, reason=comment
        )
    else:
        raise InvalidInputError(
            f"A subscription of {row.principal} to {row.product.name} cannot go from "
            f"{row.status} to {wanted}",
            details={"subscription": row.id, "status": row.status, "wanted": wanted},
        )
