"""A connection's startup: TLS negotiation, the startup packet (or a CancelRequest), the password
(SCRAM-SHA-256, or the token in clear over TLS when configured), then the session and its
reported settings."""

from __future__ import annotations

import struct
from functools import partial

from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.identity.scram import MECHANISM, ScramError, ServerExchange
from lakemesh.model.actors import Actor
from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.auth import (
    authenticate_connection,
    refused,
    scram_authenticated,
    scram_candidates,
)
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.messages import ProtocolViolationError
from lakemesh.pgwire.session import REPORTED, ClientSession

MAX_STARTUP_BYTES = 10_000
"""The longest startup packet or password message: nothing larger is read before the client
has authenticated."""
STARTUP_SECONDS = 60.0
"""How long a connection may take from its first byte to a checked password."""


async def startup(connection: Connection) -> bool:
    """Negotiate TLS, read the startup packet, check the password; False ends the
    connection."""
    server = connection.server
    context = server.tls_context
    while True:
        code, body = await _read_startup(connection)
        if code == messages.SSL_REQUEST and not connection.tls:
            if context is None:
                await connection.send(b"N")
                continue
            await connection.send(b"S")
            await connection.writer.start_tls(context)
            connection.tls = True
            continue
        if code == messages.GSSENC_REQUEST:
            await connection.send(b"N")
            continue
        if code == messages.CANCEL_REQUEST:
            if len(body) >= 8:
                process_id, secret = struct.unpack("!ii", body[:8])
                server.cancel(process_id, secret)
            return False
        if code >> 16 != 3:
            await connection.send(
                sqlstate.fatal_message(
                    sqlstate.FEATURE_NOT_SUPPORTED,
                    f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: "
                    "the server speaks 3.0",
                )
            )
            return False
        break
    parameters = messages.startup_parameters(body)
    user = parameters.get("user", "")
    if server.require_tls and not connection.tls:
        await connection.send(
            sqlstate.fatal_message(
                sqlstate.INVALID_AUTHORIZATION,
                "TLS is required (pgwire.require_tls): connect with sslmode=require",
            )
        )
        return False
    if not user:
        await connection.send(
            sqlstate.fatal_message(
                sqlstate.INVALID_AUTHORIZATION,
                "no user name given: connect as the principal (user:mia@marketing or "
                "mia@marketing) with a lakemesh token as the password",
            )
        )
        return False
    try:
        if connection.tls and server.cleartext_over_tls:
            connection.actor = await _cleartext(connection, user)
        else:
            connection.actor = await _scram(connection, user)
    except LakemeshError as e:
        await connection.send(sqlstate.fatal_message(sqlstate.sqlstate(e), e.message))
        return False
    try:
        session = ClientSession(
            user=connection.actor.ref,
            database=parameters.get("database") or user,
            parameters=parameters,
        )
    except InvalidInputError as e:
        await connection.send(sqlstate.fatal_message(sqlstate.sqlstate(e), e.message))
        return False
    connection.session = session
    connection.process_id = server.register(connection)
    out = [messages.authentication_ok()]
    for name in REPORTED:
        out.append(messages.parameter_status(name, session.settings[name.lower()]))
    out.append(messages.backend_key_data(connection.process_id, connection.secret))
    out.append(messages.ready_for_query("I"))
    await connection.send(b"".join(out))
    return True


async def _read_startup(connection: Connection) -> tuple[int, bytes]:
    length = struct.unpack("!i", await connection.reader.readexactly(4))[0]
    if not 8 <= length <= MAX_STARTUP_BYTES:
        raise ProtocolViolationError(f"Invalid startup packet length: {length}")
    body = await connection.reader.readexactly(length - 4)
    return struct.unpack("!i", body[:4])[0], body[4:]


async def _cleartext(connection: Connection, user: str) -> Actor:
    """Ask for the token in clear (TLS connections, when ``tls_cleartext_password`` is set)."""
    await connection.send(messages.authentication_cleartext_password())
    kind, password_body = await connection.read_message(MAX_STARTUP_BYTES)
    if kind != b"p":
        raise ProtocolViolationError(f"expected a password message, got {kind!r}")
    password = password_body.rstrip(b"\x00").decode(errors="replace")
    return await connection.in_thread(
        partial(
            authenticate_connection,
            connection.server.hub,
            user=user,
            password=password,
            client=connection.client,
        )
    )


async def _scram(connection: Connection, user: str) -> Actor:
    """SCRAM-SHA-256: the client proves it holds one of the principal's tokens without
    sending it, and checks that the server knows the token's verifier."""
    hub = connection.server.hub
    await connection.send(messages.authentication_sasl([MECHANISM]))
    kind, body = await connection.read_message(MAX_STARTUP_BYTES)
    if kind != b"p":
        raise ProtocolViolationError(f"expected a SASL response, got {kind!r}")
    mechanism, client_first = messages.read_sasl_initial_response(body)
    if mechanism != MECHANISM:
        raise ProtocolViolationError(
            f"unsupported SASL mechanism {mechanism!r}: the server offers {MECHANISM}"
        )
    candidates = await connection.in_thread(partial(scram_candidates, hub, user=user))
    exchange = ServerExchange(candidates.salt)
    try:
        server_first = exchange.first(client_first)
    except ScramError as e:
        raise ProtocolViolationError(str(e)) from None
    await connection.send(messages.authentication_sasl_continue(server_first))
    kind, body = await connection.read_message(MAX_STARTUP_BYTES)
    if kind != b"p":
        raise ProtocolViolationError(f"expected a SASL response, got {kind!r}")
    try:
        matched = exchange.final(body.decode(errors="replace"), candidates.verifiers)
    except ScramError:
        raise await connection.in_thread(
            partial(
                refused,
                hub,
                user=user,
                principal=candidates.principal,
                reason="Invalid API token",
                client=connection.client,
            )
        ) from None
    actor = await connection.in_thread(
        partial(
            scram_authenticated,
            hub,
            user=user,
            token_id=candidates.token_ids[matched],
            client=connection.client,
        )
    )
    await connection.send(messages.authentication_sasl_final(exchange.server_final()))
    return actor
