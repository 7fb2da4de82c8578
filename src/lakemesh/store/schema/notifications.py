"""Notifications: each principal's inbox, webhooks, the secrets that sign them, and deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.types import UTCDateTime


class Notification(Base):
    """One event told to one recipient (a principal, or ``domain:X`` for that domain's admins).

    ``event`` groups the rows of one event (every recipient's copy, and its webhook deliveries).
    """

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    recipient: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    product: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    subject: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookSecret(Base):
    """A signing secret, owned by a principal or a domain (``domain:X``), referred to by name.

    The value is never shown again after it is set: webhooks name it, the hub signs with it.
    """

    __tablename__ = "webhook_secrets"
    __table_args__ = (UniqueConstraint("owner", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), index=True)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Webhook(Base):
    """Where the events told to ``owner`` are also posted, signed with the secret it names.

    ``kinds`` keeps the event kinds wanted (empty: all); ``product`` narrows to one product.
    """

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_secrets.id", ondelete="RESTRICT"), index=True
    )
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    product: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    secret: Mapped[WebhookSecret] = relationship(lazy="joined")


class WebhookDelivery(Base):
    """One event posted (or to be posted) to one webhook: its tries and their outcome."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    webhook: Mapped[Webhook] = relationship(lazy="joined")
