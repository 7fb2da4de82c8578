"""Schedules of contract checks and crawls, and each run the hub's schedulers start.

A run row is also the lease on that run: the hub process that holds it (``holder``) renews
``lease_expires_at`` while it works; a run whose lease ran out belongs to a process that died,
and another process takes it over (the unique ``(schedule_id, due_at)`` makes each due run one
row, whoever saw it first).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lakemesh.store.schema.base import Base
from lakemesh.store.schema.identity import Domain
from lakemesh.store.types import UTCDateTime


class Schedule(Base):
    """When a product's checks (``kind`` check) or a table's crawl (``kind`` crawl) run: on a
    cron expression (UTC), and for checks also after every crawl that changes the product's
    tables."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("kind", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # check | crawl
    target: Mapped[str] = mapped_column(String(400))  # product name, or domain.database.table
    domain_id: Mapped[int] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"), index=True)
    cron: Mapped[str | None] = mapped_column(String(200), nullable=True)
    after_crawl: Mapped[bool] = mapped_column(Boolean, default=False)
    # kept by the scheduler from the contract's cron or the domain's default (not set by hand)
    derived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    changes_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    domain: Mapped[Domain] = relationship(lazy="joined")


class ScheduledRun(Base):
    """One run of a schedule: why it was due, who holds it, how it went (``attempts`` keeps
    every try, a holder that died included)."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (UniqueConstraint("schedule_id", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(20))  # cron | crawl
    status: Mapped[str] = mapped_column(String(20), index=True)  # running | succeeded | failed
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
