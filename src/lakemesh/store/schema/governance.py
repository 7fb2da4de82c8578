"""Tags, data filters, grants, masks, guardrails, mesh settings and the policy change log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.schema.catalog import Location, Table
from lakemesh.store.schema.identity import Principal
from lakemesh.store.types import UTCDateTime


class Setting(Base):
    """A mesh setting (``discovery``, ``auto_accept_shares``)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class TagKey(Base):
    """An LF-Tag key, defined by mesh admins."""

    __tablename__ = "tag_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    values: Mapped[list[TagValue]] = relationship(
        order_by="TagValue.value", cascade="all, delete-orphan", lazy="selectin"
    )


class TagValue(Base):
    """One allowed value of a tag key."""

    __tablename__ = "tag_values"
    __table_args__ = (UniqueConstraint("key_id", "value"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("tag_keys.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(100))


class TagAssignment(Base):
    """A tag ``key=value`` on exactly one database, table or column (one value per key each)."""

    __tablename__ = "tag_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("tag_keys.id", ondelete="CASCADE"), index=True)
    value_id: Mapped[int] = mapped_column(
        ForeignKey("tag_values.id", ondelete="CASCADE"), index=True
    )
    database_id: Mapped[int | None] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), nullable=True, index=True
    )
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), nullable=True, index=True
    )
    column_id: Mapped[int | None] = mapped_column(
        ForeignKey("columns.id", ondelete="CASCADE"), nullable=True, index=True
    )
    key: Mapped[TagKey] = relationship(lazy="joined")
    value: Mapped[TagValue] = relationship(lazy="joined")


class DataFilterRow(Base):
    """A data cells filter: a row predicate and a column include or exclude list on one table."""

    __tablename__ = "data_filters"
    __table_args__ = (UniqueConstraint("table_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    predicate: Mapped[str | None] = mapped_column(Text, nullable=True)
    columns: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    excluded_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    table: Mapped[Table] = relationship(lazy="joined")


class Grant(Base):
    """Permissions to a grantee on one target: a named resource, a tag expression, a data filter
    or a location. ``parent_id`` is the grant this one was derived from (revoking it cascades)."""

    __tablename__ = "grants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grantee_id: Mapped[int] = mapped_column(
        ForeignKey("principals.id", ondelete="CASCADE"), index=True
    )
    permissions: Mapped[list[str]] = mapped_column(JSON)
    with_grant_option: Mapped[bool] = mapped_column(Boolean, default=False)
    # resource | tag | filter | location | tag_values
    target_kind: Mapped[str] = mapped_column(String(20))
    domain_id: Mapped[int | None] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), nullable=True, index=True
    )
    database_id: Mapped[int | None] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), nullable=True, index=True
    )
    table_id: Mapped[int | None] = mapped_column(
        ForeignKey("tables.id", ondelete="CASCADE"), nullable=True, index=True
    )
    columns: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    excluded_columns: Mapped[list[str]] = mapped_column(JSON, default=list)
    tag_expression: Mapped[str | None] = mapped_column(Text, nullable=True)
    tag_resource_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    tag_scope: Mapped[str | None] = mapped_column(String(300), nullable=True)
    tag_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tag_values: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    filter_id: Mapped[int | None] = mapped_column(
        ForeignKey("data_filters.id", ondelete="CASCADE"), nullable=True, index=True
    )
    location_id: Mapped[int | None] = mapped_column(
        ForeignKey("locations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("grants.id", ondelete="CASCADE"), nullable=True, index=True
    )
    granted_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grantee: Mapped[Principal] = relationship(lazy="joined")
    data_filter: Mapped[DataFilterRow | None] = relationship(lazy="joined")
    location: Mapped[Location | None] = relationship(lazy="joined")


class MaskRule(Base):
    """A masking function applied to columns matching a tag expression, unless UNMASK."""

    __tablename__ = "masks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    tag_expression: Mapped[str] = mapped_column(Text)
    function: Mapped[str] = mapped_column(String(30))
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Guardrail(Base):
    """An organisation policy no domain can opt out of."""

    __tablename__ = "guardrails"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PolicyVersion(Base):
    """A counter bumped by every change that can alter a decision, so every hub process (and
    replica) knows when its cached policy index is stale."""

    __tablename__ = "policy_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))


class PolicyChangeRow(Base):
    """What one policy version changed (grant ids, table names, tagged resources, ...), so hub
    processes apply it to their policy index instead of reloading everything. Old rows are
    pruned; a process that finds a gap reloads in full."""

    __tablename__ = "policy_changes"
    version: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    change: Mapped[dict[str, Any]] = mapped_column(JSON)
