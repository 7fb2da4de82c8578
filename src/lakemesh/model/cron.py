"""Cron expressions of five fields, read in UTC (``0 6 * * *``: every day at 06:00 UTC), by
croniter: the schedules of checks and crawls, and a domain's default check schedule.

>>> next_time("*/15 * * * *", datetime(2026, 1, 1, 12, 7, tzinfo=UTC)).isoformat()
'2026-01-01T12:15:00+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from lakemesh.errors import InvalidInputError

_SOME_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""Any time will do to see that an expression names one (model code reads no clock)."""


def next_time(cron: str, after: datetime) -> datetime:
    """The first time after ``after`` that ``cron`` names (UTC)."""
    found: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return found.astimezone(UTC)


def check_cron(cron: str) -> str:
    """A cron expression of five fields, as given (stripped).

    Raises:
        InvalidInputError: ``Invalid cron expression: '61 * * * *' (...)``.
    """
    text = cron.strip()
    problem = None
    if len(text.split()) != 5:
        problem = "five fields: minute hour day-of-month month day-of-week"
    else:
        try:
            next_time(text, _SOME_TIME)
        except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError) as e:
            problem = str(e) or type(e).__name__
    if problem is not None:
        raise InvalidInputError(
            f"Invalid cron expression: {cron!r} ({problem})", details={"cron": cron}
        )
    return text
