"""The hub's side of query worker processes: a small warm pool, and one query at a time in each.

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
import logging
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Generator, Iterator
from typing import Any

import pyarrow as pa

from lakemesh.errors import InvalidInputError, LakemeshError, error_class
from lakemesh.query.engines.base import Cancellation, EngineStream, QueryLimits
from lakemesh.query.engines.duckdb_worker import (
    MAX_CHUNK_BYTES,
    MAX_INLINE_BYTES,
    ChannelClosedError,
    memory_status,
    read_exactly,
    read_frame,
    write_frame,
)
from lakemesh.query.engines.limits import interruptible, memory_bytes, memory_limit_exceeded

logger = logging.getLogger("lakemesh.query")

POOL_SIZE = 2
"""Workers a serving hub keeps started (ready or busy); more start when more queries run. A
process that only runs a command (the CLI on a hub home) keeps the one its first query started."""
MAX_IDLE = 4
"""Ready workers kept when queries end (a busy hub does not restart one per query)."""
MAX_QUERIES_PER_WORKER = 2000
"""Queries a worker serves before it is replaced (a new one costs about a second of CPU)."""
INLINE_RESULT_BYTES = 256 * 1024
"""A result's Arrow IPC stream up to this size comes back through the pipe, not in a file."""
STARTUP_SECONDS = 60.0
WATCH_SECONDS = 0.02
RSS_SLACK_BYTES = 128 * 1024**2
"""Resident memory a worker may use beyond its own and the query's limit before it is killed."""
REUSE_GROWTH_BYTES = 256 * 1024**2
"""A worker that grew more than this over a query is not given another."""


# What a worker keeps of the hub's environment: enough to start Python and find lakemesh. Nothing
# else (tokens, AWS_* keys, the database URL and its password) reaches a process running queries.
_ENVIRONMENT_KEPT = ("PATH", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "HOME", "LANG", "TZ")
_ENVIRONMENT_PREFIXES = ("LC_", "TMP", "TEMP")


def worker_environment() -> dict[str, str]:
    """The environment a worker process starts with: the hub's, less anything secret."""
    return {
        name: value
        for name, value in os.environ.items()
        if name in _ENVIRONMENT_KEPT or name.startswith(_ENVIRONMENT_PREFIXES)
    }


class WorkerEndedError(Exception):
    """The worker process ended while a query ran (killed, or crashed)."""


