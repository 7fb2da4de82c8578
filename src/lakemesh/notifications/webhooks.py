"""Webhooks and the secrets that sign them.

A webhook belongs to a principal (the events told to it) or to a domain (``domain:X``, managed by
that domain's admins). It names a secret of the same owner; the secret's value is set once and
never shown, listed or exported again (only its name is). URLs are HTTPS, or plain HTTP to a
loopback address (a receiver on the hub's own machine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.identity.principals import get_domain_row
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import check_identifier
from lakemesh.notifications.delivery import PENDING, deliver_after_commit
from lakemesh.notifications.kinds import KINDS, parse_kinds
from lakemesh.store.schema import Webhook, WebhookDelivery, WebhookSecret

MIN_SECRET_LENGTH = 16
LOOPBACK_NAMES = ("localhost",)


def owner_of(session: Session, actor: Actor, domain: str | None, *, action: Action) -> str:
    """The owner a request acts for: ``domain:D`` (its admins only) or the actor itself."""
    if domain is None:
        return actor.ref
    get_domain_row(session, domain)
    actor.require_domain_admin(domain, action=action, resource=f"domain:{domain}")
    return f"domain:{domain}"


def _visible_owners(actor: Actor) -> list[str]:
    return [actor.ref, *(f"domain:{d}" for d in sorted(actor.admin_of))]


def set_secret(
    session: Session, *, actor: Actor, name: str, value: str, domain: str | None = None
) -> WebhookSecret:
    """Create or replace the secret ``name`` of the actor (or of ``domain``).

    Raises:
        InvalidInputError: a bad name, or a value shorter than 16 characters.
    """
    check_identifier(name, "secret name")
    owner = owner_of(session, actor, domain, action=Action.WEBHOOK_SECRET_SET)
    if len(value) < MIN_SECRET_LENGTH:
        raise InvalidInputError(
            f"Secret {name} is too short: {len(value)} characters (at least {MIN_SECRET_LENGTH})",
            details={"secret": name},
        )
    row = session.execute(
        select(WebhookSecret).where(WebhookSecret.owner == owner, WebhookSecret.name == name)
    ).scalar()
    replaced = row is not None
    if row is None:
        row = WebhookSecret(owner=owner, name=name, created_by=actor.ref, created_at=clock.now())
        session.add(row)
    row.value = value
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WEBHOOK_SECRET_SET,
        resource=f"secret:{owner}/{name}",
        details={"replaced": replaced},  # never the value
    )
    return row


def _secret(session: Session, owner: str, name: str) -> WebhookSecret:
    row = session.execute(
        select(WebhookSecret).where(WebhookSecret.owner == owner, WebhookSecret.name == name)
    ).scalar()
    if row is None:
        raise NotFoundError(
            f"Webhook secret does not exist: {name} (of {owner}; set it with "
            "'lakemesh webhook secret NAME')",
            details={"secret": name, "owner": owner},
        )
    return row


def list_secrets(session: Session, *, actor: Actor) -> list[WebhookSecret]:
    """The secrets of the actor and of the domains it administers (names only are shown)."""
    return list(
        session.execute(
            select(WebhookSecret)
            .where(WebhookSecret.owner.in_(_visible_owners(actor)))
            .order_by(WebhookSecret.owner, WebhookSecret.name)
        ).scalars()
    )


def delete_secret(session: Session, *, actor: Actor, name: str, domain: str | None = None) -> None:
    """Delete a secret no webhook uses.

    Raises:
        ConflictError: a webhook still signs with it (named).
    """
    owner = owner_of(session, actor, domain, action=Action.WEBHOOK_SECRET_DELETE)
    row = _secret(session, owner, name)
    user = session.execute(select(Webhook.id).where(Webhook.secret_id == row.id)).scalar()
    if user is not None:
        raise ConflictError(
            f"Webhook secret {name} is used by webhook {user}: delete the webhook first",
            details={"secret": name, "webhook": user},
        )
    session.delete(row)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WEBHOOK_SECRET_DELETE,
        resource=f"secret:{owner}/{name}",
    )


def check_url(url: str) -> str:
    """``url`` if it is HTTPS, or HTTP to a loopback address.

    Raises:
        InvalidInputError: ``Webhook URL must be https:// (or http:// to a loopback address):
            http://example.org/hook``.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInputError(
            f"Invalid webhook URL: {url!r} (expected https://HOST/PATH)", details={"url": url}
        )
    if parts.scheme == "http" and not _loopback(host):
        raise InvalidInputError(
            f"Webhook URL must be https:// (or http:// to a loopback address): {url}",
            details={"url": url},
        )
    return url.strip()


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_webhook(
    session: Session,
    *,
    actor: Actor,
    url: str,
    secret: str,
    domain: str | None = None,
    kinds: Sequence[str] = (),
    product: str | None = None,
) -> Webhook:
    """Register ``url`` for the events told to the actor (or to ``domain``), signed with the
    owner's secret ``secret``; ``kinds`` and ``product`` narrow what is posted.

    Raises:
        InvalidInputError: a bad URL or an unknown event kind (named, with the known ones).
        NotFoundError: the secret does not exist for that owner.
    """
    owner = owner_of(session, actor, domain, action=Action.WEBHOOK_CREATE)
    address = check_url(url)
    try:
        wanted = parse_kinds(list(kinds))
    except ValueError as unknown:
        raise InvalidInputError(
            f"Unknown event kind: {unknown} (known: {', '.join(KINDS)})",
            details={"kind": str(unknown)},
        ) from None
    row = Webhook(
        owner=owner,
        url=address,
        secret_id=_secret(session, owner, secret).id,
        kinds=wanted,
        product=product or None,
        created_by=actor.ref,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WEBHOOK_CREATE,
        resource=f"webhook:{row.id}",
        details={"owner": owner, "url": address, "secret": secret, "kinds": wanted},
    )
    return row


