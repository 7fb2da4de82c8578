"""Admission (DESIGN §5, step 2): the workgroup's concurrency limits, in all and per principal,
and its bytes of the month, checked in one write transaction with the workgroup's row locked,
before a query is marked running; and the queued row of a job, which is admitted when it starts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.errors import LakemeshError, LimitExceededError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query.history import (
    QUEUED,
    RUNNING,
    QueryFacts,
    bytes_this_month,
    insert_query,
    running_queries,
    start_queued,
)
from lakemesh.query.workgroups import WorkgroupSettings, workgroup_settings
from lakemesh.store.schema import Workgroup

SYNC, ASYNC = "sync", "async"


class WithdrawnError(LakemeshError):
    """A queued job was cancelled before it started (already recorded; nothing to do)."""


class SlotBusyError(LakemeshError):
    """A job found its workgroup or principal at a concurrency limit: it stays queued and waits
    (nothing recorded). ``limit`` is the error a synchronous query would have got."""

    def __init__(self, limit: LimitExceededError) -> None:
        super().__init__(limit.message, details=limit.details)
        self.limit = limit


def needs_admission(settings: WorkgroupSettings, mode: str) -> bool:
    """Jobs and queries of a workgroup that limits concurrency are admitted in a write."""
    limits = (settings.max_concurrent, settings.max_concurrent_per_principal)
    return mode == ASYNC or any(limit is not None for limit in limits)


def admit(
    hub: Hub,
    *,
    facts: QueryFacts,
    settings: WorkgroupSettings,
    bytes_to_scan: int,
    wait_for_slot: bool = False,
) -> None:
    """Step 2: check the workgroup's running queries (in all and the principal's) and month,
    then mark the query running.

    The workgroup row is locked, so admissions of one workgroup are serialised across hub
    processes (SQLite serialises every write transaction anyway).

    Raises:
        LimitExceededError: a concurrency limit is reached (or SlotBusyError, ``wait_for_slot``).
    """
    with hub.transaction() as session:
        session.execute(
            select(Workgroup.id).where(Workgroup.name == settings.name).with_for_update()
        ).first()
        busy = _concurrency_limit(session, settings, facts.principal)
        if busy is not None:
            raise SlotBusyError(busy) if wait_for_slot else busy
        check_month(session, settings, bytes_to_scan)
        now = clock.now()
        facts.bytes_scanned = bytes_to_scan
        if facts.mode == ASYNC and not start_queued(session, facts.id, started_at=now):
            raise WithdrawnError(f"Query job was cancelled before it started: {facts.id}")
        facts.started_at = now
        insert_query(session, facts, status=RUNNING)


def _concurrency_limit(
    session: Session, settings: WorkgroupSettings, principal: str
) -> LimitExceededError | None:
    """The error of the first concurrency limit that one more query of ``principal`` would pass."""
    timeout = settings.limits().timeout_seconds
    if settings.max_concurrent is not None:
        running = running_queries(session, settings.name, timeout_seconds=timeout)
        if running >= settings.max_concurrent:
            return LimitExceededError(
                f"Workgroup {settings.name} is at its limit of {settings.max_concurrent} "
                f"concurrent queries (max_concurrent); try again when one has finished",
                details={
                    "limit": "max_concurrent",
                    "value": settings.max_concurrent,
                    "running": running,
                    "workgroup": settings.name,
                },
            )
    limit = settings.max_concurrent_per_principal
    if limit is not None:
        own = running_queries(session, settings.name, timeout_seconds=timeout, principal=principal)
        if own >= limit:
            return LimitExceededError(
                f"{principal} is at the limit of {limit} concurrent queries per principal "
                f"(max_concurrent_per_principal) of workgroup {settings.name}; try again when "
                "one has finished, or submit a job, which waits its turn",
                details={
                    "limit": "max_concurrent_per_principal",
                    "value": limit,
                    "running": own,
                    "principal": principal,
                    "workgroup": settings.name,
                },
            )
    return None


def check_month(session: Session, settings: WorkgroupSettings, bytes_to_scan: int) -> None:
    """Refuse a query that would take the workgroup over its bytes of this month.

    Raises:
        LimitExceededError: ``max_bytes_per_month`` would be passed.
    """
    limit = settings.max_bytes_per_month
    if limit is None:
        return
    used = bytes_this_month(session, settings.name)
    if used + bytes_to_scan > limit:
        raise LimitExceededError(
            f"Query would scan {bytes_to_scan} bytes, over the limit of {limit} bytes "
            f"per month (max_bytes_per_month) of workgroup {settings.name}: {used} bytes were "
            "scanned this month",
            details={
                "limit": "max_bytes_per_month",
                "value": limit,
                "used": used,
                "bytes_scanned": bytes_to_scan,
                "workgroup": settings.name,
            },
        )


def queue_job(
    session: Session, *, actor: Actor, sql: str, workgroup: str | None, query_id: str
) -> datetime:
    """Write the queued history row of a job; returns its submission time."""
    settings = workgroup_settings(session, workgroup)
    facts = QueryFacts(
        id=query_id,
        principal=actor.ref,
        sql=sql,
        workgroup=settings.name,
        engine=settings.engine,
        mode=ASYNC,
        submitted_at=clock.now(),
    )
    insert_query(session, facts, status=QUEUED)
    return facts.submitted_at
