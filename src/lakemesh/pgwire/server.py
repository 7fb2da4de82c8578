"""The PostgreSQL listener: connections, backend keys for cancel requests, and a thread of its
own so it serves beside the HTTP API (``lakemesh serve --pg-port``) or in a test.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

from lakemesh.hub import Hub
from lakemesh.pgwire import sqlstate
from lakemesh.pgwire.config import PgwireSettings
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.portals import Outcome
from lakemesh.pgwire.routing import Router
from lakemesh.pgwire.serving import serve

logger = logging.getLogger("lakemesh.pgwire")

STARTUP_TIMEOUT = 30.0
MAX_WORKERS = 32
"""Threads running queries and encoding rows, shared by every connection."""


class PgServer:
    """Serves a hub over the PostgreSQL protocol."""

    def __init__(self, hub: Hub, *, settings: PgwireSettings | None = None) -> None:
        self.hub = hub
        self.settings = settings or PgwireSettings()
        self.tls_context: ssl.SSLContext | None = self.settings.tls_context()
        self.require_tls = self.settings.require_tls
        self.cleartext_over_tls = self.settings.tls_cleartext_password
        self.executor: Executor = ThreadPoolExecutor(
            MAX_WORKERS, thread_name_prefix="lakemesh-pgwire"
        )
        self.router = Router()
        self._connections: dict[int, Connection] = {}
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, connection: Connection) -> int:
        """A fresh process id for ``connection`` (the key of its cancel requests)."""
        with self._lock:
            while True:
                process_id = secrets.randbits(30) + 1
                if process_id not in self._connections:
                    self._connections[process_id] = connection
                    return process_id

    async def route(self, connection: Connection, sql: str, *, probe: bool = False) -> Outcome:
        """Answer one query of ``connection`` (a ``probe`` describes a prepared statement)."""
        return await self.router.run(connection, sql, probe=probe)

    async def describe_parameters(self, connection: Connection, sql: str, count: int) -> list[int]:
        """The type OIDs of a statement's parameters (:mod:`lakemesh.pgwire.parameters`)."""
        return await self.router.parameter_types(connection, sql, count)

    def forget(self, connection: Connection) -> None:
        self.router.forget(connection)
        with self._lock:
            if self._connections.get(connection.process_id) is connection:
                del self._connections[connection.process_id]

    def cancel(self, process_id: int, secret: int) -> None:
        """A CancelRequest: stop the running statement of the connection with that key."""
        with self._lock:
            connection = self._connections.get(process_id)
        if connection is not None and connection.secret == secret:
            connection.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._tasks) >= self.settings.max_connections:
            refusal = sqlstate.fatal_message(
                sqlstate.TOO_MANY_CONNECTIONS,
                f"sorry, too many clients already ({self.settings.max_connections}, "
                "pgwire.max_connections)",
            )
            with contextlib.suppress(ConnectionError, OSError):
                writer.write(refusal)
                await writer.drain()
                writer.close()
            return
        if task is not None:
            self._tasks.add(task)
        try:
            await serve(Connection(self, reader, writer))
        except asyncio.CancelledError:
            pass  # the server is stopping: the connection ends with it
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def serve(
        self, sock: socket.socket, started: threading.Event, stop: asyncio.Event
    ) -> None:
        """Accept connections on ``sock`` until ``stop`` is set, then end every connection."""
        server = await asyncio.start_server(self._handle, sock=sock)
        started.set()
        async with server:
            await stop.wait()
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@dataclass(frozen=True)
class Running:
    """A server running in a thread: where it listens."""

    host: str
    port: int


@contextlib.contextmanager
def serve_in_background(
    hub: Hub, *, settings: PgwireSettings | None = None, sock: socket.socket | None = None
) -> Iterator[Running]:
    """Serve ``hub`` over the PostgreSQL protocol in a thread until the block ends.

    ``sock`` is a bound socket to serve on; without it, ``settings.host`` and ``settings.port``
    (127.0.0.1 and a free port by default) are bound.
    """
    settings = settings or PgwireSettings()
    server = PgServer(hub, settings=settings)
    bound = sock or listen(settings.host or "127.0.0.1", settings.port or 0)
    if sock is not None:
        bound.listen(128)
        bound.setblocking(False)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve(bound, started, stop))
        except BaseException as e:  # reported to the caller below
            failure.append(e)
            started.set()

    thread = threading.Thread(target=run, name="lakemesh-pgwire", daemon=True)
    thread.start()
    if not started.wait(STARTUP_TIMEOUT) or failure:
        raise RuntimeError(f"The PostgreSQL server did not start: {failure[:1]}")
    host, port = bound.getsockname()[:2]
    try:
        yield Running(host, port)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=STARTUP_TIMEOUT)
        loop.close()
        server.close()
        bound.close()


__all__ = ["Outcome", "PgServer", "Running", "listen", "serve_in_background"]
