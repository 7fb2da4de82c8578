"""Running a plan of the query gateway (:mod:`lakemesh.query.gateway`): the bytes it scans
checked against the workgroup's limit, the time planning took taken off its time limit, then the
plan run in the engine's sandbox, all at once (:func:`execute`) or batch by batch
(:func:`stream`), with what the history records of it (:class:`QueryResult`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pyarrow as pa

from lakemesh.errors import LakemeshError, LimitExceededError
from lakemesh.query.engines import (
    Cancellation,
    EngineResult,
    EngineStream,
    QueryEngine,
    QueryLimits,
)
from lakemesh.query.rewrite import RewrittenQuery, TableRead
from lakemesh.query.secure import SALT_PARAMETER
from lakemesh.query.table import scan_bytes

_Run = TypeVar("_Run", EngineResult, EngineStream)


@dataclass(frozen=True)
class QueryResult:
    """The rows of a governed query and everything the audit records about it.

    ``bytes_scanned`` is the total size of the files of every table the query reads (objects by
    the sizes their listing gave, local files measured before the query runs): an upper
    bound of what the engine opens (partition pruning and column projection read less), known
    before the query runs so that a workgroup limit can stop it first.
    """

    table: pa.Table
    sql: str
    rewritten_sql: str
    tables: tuple[TableRead, ...]
    bytes_scanned: int
    rows: int
    duration_seconds: float
    engine: str

    @property
    def columns_read(self) -> dict[str, tuple[str, ...]]:
        """Table name to the columns the query read of it."""
        return {table.name: table.columns for table in self.tables}

    @property
    def filters_applied(self) -> dict[str, tuple[str, ...]]:
        """Table name to the row predicates applied (tables read in full are left out)."""
        return {table.name: table.predicates for table in self.tables if table.predicates}

    @property
    def masks_applied(self) -> dict[str, dict[str, str]]:
        """Table name to the masks applied to the columns read, ``{column: function}``."""
        return {table.name: dict(table.masks) for table in self.tables if table.masks}


def execute(
    planned: RewrittenQuery,
    *,
    sql: str,
    engine: QueryEngine,
    limits: QueryLimits,
    hash_salt: str | None = None,
    cancellation: Cancellation | None = None,
    started: float | None = None,
) -> QueryResult:
    """Run a plan of ``sql`` in ``engine``'s sandbox, within ``limits``.

    ``started`` is when the query's work began (``time.perf_counter()``), for its duration.

    Raises:
        LimitExceededError: the query would scan more than ``limits`` allow, or a limit stopped it.
        QueryRejectedError: the engine refused the statement.
        QueryCancelledError: ``cancellation`` stopped the query.
    """
    started = time.perf_counter() if started is None else started
    result, bytes_scanned = _start(engine.execute, planned, limits, hash_salt, cancellation)
    return QueryResult(
        table=result.table,
        sql=sql,
        rewritten_sql=planned.sql,
        tables=planned.tables,
        bytes_scanned=bytes_scanned,
        rows=result.rows,
        duration_seconds=time.perf_counter() - started,
        engine=engine.name,
    )


class StreamedQuery:
    """A governed query whose rows are read batch by batch (:func:`stream`): its schema, its
    batches, and once they are read (or it is closed) the :class:`QueryResult` the history
    records, whose ``table`` is empty (the rows went to the reader) and ``rows`` counts them."""

    def __init__(
        self,
        opened: EngineStream,
        *,
        sql: str,
        planned: RewrittenQuery,
        bytes_scanned: int,
        engine: str,
        started: float,
    ) -> None:
        self.schema = opened.schema
        self.rows = 0
        self._opened = opened
        self._sql = sql
        self._planned = planned
        self._bytes_scanned = bytes_scanned
        self._engine = engine
        self._started = started

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for batch in self._opened:
            self.rows += batch.num_rows
            yield batch

    def close(self) -> None:
        """Stop the query if it was not read to its end."""
        self._opened.close()

    def summary(self) -> QueryResult:
        """What the history records of the query so far."""
        return QueryResult(
            table=self.schema.empty_table(),
            sql=self._sql,
            rewritten_sql=self._planned.sql,
            tables=self._planned.tables,
            bytes_scanned=self._bytes_scanned,
            rows=self.rows,
            duration_seconds=time.perf_counter() - self._started,
            engine=self._engine,
        )


def stream(
    planned: RewrittenQuery,
    *,
    sql: str,
    engine: QueryEngine,
    limits: QueryLimits,
    hash_salt: str | None = None,
    cancellation: Cancellation | None = None,
    started: float | None = None,
) -> StreamedQuery:
    """Start a plan of ``sql`` in ``engine``'s sandbox as :func:`execute` does, and return its
    rows as the engine produces them (:meth:`QueryEngine.stream`).

    Raises:
        LimitExceededError: the query would scan more than ``limits`` allow, or a limit stopped
            it (reading the batches raises the limits met later).
        QueryRejectedError: the engine refused the statement.
        QueryCancelledError: ``cancellation`` stopped the query.
    """
    started = time.perf_counter() if started is None else started
    opened, bytes_scanned = _start(engine.stream, planned, limits, hash_salt, cancellation)
    return StreamedQuery(
        opened,
        sql=sql,
        planned=planned,
        bytes_scanned=bytes_scanned,
        engine=engine.name,
        started=started,
    )


def _start(
    run: Callable[..., _Run],
    planned: RewrittenQuery,
    limits: QueryLimits,
    hash_salt: str | None,
    cancellation: Cancellation | None,
) -> tuple[_Run, int]:
    """Check the bytes ``planned`` scans against ``limits``, then run it with ``run`` (an
    engine's :meth:`~QueryEngine.execute` or :meth:`~QueryEngine.stream`): what ``run`` returns
    and the bytes scanned."""
    bytes_scanned = _check_scan(planned, limits)
    outcome = run(
        sql=planned.sql,
        files=planned.files,
        parameters=_parameters(planned, hash_salt),
        limits=limits,
        cancellation=cancellation,
        tables=planned.sources,
    )
    return outcome, bytes_scanned


def _check_scan(planned: RewrittenQuery, limits: QueryLimits) -> int:
    """The bytes the plan reads, checked against ``limits.max_bytes_scanned``."""
    bytes_scanned = scan_bytes(planned.sources)
    if limits.max_bytes_scanned is not None and bytes_scanned > limits.max_bytes_scanned:
        raise LimitExceededError(
            f"Query would scan {bytes_scanned} bytes, over the limit of "
            f"{limits.max_bytes_scanned} bytes per query",
            details={
                "limit": "max_bytes_scanned",
                "value": limits.max_bytes_scanned,
                "bytes_scanned": bytes_scanned,
            },
        )
    return bytes_scanned


def _parameters(planned: RewrittenQuery, hash_salt: str | None) -> dict[str, str]:
    """The engine parameters of a plan: the salt of its ``hash`` masks, when it has some."""
    if not planned.uses_salt:
        return {}
    if not hash_salt:
        raise LakemeshError("A hash mask applies but the gateway has no hash salt")
    return {SALT_PARAMETER: hash_salt}


def after_planning(limits: QueryLimits, planning_seconds: float) -> QueryLimits:
    """``limits`` with the time planning took (parse, validate, resolve, rewrite) taken off the
    query's time limit: planning a huge statement is CPU the hub spends on the query too.

    Raises:
        LimitExceededError: planning alone used up the time limit.
    """
    if limits.timeout_seconds is None:
        return limits
    left = limits.timeout_seconds - planning_seconds
    if left <= 0:
        raise LimitExceededError(
            f"Query planning took {planning_seconds:.1f}s, over the time limit of "
            f"{limits.timeout_seconds:g}s",
            details={
                "limit": "timeout_seconds",
                "value": limits.timeout_seconds,
                "planning_seconds": round(planning_seconds, 3),
            },
        )
    return dataclasses.replace(limits, timeout_seconds=left)
