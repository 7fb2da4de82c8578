"""Domains, principals, group membership, domain admins, API tokens, portal sessions and
attribute keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.types import UTCDateTime


class Domain(Base):
    """A unit of ownership."""

    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    producer: Mapped[bool] = mapped_column(Boolean, default=False)
    consumer: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    # What a crawl does with a change that breaks a published contract: ``hold`` (the table keeps
    # serving the contracted schema) or ``violate`` (it serves the new one; the product is
    # marked contract_violated). Either way the change waits for the domain's admins.
    schema_changes: Mapped[str] = mapped_column(String(20), default="hold")
    # The cron expression (UTC) a product's check schedule takes when its contract gives none.
    check_schedule: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Principal(Base):
    """A user, group, service or domain principal; ``ref`` is its canonical name."""

    __tablename__ = "principals"
    __table_args__ = (UniqueConstraint("kind", "name", "domain_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # attribute key -> {"set_by": principal ref, "set_at": ISO time}: who set each value.
    attribute_sources: Mapped[dict[str, dict[str, str]] | None] = mapped_column(
        JSON, nullable=True, default=dict
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    domain: Mapped[Domain] = relationship(lazy="joined")


class GroupMember(Base):
    """``member`` belongs to ``group`` (groups nest)."""

    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class DomainAdmin(Base):
    """``principal`` administers ``domain``; admins of ``governance`` are mesh admins."""

    __tablename__ = "domain_admins"
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True
    )
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiToken(Base):
    """An API token; only its SHA-256 hash (and its SCRAM verifier) is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    secret_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The secret's name when the mesh files made the token (``secret_env``), else None."""
    scram_verifier: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The token's SCRAM-SHA-256 verifier (PostgreSQL clients prove the token without sending
    it); tokens issued before verifiers existed have none."""
    principal: Mapped[Principal] = relationship(lazy="joined")


class PortalSession(Base):
    """A signed-in portal session; only the SHA-256 hash of its cookie is kept.

    ``token_id`` is the API token it was signed in with (None for a sign-in without one, such as
    OpenID Connect): revoking that token ends the session too.
    """

    __tablename__ = "portal_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE"), nullable=True, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    principal: Mapped[Principal] = relationship(lazy="joined")
    token: Mapped[ApiToken | None] = relationship(lazy="joined")


class AttributeKey(Base):
    """A principal attribute key (``region``) with its allowed values, defined by mesh admins."""

    __tablename__ = "attribute_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    allowed_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delegates: Mapped[list[AttributeDelegate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class AttributeDelegate(Base):
    """A principal allowed to set one attribute key's values (delegated by a mesh admin)."""

    __tablename__ = "attribute_delegates"
    key_id: Mapped[int] = mapped_column(
        ForeignKey("attribute_keys.id", ondelete="CASCADE"), primary_key=True
    )
    principal_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    principal: Mapped[Principal] = relationship(lazy="joined")
