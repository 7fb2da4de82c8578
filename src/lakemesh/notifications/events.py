"""Telling people: the one function every feature calls when something happened to a product.

:func:`notify` writes one inbox row per recipient and one pending delivery per matching webhook,
audits the event, all in the caller's transaction; once that transaction commits the deliveries
are posted (:mod:`lakemesh.notifications.delivery`). :func:`notify_product` works out who is
told about a product: its domain (``domain:X``, read by the domain's admins), its owner and the
principals of its approved subscriptions.

>>> notify_product(session, kind=EventKind.CHECK_FAILED, product=row, actor=actor.ref,
...                subject="orders: 2 of 10 rules failed", details={"run": 7})  # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.model.actions import Action
from lakemesh.model.statuses import SubscriptionStatus
from lakemesh.notifications.delivery import deliver_after_commit
from lakemesh.notifications.kinds import EventKind
from lakemesh.store.schema import (
    DataProduct,
    Notification,
    Subscription,
    Webhook,
    WebhookDelivery,
)


def product_recipients(session: Session, product: DataProduct) -> list[str]:
    """Who hears about ``product``: its domain's admins (as ``domain:X``), its owner and every
    principal with an approved subscription to it, in that order, each once."""
    subscribers = session.execute(
        select(Subscription.principal)
        .where(
            Subscription.product_id == product.id,
            Subscription.status == SubscriptionStatus.APPROVED,
        )
        .order_by(Subscription.id)
    ).scalars()
    return list(dict.fromkeys([f"domain:{product.domain.name}", product.owner, *subscribers]))


def _webhooks(
    session: Session, recipients: list[str], kind: str, product: str | None
) -> list[Webhook]:
    rows = session.execute(
        select(Webhook).where(Webhook.owner.in_(recipients)).order_by(Webhook.id)
    ).scalars()
    return [
        row
        for row in rows
        if (not row.kinds or kind in row.kinds) and (row.product is None or row.product == product)
    ]


def notify(
    session: Session,
    *,
    kind: EventKind,
    subject: str,
    recipients: Iterable[str],
    actor: str,
    product: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> str:
    """Tell ``recipients`` (principal refs, ``domain:X`` for a domain's admins) that ``kind``
    happened; returns the event's id. Inbox rows, webhook deliveries and the audit event are
    written in the caller's transaction; deliveries are posted after it commits."""
    event = uuid.uuid4().hex
    now = clock.now()
    told = list(dict.fromkeys(recipients))
    facts = dict(details or {})
    for recipient in told:
        session.add(
            Notification(
                event=event,
                recipient=recipient,
                kind=str(kind),
                product=product,
                subject=subject,
                details=facts,
                created_at=now,
            )
        )
    payload = {
        "event": event,
        "kind": str(kind),
        "product": product,
        "subject": subject,
        "details": facts,
        "created_at": now.isoformat(),
    }
    hooks = _webhooks(session, told, str(kind), product)
    for hook in hooks:
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event=event,
                kind=str(kind),
                payload={**payload, "recipient": hook.owner},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    if hooks:
        deliver_after_commit(session, event)
    audit.record(
        session,
        actor=actor,
        action=Action.NOTIFICATION_SEND,
        resource=f"product:{product}" if product else (told[0] if told else "notifications"),
        details={
            "event": event,
            "kind": str(kind),
            "subject": subject,
            "recipients": told,
            "webhooks": [hook.id for hook in hooks],
        },
    )
    return event


def notify_product(
    session: Session,
    *,
    kind: EventKind,
    product: DataProduct,
    subject: str,
    actor: str,
    details: Mapping[str, Any] | None = None,
) -> str:
    """:func:`notify` the product's domain, owner and subscribers (:func:`product_recipients`)."""
    return notify(
        session,
        kind=kind,
        subject=subject,
        recipients=product_recipients(session, product),
        actor=actor,
        product=product.name,
        details=details,
    )
