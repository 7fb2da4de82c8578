"""The producer inbox: requests to decide, auto-approval rules, my products, shares, links.

For the domains the viewer administers (every domain for mesh admins), read through the
services of ``/subscriptions``, ``/products``, ``/shares`` and ``/links``; deciding goes
through the same services (``approve_subscription``, ``reject_subscription``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from lakemesh.model.actors import Actor
from lakemesh.model.statuses import SubscriptionStatus
from lakemesh.sharing import links, products, shares, subscriptions
from lakemesh.sharing.links import LinkView
from lakemesh.sharing.shares import ShareView
from lakemesh.sharing.subscriptions import SubscriptionRecord
from lakemesh.store.schema import DataProduct

RECENT_DECISIONS = 20


@dataclass(frozen=True)
class RequestLine:
    """A pending request with the columns an approver may leave out."""

    record: SubscriptionRecord
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Inbox:
    """What the producer inbox shows; empty lists for a viewer who administers nothing."""

    domains: tuple[str, ...]
    pending: list[RequestLine] = field(default_factory=list)
    decided: list[SubscriptionRecord] = field(default_factory=list)
    products: list[DataProduct] = field(default_factory=list)
    incoming_shares: list[ShareView] = field(default_factory=list)
    outgoing_shares: list[ShareView] = field(default_factory=list)
    links: list[LinkView] = field(default_factory=list)
    per_product: dict[str, dict[str, int]] = field(default_factory=dict)
    """Subscriptions of each of my products by status (every status, zero included)."""

    @property
    def auto_approval_rules(self) -> list[DataProduct]:
        """My products that approve matching requests at once."""
        return [row for row in self.products if row.auto_approve]


def _columns(row: DataProduct) -> tuple[str, ...]:
    return tuple(dict.fromkeys(column.name for item in row.tables for column in item.table.columns))


def _no_subscriptions() -> dict[str, int]:
    return {str(status): 0 for status in SubscriptionStatus}


def inbox(session: Session, *, viewer: Actor) -> Inbox:
    """The inbox of ``viewer``: its domains' products and the requests for them, the shares
    to and from its domains, the links in them."""
    administered = tuple(sorted(viewer.admin_of))
    if not administered:
        return Inbox(domains=())
    mine = [
        row
        for row in products.list_products(session, actor=viewer)
        if viewer.administers(row.domain.name)
    ]
    requests = [
        row
        for row in subscriptions.list_subscriptions(session, actor=viewer)
        if viewer.administers(row.product.domain.name)
    ]
    pending = [
        RequestLine(subscriptions.subscription_record(session, row), _columns(row.product))
        for row in requests
        if row.status == SubscriptionStatus.PENDING
    ]
    decided = [
        subscriptions.subscription_record(session, row)
        for row in requests
        if row.status != SubscriptionStatus.PENDING
    ][:RECENT_DECISIONS]
    # One listing split both ways, as list_shares(direction=...) splits it for the viewer.
    seen = shares.list_shares(session, actor=viewer)
    per_product = {row.name: _no_subscriptions() for row in mine}
    for row in requests:
        per_product.setdefault(row.product.name, _no_subscriptions())[row.status] += 1
    return Inbox(
        domains=administered,
        per_product=per_product,
        pending=pending,
        decided=decided,
        products=mine,
        incoming_shares=[view for view in seen if viewer.administers(view.to_domain)],
        outgoing_shares=[view for view in seen if viewer.administers(view.from_domain)],
        links=[
            link
            for link in links.list_links(session, actor=viewer)
            if viewer.administers(link.name.split(".", 1)[0])
        ],
    )
