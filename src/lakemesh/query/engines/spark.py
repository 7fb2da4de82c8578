"""Spark, local or through Spark Connect: the governed statement transpiled to Spark SQL.

Each table a statement reads becomes a temporary view over exactly its authorized files
(``spark.read`` with ``basePath``, so hive partition columns come out and filters on them prune
files), registered under a name unique to the query and dropped after it. Spark SQL over file
paths is switched off in the session, and the transpiled statement is checked to read nothing
but those views before it runs.

Tables on S3 (local Spark only) are read by a Python data source in place of Spark's file
readers (:mod:`~lakemesh.query.engines.spark_objects`); their views are the same.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from pyspark.errors import AnalysisException, ParseException
from sqlglot import exp

from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    LimitExceededError,
    QueryRejectedError,
    StorageError,
)
from lakemesh.query.engines.base import (
    Cancellation,
    EngineResult,
    QueryEngine,
    QueryLimits,
    check_storage,
)
from lakemesh.query.engines.limits import (
    arrow_stream_size,
    interruptible,
    result_size_exceeded,
    row_limit_exceeded,
)
from lakemesh.query.engines.spark_objects import (
    SCAN_OPTION,
    SOURCE_NAME,
    ObjectScan,
    object_scan,
    read_error,
    scan_files,
)
from lakemesh.query.engines.spark_session import local_session, remote_session
from lakemesh.query.engines.spark_sql import spark_schema, verify_statement, view_name
from lakemesh.query.engines.spark_tables import open_table_files
from lakemesh.query.table import TableAccess, s3_credentials
from lakemesh.storage import S3Options, scheme_of
from lakemesh.storage.open_tables import OPEN_FORMATS

_READER_OPTIONS: dict[str, dict[str, str]] = {
    "parquet": {},
    # As DuckDB's read_csv(header = true, auto_detect = false): RFC 4180 quoting, fail on bad rows.
    "csv": {"header": "true", "escape": '"', "multiLine": "true", "mode": "FAILFAST"},
    "json": {"mode": "FAILFAST"},
}


class SparkEngine(QueryEngine):
    """Runs statements on the process's local Spark, or on a Spark Connect cluster (``remote``).

    On a cluster, the tables' files must be readable there under the same paths. Spark shares one
    session between queries, so :class:`QueryLimits` ``threads`` and ``memory_limit`` do not apply
    (the session's own resources do: ``spark.driver.memory`` and ``spark.driver.maxResultSize``
    for what a query may bring back); the timeout, the row and result-size limits and
    cancellation do. At most ``max_rows`` + 1 rows are fetched.
    """

    name = "spark"
    dialect = "spark"

    def __init__(self, *, remote: str | None = None, config: Mapping[str, str] | None = None):
        self.remote = remote
        self.config = dict(config or {})
        if remote is not None and not remote.startswith("sc://"):
            raise InvalidInputError(
                f"Not a Spark Connect URL: {remote} (expected sc://host:port)",
                details={"remote": remote},
            )

    @property
    def session(self) -> Any:
        """The Spark session queries run on (started or connected on first use)."""
        if self.remote is not None:
            return remote_session(self.remote)
        return local_session(self.config)

    def scan(self, table: TableAccess) -> exp.Expr:
        """The view :meth:`execute` registers over the table's files."""
        if table.format not in _READER_OPTIONS and table.format not in OPEN_FORMATS:
            raise InvalidInputError(
                f"Unsupported table format for querying: {table.format} ({table.name})",
                details={"table": table.name, "format": table.format},
            )
        check_storage(self.name, [table])
        return exp.to_table(view_name(table))

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
        """Register the tables' views, run the statement, drop the views; see the base class."""
        authorized = set(files)
        query = uuid.uuid4().hex[:12]
        views: dict[str, TableAccess] = {}
        for table in tables:
            if not set(table.files) <= authorized:
                raise QueryRejectedError(f"Table {table.name} reads files outside the query's")
            if table.files:
                name = view_name(table)
                sql = sql.replace(name, f"{name}_{query}")
                views[f"{name}_{query}"] = table
        verify_statement(sql, views=list(views))
        objects = {name: t for name, t in views.items() if scheme_of(t.location) == "s3"}
        if objects and self.remote is not None:
            table = next(iter(objects.values()))
            raise InvalidInputError(
                f"Tables on s3:// storage cannot be queried on a Spark Connect cluster: "
                f"{table.name} (the hub's S3 credentials would travel to the cluster in the "
                "query plan; use a workgroup on the local Spark or the duckdb engine)",
                details={"table": table.name, "engine": self.name, "remote": self.remote},
            )
        scans = []
        if objects:
            credentials = s3_credentials(objects.values())  # before Spark: a named StorageError
            scans = [_object_scan(t, credentials) for t in objects.values()]
        session = self.session
        with (
            scan_files(scans) as handles,
            _Interrupter(session, remote=self.remote is not None) as interrupter,
        ):
            sources = dict(zip(objects, handles, strict=True))
            try:
                with interruptible(
                    limits=limits,
                    cancellation=cancellation,
                    interrupt=interrupter.trigger,
                    engine_errors=Exception,
                ):
                    result = _run(session, sql, views, sources, parameters, limits.max_rows)
            except LakemeshError:
                raise
            except Exception as e:
                raise _translate(e, secrets=list(parameters.values())) from e
        if limits.max_rows is not None and result.num_rows > limits.max_rows:
            raise row_limit_exceeded(limits.max_rows)
        table = _nullable(result)
        limit = limits.max_result_bytes
        if limit is not None and arrow_stream_size(table) > limit:
            raise result_size_exceeded(limit)
        return EngineResult(table=table)


