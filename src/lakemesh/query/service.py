"""Governed SQL through the hub: resolve, admit, run, record (DESIGN §5).

One query goes through four steps:

1. In one read transaction: the workgroup's settings, the statement prepared (parsed once, cached
   by its text) and refused if it is not one read-only query, every table it names resolved and
   authorized for the actor once (its row read and its files listed once), and the workgroup's
   engine checked to read the tables' storage before that engine is loaded.
2. Admission, when the workgroup limits concurrency or the query is a job: in one write
   transaction, the running queries and this month's bytes are checked and a running row written.
3. The plan (the governed statement, cached by access shape) and its execution in the
   workgroup's engine, outside any transaction (:mod:`lakemesh.query.gateway`).
4. In one write transaction: the history row and the audit events of the outcome.

Denials, rejections and failures are recorded exactly like successes (step 4), then raised.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import clock
from lakemesh.errors import InvalidInputError, LakemeshError, LimitExceededError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.query.engines import (
    Cancellation,
    QueryCancelledError,
    QueryEngine,
    QueryLimits,
    check_storage,
    load_engine,
)
from lakemesh.query.gateway import (
    QueryResult,
    StreamedQuery,
    after_planning,
    execute,
    plan,
    prepare,
)
from lakemesh.query.gateway import stream as gateway_stream
from lakemesh.query.history import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    QueryFacts,
    bytes_this_month,
    insert_query,
    new_query_id,
    outcome_of,
    record_failure,
    record_success,
    running_queries,
    start_queued,
)
from lakemesh.query.plans import ParsedStatement
from lakemesh.query.resolution import resolve_in_path
from lakemesh.query.rewrite import RewrittenQuery, resolve_tables
from lakemesh.query.table import TableAccess, scan_bytes
from lakemesh.query.validate import MAX_SQL_BYTES_SETTING
from lakemesh.query.workgroups import DEFAULT_WORKGROUP, WorkgroupSettings, workgroup_settings
from lakemesh.settings import get_setting
from lakemesh.sharing.products import deprecation_notices
from lakemesh.store.schema import Workgroup

SYNC, ASYNC = "sync", "async"
ENGINES_CACHE = "query_engines"
SALT_CACHE = "query_mask_salt"
_cache_lock = threading.Lock()


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


class WithdrawnError(LakemeshError):
    """A queued job was cancelled before it started (already recorded; nothing to do)."""


class SlotBusyError(LakemeshError):
    """A job found its workgroup or principal at a concurrency limit: it stays queued and waits
    (nothing recorded). ``limit`` is the error a synchronous query would have got."""

    def __init__(self, limit: LimitExceededError) -> None:
        super().__init__(limit.message, details=limit.details)
        self.limit = limit


@dataclass
class _Prepared:
    settings: WorkgroupSettings
    statement: ParsedStatement
    tables: dict[tuple[str, ...], TableAccess]
    bytes_to_scan: int
    warnings: tuple[str, ...] = ()


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
    attempt = _Attempt(hub, _facts(sql, actor, workgroup, query_id, mode, submitted_at))
    try:
        planned, engine, limits = attempt.plan(
            actor=actor, sql=sql, search_path=search_path, wait_for_slot=wait_for_slot
        )
        result = execute(
            planned,
            sql=sql,
            engine=engine,
            limits=limits,
            hash_salt=_mask_salt(hub),
            cancellation=cancellation,
            started=attempt.timer,
        )
        outcome = QueryOutcome(
            attempt.facts.id,
            attempt.settings.name,
            result.engine,
            result,
            _elapsed_ms(attempt.timer),
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
    attempt = _Attempt(hub, _facts(sql, actor, workgroup, None, SYNC, None), probe=probe)
    try:
        planned, engine, limits = attempt.plan(actor=actor, sql=sql, search_path=search_path)
        streamed = gateway_stream(
            planned,
            sql=sql,
            engine=engine,
            limits=limits,
            hash_salt=_mask_salt(hub),
            cancellation=cancellation,
            started=attempt.timer,
        )
    except Exception as error:
        raise attempt.failed(error) from None
    return QueryStream(attempt, streamed)


class QueryStream:
    """A query's rows read batch by batch (:func:`stream`), recorded once it ends."""

    def __init__(self, attempt: _Attempt, streamed: StreamedQuery) -> None:
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
                duration_ms=_elapsed_ms(self._attempt.timer),
            )


