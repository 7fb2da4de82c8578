"""The hub's side of query worker processes: a small warm pool, and one query at a time in each
(one worker process as the hub sees it: :mod:`.duckdb_worker_process`).

No DuckDB query runs in the hub process. Each runs in a worker (:mod:`.duckdb_worker`) whose
memory the operating system caps (``RLIMIT_AS``) and the hub watches: past the query's memory
limit the worker is killed and the query fails with :class:`LimitExceededError`, while the hub
keeps serving. A timeout or a cancellation kills the worker too. A worker that ended its query
normally and did not grow serves the next one; new ones are started in the background so that
:data:`POOL_SIZE` are always started (starting one costs about a second: Python, DuckDB, Arrow).

Rows come back as an Arrow IPC stream: a small one (at most :data:`INLINE_RESULT_BYTES`) through
the worker's pipe, right after its reply; a larger one as a file that the hub maps into memory and
deletes at once, so a large result occupies page cache, not the hub's heap, and disappears with
the last reference to it. A streamed query (:meth:`WorkerPool.stream`) sends its batches through
the pipe as its reader asks for them, and keeps its worker until it is read to its end or closed.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from typing import Any

import pyarrow as pa

from lakemesh.errors import InvalidInputError, LakemeshError, error_class
from lakemesh.query.engines.base import Cancellation, EngineStream, QueryLimits
from lakemesh.query.engines.duckdb_worker_process import STARTUP_SECONDS, QueryWorker
from lakemesh.query.engines.limits import memory_bytes

POOL_SIZE = 2
"""Workers a serving hub keeps started (ready or busy); more start when more queries run. A
process that only runs a command (the CLI on a hub home) keeps the one its first query started."""

MAX_IDLE = 4
"""Ready workers kept when queries end (a busy hub does not restart one per query)."""

INLINE_RESULT_BYTES = 256 * 1024
"""A result's Arrow IPC stream up to this size comes back through the pipe, not in a file."""


