"""The audit trail counted per day: queries and denials, for the charts of the audit view."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.audit.search import readable_by
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.store.schema import AuditEvent

MAX_DAYS = 366


@dataclass(frozen=True)
class DailyActivity:
    """One UTC day: governed queries run (any outcome) and access denials (any action)."""

    day: date
    queries: int
    denials: int


def daily_activity(session: Session, *, reader: Actor, days: int = 30) -> list[DailyActivity]:
    """The last ``days`` UTC days up to today, oldest first, counting only the events ``reader``
    may search (mesh admins all, domain admins those about their domains; anyone else is denied,
    audited, as by :func:`~lakemesh.audit.search.search`)."""
    days = max(1, min(days, MAX_DAYS))
    today = clock.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time(), tzinfo=UTC)
    query = select(AuditEvent.time, AuditEvent.action, AuditEvent.outcome).where(
        AuditEvent.time >= since,
        or_(AuditEvent.action == str(Action.QUERY), AuditEvent.outcome == "denied"),
    )
    scope = readable_by(reader)
    if scope is not None:
        query = query.where(scope)
    queries: Counter[date] = Counter()
    denials: Counter[date] = Counter()
    for moment, action, outcome in session.execute(query):
        day = moment.astimezone(UTC).date()
        if action == Action.QUERY:
            queries[day] += 1
        if outcome == "denied":
            denials[day] += 1
    return [
        DailyActivity(day, queries[day], denials[day])
        for day in (first + timedelta(days=i) for i in range(days))
    ]
