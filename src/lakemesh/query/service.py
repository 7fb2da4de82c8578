"""Governed SQL through the hub: resolve, admit, run, record (DESIGN §5).

One query goes through four steps:

1. In one read transaction: the workgroup's settings, the statement prepared (parsed once, cached
   by its text) and refused if it is not one read-only query, every table it names resolved and
   authorized for the actor once (its row read and its files listed once), and the workgroup's
   engine checked to read the tables' storage before that engine is loaded
   (:mod:`lakemesh.query.preparation`).
2. Admission, when the workgroup limits concurrency or the query is a job: in one write
   transaction, the running queries and this month's bytes are checked and a running row written
   (:mod:`lakemesh.query.admission`).
3. The plan (the governed statement, cached by access shape) and its execution in the
   workgroup's engine (:mod:`lakemesh.query.runtime` keeps one per hub process), outside any
   transaction (:mod:`lakemesh.query.gateway`).
4. In one write transaction: the history row and the audit events of the outcome.

Denials, rejections and failures are recorded exactly like successes (step 4), then raised.
:class:`~lakemesh.query.attempt.Attempt` carries a query through steps 1 to 3 and records its
failure; this module runs it to its result (:func:`run`) or its stream (:func:`stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query.admission import ASYNC, SYNC, SlotBusyError, WithdrawnError, queue_job
from lakemesh.query.attempt import Attempt, elapsed_ms, query_facts
from lakemesh.query.engines import Cancellation, QueryCancelledError
from lakemesh.query.execution import QueryResult, StreamedQuery, execute
from lakemesh.query.execution import stream as stream_plan
from lakemesh.query.history import record_success
from lakemesh.query.runtime import mask_salt
from lakemesh.query.workgroups import WorkgroupSettings


@dataclass(frozen=True)
class QueryOutcome:
    """A query that succeeded: its id, where it ran and its result."""

    query_id: str
    workgroup: str
    engine: str
    result: QueryResult
    duration_ms: int
    warnings: tuple[str, ...] = ()
    """Notices for the reader, e.g. a table of a deprecated data product."""


ResultKeeper = Callable[[QueryOutcome, WorkgroupSettings], datetime | None]
"""Stores a job's result before its success is recorded; returns when the stored copy expires."""


def run(
    hub: Hub,
    *,
    actor: Actor,
    sql: str,
    workgroup: str | None = None,
    query_id: str | None = None,
    mode: str = SYNC,
    submitted_at: datetime | None = None,
    cancellation: Cancellation | None = None,
    keep_result: ResultKeeper | None = None,
    wait_for_slot: bool = False,
    search_path: Sequence[str] = (),
) -> QueryOutcome:
    """Run ``sql`` for ``actor`` in ``workgroup`` (``primary`` when None) and record it.

    ``search_path`` completes names shorter than three parts (``DOMAIN`` or ``DOMAIN.DATABASE``
    entries, :func:`~lakemesh.query.resolution.resolve_in_path`), as PostgreSQL clients set it.

    A job (``mode="async"``) passes the id of its queued history row and a ``cancellation``;
    with ``wait_for_slot``, a concurrency limit leaves it queued (:class:`SlotBusyError`).

    Raises:
        QueryRejectedError: the statement is not one read-only query over allowed functions.
        AccessDeniedError: a table or column may not be read (a missing table reads the same).
        NotFoundError: the workgroup, or a table the actor may know is missing, does not exist.
        LimitExceededError: a limit of the workgroup stopped the query (message names both).
        QueryCancelledError: ``cancellation`` stopped it.
    """
    attempt = Attempt(hub, query_facts(sql, actor, workgroup, query_id, mode, submitted_at))
    try:
        planned, engine, limits = attempt.plan(
            actor=actor, sql=sql, search_path=search_path, wait_for_slot=wait_for_slot
        )
        result = execute(
            planned,
            sql=sql,
            engine=engine,
            limits=limits,
            hash_salt=mask_salt(hub),
            cancellation=cancellation,
            started=attempt.timer,
        )
        outcome = QueryOutcome(
            attempt.facts.id,
            attempt.settings.name,
            result.engine,
            result,
            elapsed_ms(attempt.timer),
            attempt.warnings,
        )
        expires_at = keep_result(outcome, attempt.settings) if keep_result is not None else None
    except Exception as error:
        raise attempt.failed(error) from None
    with hub.transaction() as session:
        record_success(
            session,
            attempt.facts,
            result,
            duration_ms=outcome.duration_ms,
            result_expires_at=expires_at,
        )
    return outcome


def stream(
    hub: Hub,
    *,
    actor: Actor,
    sql: str,
    workgroup: str | None = None,
    cancellation: Cancellation | None = None,
    search_path: Sequence[str] = (),
    probe: bool = False,
) -> QueryStream:
    """Start ``sql`` for ``actor`` as :func:`run` does (the same validation, enforcement,
    limits, history and audit) and return its rows as the engine produces them: the hub holds
    one batch at a time, and the engine waits while the reader does not read.

    The query is recorded when its last batch has been read, when reading raises, or when the
    stream is closed before its end (a success with the rows read until then).

    A ``probe`` asks for the shape of a statement's rows (a PostgreSQL client describing a
    prepared statement before it runs it, as ``SELECT ... LIMIT 0``): it is planned, enforced
    and run the same way, but not admitted against concurrency limits, and only a failure is
    recorded (the statement itself is recorded when the client runs it).

    Raises:
        The errors of :func:`run` met before the first batch; reading raises those met later.
    """
    attempt = Attempt(hub, query_facts(sql, actor, workgroup, None, SYNC, None), probe=probe)
    try:
        planned, engine, limits = attempt.plan(actor=actor, sql=sql, search_path=search_path)
        streamed = stream_plan(
            planned,
            sql=sql,
            engine=engine,
            limits=limits,
            hash_salt=mask_salt(hub),
            cancellation=cancellation,
            started=attempt.timer,
        )
    except Exception as error:
        raise attempt.failed(error) from None
    return QueryStream(attempt, streamed)


class QueryStream:
    """A query's rows read batch by batch (:func:`stream`), recorded once it ends."""

    def __init__(self, attempt: Attempt, streamed: StreamedQuery) -> None:
        self.query_id = attempt.facts.id
        self.workgroup = attempt.settings.name
        self.schema = streamed.schema
        self.warnings = attempt.warnings
        self._attempt = attempt
        self._streamed = streamed
        self._recorded = False
        self._batches = self._read()

    @property
    def rows(self) -> int:
        """Rows read so far."""
        return self._streamed.rows

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self._batches

    def _read(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._streamed
        except Exception as error:
            self._recorded = True
            raise self._attempt.failed(error) from None
        self._record()

    def close(self) -> None:
        """Stop a query not read to its end and record it with the rows read so far."""
        if self._recorded:
            return
        self._streamed.close()
        self._record()

    def _record(self) -> None:
        if self._recorded:
            return
        self._recorded = True
        if self._attempt.probe:
            return
        with self._attempt.hub.transaction() as session:
            record_success(
                session,
                self._attempt.facts,
                self._streamed.summary(),
                duration_ms=elapsed_ms(self._attempt.timer),
            )


__all__ = [
    "ASYNC",
    "SYNC",
    "QueryCancelledError",
    "QueryOutcome",
    "QueryStream",
    "ResultKeeper",
    "SlotBusyError",
    "WithdrawnError",
    "queue_job",
    "run",
    "stream",
]