class WorkerPool:
    """Ready worker processes of one hub process, refilled by a background thread."""

    def __init__(self, *, size: int = 1) -> None:
        self.size = size
        self.results = tempfile.mkdtemp(prefix="lakemesh-results-")
        self._ready: list[QueryWorker] = []
        self._starting = 0
        self._busy = 0
        self._condition = threading.Condition()
        self._closed = False
        self._cpu_seconds = 0.0

    @property
    def cpu_seconds(self) -> float:
        """CPU time the pool's workers used after they said ready (queries, and what a worker
        does between them), counted up to each worker's last reply."""
        with self._condition:
            return self._cpu_seconds

    def take(self) -> QueryWorker:
        """A ready worker, or one started now when none is ready."""
        with self._condition:
            # A worker already starting is ready sooner than a new one (and costs no extra CPU).
            deadline = time.monotonic() + STARTUP_SECONDS
            while not self._ready and self._starting and time.monotonic() < deadline:
                self._condition.wait(deadline - time.monotonic())
            worker = self._ready.pop() if self._ready else None
            self._busy += 1
            self._refill()
        if worker is not None:
            return worker
        try:
            worker = QueryWorker()
            worker.wait_ready()
        except BaseException:
            with self._condition:
                self._busy -= 1
            raise
        return worker

    def give_back(self, worker: QueryWorker) -> None:
        """Keep ``worker`` for another query if it is healthy and needed, else end it."""
        with self._condition:
            self._busy -= 1
            keep = not self._closed and len(self._ready) < MAX_IDLE and worker.reusable
            if keep:
                self._ready.append(worker)
                self._condition.notify_all()
            else:
                self._refill()
        if not keep:
            threading.Thread(target=worker.close, daemon=True).start()

    def _refill(self) -> None:
        """Start workers in the background until ``size`` are started (lock held)."""
        while not self._closed and len(self._ready) + self._starting + self._busy < self.size:
            self._starting += 1
            threading.Thread(
                target=self._start_one, name="lakemesh-query-worker", daemon=True
            ).start()

    def _start_one(self) -> None:
        worker: QueryWorker | None = None
        try:
            worker = QueryWorker()
            worker.wait_ready()
        except (LakemeshError, OSError):
            worker = None
        with self._condition:
            self._starting -= 1
            if worker is not None and not self._closed:
                self._ready.append(worker)
                worker = None
            self._condition.notify_all()
        if worker is not None:
            worker.close()

    def warm_up(self, size: int = POOL_SIZE) -> None:
        """Keep at least ``size`` workers started from now on, starting them in the background."""
        with self._condition:
            self.size = max(self.size, size)
            self._refill()

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> bool:
        """Wait until ``size`` workers are started and none is starting (benchmarks keep
        startups out of their timings)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            self._refill()
            while self._starting or len(self._ready) + self._busy < self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._condition.wait(remaining)
        return True

    def run(
        self, request: dict[str, Any], *, limits: QueryLimits, cancellation: Cancellation | None
    ) -> pa.Table:
        """Run ``request`` in a worker and return its rows (from its pipe, or memory-mapped from
        its result file).

        Raises:
            InvalidInputError: ``limits.memory_limit`` is not a memory size.
            LakemeshError: the error the query ended with (limits, rejection, storage ...).
        """
        _check_limits(limits)
        path = os.path.join(self.results, f"{uuid.uuid4().hex}.arrows")
        worker = self.take()
        try:
            reply = worker.run(
                {**request, "result_path": path, "inline_bytes": INLINE_RESULT_BYTES},
                limits=limits,
                cancellation=cancellation,
            )
            self._settle(worker, reply)
            if "payload" in reply:
                return pa.ipc.open_stream(pa.py_buffer(reply["payload"])).read_all()
            return pa.ipc.open_stream(pa.memory_map(path)).read_all()
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self.give_back(worker)

    def stream(
        self, request: dict[str, Any], *, limits: QueryLimits, cancellation: Cancellation | None
    ) -> EngineStream:
        """Run ``request`` in a worker and return its rows as the worker sends them: the schema
        once the query has started, each batch when the reader asks for it. The worker is held
        until the last batch is read; closing the stream earlier ends the worker.

        Raises:
            InvalidInputError: ``limits.memory_limit`` is not a memory size.
            LakemeshError: the error the query ended with, when it starts or while it is read.
        """
        _check_limits(limits)
        worker = self.take()
        chunks = worker.chunks(
            {**request, "stream": True, "result_path": os.devnull},
            limits=limits,
            cancellation=cancellation,
        )
        ended = threading.Event()

        def end(*, finished: bool) -> None:
            if ended.is_set():
                return
            ended.set()
            if not finished:
                worker.kill()  # its pipe holds unread rows: it serves nobody else
            chunks.close()
            self.give_back(worker)

        try:
            first = self._next_batches(worker, chunks)
            if first is None:
                raise LakemeshError("Query failed: its worker sent no result")
            schema = first.schema
        except BaseException:
            end(finished=False)
            raise

        def batches() -> Iterator[pa.RecordBatch]:
            finished = False
            try:
                while True:
                    reader = self._next_batches(worker, chunks)
                    if reader is None:
                        finished = True
                        return
                    yield from reader
            finally:
                end(finished=finished)

        return EngineStream(schema, batches(), close=lambda: end(finished=False))

    def _next_batches(
        self, worker: QueryWorker, chunks: Generator[bytes, None, dict[str, Any]]
    ) -> Any:
        """The reader of the next chunk of a streamed result, or None after its last (its reply
        settled: the worker's CPU counted, its error raised)."""
        try:
            chunk = next(chunks)
        except StopIteration as stop:
            self._settle(worker, stop.value)
            return None
        return pa.ipc.open_stream(pa.py_buffer(chunk))

    def _settle(self, worker: QueryWorker, reply: dict[str, Any]) -> None:
        """Count the CPU a reply says its worker used, and raise the error it carries."""
        used = worker.cpu_seconds
        worker.cpu_seconds = float(reply.get("cpu_seconds", used))
        with self._condition:
            self._cpu_seconds += worker.cpu_seconds - used
        if "error" in reply:
            error = reply["error"]
            cls = error_class(str(error.get("type", "")))
            raise cls(str(error.get("message", "Query failed")), details=error.get("details"))

    def close(self) -> None:
        """End every ready worker and remove the results folder."""
        with self._condition:
            self._closed = True
            workers, self._ready = self._ready, []
        for worker in workers:
            worker.close()
        shutil.rmtree(self.results, ignore_errors=True)


_pool: list[WorkerPool] = []
_pool_lock = threading.Lock()


def _check_limits(limits: QueryLimits) -> None:
    """Refuse limits whose memory limit is not a memory size, before a worker is taken."""
    try:
        memory_bytes(limits.memory_limit)
    except ValueError as e:
        raise InvalidInputError(f"Invalid query limits: {e}") from e


def worker_pool() -> WorkerPool:
    """The hub process's pool of query workers (made on first use)."""
    with _pool_lock:
        if not _pool:
            _pool.append(WorkerPool())
        return _pool[0]


def close_worker_pool() -> None:
    """End the process's query workers (at exit)."""
    with _pool_lock:
        pools, _pool[:] = list(_pool), []
    for pool in pools:
        pool.close()


def _forget_pool_in_child() -> None:
    # A forked child must not use (or end) its parent's workers: it starts its own.
    global _pool_lock
    _pool_lock = threading.Lock()
    _pool.clear()


atexit.register(close_worker_pool)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)
