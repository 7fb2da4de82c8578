"""The query gateway: one pass per query, prepare → resolve → plan → execute (DESIGN §5).

- :func:`prepare` parses and validates a statement once and finds the tables it names; prepared
  statements are cached by their SQL text, so a repeated statement is not parsed again.
- Resolution maps each name to its authorized :class:`TableAccess`, once per query: the service
  does it in its read transaction (:mod:`lakemesh.query.resolution`), :func:`run_query` through
  the resolver it is given.
- :func:`plan` secures every table and rewrites the statement for the engine; plans are cached
  by the access shape of the tables (:mod:`lakemesh.query.plans`).
- Execution (:mod:`lakemesh.query.execution`) checks the bytes to scan and runs the plan in the
  engine's sandbox, all at once or batch by batch.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping

from sqlglot import exp

from lakemesh.query.engines import Cancellation, QueryEngine, QueryLimits, load_engine
from lakemesh.query.execution import QueryResult, after_planning, execute
from lakemesh.query.plans import (
    PLAN_CACHE_SIZE,
    STATEMENT_CACHE_SIZE,
    LRUCache,
    ParsedStatement,
    access_key,
)
from lakemesh.query.references import written_parts
from lakemesh.query.rewrite import RewrittenQuery, reference_positions, resolve_tables, rewrite
from lakemesh.query.statistics import proven_filters
from lakemesh.query.table import Resolver, TableAccess
from lakemesh.query.validate import check_sql_size, parse_statement, too_deep

_statements: LRUCache[str, ParsedStatement] = LRUCache(STATEMENT_CACHE_SIZE)
_plans: LRUCache[object, RewrittenQuery] = LRUCache(PLAN_CACHE_SIZE)
_default_engine: list[QueryEngine] = []
_default_engine_lock = threading.Lock()


def prepare(sql: str, *, max_bytes: int | None = None) -> ParsedStatement:
    """Parse and validate ``sql`` once (cached by its text) and find the tables it names.

    Raises:
        QueryRejectedError: the statement is too long (over ``max_bytes``), nests too deeply, or
            is not one read-only query over allowed functions.
    """
    if max_bytes is not None:
        check_sql_size(sql, max_bytes=max_bytes)
    parsed = _statements.get(sql)
    if parsed is None:
        try:
            statement = parse_statement(sql)
            positions = reference_positions(statement)
        except RecursionError as e:
            raise too_deep() from e
        nodes = list(statement.find_all(exp.Table))
        names = tuple(dict.fromkeys(written_parts(nodes[i]) for i in positions))
        parsed = ParsedStatement(statement, names, positions)
        _statements.put(sql, parsed)
    return parsed


def plan(
    prepared: ParsedStatement,
    tables: Mapping[tuple[str, ...], TableAccess],
    *,
    sql: str,
    principal: str,
    engine: QueryEngine,
) -> RewrittenQuery:
    """The governed statement of ``prepared`` (from ``sql``) for ``principal`` on ``engine``.

    ``tables`` are the resolved tables of ``prepared.table_names`` (:func:`resolve_tables`).
    Resolution and authorization run on every query; only the rewrite they feed is cached. Row
    filters that the files' statistics prove true for every row read every row
    (:mod:`lakemesh.query.statistics`).

    Raises:
        AccessDeniedError: a column may not be read.
        QueryRejectedError: a construct cannot be secured.
    """
    tables = {name: _with_proven_filters(table) for name, table in tables.items()}
    key = (sql, type(engine), engine.dialect, tuple(access_key(t) for t in tables.values()))
    planned = _plans.get(key)
    if planned is None:
        try:
            planned = rewrite(
                prepared.statement,
                principal=principal,
                tables=tables,
                scan=engine.scan,
                dialect=engine.dialect,
                positions=prepared.positions,
            )
        except RecursionError as e:  # a construct nested deeper than the rewrite can walk
            raise too_deep() from e
        _plans.put(key, planned)
    return planned


def _with_proven_filters(table: TableAccess) -> TableAccess:
    proven = proven_filters(table)
    return dataclasses.replace(table, proven=proven) if proven else table


def plan_query(
    sql: str, *, principal: str, resolve: Resolver, engine: QueryEngine | None = None
) -> RewrittenQuery:
    """Prepare, resolve and plan ``sql`` for ``principal`` without running it.

    Raises:
        QueryRejectedError: the statement is not one read-only query over allowed functions.
        NotFoundError: a table does not exist or is not visible (from ``resolve``).
        AccessDeniedError: a table or column may not be read.
    """
    prepared = prepare(sql)
    tables = resolve_tables(prepared.table_names, principal=principal, resolve=resolve)
    return plan(prepared, tables, sql=sql, principal=principal, engine=engine or default_engine())


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
    return execute(
        planned,
        sql=sql,
        engine=engine,
        limits=after_planning(limits, time.perf_counter() - started),
        hash_salt=hash_salt,
        cancellation=cancellation,
        started=started,
    )
