"""The query gateway: validate, rewrite, execute in the sandbox, report (DESIGN §5)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from dataclasses import dataclass

import pyarrow as pa
from sqlglot import exp

from lakemesh.errors import LakemeshError, LimitExceededError, StorageError
from lakemesh.query.engines import Cancellation, QueryEngine, QueryLimits, load_engine
from lakemesh.query.plans import (
    PLAN_CACHE_SIZE,
    STATEMENT_CACHE_SIZE,
    LRUCache,
    ParsedStatement,
    access_key,
)
from lakemesh.query.references import written_parts
from lakemesh.query.rewrite import (
    RewrittenQuery,
    TableRead,
    reference_positions,
    resolve_tables,
    rewrite,
)
from lakemesh.query.secure import SALT_PARAMETER
from lakemesh.query.table import Resolver
from lakemesh.query.validate import parse_statement, too_deep

_statements: LRUCache[str, ParsedStatement] = LRUCache(STATEMENT_CACHE_SIZE)
_plans: LRUCache[object, RewrittenQuery] = LRUCache(PLAN_CACHE_SIZE)
_default_engine: list[QueryEngine] = []
_default_engine_lock = threading.Lock()


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


def plan_query(
    sql: str, *, principal: str, resolve: Resolver, engine: QueryEngine | None = None
) -> RewrittenQuery:
    """Validate and rewrite ``sql`` for ``principal`` without running it.

    Raises:
        QueryRejectedError: the statement is not one read-only query over allowed functions.
        NotFoundError: a table does not exist or is not visible (from ``resolve``).
        AccessDeniedError: a table or column may not be read.
    """
    try:
        return _plan(sql, principal=principal, resolve=resolve, engine=engine or default_engine())
    except RecursionError as e:  # a construct nested deeper than the rewrite can walk
        raise too_deep() from e


def _plan(sql: str, *, principal: str, resolve: Resolver, engine: QueryEngine) -> RewrittenQuery:
    parsed = _statements.get(sql)
    if parsed is None:
        statement = parse_statement(sql)
        positions = reference_positions(statement)
        nodes = list(statement.find_all(exp.Table))
        names = tuple(dict.fromkeys(written_parts(nodes[i]) for i in positions))
        parsed = ParsedStatement(statement, names, positions)
        _statements.put(sql, parsed)
    tables = resolve_tables(parsed.table_names, principal=principal, resolve=resolve)
    # Resolution and authorization above run on every query; only the rewrite they feed is cached.
    key = (sql, type(engine), engine.dialect, tuple(access_key(t) for t in tables.values()))
    planned = _plans.get(key)
    if planned is None:
        planned = rewrite(
            parsed.statement,
            principal=principal,
            resolve=tables.__getitem__,
            scan=engine.scan,
            dialect=engine.dialect,
            positions=parsed.positions,
        )
        _plans.put(key, planned)
    return planned


def default_engine() -> QueryEngine:
    """The process's DuckDB engine, for callers that do not pass one."""
    with _default_engine_lock:
        if not _default_engine:
            _default_engine.append(load_engine("duckdb"))
        return _default_engine[0]


def clear_plan_cache() -> None:
    """Forget every cached statement and plan (tests and benchmarks measure cold planning)."""
    _statements.clear()
    _plans.clear()


def run_query(
    sql: str,
    *,
    principal: str,
    resolve: Resolver,
    engine: QueryEngine | None = None,
    limits: QueryLimits | None = None,
    hash_salt: str | None = None,
    cancellation: Cancellation | None = None,
) -> QueryResult:
    """Run ``sql`` for ``principal`` and return only what its grants allow.

    ``resolve`` maps each table name as written to its authorized :class:`TableAccess`;
    ``hash_salt`` salts the ``hash`` mask (required when one applies).

    Raises:
        QueryRejectedError: refused before execution, or by the engine.
        NotFoundError: a table does not exist or is not visible.
        AccessDeniedError: a table or column may not be read.
        LimitExceededError: a limit in ``limits`` stopped the query.
        QueryCancelledError: ``cancellation`` stopped the query.
    """
    started = time.perf_counter()
    engine = engine or default_engine()
    limits = limits or QueryLimits()
    planned = plan_query(sql, principal=principal, resolve=resolve, engine=engine)
    limits = after_planning(limits, time.perf_counter() - started)
    files = planned.files
    listed = {path: size for table in planned.sources for path, size in table.listed_sizes.items()}
    bytes_scanned = sum(listed[path] if path in listed else _size(path) for path in files)
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
    parameters: dict[str, str] = {}
    if planned.uses_salt:
        if not hash_salt:
            raise LakemeshError("A hash mask applies but the gateway has no hash salt")
        parameters[SALT_PARAMETER] = hash_salt
    rewritten_sql = planned.sql
    result = engine.execute(
        sql=rewritten_sql,
        files=files,
        parameters=parameters,
        limits=limits,
        cancellation=cancellation,
        tables=planned.sources,
    )
    return QueryResult(
        table=result.table,
        sql=sql,
        rewritten_sql=rewritten_sql,
        tables=planned.tables,
        bytes_scanned=bytes_scanned,
        rows=result.rows,
        duration_seconds=time.perf_counter() - started,
        engine=engine.name,
    )


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


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError as e:
        raise StorageError(f"Table data file cannot be read: {path}", details={"path": path}) from e
