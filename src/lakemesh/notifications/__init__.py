"""Notifications: what happened to data products, told to producers and subscribers in their
inbox and by signed webhooks. Features call :func:`notify_product` (or :func:`notify`)."""

from __future__ import annotations

from lakemesh.notifications.events import notify, notify_product, product_recipients
from lakemesh.notifications.kinds import KINDS, EventKind

__all__ = ["KINDS", "EventKind", "notify", "notify_product", "product_recipients"]
