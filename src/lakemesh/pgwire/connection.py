"""One client connection's state and what every phase of it uses: reading and writing messages,
the session's transaction status, and starting a governed query whose rows a CancelRequest may
stop while they are sent.

A connection goes through startup (:mod:`lakemesh.pgwire.startup`), then answers simple
(:mod:`lakemesh.pgwire.simple`) and extended queries (:mod:`lakemesh.pgwire.extended`) until the
client terminates (:mod:`lakemesh.pgwire.serving` runs it). Queries run in a worker thread
through :func:`lakemesh.query.service.stream`, the service behind ``POST /api/v1/queries``, with a
cancellation handle that a CancelRequest (on another connection, with this one's backend key)
uses. Rows come from the query's stream a batch at a time (:mod:`lakemesh.pgwire.rows`,
:mod:`lakemesh.pgwire.streaming`), so a large result is never whole in the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

import pyarrow as pa

from lakemesh.errors import LakemeshError, QueryCancelledError
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.messages import ProtocolViolationError
from lakemesh.pgwire.portals import ClientError, Outcome, close_all
from lakemesh.pgwire.rows import Rows
from lakemesh.pgwire.session import REPORTED, ClientSession
from lakemesh.query import service
from lakemesh.query.engines import Cancellation

T = TypeVar("T")


class Backend(Protocol):
    """What a connection needs of its server (:class:`lakemesh.pgwire.server.PgServer`)."""

    hub: Hub
    tls_context: ssl.SSLContext | None
    require_tls: bool
    cleartext_over_tls: bool
    executor: Executor

    def register(self, connection: Connection) -> int: ...

    def forget(self, connection: Connection) -> None: ...

    def cancel(self, process_id: int, secret: int) -> None: ...

    async def route(self, connection: Connection, sql: str, *, probe: bool = False) -> Outcome: ...

    async def describe_parameters(
        self, connection: Connection, sql: str, count: int
    ) -> list[int]: ...


@dataclass
class Connection:
    """The state of one client connection."""

    server: Backend
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    process_id: int = 0
    secret: int = field(default_factory=lambda: secrets.randbits(31))
    actor: Actor | None = None
    session: ClientSession | None = None
    running: Cancellation | None = None
    tls: bool = False

    @property
    def client(self) -> str:
        peer = self.writer.get_extra_info("peername")
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    @property
    def principal(self) -> Actor:
        """The authenticated actor (after startup)."""
        assert self.actor is not None
        return self.actor

    @property
    def client_session(self) -> ClientSession:
        """The session (after startup)."""
        assert self.session is not None
        return self.session

    def cancel(self) -> None:
        """Stop the statement running now (a CancelRequest)."""
        running = self.running
        if running is not None:
            running.cancel()

    # -- messages -------------------------------------------------------------------------------

    async def read_message(self, limit: int = messages.MAX_MESSAGE_BYTES) -> tuple[bytes, bytes]:
        """The next message's type and body (at most ``limit`` bytes long)."""
        header = await self.reader.readexactly(5)
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        if not 4 <= length <= limit:
            raise ProtocolViolationError(f"Invalid message length: {length}")
        return kind, await self.reader.readexactly(length - 4)

    async def send(self, data: bytes) -> None:
        """Write ``data`` and wait until the client has taken it."""
        self.writer.write(data)
        await self.writer.drain()

    async def in_thread(self, function: Callable[[], T]) -> T:
        """Call ``function`` in the server's worker threads."""
        return await asyncio.get_running_loop().run_in_executor(self.server.executor, function)

    # -- the session ----------------------------------------------------------------------------

    def status(self) -> str:
        """The transaction status ReadyForQuery reports: idle, in a block, or in a failed one."""
        session = self.client_session
        if not session.in_transaction:
            return "I"
        return "E" if session.failed else "T"

    def error(self, error: Exception) -> bytes:
        """The ErrorResponse of ``error``; a transaction block it happens in fails."""
        session = self.client_session
        if session.in_transaction:
            session.failed = True
        if isinstance(error, LakemeshError):
            return sqlstate.lakemesh_error(error)
        if isinstance(error, ClientError):
            return sqlstate.error_message(error.code, error.message)
        return sqlstate.error_message(sqlstate.INVALID_PARAMETER_VALUE, str(error))

    def report(self, name: str) -> None:
        """Tell the client a reported setting changed (ParameterStatus), as PostgreSQL does."""
        settings = self.client_session.settings
        for reported in REPORTED:
            if name.lower() in ("all", reported.lower()):
                self.writer.write(messages.parameter_status(reported, settings[reported.lower()]))

    async def drop_portals(self, name: str | None = None, *, everything: bool = False) -> None:
        """End the portal ``name`` (every portal with ``everything``, the unnamed one by
        default), stopping the queries they still read."""
        portals = self.client_session.portals
        names = list(portals) if everything else [name or ""]
        dropped = [portals.pop(key) for key in names if key in portals]
        if dropped:
            await self.in_thread(partial(close_all, dict(enumerate(dropped))))

    # -- governed queries -----------------------------------------------------------------------

    async def run_query(self, sql: str, *, probe: bool = False) -> Outcome:
        """Start a governed query for this connection's principal; its rows come as the client
        reads them, and a CancelRequest stops it while they do. A ``probe`` (the shape of a
        prepared statement's rows) is not recorded in the history unless it fails."""
        session = self.client_session
        assert self.actor is not None
        cancellation = Cancellation()
        self.running = cancellation
        rows = Rows(
            pa.schema([]),
            iter(()),
            cancellation=cancellation,
            timeout=session.statement_timeout,
        )
        try:
            stream = await self.in_thread(
                partial(
                    service.stream,
                    self.server.hub,
                    actor=self.actor,
                    sql=sql,
                    workgroup=session.workgroup,
                    cancellation=cancellation,
                    search_path=session.search_path,
                    probe=probe,
                )
            )
        except QueryCancelledError as error:
            rows.close()
            raise self.timed_out(error, rows) from None
        except BaseException:
            rows.close()
            raise
        finally:
            self.running = None
        rows.start(stream.schema, iter(stream), close=stream.close)
        for warning in stream.warnings:
            await self.send(
                messages.notice_response(
                    {"S": "WARNING", "V": "WARNING", "C": "01000", "M": warning}
                )
            )
        return Outcome("SELECT", rows)

    def timed_out(self, error: QueryCancelledError, rows: Rows) -> QueryCancelledError:
        """A cancel caused by the session's ``statement_timeout`` says so."""
        if not rows.timed_out:
            return error
        return QueryCancelledError(
            f"{error.message}: statement_timeout of "
            f"{self.client_session.settings['statement_timeout']} (session setting)",
            details=error.details,
        )

    async def pull(self, rows: Rows, function: Callable[[], T]) -> T:
        """Call ``function`` (it reads ``rows``) in a worker thread; a cancel of the rows'
        query comes out as the error that says why."""
        try:
            return await self.in_thread(function)
        except QueryCancelledError as error:
            raise self.timed_out(error, rows) from None

    @contextlib.contextmanager
    def sending(self, rows: Rows) -> Iterator[None]:
        """While rows are sent (read, or waiting for the client to take them), a CancelRequest
        stops their query, as PostgreSQL's does while a backend sends."""
        self.running = rows.cancellation
        try:
            yield
        finally:
            self.running = None