def get_webhook(session: Session, *, actor: Actor, webhook_id: int) -> Webhook:
    """A webhook of the actor or of a domain it administers (others read as missing)."""
    row = session.get(Webhook, webhook_id)
    if row is None or row.owner not in _visible_owners(actor):
        raise NotFoundError(
            f"Webhook does not exist: {webhook_id}", details={"webhook": webhook_id}
        )
    return row


def list_webhooks(session: Session, *, actor: Actor) -> list[Webhook]:
    """The webhooks of the actor and of the domains it administers."""
    return list(
        session.execute(
            select(Webhook).where(Webhook.owner.in_(_visible_owners(actor))).order_by(Webhook.id)
        ).scalars()
    )


def delete_webhook(session: Session, *, actor: Actor, webhook_id: int) -> None:
    """Delete a webhook (its delivery records go with it)."""
    row = get_webhook(session, actor=actor, webhook_id=webhook_id)
    session.delete(row)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WEBHOOK_DELETE,
        resource=f"webhook:{webhook_id}",
        details={"owner": row.owner, "url": row.url},
    )


def list_deliveries(
    session: Session, *, actor: Actor, webhook_id: int | None = None, limit: int = 100
) -> list[WebhookDelivery]:
    """Deliveries to the actor's webhooks (or to one of them), newest first."""
    if webhook_id is not None:
        ids = [get_webhook(session, actor=actor, webhook_id=webhook_id).id]
    else:
        ids = [row.id for row in list_webhooks(session, actor=actor)]
    return list(
        session.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id.in_(ids))
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


def redeliver(session: Session, *, actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Try a delivery of one of the actor's webhooks again (after this transaction commits),
    with a fresh round of tries.

    Raises:
        NotFoundError: ``Webhook delivery does not exist: 7``.
    """
    row = session.get(WebhookDelivery, delivery_id)
    if row is None or row.webhook.owner not in _visible_owners(actor):
        raise NotFoundError(
            f"Webhook delivery does not exist: {delivery_id}", details={"delivery": delivery_id}
        )
    row.status, row.attempts, row.next_attempt_at = PENDING, 0, clock.now()
    deliver_after_commit(session, row.event)
    audit.record(
        session,
        actor=actor.ref,
        action=Action.WEBHOOK_REDELIVER,
        resource=f"webhook:{row.webhook_id}",
        details={"delivery": delivery_id, "event": row.event},
    )
    return row
