"""In-memory DuckDB databases opened ahead of time: opening one costs 7-25 ms of catalog building.

The engine narrows a database's file access to one query's files and locks its configuration;
from then on it serves only queries over exactly those files (:mod:`.duckdb_sandbox`) and is
discarded. A pool only holds databases that were never handed out; discarded ones are closed by
the pool's thread, which then opens the next one.

The thread works while no query runs (after a short grace, so the caller of the query that just
ended gets its result first): opening a database holds the GIL and a core for its whole duration,
which would otherwise land on a running query. Only when a pool is empty does it open at once.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

POOL_SIZE = 2
MAX_POOLS = 8
IDLE_GRACE_SECONDS = 0.01
_POLL_SECONDS = 0.05

# Set when a database is opened: nothing may be installed, loaded or scanned from Python, no
# secret is read from (or written to) disk and none is shown unredacted.
SANDBOX_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "allow_persistent_secrets": False,
    "allow_unredacted_secrets": False,
    "python_enable_replacements": False,
}


class _Activity:
    """How many sandboxed queries run in this process, and since when none has."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._idle_since = time.monotonic()

    def begin(self) -> None:
        with self._lock:
            self._running += 1

    def end(self) -> None:
        with self._lock:
            self._running = max(0, self._running - 1)
            if not self._running:
                self._idle_since = time.monotonic()

    def idle_for(self) -> float | None:
        """Seconds since the last query ended, or None while one runs."""
        with self._lock:
            return None if self._running else time.monotonic() - self._idle_since


_activity = _Activity()


@contextmanager
def query_running() -> Iterator[None]:
    """Mark a query as running in this process: the pools' threads wait for it to end."""
    _activity.begin()
    try:
        yield
    finally:
        _activity.end()


class SandboxPool:
    """Unused in-memory DuckDB databases opened with one configuration, refilled in the background.

    ``config`` is given to :func:`duckdb.connect`: the extension switches above plus the limits
    (threads, memory, spill directory) of the queries the pool serves. ``extensions`` are
    extension files loaded by path into each database (httpfs for queries over S3 objects).
    """

    def __init__(
        self, config: dict[str, Any], *, extensions: tuple[str, ...] = (), size: int = POOL_SIZE
    ) -> None:
        self.config = {**SANDBOX_CONFIG, **config}
        self.extensions = extensions
        self.size = size
        self._ready: list[duckdb.DuckDBPyConnection] = []
        self._retired: list[duckdb.DuckDBPyConnection] = []
        self._condition = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closing = False
        self._failed = False

    def take(self) -> duckdb.DuckDBPyConnection:
        """A database no query has used: a ready one, or one opened now when none is ready.

        Raises:
            duckdb.Error: the pool's configuration is invalid (from :func:`duckdb.connect`).
        """
        with self._condition:
            connection = self._ready.pop() if self._ready else None
            self._start()
            self._condition.notify()
        return connection if connection is not None else self._open()

    def discard(self, connection: duckdb.DuckDBPyConnection) -> None:
        """Close ``connection``, a database :meth:`take` gave, on the pool's thread."""
        with self._condition:
            if self._worker is None or self._closing:
                connection.close()
                return
            self._retired.append(connection)
            self._condition.notify()

    def close(self) -> None:
        """Stop the thread and close every database the pool holds."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)
        with self._condition:
            connections, self._ready, self._retired = self._ready + self._retired, [], []
        for connection in connections:
            connection.close()

    @property
    def settled(self) -> bool:
        """True when the thread has nothing left to do (full, nothing to close)."""
        with self._condition:
            return self._closing or (not self._retired and not self._needs_more())

    def _open(self) -> duckdb.DuckDBPyConnection:
        connection = duckdb.connect(":memory:", config=dict(self.config))
        try:
            # Ahead of time: what does not depend on the query, and a first statement (the
            # first on a new database pays for setting up its client context). Extensions load
            # while external access is still on; the engine turns it off before the query.
            for extension in self.extensions:
                connection.execute("LOAD " + _quoted(extension))
            connection.execute("SET allowed_directories = []")
            connection.execute("SELECT 1").fetchall()
        except duckdb.Error:
            connection.close()
            raise
        return connection

    def _start(self) -> None:
        if self._worker is None and not self._closing:
            self._worker = threading.Thread(
                target=self._run, name="lakemesh-duckdb-pool", daemon=True
            )
            self._worker.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._closing and (delay := self._work_due_in()) != 0:
                    self._condition.wait(delay)
                if self._closing:
                    return
                retired, self._retired = self._retired, []
                refill = self._needs_more()
            for connection in retired:
                connection.close()
            if refill:
                try:
                    connection = self._open()
                except duckdb.Error:
                    with self._condition:
                        self._failed = True  # take() opens (and reports) in the foreground
                    continue
                with self._condition:
                    self._ready.append(connection)

    def _needs_more(self) -> bool:
        return not self._failed and len(self._ready) < self.size

    def _work_due_in(self) -> float | None:
        """0 when the thread should work now, else how long to wait (None: until notified)."""
        if not self._retired and not self._needs_more():
            return None
        if not self._ready and self._needs_more():
            return 0  # the next query would have to open its own
        idle = _activity.idle_for()
        if idle is None:
            return _POLL_SECONDS
        return max(0.0, IDLE_GRACE_SECONDS - idle)


_pools: OrderedDict[tuple[Any, ...], SandboxPool] = OrderedDict()
_pools_lock = threading.Lock()


def sandbox_pool(
    *, threads: int, memory_limit: str, temp_directory: str, extensions: tuple[str, ...] = ()
) -> SandboxPool:
    """The process's pool for databases with these limits and extensions (the last few used)."""
    key = (threads, memory_limit, temp_directory, extensions)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            config = {
                "threads": threads,
                "memory_limit": memory_limit,
                "temp_directory": temp_directory,
            }
            pool = _pools[key] = SandboxPool(config, extensions=extensions)
        _pools.move_to_end(key)
        evicted = [_pools.popitem(last=False)[1] for _ in range(len(_pools) - MAX_POOLS)]
    for old in evicted:
        old.close()
    return pool


def _quoted(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def settle(timeout: float = 5.0) -> bool:
    """Wait until every pool's thread is done (benchmarks keep it out of their timings)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _pools_lock:
            pools = list(_pools.values())
        if all(pool.settled for pool in pools):
            return True
        time.sleep(0.001)
    return False


def close_pools() -> None:
    """Close every pool (at exit)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _forget_pools_in_child() -> None:
    # A forked child must not touch the parent's databases or threads: start over, unclosed.
    global _pools_lock
    _pools_lock = threading.Lock()
    _orphans.extend(_pools.values())
    _pools.clear()


_orphans: list[SandboxPool] = []
atexit.register(close_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_in_child)
