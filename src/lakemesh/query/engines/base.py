"""The small interface every query engine implements, and what it is given and returns."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import pyarrow as pa
from sqlglot import exp

from lakemesh.errors import InvalidInputError
from lakemesh.query.table import TableAccess
from lakemesh.storage import scheme_of


@dataclass(frozen=True)
class QueryLimits:
    """Per-query limits (a workgroup's). ``None`` means no limit.

    ``memory_limit`` is in DuckDB's spelling (``2GB``, ``512MiB``, ``1000000B``); the DuckDB
    engine holds its worker process to it as well. ``max_result_bytes`` counts the result as
    an Arrow IPC stream.
    """

    timeout_seconds: float | None = 60.0
    memory_limit: str = "2GiB"
    threads: int = 4
    max_bytes_scanned: int | None = None
    max_rows: int | None = None
    max_result_bytes: int | None = None


class Cancellation:
    """A handle another thread may use to stop a running query."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._cancelled

    def cancel(self) -> None:
        """Stop the query now (or before it starts)."""
        with self._lock:
            self._cancelled = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` on cancellation (at once if cancelled already); returns a remover."""
        with self._lock:
            self._callbacks.append(callback)
            cancelled = self._cancelled
        if cancelled:
            callback()

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns: the rows as Arrow."""

    table: pa.Table

    @property
    def rows(self) -> int:
        """Number of rows returned."""
        return int(self.table.num_rows)


class EngineStream:
    """The rows of a running query, batch by batch: the schema at once, each batch as it is read
    (so a large result is never whole in the hub). :meth:`close` stops a query not read to its
    end; reading past an error raises it (limits, cancellation, the engine's refusal).
    """

    def __init__(
        self,
        schema: pa.Schema,
        batches: Iterator[pa.RecordBatch],
        close: Callable[[], None] | None = None,
    ) -> None:
        self.schema = schema
        self._batches = batches
        self._close = close

    @classmethod
    def of_table(cls, table: pa.Table) -> EngineStream:
        """The batches of a result already whole (engines that cannot stream)."""
        return cls(table.schema, iter(table.to_batches()))

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self._batches

    def close(self) -> None:
        """Stop the query (nothing when it was read to its end)."""
        if self._close is not None:
            self._close()


class QueryEngine(ABC):
    """Runs rewritten, authorized statements in a sandbox limited to the authorized files.

    :meth:`execute` (the whole result) and :meth:`stream` (batch by batch) take the same run:

    - ``sql``: the rewritten statement, in the engine's :attr:`dialect`;
    - ``files``: every file the statement may read, and none other;
    - ``parameters``: the statement's named parameters (the salt of ``hash`` masks);
    - ``limits``: the workgroup's :class:`QueryLimits`;
    - ``cancellation``: a handle another thread may use to stop the run;
    - ``tables``: the authorized tables whose scans ``sql`` holds (their files are in
      ``files``), for engines whose scans name relations they must register first.

    Both raise the same errors: LimitExceededError (the query ran out of time, memory or rows),
    QueryCancelledError (``cancellation`` was used), QueryRejectedError (the engine refused the
    statement); :meth:`stream` raises those met after its first batch as they are read.
    """

    name: ClassVar[str]
    dialect: ClassVar[str]

    @abstractmethod
    def scan(self, table: TableAccess) -> exp.Expr:
        """The engine's expression reading every file of ``table`` (partition columns included).

        It depends on ``table`` alone: plans are cached per engine type and shared by instances.
        """

    @abstractmethod
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
        """Run ``sql`` with access to ``files`` only, within ``limits``, and return its whole
        result (the parameters and errors of a run: :class:`QueryEngine`)."""

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
        """Run ``sql`` as :meth:`execute` does (the same run: :class:`QueryEngine`) and return its
        rows batch by batch, as the caller reads them; the same limits hold (``max_rows`` and
        ``max_result_bytes`` count the rows and bytes sent so far, the time limit runs until the
        last batch is read).

        This default runs the query to its end first; an engine that can stream overrides it.
        """
        result = self.execute(
            sql=sql,
            files=files,
            parameters=parameters,
            limits=limits,
            cancellation=cancellation,
            tables=tables,
        )
        return EngineStream.of_table(result.table)


# name -> the storage schemes the engine reads. Spark reads S3 objects without the Hadoop S3A
# connector, through a Python data source (lakemesh.query.engines.spark_objects).
ENGINE_STORAGE: dict[str, frozenset[str]] = {
    "duckdb": frozenset({"file", "s3"}),
    "spark": frozenset({"file", "s3"}),
}


# name -> the open table formats the engine reads (Spark reads a snapshot's Parquet files, without
# the Iceberg and Delta runtimes: lakemesh.query.engines.spark_tables).
ENGINE_OPEN_FORMATS: dict[str, frozenset[str]] = {
    "duckdb": frozenset({"iceberg", "delta"}),
    "spark": frozenset({"iceberg", "delta"}),
}


def check_storage(name: str, tables: Iterable[TableAccess]) -> None:
    """Refuse, naming it, a table on storage the engine ``name`` cannot read (checked while a
    query is planned, before the engine is loaded).

    Raises:
        InvalidInputError: a table's location is on a scheme the engine does not read.
    """
    schemes = ENGINE_STORAGE.get(name, frozenset({"file"}))
    formats = ENGINE_OPEN_FORMATS.get(name, frozenset())
    for table in tables:
        if table.format in ("iceberg", "delta") and table.format not in formats:
            raise InvalidInputError(
                f"Tables in {table.format} format cannot be queried on the {name} engine yet: "
                f"{table.name} (run the query in a workgroup on the duckdb engine)",
                details={"table": table.name, "engine": name, "format": table.format},
            )
        scheme = scheme_of(table.location)
        if scheme not in schemes:
            raise InvalidInputError(
                f"Tables on {scheme}:// storage cannot be queried on the {name} engine yet: "
                f"{table.name} (run the query in a workgroup on the duckdb engine)",
                details={"table": table.name, "engine": name, "location": table.location},
            )
