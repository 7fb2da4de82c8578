"""The hub process's scheduler: it starts the due runs of every schedule, once across all the
hub processes that share a store.

Each tick first brings the derived check schedules in line with the published products'
contracts and their domains' defaults (:func:`~lakemesh.scheduling.derived.derived_changes`),
each change in a transaction of its own made by compare and set (a row another process created
first fails on the unique ``(kind, target)`` and is left to it). Then, in a transaction of its
own per run:

- a cron schedule whose ``next_run_at`` has come is claimed by moving ``next_run_at`` on, on the
  condition that it still holds the value read (compare and set), and its run row is inserted
  with this process as holder; a check schedule ``after_crawl`` is claimed the same way when the
  product's tables changed after ``changes_seen_at``. The unique ``(schedule_id, due_at)`` of the
  run rows backs that up: of two processes, one inserts, the other's transaction fails.
- a run whose lease ran out (its holder died or hung) is taken over by compare and set on its
  holder and expiry: the lost attempt is kept as failed in the run's ``attempts``, and the run
  is retried, up to ``max_attempts`` tries in all, then marked failed.

While a run works, a thread renews its lease every third of the lease; the outcome is written
only while this process still holds it. Missed times (a hub down for a day) give one run, not
one per missed time. All times come from :mod:`lakemesh.clock`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.catalog.crawler import crawl
from lakemesh.catalog.tables import get_table_row
from lakemesh.errors import AlreadyExistsError, ConflictError, InvalidInputError, LakemeshError
from lakemesh.hub import Hub
from lakemesh.identity.actors import load_actor
from lakemesh.identity.principals import get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import SYSTEM, Actor
from lakemesh.model.cron import next_time
from lakemesh.model.names import ResourceName
from lakemesh.quality.checks import CRAWL as CRAWL_TRIGGER
from lakemesh.quality.checks import SCHEDULE as SCHEDULE_TRIGGER
from lakemesh.quality.checks import run_checks
from lakemesh.scheduling.derived import apply_derived, derived_changes
from lakemesh.scheduling.targets import CHECK, changes_marker
from lakemesh.store.schema import Schedule, ScheduledRun

log = logging.getLogger(__name__)

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
CRON, AFTER_CRAWL = "cron", "crawl"


@dataclass(frozen=True)
class SchedulerSettings:
    """``config.toml``'s ``[scheduler]``: whether ``serve`` runs it, how often it looks for due
    runs, how long a lease lasts unrenewed and how many tries a run gets."""

    enabled: bool = True
    interval_seconds: float = 15.0
    lease_seconds: float = 60.0
    max_attempts: int = 3


def scheduler_settings(config: dict[str, Any]) -> SchedulerSettings:
    """The scheduler's settings from a home's configuration.

    Raises:
        InvalidInputError: a value of the wrong type or out of range.
    """
    section = config.get("scheduler", {})
    if not isinstance(section, dict):
        raise InvalidInputError("[scheduler] in config.toml must be a table")
    defaults = SchedulerSettings()
    enabled = section.get("enabled", defaults.enabled)
    values: dict[str, float] = {}
    for key in ("interval_seconds", "lease_seconds", "max_attempts"):
        value = section.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise InvalidInputError(
                f"scheduler.{key} in config.toml must be a positive number, got {value!r}",
                details={"key": f"scheduler.{key}"},
            )
        values[key] = value
    if not isinstance(enabled, bool):
        raise InvalidInputError("scheduler.enabled in config.toml must be true or false")
    return SchedulerSettings(
        enabled=enabled,
        interval_seconds=float(values["interval_seconds"]),
        lease_seconds=float(values["lease_seconds"]),
        max_attempts=int(values["max_attempts"]),
    )


def _changed(result: Any) -> bool:
    """Whether a compare-and-set UPDATE changed its one row (another process did not first)."""
    return bool(getattr(result, "rowcount", 0) == 1)


@dataclass(frozen=True)
class Claimed:
    """A run this process holds and must do."""

    run_id: int
    kind: str
    target: str
    reason: str
    requested_by: str


class Scheduler:
    """Starts due runs of ``hub``'s schedules; :meth:`tick` once, or :meth:`start` a thread."""

    def __init__(self, hub: Hub, settings: SchedulerSettings | None = None) -> None:
        self.hub = hub
        self.settings = settings or scheduler_settings(hub.home.config())
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop ---------------------------------------------------------------------------

    def start(self) -> None:
        """Tick every ``interval_seconds`` in a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="lakemesh-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a broken tick must not end the scheduler
                log.exception("scheduler tick failed")
            self._stop.wait(self.settings.interval_seconds)

    def tick(self) -> list[int]:
        """Take over runs whose holder died, claim the due ones, and do them; returns the ids
        of the runs this process did."""
        self.sync_derived()
        done: list[int] = []
        for claimed in self._take_over() + self._claim_due():
            self._execute(claimed)
            done.append(claimed.run_id)
        return done

    def sync_derived(self) -> int:
        """Create, move and remove derived check schedules to match the contracts and domains'
        defaults; only a change found in a read takes a write transaction. Returns how many
        changes this process made."""
        with self.hub.read() as session:
            changes = derived_changes(session)
        made = 0
        for change in changes:
            try:
                with self.hub.transaction() as session:
                    made += apply_derived(session, change)
            except (AlreadyExistsError, ConflictError):  # another process created it first
                continue
        return made

    # -- claiming ---------------------------------------------------------------------------

    def _lease(self) -> datetime:
        return clock.now() + timedelta(seconds=self.settings.lease_seconds)

    def _claim_due(self) -> list[Claimed]:
        """Claim what is due; only a schedule found due in a read takes a write transaction
        (several processes ticking often keep the store's write lock free)."""
        now = clock.now()
        with self.hub.read() as session:
            candidates = [
                (row.id, row.next_run_at, row.changes_seen_at)
                for row in session.execute(select(Schedule)).scalars()
                if (row.cron is not None and row.next_run_at is not None and row.next_run_at <= now)
                or (
                    row.kind == CHECK
                    and row.after_crawl
                    and changes_marker(session, row) > row.changes_seen_at
                )
            ]
        claimed: list[Claimed] = []
        for schedule_id, next_run_at, seen in candidates:
            try:
                found = self._claim(schedule_id, next_run_at, seen, now)
            except (AlreadyExistsError, ConflictError):  # another process inserted it first
                found = None
            if found is not None:
                claimed.append(found)
        return claimed

    def _claim(
        self, schedule_id: int, next_run_at: datetime | None, seen: datetime, now: datetime
    ) -> Claimed | None:
        with self.hub.transaction() as session:
            row = session.get(Schedule, schedule_id)
            if row is None:
                return None
            if row.cron is not None and next_run_at is not None and next_run_at <= now:
                moved = session.execute(
                    update(Schedule)
                    .where(Schedule.id == schedule_id, Schedule.next_run_at == next_run_at)
                    .values(next_run_at=next_time(row.cron, now))
                )
                if _changed(moved):
                    return self._insert_run(session, row, due_at=next_run_at, reason=CRON)
            if row.kind == CHECK and row.after_crawl:
                marker = changes_marker(session, row)
                if marker > seen:
                    moved = session.execute(
                        update(Schedule)
                        .where(Schedule.id == schedule_id, Schedule.changes_seen_at == seen)
                        .values(changes_seen_at=marker)
                    )
                    if _changed(moved):
                        return self._insert_run(session, row, due_at=marker, reason=AFTER_CRAWL)
            return None

    def _insert_run(
        self, session: Session, row: Schedule, *, due_at: datetime, reason: str
    ) -> Claimed:
        now = clock.now()
        run = ScheduledRun(
            schedule_id=row.id,
            due_at=due_at,
            reason=reason,
            status=RUNNING,
            holder=self.holder,
            lease_expires_at=self._lease(),
            started_at=now,
            result={},
            attempts=[{"holder": self.holder, "started_at": now.isoformat()}],
        )
        session.add(run)
        session.flush()
        return Claimed(run.id, row.kind, row.target, reason, row.created_by)

    def _take_over(self) -> list[Claimed]:
        now = clock.now()
        with self.hub.read() as session:
            expired = [
                (run.id, run.holder, run.lease_expires_at)
                for run in session.execute(
                    select(ScheduledRun).where(
                        ScheduledRun.status == RUNNING, ScheduledRun.lease_expires_at < now
                    )
                ).scalars()
            ]
        claimed: list[Claimed] = []
        for run_id, holder, expires in expired:
            with self.hub.transaction() as session:
                moved = session.execute(
                    update(ScheduledRun)
                    .where(
                        ScheduledRun.id == run_id,
                        ScheduledRun.holder == holder,
                        ScheduledRun.lease_expires_at == expires,
                        ScheduledRun.status == RUNNING,
                    )
                    .values(holder=self.holder, lease_expires_at=self._lease())
                )
                if not _changed(moved):
                    continue  # another process took it over first
                run = session.get(ScheduledRun, run_id)
                assert run is not None
                assert expires is not None
                lost = f"holder {holder} stopped renewing its lease (expired {expires.isoformat()})"
                attempts = [dict(a) for a in run.attempts or []]
                if attempts:
                    attempts[-1].update(status=FAILED, message=lost)
                schedule = session.get(Schedule, run.schedule_id)
                if schedule is None or len(attempts) >= self.settings.max_attempts:
                    run.attempts = attempts
                    self._finish(
                        session, run, FAILED, f"{lost}; gave up after {len(attempts)} tries"
                    )
                    continue
                attempts.append({"holder": self.holder, "started_at": now.isoformat()})
                run.attempts = attempts
                run.message = lost
                claimed.append(
                    Claimed(run.id, schedule.kind, schedule.target, run.reason, schedule.created_by)
                )
        return claimed

    # -- running ----------------------------------------------------------------------------

    def _execute(self, claimed: Claimed) -> None:
        renewing = threading.Event()
        heartbeat = threading.Thread(
            target=self._renew, args=(claimed.run_id, renewing), daemon=True
        )
        heartbeat.start()
        try:
            status, message, result = self._do(claimed)
        finally:
            renewing.set()
            heartbeat.join()
        with self.hub.transaction() as session:
            run = session.get(ScheduledRun, claimed.run_id)
            if run is None or run.holder != self.holder or run.status != RUNNING:
                return  # the lease was lost meanwhile: whoever holds it now reports
            run.result = result
            attempts = [dict(a) for a in run.attempts or []]
            if attempts:
                attempts[-1].update(status=status, message=message)
            run.attempts = attempts
            self._finish(session, run, status, message)

    def _finish(
        self, session: Session, run: ScheduledRun, status: str, message: str | None
    ) -> None:
        run.status, run.message, run.finished_at = status, message, clock.now()
        run.lease_expires_at = None
        schedule = session.get(Schedule, run.schedule_id)
        audit.record(
            session,
            actor=schedule.created_by if schedule is not None else SYSTEM.ref,
            action=Action.SCHEDULE_RUN,
            resource=schedule.target if schedule is not None else str(run.schedule_id),
            outcome="success" if status == SUCCEEDED else "failure",
            details={
                "run": run.id,
                "reason": run.reason,
                "status": status,
                "message": message,
                "holder": self.holder,
            },
        )

    def _renew(self, run_id: int, done: threading.Event) -> None:
        every = self.settings.lease_seconds / 3
        while not done.wait(every):
            try:
                with self.hub.transaction() as session:
                    session.execute(
                        update(ScheduledRun)
                        .where(ScheduledRun.id == run_id, ScheduledRun.holder == self.holder)
                        .values(lease_expires_at=self._lease())
                    )
            except Exception:  # the next renewal tries again; the lease says what holds
                log.exception("renewing the lease of scheduled run %s failed", run_id)

    def _actor(self, ref: str) -> Actor:
        if ref == SYSTEM.ref:  # a derived schedule's runs
            return SYSTEM
        with self.hub.read() as session:
            return load_actor(session, get_principal(session, ref))

    def _do(self, claimed: Claimed) -> tuple[str, str | None, dict[str, Any]]:
        """Do the run as the schedule's creator: (status, message, result)."""
        try:
            actor = self._actor(claimed.requested_by)
            if claimed.kind == CHECK:
                trigger = CRAWL_TRIGGER if claimed.reason == AFTER_CRAWL else SCHEDULE_TRIGGER
                run = run_checks(self.hub, actor=actor, product=claimed.target, trigger=trigger)
                return SUCCEEDED, None, {"check_run": run.row.id, "check_status": run.row.status}
            return self._crawl(actor, claimed.target)
        except LakemeshError as error:
            return FAILED, error.message, {}

    def _crawl(self, actor: Actor, target: str) -> tuple[str, str | None, dict[str, Any]]:
        domain, database, table = target.split(".", 2)
        with self.hub.read() as session:
            location = get_table_row(session, ResourceName(domain, database, table)).location
        results = crawl(self.hub, actor=actor, uri=location, domain=domain, database=database)
        return SUCCEEDED, None, {"tables": {r.name: r.status for r in results}}
