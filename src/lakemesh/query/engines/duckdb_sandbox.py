"""The DuckDB sandbox: a fresh in-memory database per query, limited to the query's files.

It runs in a query worker process (:mod:`.duckdb_worker`), which writes each result to a file as
an Arrow IPC stream, batch by batch, stopping at the query's row and result-size limits.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    QueryRejectedError,
    StorageError,
)
from lakemesh.query.engines.base import QueryLimits
from lakemesh.query.engines.duckdb_pool import SandboxPool, sandbox_pool
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
    result_size_exceeded,
    row_limit_exceeded,
)
from lakemesh.query.plans import LRUCache
from lakemesh.storage.s3 import S3Options, S3Storage

# What a rewritten statement may read from: the file scans the gateway writes and generators.
_TABLE_FUNCTIONS = frozenset(
    {"read_parquet", "read_csv", "read_json", "range", "generate_series", "unnest"} | SCAN_FUNCTIONS
)

BATCH_ROWS = 10_000
"""Rows fetched from DuckDB and written to the result at a time (so wide rows stay bounded)."""

# Statements DuckDB's own parser found to be one SELECT over allowed sources (a pure function of
# the text, so the verdict is kept).
_verified: LRUCache[str, bool] = LRUCache(1024)


class DuckDBSandbox:
    """Fresh in-memory DuckDB databases whose file access is one query's authorized files.

    This runs inside a query worker process (:mod:`.duckdb_worker`), never in the hub: the
    databases are opened ahead of time by a pool (:mod:`.duckdb_pool`) with the query's limits
    and extensions off; each serves one query and is closed after it.

    ``temp_directory`` is where DuckDB may spill when a query passes its memory limit; without one
    a query that needs more memory than its limit fails with :class:`LimitExceededError`.
    """

    def __init__(self, *, temp_directory: str | None = None) -> None:
        self.temp_directory = temp_directory
        # The pool each database in use came from (pools differ by extensions loaded).
        self._taken: dict[int, SandboxPool] = {}
        self._taken_lock = threading.Lock()

    def run(
        self,
        *,
        sql: str,
        files: Sequence[str],
        parameters: Mapping[str, str],
        limits: QueryLimits,
        result_path: str,
        s3_options: S3Options | None = None,
    ) -> tuple[int, int]:
        """Run one SELECT in a sandbox and write its rows to ``result_path`` as an Arrow IPC
        stream; returns (rows, bytes written).

        Raises:
            LimitExceededError: the result passed ``limits.max_rows`` or
                ``limits.max_result_bytes``, or the query ran out of memory.
            QueryRejectedError: the statement is not one SELECT over allowed sources.
        """
        connection = self.connect(
            files=files, limits=limits, s3_options=s3_options, extensions=table_extensions(sql)
        )
        hidden = hidden_values(s3_options) if s3_options is not None else ()
        try:
            verify_statement(connection, sql)
            result = connection.execute(sql, dict(parameters) if parameters else None)
            reader = result.to_arrow_reader(BATCH_ROWS)
            return write_result(reader, result_path, limits)
        except duckdb.Error as e:
            translated = _translate(e, limits, hidden=hidden)
            if hidden:  # the engine's own message stays out of the chain: it may hold a credential
                raise translated from None
            raise translated from e
        finally:
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

    def _pool(self, limits: QueryLimits, extensions: tuple[str, ...] = ()) -> SandboxPool:
        return sandbox_pool(
            threads=int(limits.threads),
            memory_limit=limits.memory_limit,
            temp_directory=self.temp_directory or "",
            extensions=extensions,
        )


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


def write_result(reader: pa.RecordBatchReader, path: str, limits: QueryLimits) -> tuple[int, int]:
    """Write ``reader``'s batches to ``path`` as an Arrow IPC stream, one batch at a time;
    returns (rows, bytes written).

    Raises:
        LimitExceededError: more rows than ``limits.max_rows``, or more bytes than
            ``limits.max_result_bytes`` (the file is left incomplete; the caller deletes it).
    """
    rows = 0
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, reader.schema) as writer:
        for batch in reader:
            rows += batch.num_rows
            if limits.max_rows is not None and rows > limits.max_rows:
                raise row_limit_exceeded(limits.max_rows)
            writer.write_batch(batch)
            if limits.max_result_bytes is not None and sink.tell() > limits.max_result_bytes:
                raise result_size_exceeded(limits.max_result_bytes)
    return rows, os.path.getsize(path)


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
