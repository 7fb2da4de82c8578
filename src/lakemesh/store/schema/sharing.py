"""Shares, resource links, data products and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.schema.catalog import Database, Table
from lakemesh.store.schema.identity import Domain
from lakemesh.store.types import UTCDateTime


class Share(Base):
    """The consumer's answer to a share: a grant to ``domain:X`` of another domain's objects.

    ``grant_id`` is emptied when the grant is revoked (the row stays, so resource links can name
    the revoked share); ``grant_ref`` keeps the grant's number. Shares nobody answered have no
    row: they are pending, or accepted while the mesh setting ``auto_accept_shares`` is on.
    """

    __tablename__ = "shares"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grant_id: Mapped[int | None] = mapped_column(
        ForeignKey("grants.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    grant_ref: Mapped[int] = mapped_column(Integer, index=True)
    from_domain: Mapped[str] = mapped_column(String(100), index=True)
    to_domain: Mapped[str] = mapped_column(String(100), index=True)
    resource: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(20))  # pending | accepted | declined
    origin: Mapped[str] = mapped_column(String(20))  # grant | subscription
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ResourceLink(Base):
    """A name in a consumer's catalog standing for a shared database or table.

    A table link is ``name`` inside the consumer database ``database``; a database link is the
    consumer database itself (``name`` empty). ``share_id`` is the share the link relied on when
    it was made: when that share is revoked the link is broken.
    """

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("database_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    database_id: Mapped[int] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(400))
    share_id: Mapped[int | None] = mapped_column(
        ForeignKey("shares.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    database: Mapped[Database] = relationship(lazy="joined")


class DataProductTable(Base):
    """A table of a data product, in the product's order."""

    __tablename__ = "data_product_tables"
    product_id: Mapped[int] = mapped_column(
        ForeignKey("data_products.id", ondelete="CASCADE"), primary_key=True
    )
    table_id: Mapped[int] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    table: Mapped[Table] = relationship(lazy="joined")


class DataProduct(Base):
    """A published set of tables with owner, description, tags, contract and version."""

    __tablename__ = "data_products"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(300))
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    version: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(20), index=True)  # draft | published | deprecated
    contract: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    auto_approve: Mapped[str | None] = mapped_column(Text, nullable=True)
    auto_approve_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    deprecation_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    domain: Mapped[Domain] = relationship(lazy="joined")
    tables: Mapped[list[DataProductTable]] = relationship(
        order_by="DataProductTable.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Subscription(Base):
    """A consumer's request for access to a data product, and what became of it."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("data_products.id", ondelete="CASCADE"), index=True
    )
    principal: Mapped[str] = mapped_column(String(300), index=True)
    consumer_domain: Mapped[str] = mapped_column(String(100), index=True)
    requested_by: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    columns: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    excluded_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    filter: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # pending | approved | rejected | revoked
    status: Mapped[str] = mapped_column(String(20), index=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    product: Mapped[DataProduct] = relationship(lazy="joined")


class SubscriptionGrant(Base):
    """A grant an approved subscription relies on: the share it issued (``share``), a share it
    found already there (``shared``), or a delegation to the subscriber (``delegation``)."""

    __tablename__ = "subscription_grants"
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    grant_id: Mapped[int] = mapped_column(
        ForeignKey("grants.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    table: Mapped[str] = mapped_column(String(400))


class SubscriptionEvent(Base):
    """One step in a subscription's history: requested, approved, rejected, revoked."""

    __tablename__ = "subscription_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(300))
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ProductVersion(Base):
    """A version of a product as it was published: its contract and its tables' schema versions.

    ``reason`` says what made it: ``publish``, or ``schema_change`` (an accepted proposal).
    """

    __tablename__ = "product_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("data_products.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(50))
    contract: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    schemas: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(30))
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