class QueryWorker:
    """One worker process, started at once; :meth:`wait_ready` waits for it to load."""

    def __init__(self) -> None:
        environment = {**worker_environment(), "MALLOC_ARENA_MAX": "2", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lakemesh.query.engines.duckdb_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            bufsize=0,
            start_new_session=True,  # a terminal's Ctrl-C reaches the hub, which stops it
            close_fds=True,
        )
        self.queries = 0
        self.cpu_seconds = 0.0
        """CPU time the process had used at its last frame (its ready frame, then each reply)."""
        self.baseline_rss = 0
        self.memory_killed = False
        self.killed = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self) -> None:
        """Wait for the worker's ready frame.

        Raises:
            LakemeshError: the worker did not start.
        """
        try:
            if not self._readable(STARTUP_SECONDS):
                raise ChannelClosedError("no answer")
            ready = read_frame(self._read)
        except (ChannelClosedError, ValueError, OSError) as e:
            self.kill()
            raise LakemeshError(f"Could not start a query worker process: {e}") from e
        self.cpu_seconds = float(ready.get("cpu_seconds", 0.0))
        self.baseline_rss = memory_status(self.pid)["VmRSS"]

    @property
    def _out(self) -> Any:
        return self.process.stdout

    def _readable(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the worker to write (or exit); poll, not select: a busy
        hub's descriptors pass select's limit of 1024."""
        poller = select.poll()
        poller.register(self._out.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        return bool(poller.poll(seconds * 1000))

    def _read(self, size: int) -> bytes:
        return os.read(self._out.fileno(), size)

    def run(
        self, request: dict[str, Any], *, limits: QueryLimits, cancellation: Cancellation | None
    ) -> dict[str, Any]:
        """Send ``request`` and wait for its reply, holding the worker to ``limits``; a result
        sent inline is the reply's ``payload`` (bytes).

        Raises:
            LimitExceededError: out of time, or the worker passed the memory limit.
            QueryCancelledError: ``cancellation`` was used.
            LakemeshError: the worker ended unexpectedly.
        """
        with self._sent(request, limits, cancellation) as cap:
            reply = self._reply(cap)
            if "inline" in reply:
                size = int(reply["inline"])
                if not 0 <= size <= min(request.get("inline_bytes", 0), MAX_INLINE_BYTES):
                    raise ValueError(f"Worker result too large to be inline: {size} bytes")
                reply["payload"] = read_exactly(self._read, size)
            return reply

    def chunks(
        self, request: dict[str, Any], *, limits: QueryLimits, cancellation: Cancellation | None
    ) -> Generator[bytes, None, dict[str, Any]]:
        """Send a ``stream`` request and yield its chunks as the worker sends them (the worker
        waits while they are not read); returns its reply. Held to ``limits`` as :meth:`run`,
        the time limit running until the last chunk.

        Raises:
            LimitExceededError: out of time, or the worker passed the memory limit.
            QueryCancelledError: ``cancellation`` was used.
            LakemeshError: the worker ended unexpectedly.
        """
        with self._sent(request, limits, cancellation) as cap:
            while True:
                reply = self._reply(cap)
                if "chunk" not in reply:
                    return reply
                size = int(reply["chunk"])
                if not 0 <= size <= MAX_CHUNK_BYTES:
                    raise ValueError(f"Worker chunk too large: {size} bytes")
                yield read_exactly(self._read, size)

    @contextlib.contextmanager
    def _sent(
        self, request: dict[str, Any], limits: QueryLimits, cancellation: Cancellation | None
    ) -> Iterator[int]:
        """Send ``request`` and hold the worker to ``limits`` (:meth:`_held`) while the block
        reads its replies, under the resident memory cap it yields."""
        self.queries += 1
        cap = self.baseline_rss + memory_bytes(limits.memory_limit) + RSS_SLACK_BYTES
        with self._held(limits, cancellation):
            assert self.process.stdin is not None
            write_frame(self.process.stdin, request)
            yield cap

    @contextlib.contextmanager
    def _held(self, limits: QueryLimits, cancellation: Cancellation | None) -> Iterator[None]:
        """Hold the worker to ``limits`` and ``cancellation`` (it is killed past them) while the
        block talks to it; a broken channel or a killed worker comes out as what caused it.

        Raises:
            LimitExceededError: out of time, or the worker passed the memory limit.
            QueryCancelledError: ``cancellation`` was used.
            LakemeshError: the worker ended unexpectedly.
        """
        try:
            with interruptible(
                limits=limits,
                cancellation=cancellation,
                interrupt=self.kill,
                engine_errors=WorkerEndedError,
            ):
                try:
                    yield
                except (ChannelClosedError, OSError, ValueError) as e:
                    self.kill()
                    raise WorkerEndedError(str(e)) from e
        except WorkerEndedError as e:
            raise self._ended(limits) from e

    def _ended(self, limits: QueryLimits) -> LakemeshError:
        """The error of a query whose worker ended under it (not by a time limit or cancel)."""
        if self.memory_killed:
            return memory_limit_exceeded(limits)
        code = self.process.wait()
        return LakemeshError(
            f"Query failed: its worker process ended unexpectedly (exit code {code})"
        )

    def _reply(self, cap: int) -> dict[str, Any]:
        while True:
            if self._readable(WATCH_SECONDS):
                return read_frame(self._read)
            resident = memory_status(self.pid)["VmRSS"]
            if resident > cap and not self.memory_killed:
                logger.warning(
                    "Query worker %s killed: %d bytes resident, over its cap of %d",
                    self.pid,
                    resident,
                    cap,
                )
                self.memory_killed = True
                self.kill()

    @property
    def reusable(self) -> bool:
        """True when the worker may serve another query."""
        return (
            not self.killed
            and self.process.poll() is None
            and self.queries < MAX_QUERIES_PER_WORKER
            and memory_status(self.pid)["VmRSS"] <= self.baseline_rss + REUSE_GROWTH_BYTES
        )

    def kill(self) -> None:
        """End the worker now (safe from any thread, and when it has already ended)."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()

    def close(self) -> None:
        """Let the worker exit (its input ends), killing it if it does not."""
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            if self.process.stdout is not None:
                self.process.stdout.close()


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
        try:
            memory_bytes(limits.memory_limit)
        except ValueError as e:
            raise InvalidInputError(f"Invalid query limits: {e}") from e
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
        try:
            memory_bytes(limits.memory_limit)
        except ValueError as e:
            raise InvalidInputError(f"Invalid query limits: {e}") from e
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
