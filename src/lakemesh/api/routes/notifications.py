"""``/inbox`` and ``/webhooks``: what the hub told the caller, and where it posts it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from lakemesh.api.deps import CurrentActor, SessionDep
from lakemesh.api.paths import Id
from lakemesh.api.schemas.base import MAX_STORED_INTEGER
from lakemesh.api.schemas.notifications import (
    DeliveryPublic,
    InboxRead,
    NotificationPublic,
    SecretPublic,
    SecretSet,
    WebhookCreate,
    WebhookPublic,
)
from lakemesh.errors import InvalidInputError
from lakemesh.notifications import inbox, webhooks

router = APIRouter(tags=["notifications"])


@router.get(
    "/inbox",
    summary="The caller's notifications (its own, its groups' and its domains'), newest first",
    response_model=list[NotificationPublic],
)
def list_inbox(
    session: SessionDep,
    actor: CurrentActor,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationPublic]:
    rows = inbox.list_inbox(session, actor=actor, unread=unread, limit=limit)
    return [NotificationPublic.from_row(row) for row in rows]


@router.post(
    "/inbox/read",
    summary="Mark notifications read (by id, or all)",
    response_model=list[NotificationPublic],
)
def mark_read(
    body: InboxRead, session: SessionDep, actor: CurrentActor
) -> list[NotificationPublic]:
    if not body.ids and not body.all:
        raise InvalidInputError("Name the notifications to mark read (ids), or all")
    rows = inbox.mark_read(session, actor=actor, ids=body.ids, everything=body.all)
    return [NotificationPublic.from_row(row) for row in rows]


@router.get(
    "/webhooks/secrets",
    summary="Webhook secrets of the caller and its domains (names only)",
    response_model=list[SecretPublic],
)
def list_secrets(session: SessionDep, actor: CurrentActor) -> list[SecretPublic]:
    return [SecretPublic.from_row(row) for row in webhooks.list_secrets(session, actor=actor)]


@router.put(
    "/webhooks/secrets",
    summary="Set a webhook secret of the caller (or of a domain it administers)",
    response_model=SecretPublic,
)
def set_secret(body: SecretSet, session: SessionDep, actor: CurrentActor) -> SecretPublic:
    row = webhooks.set_secret(
        session, actor=actor, name=body.name, value=body.value, domain=body.domain
    )
    return SecretPublic.from_row(row)


@router.delete(
    "/webhooks/secrets/{name}",
    status_code=204,
    summary="Delete a webhook secret no webhook uses",
    response_model=None,
)
def delete_secret(
    name: str, session: SessionDep, actor: CurrentActor, domain: str | None = None
) -> Response:
    webhooks.delete_secret(session, actor=actor, name=name, domain=domain)
    return Response(status_code=204)


@router.get(
    "/webhooks",
    summary="Webhooks of the caller and its domains",
    response_model=list[WebhookPublic],
)
def list_webhooks(session: SessionDep, actor: CurrentActor) -> list[WebhookPublic]:
    return [WebhookPublic.from_row(row) for row in webhooks.list_webhooks(session, actor=actor)]


@router.post(
    "/webhooks",
    summary="Register a webhook for the caller's (or a domain's) notifications",
    response_model=WebhookPublic,
)
def create_webhook(body: WebhookCreate, session: SessionDep, actor: CurrentActor) -> WebhookPublic:
    row = webhooks.create_webhook(
        session,
        actor=actor,
        url=body.url,
        secret=body.secret,
        domain=body.domain,
        kinds=body.kinds,
        product=body.product,
    )
    return WebhookPublic.from_row(row)


@router.delete(
    "/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook", response_model=None
)
def delete_webhook(webhook_id: Id, session: SessionDep, actor: CurrentActor) -> Response:
    webhooks.delete_webhook(session, actor=actor, webhook_id=webhook_id)
    return Response(status_code=204)


@router.get(
    "/webhooks/deliveries",
    summary="Deliveries to the caller's webhooks, newest first, with their outcome",
    response_model=list[DeliveryPublic],
)
def list_deliveries(
    session: SessionDep,
    actor: CurrentActor,
    webhook: Annotated[int | None, Query(ge=1, le=MAX_STORED_INTEGER)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryPublic]:
    rows = webhooks.list_deliveries(session, actor=actor, webhook_id=webhook, limit=limit)
    return [DeliveryPublic.from_row(row) for row in rows]


@router.post(
    "/webhooks/deliveries/{delivery_id}/redeliver",
    summary="Try a delivery again (a fresh round of tries)",
    response_model=DeliveryPublic,
)
def redeliver(delivery_id: Id, session: SessionDep, actor: CurrentActor) -> DeliveryPublic:
    row = webhooks.redeliver(session, actor=actor, delivery_id=delivery_id)
    return DeliveryPublic.from_row(row)
