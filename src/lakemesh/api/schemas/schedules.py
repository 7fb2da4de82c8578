"""Schedules of product checks and table crawls, and their runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from lakemesh.api.schemas.base import RequestBody, RowModel, Timestamp, stamp

if TYPE_CHECKING:
    from lakemesh.store.schema import Schedule, ScheduledRun


class ScheduleSet(RequestBody):
    kind: Literal["check", "crawl"] = Field(
        description="check: a product's contract checks; crawl: a table's re-crawl"
    )
    target: str = Field(description="The product's name, or the table as domain.database.table")
    cron: str | None = Field(
        default=None, description="Five cron fields read in UTC, like '0 6 * * *'"
    )
    after_crawl: bool = Field(
        default=False, description="checks only: also after every crawl that changes the tables"
    )


class ScheduledRunPublic(RowModel):
    id: int
    due_at: Timestamp
    reason: str = Field(description="cron, or crawl (the product's tables changed)")
    status: str = Field(description="running, succeeded or failed")
    holder: str | None = Field(description="The hub process that holds (or held) the run")
    started_at: Timestamp
    finished_at: Timestamp | None
    message: str | None
    result: dict[str, Any] = Field(description="check_run and check_status, or crawled tables")
    attempts: list[dict[str, Any]] = Field(
        description="Every try: holder, started_at, status, message (a holder that died: failed)"
    )

    @classmethod
    def from_row(cls, row: ScheduledRun) -> ScheduledRunPublic:
        return cls(
            id=row.id,
            due_at=row.due_at.isoformat(),
            reason=row.reason,
            status=row.status,
            holder=row.holder,
            started_at=row.started_at.isoformat(),
            finished_at=stamp(row.finished_at),
            message=row.message,
            result=dict(row.result or {}),
            attempts=list(row.attempts or []),
        )


class SchedulePublic(RowModel):
    kind: str
    target: str
    domain: str
    cron: str | None
    after_crawl: bool
    derived: bool = Field(
        False,
        description="Kept by the scheduler from the contract's cron or the domain's default "
        "check schedule (created_by is the system actor), not set by hand",
    )
    next_run_at: Timestamp | None
    created_by: str
    created_at: Timestamp
    last_run: ScheduledRunPublic | None = None

    @classmethod
    def from_row(cls, row: Schedule, *, last_run: ScheduledRun | None = None) -> SchedulePublic:
        """``row`` with its latest run (None before its first, or when not asked for)."""
        return cls(
            kind=row.kind,
            target=row.target,
            domain=row.domain.name,
            cron=row.cron,
            after_crawl=row.after_crawl,
            derived=row.derived,
            next_run_at=stamp(row.next_run_at),
            created_by=row.created_by,
            created_at=row.created_at.isoformat(),
            last_run=None if last_run is None else ScheduledRunPublic.from_row(last_run),
        )


class TickResult(RowModel):
    runs: list[int] = Field(description="The runs this hub process did")