def _facts(
    sql: str,
    actor: Actor,
    workgroup: str | None,
    query_id: str | None,
    mode: str,
    submitted_at: datetime | None,
) -> QueryFacts:
    return QueryFacts(
        id=query_id or new_query_id(),
        principal=actor.ref,
        sql=sql,
        workgroup=workgroup or DEFAULT_WORKGROUP,
        engine="",
        mode=mode,
        submitted_at=submitted_at or clock.now(),
        stored=mode == ASYNC,
    )


class _Attempt:
    """One query on its way through steps 1 to 3, and the record of its failure (step 4)."""

    def __init__(self, hub: Hub, facts: QueryFacts, *, probe: bool = False) -> None:
        self.hub = hub
        self.facts = facts
        self.probe = probe
        self.timer = time.perf_counter()
        self.prepared: _Prepared | None = None
        self.reached_engine = False

    @property
    def settings(self) -> WorkgroupSettings:
        assert self.prepared is not None
        return self.prepared.settings

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.prepared.warnings if self.prepared is not None else ()

    def plan(
        self,
        *,
        actor: Actor,
        sql: str,
        search_path: Sequence[str] = (),
        wait_for_slot: bool = False,
    ) -> tuple[RewrittenQuery, QueryEngine, QueryLimits]:
        """Steps 1 to 3 up to the engine: prepared, admitted, planned; the engine and the
        limits left for it."""
        facts = self.facts
        self.prepared = _prepare(
            self.hub, actor=actor, sql=sql, facts=facts, search_path=search_path
        )
        settings = self.prepared.settings
        if _needs_admission(settings, facts.mode) and not self.probe:
            _admit(self.hub, facts=facts, prepared=self.prepared, wait_for_slot=wait_for_slot)
        # Planning so far (parse, resolve, admission) counts against the time limit; loading
        # the engine, once per hub process, does not; the rewrite does.
        limits = after_planning(settings.limits(), time.perf_counter() - self.timer)
        engine = _engine(self.hub, settings)
        rewriting = time.perf_counter()
        planned = plan(
            self.prepared.statement,
            self.prepared.tables,
            sql=sql,
            principal=actor.ref,
            engine=engine,
        )
        limits = after_planning(limits, time.perf_counter() - rewriting)
        facts.started_at = facts.started_at or clock.now()
        self.reached_engine = True
        return planned, engine, limits

    def failed(self, error: Exception) -> Exception:
        """Record ``error`` as the query's outcome; returns what to raise (a limit restated
        with its workgroup; an unexpected error is recorded as internal and raised as it is)."""
        if isinstance(error, WithdrawnError | SlotBusyError):
            return error
        prepared = self.prepared
        if isinstance(error, LakemeshError):
            timeout = prepared.settings.limits().timeout_seconds if prepared else None
            error = _in_workgroup(error, self.facts.workgroup, timeout=timeout)
            ran = self.reached_engine and outcome_of(error) in (FAILED, CANCELLED)
            _record_failure(self.hub, self.facts, error, self.timer, prepared if ran else None)
            return error
        unexpected = LakemeshError("Query failed: internal error (see the hub's log)")
        _record_failure(
            self.hub, self.facts, unexpected, self.timer, prepared if self.reached_engine else None
        )
        return error


def _record_failure(
    hub: Hub, facts: QueryFacts, error: LakemeshError, timer: float, ran: _Prepared | None
) -> None:
    """Step 4 for a query that did not succeed; one that reached its engine counts its bytes."""
    facts.bytes_scanned = ran.bytes_to_scan if ran is not None else 0
    with hub.transaction() as session:
        record_failure(session, facts, error, duration_ms=_elapsed_ms(timer))


def _prepare(
    hub: Hub, *, actor: Actor, sql: str, facts: QueryFacts, search_path: Sequence[str] = ()
) -> _Prepared:
    """Step 1, in one read transaction: the statement prepared (parsed once, cached by its
    text), each table it names resolved once, the engine's storage checked before the engine
    loads. Errors leave the transaction before they are raised, so the hub does not audit a
    denial a second time (the outcome's record audits it)."""
    failure: LakemeshError | None = None
    with hub.read() as session:
        try:
            settings = workgroup_settings(session, facts.workgroup)
            facts.workgroup, facts.engine = settings.name, settings.engine
            statement = prepare(sql, max_bytes=get_setting(session, MAX_SQL_BYTES_SETTING))
            names: list[str] = []

            def resolve(parts: tuple[str, ...]) -> TableAccess:
                table = resolve_in_path(session, actor=actor, parts=parts, search_path=search_path)
                names.append(table.name)
                facts.tables = list(dict.fromkeys(names))
                return table

            tables = resolve_tables(statement.table_names, principal=actor.ref, resolve=resolve)
            check_storage(settings.engine, tables.values())
            notices = deprecation_notices(session, [t.name for t in tables.values()])
            prepared = _Prepared(
                settings, statement, tables, scan_bytes(tables.values()), tuple(notices)
            )
            if not _needs_admission(settings, facts.mode):
                _check_month(session, prepared)
        except LakemeshError as error:
            failure = error
    if failure is not None:
        raise failure
    return prepared


