"""DuckDB: each query runs in a worker process, in a fresh database sandboxed to its files.

The hub only plans: :meth:`DuckDBEngine.scan` writes the file scans, and :meth:`execute` hands the
rewritten statement to a worker process (:mod:`.duckdb_process`), which runs it in the sandbox
(:mod:`.duckdb_sandbox`) under the operating system's memory limit and sends the rows back as
Arrow. However much memory a statement tries to take, it takes it from its worker, not the hub.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlglot import exp

from lakemesh.errors import InvalidInputError
from lakemesh.query.engines.base import (
    Cancellation,
    EngineResult,
    EngineStream,
    QueryEngine,
    QueryLimits,
)
from lakemesh.query.engines.duckdb_process import worker_pool
from lakemesh.query.engines.duckdb_s3 import is_object
from lakemesh.query.engines.duckdb_tables import open_table_scan
from lakemesh.query.table import TableAccess, s3_credentials


class DuckDBEngine(QueryEngine):
    """Runs each statement in a worker process's sandbox whose file access is the authorized files.

    ``temp_directory`` is where DuckDB may spill when a query passes its memory limit; without one
    a query that needs more memory than its limit fails with :class:`LimitExceededError`.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, temp_directory: str | None = None) -> None:
        self.temp_directory = temp_directory

    def scan(self, table: TableAccess) -> exp.Expr:
        """``read_parquet`` / ``read_csv`` / ``read_json`` over exactly the table's files, or
        ``iceberg_scan`` / ``delta_scan`` of an Iceberg or Delta table."""
        if table.format in ("iceberg", "delta"):
            return open_table_scan(table)
        files = exp.Array(expressions=[exp.Literal.string(path) for path in table.files])
        partitioned = bool(table.partition_columns)
        options: dict[str, exp.Expr] = {"hive_partitioning": exp.Boolean(this=partitioned)}
        if partitioned:
            options["hive_types"] = _types(table, table.partition_columns)
        data_columns = [name for name in table.column_names if name not in table.partition_columns]
        if table.format == "parquet":
            # No union_by_name: it opens every file to merge schemas, which defeats pruning.
            function = "read_parquet"
        elif table.format == "csv":
            function = "read_csv"
            options.update(header=exp.true(), auto_detect=exp.false())
            options["columns"] = _types(table, data_columns)
        elif table.format == "json":
            function = "read_json"
            options["format"] = exp.Literal.string("newline_delimited")
            options["columns"] = _types(table, data_columns)
        else:
            raise InvalidInputError(
                f"Unsupported table format for querying: {table.format} ({table.name})",
                details={"table": table.name, "format": table.format},
            )
        arguments = [
            exp.EQ(this=exp.column(key), expression=value) for key, value in options.items()
        ]
        return exp.Anonymous(this=function, expressions=[files, *arguments])

    def execute(
        self,
        *,
        sql: str,
        files: Sequence[str],
        parameters: Mapping[str, str],
        limits: QueryLimits,
        cancellation: Cancellation | None = None,
        tables: Sequence[TableAccess] = (),
    ) -> EngineResult:
        """Run one SELECT in a worker's sandbox; see :meth:`QueryEngine.execute`.

        The hub's S3 credentials go to the worker with the request (never through its
        environment) when the query reads objects: the hub settings' or the environment's keys,
        else those boto's credential chain finds (a profile, an instance role).
        """
        request = self._request(sql, files, parameters, limits, tables)
        table = worker_pool().run(request, limits=limits, cancellation=cancellation)
        return EngineResult(table=table)

    def stream(
        self,
        *,
        sql: str,
        files: Sequence[str],
        parameters: Mapping[str, str],
        limits: QueryLimits,
        cancellation: Cancellation | None = None,
        tables: Sequence[TableAccess] = (),
    ) -> EngineStream:
        """Run one SELECT in a worker's sandbox and read its rows as the worker sends them,
        batch by batch (the worker waits for its reader); see :meth:`QueryEngine.stream`."""
        request = self._request(sql, files, parameters, limits, tables)
        return worker_pool().stream(request, limits=limits, cancellation=cancellation)

    def _request(
        self,
        sql: str,
        files: Sequence[str],
        parameters: Mapping[str, str],
        limits: QueryLimits,
        tables: Sequence[TableAccess],
    ) -> dict[str, Any]:
        """A worker's request; the hub's S3 credentials go with it when the query reads objects
        (the tables' configured ones, else those boto's credential chain finds)."""
        s3 = None
        if any(is_object(path) for path in files):
            s3 = dataclasses.asdict(s3_credentials(tables))
        return {
            "sql": sql,
            "files": list(files),
            "parameters": dict(parameters),
            "limits": dataclasses.asdict(limits),
            "s3": s3,
            "temp_directory": self.temp_directory,
        }


def _types(table: TableAccess, columns: Sequence[str]) -> exp.Struct:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(
                this=exp.Literal.string(name),
                expression=exp.Literal.string(table.column_type(name)),
            )
            for name in columns
        ]
    )
