"""Query jobs: queries submitted now and run by worker threads of the hub process, fairly
across principals (:class:`JobRunner`).

A job is a history row (``queued``, then ``running``, then its outcome) plus, once it succeeded,
its result kept under the hub home until the workgroup's retention ends
(:class:`~lakemesh.query.results.ResultStore`). Its status is read from the store, so any hub
process sharing the store answers it. Any of them can cancel it too: a queued job is marked
cancelled in the store; a running one is stopped by the process running it, at once when that
is the process asked, else when its watcher sees the request in the store (every quarter second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
from sqlalchemy import select, update

from lakemesh import clock
from lakemesh.errors import ConflictError, LakemeshError, NotFoundError, error_class
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query import service
from lakemesh.query.engines import Cancellation, QueryCancelledError
from lakemesh.query.history import (
    OUTCOMES,
    QUEUED,
    SUCCEEDED,
    cancel_queued,
    facts_of,
    get_query_row,
    new_query_id,
    record_failure,
)
from lakemesh.query.results import ResultStore
from lakemesh.query.workgroups import WorkgroupSettings, workgroup_settings
from lakemesh.store.schema import QueryRecord

logger = logging.getLogger("lakemesh.query")

RUNNER_CACHE = "query_jobs"
WORKERS = 4
CANCEL_WAIT_SECONDS = 10.0
CANCEL_POLL_SECONDS = 0.25
RETRY_SECONDS = 0.25
MAX_RETRY_SECONDS = 4.0
"""How soon a job that found its workgroup or principal at a concurrency limit tries again: after
0.25 s, then twice as long each time up to 4 s (each try plans the statement again)."""
_runner_lock = threading.Lock()


@dataclass
class _Job:
    """A submitted job as the runner holds it until it ends."""

    actor: Actor
    sql: str
    workgroup: str | None
    query_id: str
    submitted: datetime
    per_principal: int | None
    cancellation: Cancellation = field(default_factory=Cancellation)
    done: threading.Event = field(default_factory=threading.Event)
    not_before: float = 0.0
    tries: int = 0


class JobRunner:
    """The workers running one hub process's jobs, fairly across principals.

    Each principal has its own queue; a free worker takes the oldest job of the principal that
    waited longest for one, skipping principals at their limit of concurrent queries (the
    workgroup's ``max_concurrent_per_principal``, and never every worker of the process). So one
    principal's queue never holds up another's. A job that finds a concurrency limit reached when
    it is admitted (queries run elsewhere count too) goes back to the head of its queue.
    """

    def __init__(self, hub: Hub, *, workers: int = WORKERS) -> None:
        self.hub = hub
        self.results = ResultStore.of_home(hub.home.path)
        self.workers = workers
        self._lock = threading.Condition()
        self._queues: OrderedDict[str, deque[_Job]] = OrderedDict()
        self._running: Counter[str] = Counter()
        self._jobs: dict[str, _Job] = {}
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name=f"lakemesh-query-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()
        self._watcher = threading.Thread(
            target=self._watch_cancel_requests, name="lakemesh-query-cancel", daemon=True
        )
        self._watcher.start()

    def _watch_cancel_requests(self) -> None:
        """Cancel this process's running jobs that another hub process asked to cancel."""
        while not self._closed.wait(CANCEL_POLL_SECONDS):
            with self._lock:
                running = list(self._jobs)
            if not running:
                continue
            try:
                with self.hub.read() as session:
                    asked = session.execute(
                        select(QueryRecord.id).where(
                            QueryRecord.id.in_(running),
                            QueryRecord.cancel_requested_at.is_not(None),
                        )
                    ).scalars()
                    for query_id in list(asked):
                        self.cancel(query_id)
            except Exception:
                logger.exception("Cannot read the cancel requests of query jobs")

    def close(self) -> None:
        """Stop watching for cancel requests; run the queued jobs and wait for them to end."""
        self._closed.set()
        with self._lock:
            self._lock.notify_all()
        for thread in self._threads:
            thread.join()

    def start(
        self,
        *,
        actor: Actor,
        sql: str,
        workgroup: str | None,
        query_id: str,
        submitted: datetime,
        per_principal: int | None = None,
    ) -> None:
        """Queue the job ``query_id`` (already stored as queued) behind its principal's others."""
        job = _Job(actor, sql, workgroup, query_id, submitted, per_principal)
        with self._lock:
            self._jobs[query_id] = job
            self._queues.setdefault(actor.ref, deque()).append(job)
            self._lock.notify()

    def _share(self, job: _Job) -> int:
        """How many jobs of the job's principal may run at once in this process."""
        share = job.per_principal or self.workers
        return max(min(share, self.workers - 1), 1)

    def _next(self) -> _Job | None:
        """The next job to run, round robin over principals (called holding the lock)."""
        now = time.monotonic()
        for principal, queue in self._queues.items():
            job = queue[0]
            if job.not_before > now or self._running[principal] >= self._share(job):
                continue
            queue.popleft()
            if queue:
                self._queues.move_to_end(principal)
            else:
                del self._queues[principal]
            self._running[principal] += 1
            return job
        return None

    def _serve(self) -> None:
        """One worker: run jobs until the runner is closed and no job is left."""
        while True:
            with self._lock:
                job = self._next()
                while job is None:
                    if self._closed.is_set() and not self._queues:
                        return
                    self._lock.wait(RETRY_SECONDS)
                    job = self._next()
            wait_again = self._work(job)
            with self._lock:
                self._running[job.actor.ref] -= 1
                if wait_again:
                    job.tries += 1
                    delay = min(RETRY_SECONDS * 2 ** (job.tries - 1), MAX_RETRY_SECONDS)
                    job.not_before = time.monotonic() + delay
                    self._queues.setdefault(job.actor.ref, deque()).appendleft(job)
                else:
                    self._jobs.pop(job.query_id, None)
                    job.done.set()
                self._lock.notify_all()

    def _keep(self, outcome: service.QueryOutcome, settings: WorkgroupSettings) -> datetime:
        expires_at = clock.now() + settings.result_retention
        self.results.save(outcome.query_id, outcome.result.table, expires_at=expires_at)
        return expires_at

    def _work(self, job: _Job) -> bool:
        """Run ``job``; True when a concurrency limit sent it back to wait in its queue."""
        try:
            if not job.cancellation.cancelled:
                service.run(
                    self.hub,
                    actor=job.actor,
                    sql=job.sql,
                    workgroup=job.workgroup,
                    query_id=job.query_id,
                    mode=service.ASYNC,
                    submitted_at=job.submitted,
                    cancellation=job.cancellation,
                    keep_result=self._keep,
                    # A closing runner records the limit instead of waiting for it.
                    wait_for_slot=not self._closed.is_set(),
                )
        except service.SlotBusyError:
            return True
        except LakemeshError:
            pass  # recorded in the history and the audit trail by the service
        except Exception:
            logger.exception("Query job %s failed unexpectedly", job.query_id)
            self._record_internal_error(job.query_id)
        return False

    def _record_internal_error(self, query_id: str) -> None:
        with self.hub.transaction() as session:
            row = get_query_row(session, query_id)
            if row is not None and row.status not in OUTCOMES:
                error = LakemeshError("Internal server error")
                record_failure(session, facts_of(row), error, duration_ms=0)

    def cancel(self, query_id: str) -> threading.Event | None:
        """Cancel the job if this process runs it; the event is set once the job has stopped."""
        with self._lock:
            job = self._jobs.get(query_id)
        if job is None:
            return None
        job.cancellation.cancel()
        return job.done


def runner(hub: Hub) -> JobRunner:
    """The job runner of ``hub`` (made on first use)."""
    with _runner_lock:
        found = hub.caches.get(RUNNER_CACHE)
        if not isinstance(found, JobRunner):
            found = JobRunner(hub)
            hub.caches[RUNNER_CACHE] = found
    return found


def submit_job(hub: Hub, *, actor: Actor, sql: str, workgroup: str | None = None) -> str:
    """Queue ``sql`` for ``actor``; returns the job's query id at once (the job is queued).

    Raises:
        NotFoundError: the workgroup does not exist.
    """
    query_id = new_query_id()
    with hub.transaction() as session:
        submitted = service.queue_job(
            session, actor=actor, sql=sql, workgroup=workgroup, query_id=query_id
        )
        per_principal = workgroup_settings(session, workgroup).max_concurrent_per_principal
    runner(hub).start(
        actor=actor,
        sql=sql,
        workgroup=workgroup,
        query_id=query_id,
        submitted=submitted,
        per_principal=per_principal,
    )
    return query_id


def _job(hub: Hub, *, actor: Actor, query_id: str, own: bool = False) -> QueryRecord:
    """The job's row, for its principal (or a mesh admin unless ``own``); others get NotFound."""
    with hub.read() as session:
        row = get_query_row(session, query_id)
    if row is None or (row.principal != actor.ref and (own or not actor.is_mesh_admin)):
        raise NotFoundError(f"Query job does not exist: {query_id}", details={"id": query_id})
    return row


def job_status(hub: Hub, *, actor: Actor, query_id: str) -> QueryRecord:
    """The job's history row: its status, and its outcome once it finished."""
    return _job(hub, actor=actor, query_id=query_id)


def job_results(hub: Hub, *, actor: Actor, query_id: str) -> tuple[QueryRecord, pa.Table]:
    """The job's history row and result (only for its own principal).

    Raises:
        ConflictError: the job has not finished.
        NotFoundError: no such job of the actor's, or its result expired.
        LakemeshError: the error that stopped the job (denied, rejected, failed, cancelled).
    """
    row = _job(hub, actor=actor, query_id=query_id, own=True)
    if row.status not in OUTCOMES:
        raise ConflictError(
            f"Query job {query_id} has not finished: it is {row.status}",
            details={"id": query_id, "status": row.status},
        )
    if row.status != SUCCEEDED:
        cls = error_class(row.error_type or "internal_error")
        raise cls(row.error or f"Query job {query_id} {row.status}", details={"id": query_id})
    table = runner(hub).results.load(query_id)
    if table is None:
        raise NotFoundError(
            f"Results of query job {query_id} are no longer kept (workgroup {row.workgroup})",
            details={"id": query_id, "expired_at": _stamp(row.result_expires_at)},
        )
    return row, table


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def cancel_job(hub: Hub, *, actor: Actor, query_id: str) -> QueryRecord:
    """Cancel a queued or running job (its principal or a mesh admin); returns its status.

    Cancelling a finished job changes nothing.

    Raises:
        ConflictError: the job runs in another hub process.
    """
    row = _job(hub, actor=actor, query_id=query_id)
    if row.status in OUTCOMES:
        return job_status(hub, actor=actor, query_id=query_id)
    done = runner(hub).cancel(query_id)
    if row.status == QUEUED:
        with hub.transaction() as session:
            cancel_queued(session, query_id, QueryCancelledError("Query was cancelled"))
    elif done is None:
        _request_cancel(hub, actor=actor, query_id=query_id)
    if done is not None:
        done.wait(CANCEL_WAIT_SECONDS)
    return job_status(hub, actor=actor, query_id=query_id)


def _request_cancel(hub: Hub, *, actor: Actor, query_id: str) -> None:
    """Ask the hub process running the job to cancel it, and wait a while for it to stop."""
    with hub.transaction() as session:
        session.execute(
            update(QueryRecord)
            .where(QueryRecord.id == query_id, QueryRecord.cancel_requested_at.is_(None))
            .values(cancel_requested_by=actor.ref, cancel_requested_at=clock.now())
        )
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        with hub.read() as session:
            status = session.execute(
                select(QueryRecord.status).where(QueryRecord.id == query_id)
            ).scalar()
        if status in OUTCOMES:
            return
        time.sleep(CANCEL_POLL_SECONDS / 2)
