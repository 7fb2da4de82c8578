"""One query worker process as the hub sees it: started with none of the hub's secrets, held to a
query's limits while it runs (killed past its time, its memory cap or a cancellation), and given
another query only if it ended normally and did not grow. The pool of them:
:mod:`.duckdb_process`; the process itself: :mod:`.duckdb_worker`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import sys
from collections.abc import Generator, Iterator
from typing import Any

from lakemesh.errors import LakemeshError
from lakemesh.query.engines.base import Cancellation, QueryLimits
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

MAX_QUERIES_PER_WORKER = 2000
"""Queries a worker serves before it is replaced (a new one costs about a second of CPU)."""

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
