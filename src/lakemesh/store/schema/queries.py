"""Workgroups and the query history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lakemesh.store.schema.base import Base
from lakemesh.store.types import UTCDateTime


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
