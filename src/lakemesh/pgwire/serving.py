"""A connection from its first byte to its last: startup within a time limit, then the message
loop (simple queries, the extended protocol until an error skips to Sync), then the teardown that
stops what still runs."""

from __future__ import annotations

import asyncio
import contextlib
import socket

from lakemesh.errors import LakemeshError
from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.extended import extended
from lakemesh.pgwire.messages import ProtocolViolationError
from lakemesh.pgwire.portals import ClientError
from lakemesh.pgwire.simple import simple_query
from lakemesh.pgwire.startup import STARTUP_SECONDS, startup


async def serve(connection: Connection) -> None:
    """Serve ``connection`` until the client terminates or goes, then close it."""
    sock = connection.writer.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        # Each answer is several small messages: Nagle's algorithm would hold the last ones
        # back until the client acknowledges (40 ms per query with delayed ACKs).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        try:
            started = await asyncio.wait_for(startup(connection), STARTUP_SECONDS)
        except TimeoutError:
            await connection.send(
                sqlstate.fatal_message(
                    sqlstate.PROTOCOL_VIOLATION,
                    f"the connection did not authenticate within {STARTUP_SECONDS:g}s",
                )
            )
            return
        if started:
            await _message_loop(connection)
    except (ConnectionError, asyncio.IncompleteReadError, ProtocolViolationError) as e:
        if isinstance(e, ProtocolViolationError):
            await connection.send(sqlstate.fatal_message(sqlstate.PROTOCOL_VIOLATION, str(e)))
    finally:
        connection.cancel()
        if connection.session is not None:
            with contextlib.suppress(Exception):
                await connection.drop_portals(everything=True)
        connection.server.forget(connection)
        connection.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await connection.writer.wait_closed()


async def _message_loop(connection: Connection) -> None:
    skipping = False  # after an error in the extended protocol, until Sync
    while True:
        kind, body = await connection.read_message()
        if kind == b"X":
            return
        if kind == b"S":
            skipping = False
            if not connection.client_session.in_transaction:
                # the implicit transaction ends: its portals (and the rows they hold) go
                await connection.drop_portals()
            await connection.send(messages.ready_for_query(connection.status()))
            continue
        if kind == b"Q":
            await simple_query(connection, messages.Reader(body).cstring())
            continue
        if kind == b"H":
            await connection.writer.drain()
            continue
        if skipping:
            continue
        try:
            await extended(connection, kind, body)
        except (LakemeshError, ClientError, ValueError) as error:
            await connection.send(connection.error(error))
            skipping = True
