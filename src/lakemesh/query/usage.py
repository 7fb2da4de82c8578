"""How much a workgroup scanned: this month against its monthly limit, and day by day.

Who may see it: everyone sees their own queries' bytes in any workgroup (their own query history
shows as much); another principal's, or every principal's (what the monthly limit counts), are
mesh admins', who manage workgroups: a workgroup's totals show what others query, and when.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.errors import InvalidInputError
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.query.history import bytes_this_month
from lakemesh.query.workgroups import get_workgroup_row
from lakemesh.store.schema import QueryRecord

MAX_DAYS = 366


@dataclass(frozen=True)
class WorkgroupUsage:
    """A workgroup's bytes scanned: this calendar month (what its monthly limit counts) and per
    UTC day over the last days, oldest first."""

    workgroup: str
    principal: str | None
    """Whose queries are counted; None for every principal's (the workgroup's total)."""
    bytes_this_month: int
    max_bytes_per_month: int | None
    daily: list[tuple[date, int]]

    def to_dict(self) -> dict[str, object]:
        return {
            "workgroup": self.workgroup,
            "principal": self.principal,
            "bytes_this_month": self.bytes_this_month,
            "max_bytes_per_month": self.max_bytes_per_month,
            "daily": [{"day": day.isoformat(), "bytes_scanned": n} for day, n in self.daily],
        }


def workgroup_usage(
    session: Session,
    *,
    actor: Actor,
    workgroup: str,
    principal: str | None = None,
    every_principal: bool = False,
    days: int = 30,
) -> WorkgroupUsage:
    """The bytes scanned in ``workgroup`` by ``principal``'s queries (the actor's by default), or
    by every principal's (``every_principal``: what the workgroup's limits count).

    Raises:
        NotFoundError: ``Workgroup does not exist: adhoc``.
        InvalidInputError: both ``principal`` and ``every_principal``.
        AccessDeniedError: another principal's usage, or every principal's, asked by someone who
            is not a mesh admin (audited).
    """
    row = get_workgroup_row(session, workgroup)
    if principal and every_principal:
        raise InvalidInputError("Ask for one principal's usage or every principal's, not both")
    subject = None if every_principal else (principal or actor.ref)
    if subject != actor.ref and not actor.is_mesh_admin:
        whose = "every principal" if subject is None else subject
        raise actor.deny(
            f"{actor.ref} may not read the usage of {whose} in workgroup {row.name}: only "
            "one's own (mesh admins read anyone's)",
            action=Action.QUERY_HISTORY,
            resource=f"workgroup:{row.name}",
        )
    days = max(1, min(days, MAX_DAYS))
    today = clock.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    scanned: Counter[date] = Counter()
    query = select(QueryRecord.submitted_at, QueryRecord.bytes_scanned).where(
        QueryRecord.workgroup == row.name,
        QueryRecord.submitted_at >= datetime.combine(first, time(), tzinfo=UTC),
    )
    if subject is not None:
        query = query.where(QueryRecord.principal == subject)
    for submitted, size in session.execute(query):
        scanned[submitted.astimezone(UTC).date()] += int(size or 0)
    return WorkgroupUsage(
        workgroup=row.name,
        principal=subject,
        bytes_this_month=bytes_this_month(session, row.name, principal=subject),
        max_bytes_per_month=row.max_bytes_per_month,
        daily=[(day, scanned[day]) for day in (first + timedelta(days=i) for i in range(days))],
    )
