"""Locations, databases, tables, their columns and schema history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.schema.identity import Domain
from lakemesh.store.types import UTCDateTime


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
    # The schema the files have while the table keeps serving its contracted one (a held
    # breaking change, see catalog/schema_review.py): ``[{name, type, partition}]``, else None.
    file_columns: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
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
    # False: NOT NULL, as the files declare; None: not known (recorded before lakemesh read it).
    nullable: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


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


class TableSnapshot(Base):
    """A snapshot of an Iceberg table or a version of a Delta table, as a crawl found it."""

    __tablename__ = "table_snapshots"
    __table_args__ = (UniqueConstraint("table_id", "snapshot_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    snapshot_id: Mapped[str] = mapped_column(String(40))
    parent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sequence: Mapped[int] = mapped_column(Integer)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    operation: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchemaProposal(Base):
    """A schema a crawl found for a table of a contracted product, and what became of it.

    A breaking change waits ``pending`` until the domain's admins accept or reject it (or the
    files go back, ``withdrawn``; or a newer change replaces it, ``superseded``); a compatible
    one is ``applied`` at once. ``products`` names the products whose contracts it touched.
    """

    __tablename__ = "schema_proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_id: Mapped[int] = mapped_column(ForeignKey("tables.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    mode: Mapped[str] = mapped_column(String(20))  # hold | violate (the domain's setting then)
    base_version: Mapped[int] = mapped_column(Integer)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    breaking: Mapped[bool] = mapped_column(Boolean)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    proposed_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    schema_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    table: Mapped[Table] = relationship(lazy="joined")
