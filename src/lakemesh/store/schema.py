"""SQLAlchemy models of the hub's state. Migrations under ``store/migrations`` create these tables.

Rows here are storage records, kept apart from the API's schemas (STYLE: schema families).
"""

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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from lakemesh.store.types import UTCDateTime


class Base(DeclarativeBase):
    """Base of every hub table."""


class Setting(Base):
    """A mesh setting (``discovery``, ``auto_accept_shares``)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)


class Domain(Base):
    """A unit of ownership."""

    __tablename__ = "domains"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    producer: Mapped[bool] = mapped_column(Boolean, default=False)
    consumer: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
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
    """An API token; only its SHA-256 hash is kept."""

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
    principal: Mapped[Principal] = relationship(lazy="joined")


class Location(Base):
    """A storage URI registered by a domain."""

    __tablename__ = "locations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    uri: Mapped[str] = mapped_column(String(1000), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    domain: Mapped[Domain] = relationship(lazy="joined")


class Database(Base):
    """A database in a domain's catalog."""

    __tablename__ = "databases"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    domain: Mapped[Domain] = relationship(lazy="joined")


class Table(Base):
    """A table: where its files are, their format, and its current schema version."""

    __tablename__ = "tables"
    __table_args__ = (UniqueConstraint("database_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    database_id: Mapped[int] = mapped_column(
        ForeignKey("databases.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    database: Mapped[Database] = relationship(lazy="joined")
    columns: Mapped[list[Column]] = relationship(
        order_by="Column.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Column(Base):
    """A column of a table's current schema (data and partition columns)."""

    __tablename__ = "columns"
    __table_args__ = (UniqueConstraint("table_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    is_partition: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")


class SchemaVersion(Base):
    """One version of a table's schema and what changed from the previous one."""

    __tablename__ = "schema_versions"
    __table_args__ = (UniqueConstraint("table_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """One audit event, hash-chained to the previous one (DESIGN §7)."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    resource: Mapped[str] = mapped_column(String(1000), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head (last sequence number and hash): the lock writers take, and what detects a
    removed last event."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))


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


class Workgroup(Base):
    """Where queries run: the engine and the limits every query of the workgroup obeys."""

    __tablename__ = "workgroups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    engine: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    max_bytes_per_query: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_bytes_per_month: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_concurrent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_concurrent_per_principal: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timeout_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_memory_bytes: Mapped[int] = mapped_column(BigInteger, server_default=str(2 * 1024**3))
    max_rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    max_result_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    result_retention_seconds: Mapped[int] = mapped_column(Integer)
    spark_remote: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QueryRecord(Base):
    """One query of the history: who ran what where, what it read and how it ended.

    ``status`` is ``queued`` or ``running`` while the query is under way, then its outcome:
    ``succeeded``, ``failed``, ``denied``, ``rejected`` or ``cancelled``. Running rows are how hub
    processes count a workgroup's concurrent queries.
    """

    __tablename__ = "query_history"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(String(300), index=True)
    # The statement as written, up to its first few KB; its full size and hash beside it.
    sql: Mapped[str] = mapped_column(Text)
    sql_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sql_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    workgroup: Mapped[str] = mapped_column(String(100), index=True)
    engine: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    tables: Mapped[list[str]] = mapped_column(JSON, default=list)
    columns: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    masks: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    bytes_scanned: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_returned: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A cancellation asked for by a hub process other than the one running the job.
    cancel_requested_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


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


# Ids are never reused: SQLite would hand out a deleted newest row's id again without
# AUTOINCREMENT (migration 0010); PostgreSQL sequences never go back.
for _table in Base.metadata.tables.values():
    if [column.name for column in _table.primary_key.columns] == ["id"]:
        _table.dialect_options["sqlite"]["autoincrement"] = True
