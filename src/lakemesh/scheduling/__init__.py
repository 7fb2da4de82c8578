"""Schedules of contract checks and crawls, run by every hub process's scheduler, each run
exactly once across the processes sharing a store (the run row is its lease)."""

from __future__ import annotations

from lakemesh.scheduling.scheduler import Scheduler, scheduler_settings
from lakemesh.scheduling.schedules import (
    ScheduleRecord,
    list_schedules,
    remove_schedule,
    schedule_runs,
    set_schedule,
)

__all__ = [
    "ScheduleRecord",
    "Scheduler",
    "list_schedules",
    "remove_schedule",
    "schedule_runs",
    "scheduler_settings",
    "set_schedule",
]