def _object_scan(table: TableAccess, credentials: S3Options) -> ObjectScan:
    """The scan of a table on S3: its objects, or for an Iceberg or Delta table the Parquet data
    files of the state it reads (partition values from the paths for Delta only)."""
    files, file_format, partitions = table.files, table.format, table.partition_columns
    if table.format in OPEN_FORMATS:
        files = tuple(open_table_files(table, credentials))
        file_format = "parquet"
        partitions = table.partition_columns if table.format == "delta" else ()
    return object_scan(
        table=table.name,
        format=file_format,
        location=table.location,
        files=files,
        partition_columns=partitions,
        options=credentials,
        sizes=table.listed_sizes,
    )


def _read(session: Any, table: TableAccess, source: str | None = None) -> Any:
    """A DataFrame over exactly the table's files, hive partition columns from the paths; for
    an Iceberg or Delta table, over the Parquet files of the state it reads
    (:mod:`~lakemesh.query.engines.spark_tables`); for a table on S3, over the objects of its
    scan file ``source`` (:mod:`~lakemesh.query.engines.spark_objects`)."""
    schema = spark_schema(table)
    if source is not None:
        if schema is None:
            raise InvalidInputError(
                f"Table {table.name} has a column type Spark cannot read",
                details={"table": table.name},
            )
        return session.read.format(SOURCE_NAME).schema(schema).option(SCAN_OPTION, source).load()
    if table.format in OPEN_FORMATS:
        if schema is None:
            raise InvalidInputError(
                f"Table {table.name} has a column type Spark cannot read",
                details={"table": table.name},
            )
        files = open_table_files(table)
        if not files:
            return session.createDataFrame([], schema)
        reader = session.read.format("parquet").schema(schema)
        if table.format == "delta" and table.partition_columns:
            reader = reader.option("basePath", table.location)
        return reader.load(files)
    reader = session.read.format(table.format).options(**_READER_OPTIONS[table.format])
    if table.partition_columns:
        reader = reader.option("basePath", table.location)
    if schema is not None:
        reader = reader.schema(schema)
    elif table.format != "parquet":
        raise InvalidInputError(
            f"Table {table.name} has a column type Spark cannot read from {table.format}",
            details={"table": table.name},
        )
    return reader.load(list(table.files))


def _run(
    session: Any,
    sql: str,
    views: Mapping[str, TableAccess],
    sources: Mapping[str, str],
    parameters: Mapping[str, str],
    max_rows: int | None,
) -> pa.Table:
    """Register the views (those in ``sources`` over their scan files), run ``sql`` and drop
    the views."""
    registered = []
    try:
        for name, table in views.items():
            _read(session, table, sources.get(name)).createOrReplaceTempView(name)
            registered.append(name)
        frame = session.sql(sql, args=dict(parameters) if parameters else None)
        if max_rows is not None:
            frame = frame.limit(max_rows + 1)
        return frame.toArrow()
    finally:
        for name in registered:
            try:
                session.catalog.dropTempView(name)
            except Exception:  # the session is gone, and its views with it
                break


class _Interrupter:
    """Stops one query's Spark jobs on demand.

    The jobs carry a tag; once triggered, the tag is cancelled every half second until the query
    has ended, since a job that starts just after a cancel would otherwise run on.
    """

    def __init__(self, session: Any, *, remote: bool) -> None:
        self.session = session
        self.remote = remote
        self.tag = f"lakemesh-{uuid.uuid4().hex[:12]}"
        self._ended = threading.Event()
        self._triggered = threading.Lock()

    def __enter__(self) -> _Interrupter:
        if self.remote:
            self.session.addTag(self.tag)
        else:
            context = self.session.sparkContext
            context.addJobTag(self.tag)
            context.setInterruptOnCancel(True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._ended.set()
        with contextlib.suppress(Exception):
            if self.remote:
                self.session.removeTag(self.tag)
            else:
                self.session.sparkContext.removeJobTag(self.tag)

    def trigger(self) -> None:
        """Start cancelling the query's jobs (from any thread; once is enough)."""
        if self._triggered.acquire(blocking=False):
            threading.Thread(target=self._cancel, name="lakemesh-spark-cancel", daemon=True).start()

    def _cancel(self) -> None:
        while not self._ended.is_set():
            with contextlib.suppress(Exception):
                if self.remote:
                    self.session.interruptTag(self.tag)
                else:
                    self.session.sparkContext.cancelJobsWithTag(self.tag)
            self._ended.wait(0.5)


def _nullable(table: pa.Table) -> pa.Table:
    """Spark marks some columns NOT NULL; DuckDB's results never do. Same schema either way."""
    fields = [field.with_nullable(True) for field in table.schema]
    return table.cast(pa.schema(fields, metadata=None))


def _translate(error: Exception, *, secrets: Sequence[str]) -> LakemeshError:
    """A lakemesh error for a Spark one: its first line only (no SQL echo), secrets scrubbed."""
    lines = [line.strip(" :") for line in str(error).strip().splitlines()]
    # py4j puts "An error occurred while calling o56.getResult." before the JVM's message.
    lines = [line for line in lines if line and not line.startswith("An error occurred while")]
    message = lines[0] if lines else type(error).__name__
    failed_read = read_error(str(error))
    if failed_read is not None:
        return failed_read
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    details = {"engine_error": type(error).__name__}
    if "spark.driver.maxResultSize" in message:
        return LimitExceededError(
            f"Query result is larger than the Spark session's limit: {message}",
            details={**details, "limit": "spark.driver.maxResultSize"},
        )
    if isinstance(error, ParseException | AnalysisException):
        if "PATH_NOT_FOUND" in message:
            return StorageError(f"Could not read table data: {message}", details=details)
        return QueryRejectedError(f"Query rejected by the engine: {message}", details=details)
    return InvalidInputError(f"Query failed: {message}", details=details)
