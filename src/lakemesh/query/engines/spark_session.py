"""The Spark sessions the Spark engine runs on: one local session per process, one per remote URL.

The local session (``local[2]``) starts once, on first use, bound to 127.0.0.1, UI off, few
shuffle partitions; a Spark Connect session (``sc://host:port``) is opened once per URL. Every
session refuses SQL over file paths (``parquet.`/some/path```): statements read only the views
the engine registers for the authorized files.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from lakemesh.errors import InvalidInputError, LakemeshError

LOCAL_MASTER = "local[2]"

# Spark Connect's client retries for 10 minutes by default; a hub query should fail in seconds.
CONNECT_RETRIES = 5
CONNECT_MAX_BACKOFF_MS = 4000

# Static configuration of the local session (a JVM started by this process).
LOCAL_CONFIG: dict[str, str] = {
    "spark.app.name": "lakemesh",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "2g",
    # What one query may bring back to the driver (and then to the hub) at most, whatever its
    # workgroup's max_result_bytes: a bigger result fails in Spark instead of filling memory.
    "spark.driver.maxResultSize": "1g",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.catalogImplementation": "in-memory",
    # Filters reach the S3 objects' data source, which skips objects by partition value.
    "spark.sql.python.filterPushdown.enabled": "true",
}

# Runtime SQL configuration set on every session, local or remote.
SESSION_CONFIG: dict[str, str] = {
    "spark.sql.runSQLOnFiles": "false",
    "spark.sql.session.timeZone": "UTC",
}

_lock = threading.Lock()
_local: list[Any] = []
_remote: dict[str, Any] = {}


def local_session(config: Mapping[str, str] | None = None) -> Any:
    """The process's local Spark session, started on first use.

    ``config`` adds static settings; it only counts for the call that starts the session.
    """
    with _lock:
        if not _local:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            # Spark's Python workers (the S3 data source's readers) run this interpreter.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            from pyspark.sql import SparkSession

            from lakemesh.query.engines.spark_objects import ObjectSource

            builder = SparkSession.builder.master(LOCAL_MASTER)
            for key, value in {**LOCAL_CONFIG, **SESSION_CONFIG, **(config or {})}.items():
                builder = builder.config(key, value)
            try:
                session = builder.getOrCreate()
                # A failing user query is an answer, not a server error: the gateway reports it.
                session.sparkContext.setLogLevel("FATAL")
                _configure(session)
                session.dataSource.register(ObjectSource)
            except Exception as e:
                raise LakemeshError(f"Local Spark could not start: {_first_line(e)}") from e
            _local.append(session)
        return _local[0]


def remote_session(url: str) -> Any:
    """A Spark Connect session on ``url`` (``sc://host:port[/;param=value...]``), opened once.

    Raises:
        InvalidInputError: ``url`` is not a Spark Connect URL.
    """
    if not url.startswith("sc://"):
        raise InvalidInputError(
            f"Not a Spark Connect URL: {url} (expected sc://host:port)", details={"remote": url}
        )
    with _lock:
        session = _remote.get(url)
        if session is None:
            from pyspark.sql import SparkSession
            from pyspark.sql.connect.client.retries import DefaultPolicy

            try:
                session = SparkSession.builder.remote(url).create()
                session.client.set_retry_policies(
                    [DefaultPolicy(max_retries=CONNECT_RETRIES, max_backoff=CONNECT_MAX_BACKOFF_MS)]
                )
                _configure(session)
            except Exception as e:
                raise LakemeshError(
                    f"Spark Connect cluster not reachable: {url}",
                    details={"remote": url, "engine_error": type(e).__name__},
                ) from e
            _remote[url] = session
        return session


def stop_sessions() -> None:
    """Stop every session this module opened (tests and shutdown)."""
    with _lock:
        sessions = [*_remote.values(), *_local]
        _remote.clear()
        _local.clear()
    for session in sessions:
        session.stop()


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _configure(session: Any) -> None:
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        logging.getLogger(name).setLevel(logging.CRITICAL)  # each would log every failed query
    for key, value in SESSION_CONFIG.items():
        session.conf.set(key, value)
