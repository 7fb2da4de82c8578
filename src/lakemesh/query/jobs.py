"""Query jobs: queries submitted now and run by a thread pool of the hub process.

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
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy import select, update

from lakemesh import clock
from lakemesh.errors import ConflictError, LakemeshError, NotFoundError, error_class
from lakemesh.hub import Hub
from lakemesh.identity.actors import Actor
from lakemesh.query import service
from lakemesh.query.engines import Cancellation, QueryCancelledError
from lakemesh.query.history import (
    OUTCOMES,
    QUEUED,
    SUCCEEDED,
    cancel_queued,
    describe_query,
    facts_of,
    get_query_row,
    new_query_id,
    record_failure,
)
from lakemesh.query.results import ResultStore
from lakemesh.query.workgroups import WorkgroupSettings
from lakemesh.store.schema import QueryRecord

logger = logging.getLogger("lakemesh.query")

RUNNER_CACHE = "query_jobs"
WORKERS = 4
CANCEL_WAIT_SECONDS = 10.0
CANCEL_POLL_SECONDS = 0.25
_runner_lock = threading.Lock()


class JobRunner:
    """The thread pool running one hub process's jobs, and the cancellation handle of each."""

    def __init__(self, hub: Hub, *, workers: int = WORKERS) -> None:
        self.hub = hub
        self.results = ResultStore.of_home(hub.home.path)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lakemesh-query")
        self._lock = threading.Lock()
        self._jobs: dict[str, tuple[Cancellation, threading.Event]] = {}
        self._closed = threading.Event()
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
        """Stop watching for cancel requests and wait for the running jobs to end."""
        self._closed.set()
        self._pool.shutdown(wait=True)

    def start(
        self, *, actor: Actor, sql: str, workgroup: str | None, query_id: str, submitted: datetime
    ) -> None:
        """Run the queued job ``query_id`` when a worker is free."""
        cancellation, done = Cancellation(), threading.Event()
        with self._lock:
            self._jobs[query_id] = (cancellation, done)
        self._pool.submit(self._work, actor, sql, workgroup, query_id, submitted, cancellation)

    def _keep(self, outcome: service.QueryOutcome, settings: WorkgroupSettings) -> datetime:
        expires_at = clock.now() + settings.result_retention
        self.results.save(outcome.query_id, outcome.result.table, expires_at=expires_at)
        return expires_at

    def _work(
        self,
        actor: Actor,
        sql: str,
        workgroup: str | None,
        query_id: str,
        submitted: datetime,
        cancellation: Cancellation,
    ) -> None:
        try:
            if not cancellation.cancelled:
                service.run(
                    self.hub,
                    actor=actor,
                    sql=sql,
                    workgroup=workgroup,
                    query_id=query_id,
                    mode=service.ASYNC,
                    submitted_at=submitted,
                    cancellation=cancellation,
                    keep_result=self._keep,
                )
        except LakemeshError:
            pass  # recorded in the history and the audit trail by the service
        except Exception:
            logger.exception("Query job %s failed unexpectedly", query_id)
            self._record_internal_error(query_id)
        finally:
            with self._lock:
                _, done = self._jobs.pop(query_id, (None, threading.Event()))
            done.set()

    def _record_internal_error(self, query_id: str) -> None:
        with self.hub.transaction() as session:
            row = get_query_row(session, query_id)
            if row is not None and row.status not in OUTCOMES:
                error = LakemeshError("Internal server error")
                record_failure(session, facts_of(row), error, duration_ms=0)

    def cancel(self, query_id: str) -> threading.Event | None:
        """Cancel the job if this process runs it; the event is set once the job has stopped."""
        with self._lock:
            found = self._jobs.get(query_id)
        if found is None:
            return None
        cancellation, done = found
        cancellation.cancel()
        return done


def runner(hub: Hub) -> JobRunner:
    """The job runner of ``hub`` (made on first use)."""
    with _runner_lock:
        found = hub.caches.get(RUNNER_CACHE)
        if not isinstance(found, JobRunner):
            found = JobRunner(hub)
            hub.caches[RUNNER_CACHE] = found
    return found


def submit_job(hub: Hub, *, actor: Actor, sql: str, workgroup: str | None = None) -> dict[str, Any]:
    """Queue ``sql`` for ``actor``; returns ``{"id", "status"}`` at once.

    Raises:
        NotFoundError: the workgroup does not exist.
    """
    query_id = new_query_id()
    with hub.transaction() as session:
        submitted = service.queue_job(
            session, actor=actor, sql=sql, workgroup=workgroup, query_id=query_id
        )
    runner(hub).start(
        actor=actor, sql=sql, workgroup=workgroup, query_id=query_id, submitted=submitted
    )
    return {"id": query_id, "status": QUEUED}


def _job(hub: Hub, *, actor: Actor, query_id: str, own: bool = False) -> QueryRecord:
    """The job's row, for its principal (or a mesh admin unless ``own``); others get NotFound."""
    with hub.read() as session:
        row = get_query_row(session, query_id)
    if row is None or (row.principal != actor.ref and (own or not actor.is_mesh_admin)):
        raise NotFoundError(f"Query job does not exist: {query_id}", details={"id": query_id})
    return row


def job_status(hub: Hub, *, actor: Actor, query_id: str) -> dict[str, Any]:
    """The job's history record with ``id``: its status, and its outcome once it finished;
    ``cancel_requested_at`` when a cancellation was asked for from another hub process."""
    row = _job(hub, actor=actor, query_id=query_id)
    requested = row.cancel_requested_at.isoformat() if row.cancel_requested_at else None
    return {"id": query_id, **describe_query(row), "cancel_requested_at": requested}


def job_results(hub: Hub, *, actor: Actor, query_id: str) -> tuple[dict[str, Any], pa.Table]:
    """The job's record and result (only for its own principal).

    Raises:
        ConflictError: the job has not finished.
        NotFoundError: no such job of the actor's, or its result expired.
        LakemeshError: the error that stopped the job (denied, rejected, failed, cancelled).
    """
    row = _job(hub, actor=actor, query_id=query_id, own=True)
    record = {"id": query_id, **describe_query(row)}
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
            details={"id": query_id, "expired_at": describe_query(row)["result_expires_at"]},
        )
    return record, table


def cancel_job(hub: Hub, *, actor: Actor, query_id: str) -> dict[str, Any]:
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
