"""How much a workgroup scanned: this month against its monthly limit, and day by day."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.query.history import bytes_this_month
from lakemesh.query.workgroups import get_workgroup_row
from lakemesh.store.schema import QueryRecord

MAX_DAYS = 366


@dataclass(frozen=True)
class WorkgroupUsage:
    """A workgroup's bytes scanned: this calendar month (what its monthly limit counts) and per
    UTC day over the last days, oldest first."""

    workgroup: str
    bytes_this_month: int
    max_bytes_per_month: int | None
    daily: list[tuple[date, int]]

    def to_dict(self) -> dict[str, object]:
        return {
            "workgroup": self.workgroup,
            "bytes_this_month": self.bytes_this_month,
            "max_bytes_per_month": self.max_bytes_per_month,
            "daily": [{"day": day.isoformat(), "bytes_scanned": n} for day, n in self.daily],
        }


def workgroup_usage(session: Session, *, workgroup: str, days: int = 30) -> WorkgroupUsage:
    """The usage of ``workgroup`` (every principal's queries: the limits are the workgroup's).

    Raises:
        NotFoundError: ``Workgroup does not exist: adhoc``.
    """
    row = get_workgroup_row(session, workgroup)
    days = max(1, min(days, MAX_DAYS))
    today = clock.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    scanned: Counter[date] = Counter()
    found = session.execute(
        select(QueryRecord.submitted_at, QueryRecord.bytes_scanned).where(
            QueryRecord.workgroup == row.name,
            QueryRecord.submitted_at >= datetime.combine(first, time(), tzinfo=UTC),
        )
    )
    for submitted, size in found:
        scanned[submitted.astimezone(UTC).date()] += int(size or 0)
    return WorkgroupUsage(
        workgroup=row.name,
        bytes_this_month=bytes_this_month(session, row.name),
        max_bytes_per_month=row.max_bytes_per_month,
        daily=[(day, scanned[day]) for day in (first + timedelta(days=i) for i in range(days))],
    )