def _needs_admission(settings: WorkgroupSettings, mode: str) -> bool:
    """Jobs and queries of a workgroup that limits concurrency are admitted in a write."""
    limits = (settings.max_concurrent, settings.max_concurrent_per_principal)
    return mode == ASYNC or any(limit is not None for limit in limits)


def _admit(
    hub: Hub, *, facts: QueryFacts, prepared: _Prepared, wait_for_slot: bool = False
) -> None:
    """Step 2: check the workgroup's running queries (in all and the principal's) and month,
    then mark the query running.

    The workgroup row is locked, so admissions of one workgroup are serialised across hub
    processes (SQLite serialises every write transaction anyway).

    Raises:
        LimitExceededError: a concurrency limit is reached (or SlotBusyError, ``wait_for_slot``).
    """
    settings = prepared.settings
    with hub.transaction() as session:
        session.execute(
            select(Workgroup.id).where(Workgroup.name == settings.name).with_for_update()
        ).first()
        busy = _concurrency_limit(session, settings, facts.principal)
        if busy is not None:
            raise SlotBusyError(busy) if wait_for_slot else busy
        _check_month(session, prepared)
        now = clock.now()
        facts.bytes_scanned = prepared.bytes_to_scan
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


def _check_month(session: Session, prepared: _Prepared) -> None:
    settings = prepared.settings
    limit = settings.max_bytes_per_month
    if limit is None:
        return
    used = bytes_this_month(session, settings.name)
    if used + prepared.bytes_to_scan > limit:
        raise LimitExceededError(
            f"Query would scan {prepared.bytes_to_scan} bytes, over the limit of {limit} bytes "
            f"per month (max_bytes_per_month) of workgroup {settings.name}: {used} bytes were "
            "scanned this month",
            details={
                "limit": "max_bytes_per_month",
                "value": limit,
                "used": used,
                "bytes_scanned": prepared.bytes_to_scan,
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


def _engine(hub: Hub, settings: WorkgroupSettings) -> QueryEngine:
    """The workgroup's engine, made once per hub process and engine configuration."""
    options = settings.engine_options()
    key = (settings.engine, tuple(sorted(options.items())))
    with _cache_lock:
        engines: dict[tuple[str, tuple[tuple[str, str], ...]], QueryEngine]
        engines = hub.caches.setdefault(ENGINES_CACHE, {})
        engine = engines.get(key)
        if engine is None:
            try:
                engine = load_engine(settings.engine, **options)
            except InvalidInputError as e:
                raise InvalidInputError(
                    f"Workgroup {settings.name} runs queries on the {settings.engine} engine, "
                    f"which is not available: {e.message}",
                    details={**e.details, "workgroup": settings.name},
                ) from e
            engines[key] = engine
    return engine


def _mask_salt(hub: Hub) -> str:
    """The hash mask's salt, read (or made) once per hub process."""
    with _cache_lock:
        salt = hub.caches.get(SALT_CACHE)
        if not isinstance(salt, str):
            salt = hub.mask_salt()
            hub.caches[SALT_CACHE] = salt
    return salt


def _in_workgroup(
    error: LakemeshError, workgroup: str, *, timeout: float | None = None
) -> LakemeshError:
    """A limit the engine enforced, restated with the workgroup that set it. The engine got the
    time planning left (``after_planning``); a timeout names the workgroup's whole ``timeout``."""
    if not isinstance(error, LimitExceededError) or "workgroup" in error.details:
        return error
    message, details = error.message, {**error.details, "workgroup": workgroup}
    if details.get("limit") == "timeout_seconds" and "planning_seconds" not in details and timeout:
        message = f"Query exceeded the time limit of {timeout:g}s, planning included"
        details["value"] = timeout
    return LimitExceededError(f"{message} (workgroup {workgroup})", details=details)


def _elapsed_ms(timer: float) -> int:
    return int((time.perf_counter() - timer) * 1000)


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
