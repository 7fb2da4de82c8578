"""The DuckDB sandbox: in-memory databases limited to exactly one query's files, config locked.

It runs in a query worker process (:mod:`.duckdb_worker`), which writes each result as an Arrow
IPC stream, batch by batch, stopping at the query's row and result-size limits
(:mod:`.duckdb_results`).

A database is narrowed to a set of files and locked for good, so it can serve no query that needs
another file. The sandbox keeps the last few it narrowed and gives one to the next query whose
files are exactly the same set (and whose limits are the same), on a new connection: a repeated
query does not pay for a new database (7-25 ms of CPU to open, held off the query's core only
while the worker is idle). A database over S3 objects (it holds a secret) or with an extension
loaded (Iceberg, Delta) serves one query.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import duckdb

from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    QueryRejectedError,
    StorageError,
)
from lakemesh.query.engines.base import QueryLimits
from lakemesh.query.engines.duckdb_pool import SandboxPool, query_running, sandbox_pool
from lakemesh.query.engines.duckdb_results import WrittenResult, stream_result, write_result
from lakemesh.query.engines.duckdb_s3 import (
    create_secret,
    hidden_values,
    httpfs_extension,
    is_object,
    redact,
)
from lakemesh.query.engines.duckdb_tables import SCAN_FUNCTIONS, table_extensions
from lakemesh.query.engines.limits import (
    memory_limit_exceeded,
)
from lakemesh.query.plans import LRUCache
from lakemesh.storage.s3 import S3Options, S3Storage

# What a rewritten statement may read from: the file scans the gateway writes and generators.
_TABLE_FUNCTIONS = frozenset(
    {"read_parquet", "read_csv", "read_json", "range", "generate_series", "unnest"} | SCAN_FUNCTIONS
)

BATCH_ROWS = 10_000
"""Rows fetched from DuckDB and written to the result at a time (so wide rows stay bounded)."""

KEPT_DATABASES = 4
"""Narrowed databases a sandbox keeps for the next query over exactly the same files."""

# Statements DuckDB's own parser found to be one SELECT over allowed sources (a pure function of
# the text, so the verdict is kept).
_verified: LRUCache[str, bool] = LRUCache(1024)


class DuckDBSandbox:
    """In-memory DuckDB databases whose file access is exactly a query's authorized files.

    This runs inside a query worker process (:mod:`.duckdb_worker`), never in the hub: the
    databases are opened ahead of time by a pool (:mod:`.duckdb_pool`) with the query's limits
    and extensions off, narrowed to the query's files and locked. A database that served a query
    without an error is kept (the last :data:`KEPT_DATABASES`) for queries over exactly the same
    files with the same limits, each on a connection of its own; any other query gets a new one.

    ``temp_directory`` is where DuckDB may spill when a query passes its memory limit; without one
    a query that needs more memory than its limit fails with :class:`LimitExceededError`.
    """

    def __init__(self, *, temp_directory: str | None = None) -> None:
        self.temp_directory = temp_directory
        # The pool each database in use came from (pools differ by extensions loaded).
        self._taken: dict[int, SandboxPool] = {}
        self._taken_lock = threading.Lock()
        # Narrowed, locked databases not in use, by (limits, files); the least recent first.
        self._kept: OrderedDict[tuple[object, ...], duckdb.DuckDBPyConnection] = OrderedDict()

    def run(
        self,
        *,
        sql: str,
        files: Sequence[str],
        parameters: Mapping[str, str],
        limits: QueryLimits,
        result_path: str,
        s3_options: S3Options | None = None,
        inline_bytes: int = 0,
        send: Callable[[bytes], None] | None = None,
    ) -> WrittenResult:
        """Run one SELECT in a sandbox and write its rows as an Arrow IPC stream: returned in
        memory when it takes at most ``inline_bytes``, else written to ``result_path``; with
        ``send``, given to it batch by batch instead (:func:`stream_result`).

        Raises:
            LimitExceededError: the result passed ``limits.max_rows`` or
                ``limits.max_result_bytes``, or the query ran out of memory.
            QueryRejectedError: the statement is not one SELECT over allowed sources.
        """
        with query_running():  # the pools open databases while no query runs
            extensions = table_extensions(sql)
            key = _reuse_key(files, limits, extensions)
            connection = self._take_kept(key) if key is not None else None
            if connection is None:
                connection = self.connect(
                    files=files, limits=limits, s3_options=s3_options, extensions=extensions
                )
            hidden = hidden_values(s3_options) if s3_options is not None else ()
            succeeded = False
            try:
                # A database that may serve again gives each query a connection of its own:
                # nothing a query sets on its connection reaches the next. (One over S3 objects
                # or with extensions serves one query, on the connection they were loaded on.)
                own = connection.cursor() if key is not None else nullcontext(connection)
                with own as session:
                    verify_statement(session, sql)
                    result = session.execute(sql, dict(parameters) if parameters else None)
                    reader = result.to_arrow_reader(BATCH_ROWS)
                    if send is not None:
                        written = stream_result(reader, send, limits)
                    else:
                        written = write_result(
                            reader, result_path, limits, inline_bytes=inline_bytes
                        )
                succeeded = True
                return written
            except duckdb.Error as e:
                translated = _translate(e, limits, hidden=hidden)
                if hidden:  # the engine's message stays out of the chain: it may hold a credential
                    raise translated from None
                raise translated from e
            finally:
                if succeeded and key is not None:
                    self._keep(key, connection, limits)
                else:
                    self.release(connection, limits)

    def connect(
        self,
        *,
        files: Sequence[str],
        limits: QueryLimits,
        s3_options: S3Options | None = None,
        extensions: tuple[str, ...] = (),
    ) -> duckdb.DuckDBPyConnection:
        """A never-used in-memory database that can read ``files`` and nothing else, config locked.

        ``files`` are local paths and ``s3://`` objects. When there are objects the database has
        httpfs loaded and a temporary secret with the hub's S3 credentials (``s3_options``, read
        here when not given); either way
        ``allowed_paths`` lists exactly ``files`` and external access is off, so no other
        object, bucket, URL or local file can be opened. Hand it to :meth:`release` after its
        one query. ``extensions`` are more extension files to load (Iceberg's, Delta's).

        Raises:
            InvalidInputError: ``limits`` are not valid DuckDB settings, or S3 support (the
                ``s3`` extra) is missing.
        """
        objects = any(is_object(path) for path in files)
        options = (s3_options or _s3_options()) if objects else None
        extensions = ((httpfs_extension(),) if objects else ()) + extensions
        try:
            pool = self._pool(limits, extensions)
            connection = pool.take()
        except duckdb.Error as e:
            raise InvalidInputError(f"Invalid query limits: {_first_line(e)}") from e
        with self._taken_lock:
            self._taken[id(connection)] = pool
        try:
            if options is not None:
                create_secret(connection, options)
            # allowed_directories is emptied when the pool opens the database.
            connection.execute("SET allowed_paths = $paths", {"paths": list(files)})
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
        except duckdb.Error as e:
            self.release(connection, limits)
            message = redact(_first_line(e), hidden_values(options) if options else ())
            raise InvalidInputError(f"Could not prepare the query sandbox: {message}") from None
        except BaseException:
            self.release(connection, limits)
            raise
        return connection

    def release(self, connection: duckdb.DuckDBPyConnection, limits: QueryLimits) -> None:
        """Discard a database :meth:`connect` returned (closed in the background)."""
        with self._taken_lock:
            pool = self._taken.pop(id(connection), None)
        (pool or self._pool(limits)).discard(connection)

    def _take_kept(self, key: tuple[object, ...]) -> duckdb.DuckDBPyConnection | None:
        with self._taken_lock:
            return self._kept.pop(key, None)

    def _keep(
        self, key: tuple[object, ...], connection: duckdb.DuckDBPyConnection, limits: QueryLimits
    ) -> None:
        """Keep a database that served a query for the next one with ``key``."""
        with self._taken_lock:
            self._kept[key] = connection
            excess = len(self._kept) - KEPT_DATABASES
            evicted = [self._kept.popitem(last=False)[1] for _ in range(excess)]
        for old in evicted:
            self.release(old, limits)  # its pool is known by the database, not by the limits

    def close(self) -> None:
        """Discard every database the sandbox keeps."""
        with self._taken_lock:
            kept, self._kept = list(self._kept.values()), OrderedDict()
        for connection in kept:
            with self._taken_lock:
                pool = self._taken.pop(id(connection), None)
            if pool is not None:
                pool.discard(connection)

    def _pool(self, limits: QueryLimits, extensions: tuple[str, ...] = ()) -> SandboxPool:
        return sandbox_pool(
            threads=int(limits.threads),
            memory_limit=limits.memory_limit,
            temp_directory=self.temp_directory or "",
            extensions=extensions,
        )


def _reuse_key(
    files: Sequence[str], limits: QueryLimits, extensions: tuple[str, ...]
) -> tuple[object, ...] | None:
    """What a kept database must match to serve a query: the same files (as a set) and limits.
    None for a query over S3 objects (its database holds a secret) or one that loads extensions
    (Iceberg, Delta): their database serves them alone."""
    if extensions or any(is_object(path) for path in files):
        return None
    return (frozenset(files), int(limits.threads), limits.memory_limit)


def verify_statement(connection: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Check with DuckDB's own parser that ``sql`` is one SELECT reading only file scans and CTEs.

    The gateway's validation already ensures this; this guard catches whatever a parser
    difference might let through (``PRAGMA``, ``SHOW``, a system view, a table function).

    Raises:
        QueryRejectedError: the statement is not one SELECT over allowed sources.
    """
    if _verified.get(sql):
        return
    statements = connection.extract_statements(sql)
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise QueryRejectedError("The engine accepts exactly one SELECT statement")
    row = connection.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        raise QueryRejectedError("The engine accepts exactly one SELECT statement")
    ctes: set[str] = set()
    nodes: list[Any] = [tree]
    sources: list[dict[str, Any]] = []
    while nodes:
        node = nodes.pop()
        if isinstance(node, dict):
            if isinstance(node.get("cte_map"), dict):
                ctes.update(str(entry.get("key", "")).lower() for entry in node["cte_map"]["map"])
            if node.get("type") in ("TABLE_FUNCTION", "BASE_TABLE", "SHOW_REF"):
                sources.append(node)
            nodes.extend(node.values())
        elif isinstance(node, list):
            nodes.extend(node)
    for source in sources:
        if source["type"] == "TABLE_FUNCTION":
            name = str(source.get("function", {}).get("function_name", "")).lower()
            if name not in _TABLE_FUNCTIONS:
                raise QueryRejectedError(f"Table function not allowed: {name}")
        elif (
            source["type"] == "SHOW_REF" or source.get("schema_name") or source.get("catalog_name")
        ):
            raise QueryRejectedError("The statement names a table outside its authorized data")
        elif str(source.get("table_name", "")).lower() not in ctes:
            raise QueryRejectedError(
                f"The statement names a table outside its authorized data: {source['table_name']}"
            )
    _verified.put(sql, True)


def _s3_options() -> S3Options:
    """The hub's S3 options, read as the storage layer reads them for listing and crawling."""
    return S3Storage().options()


def _translate(
    error: duckdb.Error, limits: QueryLimits, *, hidden: tuple[str, ...] = ()
) -> LakemeshError:
    """A lakemesh error for a DuckDB one, keeping only the message's first line (no SQL echo)
    with the S3 credentials in ``hidden`` redacted."""
    message = redact(_first_line(error), hidden)
    details = {"engine_error": type(error).__name__}
    if isinstance(error, duckdb.OutOfMemoryException):
        return memory_limit_exceeded(limits)
    if isinstance(error, duckdb.PermissionException):
        return QueryRejectedError(
            "Query tried to reach something outside its authorized files", details=details
        )
    if isinstance(error, duckdb.IOException):
        return StorageError(f"Could not read table data: {message}", details=details)
    if isinstance(error, duckdb.ParserException | duckdb.BinderException | duckdb.CatalogException):
        return QueryRejectedError(f"Query rejected by the engine: {message}", details=details)
    return InvalidInputError(f"Query failed: {message}", details=details)


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
