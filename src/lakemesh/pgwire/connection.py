"""One client connection: startup (TLS, password), then simple and extended queries until the
client terminates.

Queries run in a worker thread through :func:`lakemesh.query.service.run`, the service behind
``POST /api/v1/queries``, with a cancellation handle that a CancelRequest (on another
connection, with this one's backend key) uses. Rows come from the query's stream a batch at a
time (:mod:`lakemesh.pgwire.rows`): a batch is read, encoded and written only once the client has
taken the previous one, so a large result is never whole in the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import ssl
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    QueryCancelledError,
    QueryRejectedError,
)
from lakemesh.hub import Hub
from lakemesh.identity.scram import MECHANISM, ScramError, ServerExchange
from lakemesh.model.actors import Actor
from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.auth import (
    authenticate_connection,
    refused,
    scram_authenticated,
    scram_candidates,
)
from lakemesh.pgwire.messages import BINARY, TEXT, Field, ProtocolViolationError
from lakemesh.pgwire.rows import Rows
from lakemesh.pgwire.session import REPORTED, ClientSession
from lakemesh.pgwire.statements import (
    Command,
    bind_parameters,
    parameter_count,
    parse_command,
    split_statements,
)
from lakemesh.pgwire.types import TEXT_TYPE, decode_parameter, encode_array, pg_type
from lakemesh.query import service
from lakemesh.query.engines import Cancellation

logger = logging.getLogger("lakemesh.pgwire")

MAX_STARTUP_BYTES = 10_000
"""The longest startup packet or password message: nothing larger is read before the client
has authenticated."""
STARTUP_SECONDS = 60.0
"""How long a connection may take from its first byte to a checked password."""
MAX_PREPARED = 10_000
"""Prepared statements one connection may hold at once."""

T = TypeVar("T")


@dataclass
class Outcome:
    """What one statement returned: its command tag, and its rows when it has any."""

    tag: str
    rows: Rows | None = None
    copy_format: str = ""
    """``text`` or ``binary`` for a COPY TO STDOUT: the rows go out as COPY data."""


@dataclass
class Prepared:
    """A parsed (prepared) statement."""

    sql: str
    parameter_types: tuple[int, ...]
    command: Command | None
    schema: pa.Schema | None = None
    undeclared: tuple[int, ...] = ()
    """Positions of parameters the client left untyped (text until a Describe infers them)."""


@dataclass
class Portal:
    """A bound statement: its SQL with parameters in it, its result once executed, and how far
    the client has read it."""

    prepared: Prepared
    sql: str
    result_formats: tuple[int, ...]
    outcome: Outcome | None = None
    described: bool = False

    def close(self) -> None:
        """End the portal's rows (their query stops if they were not read to their end)."""
        if self.outcome is not None and self.outcome.rows is not None:
            self.outcome.rows.close()


class ClientError(Exception):
    """An error answered with an ErrorResponse of ``code`` (not a lakemesh error)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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

    # -- startup --------------------------------------------------------------------------------

    async def run(self) -> None:
        sock = self.writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Each answer is several small messages: Nagle's algorithm would hold the last ones
            # back until the client acknowledges (40 ms per query with delayed ACKs).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            try:
                started = await asyncio.wait_for(self._startup(), STARTUP_SECONDS)
            except TimeoutError:
                await self._send(
                    sqlstate.fatal_message(
                        sqlstate.PROTOCOL_VIOLATION,
                        f"the connection did not authenticate within {STARTUP_SECONDS:g}s",
                    )
                )
                return
            if started:
                await self._serve()
        except (ConnectionError, asyncio.IncompleteReadError, ProtocolViolationError) as e:
            if isinstance(e, ProtocolViolationError):
                await self._send(sqlstate.fatal_message(sqlstate.PROTOCOL_VIOLATION, str(e)))
        finally:
            self.cancel()
            if self.session is not None:
                with contextlib.suppress(Exception):
                    await self._drop_portals(everything=True)
            self.server.forget(self)
            self.writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self.writer.wait_closed()

    async def _read_startup(self) -> tuple[int, bytes]:
        length = struct.unpack("!i", await self.reader.readexactly(4))[0]
        if not 8 <= length <= MAX_STARTUP_BYTES:
            raise ProtocolViolationError(f"Invalid startup packet length: {length}")
        body = await self.reader.readexactly(length - 4)
        return struct.unpack("!i", body[:4])[0], body[4:]

    async def _startup(self) -> bool:
        """Negotiate TLS, read the startup packet, check the password; False ends the
        connection."""
        context = self.server.tls_context
        while True:
            code, body = await self._read_startup()
            if code == messages.SSL_REQUEST and not self.tls:
                if context is None:
                    await self._send(b"N")
                    continue
                await self._send(b"S")
                await self.writer.start_tls(context)
                self.tls = True
                continue
            if code == messages.GSSENC_REQUEST:
                await self._send(b"N")
                continue
            if code == messages.CANCEL_REQUEST:
                if len(body) >= 8:
                    process_id, secret = struct.unpack("!ii", body[:8])
                    self.server.cancel(process_id, secret)
                return False
            if code >> 16 != 3:
                await self._send(
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
        if self.server.require_tls and not self.tls:
            await self._send(
                sqlstate.fatal_message(
                    sqlstate.INVALID_AUTHORIZATION,
                    "TLS is required (pgwire.require_tls): connect with sslmode=require",
                )
            )
            return False
        if not user:
            await self._send(
                sqlstate.fatal_message(
                    sqlstate.INVALID_AUTHORIZATION,
                    "no user name given: connect as the principal (user:mia@marketing or "
                    "mia@marketing) with a lakemesh token as the password",
                )
            )
            return False
        try:
            if self.tls and self.server.cleartext_over_tls:
                self.actor = await self._cleartext(user)
            else:
                self.actor = await self._scram(user)
        except LakemeshError as e:
            await self._send(sqlstate.fatal_message(sqlstate.sqlstate(e), e.message))
            return False
        try:
            self.session = ClientSession(
                user=self.actor.ref,
                database=parameters.get("database") or user,
                parameters=parameters,
            )
        except InvalidInputError as e:
            await self._send(sqlstate.fatal_message(sqlstate.sqlstate(e), e.message))
            return False
        self.process_id = self.server.register(self)
        out = [messages.authentication_ok()]
        for name in REPORTED:
            out.append(messages.parameter_status(name, self.session.settings[name.lower()]))
        out.append(messages.backend_key_data(self.process_id, self.secret))
        out.append(messages.ready_for_query("I"))
        await self._send(b"".join(out))
        return True

    async def _cleartext(self, user: str) -> Actor:
        """Ask for the token in clear (TLS connections, when ``tls_cleartext_password`` is set)."""
        await self._send(messages.authentication_cleartext_password())
        kind, password_body = await self._read_message(MAX_STARTUP_BYTES)
        if kind != b"p":
            raise ProtocolViolationError(f"expected a password message, got {kind!r}")
        password = password_body.rstrip(b"\x00").decode(errors="replace")
        return await self.in_thread(
            partial(
                authenticate_connection,
                self.server.hub,
                user=user,
                password=password,
                client=self.client,
            )
        )

    async def _scram(self, user: str) -> Actor:
        """SCRAM-SHA-256: the client proves it holds one of the principal's tokens without
        sending it, and checks that the server knows the token's verifier."""
        hub = self.server.hub
        await self._send(messages.authentication_sasl([MECHANISM]))
        kind, body = await self._read_message(MAX_STARTUP_BYTES)
        if kind != b"p":
            raise ProtocolViolationError(f"expected a SASL response, got {kind!r}")
        mechanism, client_first = messages.read_sasl_initial_response(body)
        if mechanism != MECHANISM:
            raise ProtocolViolationError(
                f"unsupported SASL mechanism {mechanism!r}: the server offers {MECHANISM}"
            )
        candidates = await self.in_thread(partial(scram_candidates, hub, user=user))
        exchange = ServerExchange(candidates.salt)
        try:
            server_first = exchange.first(client_first)
        except ScramError as e:
            raise ProtocolViolationError(str(e)) from None
        await self._send(messages.authentication_sasl_continue(server_first))
        kind, body = await self._read_message(MAX_STARTUP_BYTES)
        if kind != b"p":
            raise ProtocolViolationError(f"expected a SASL response, got {kind!r}")
        try:
            matched = exchange.final(body.decode(errors="replace"), candidates.verifiers)
        except ScramError:
            raise await self.in_thread(
                partial(
                    refused,
                    hub,
                    user=user,
                    principal=candidates.principal,
                    reason="Invalid API token",
                    client=self.client,
                )
            ) from None
        actor = await self.in_thread(
            partial(
                scram_authenticated,
                hub,
                user=user,
                token_id=candidates.token_ids[matched],
                client=self.client,
            )
        )
        await self._send(messages.authentication_sasl_final(exchange.server_final()))
        return actor

    # -- the message loop -----------------------------------------------------------------------

    async def _read_message(self, limit: int = messages.MAX_MESSAGE_BYTES) -> tuple[bytes, bytes]:
        header = await self.reader.readexactly(5)
        kind, length = header[:1], struct.unpack("!i", header[1:])[0]
        if not 4 <= length <= limit:
            raise ProtocolViolationError(f"Invalid message length: {length}")
        return kind, await self.reader.readexactly(length - 4)

    async def _serve(self) -> None:
        skipping = False  # after an error in the extended protocol, until Sync
        while True:
            kind, body = await self._read_message()
            if kind == b"X":
                return
            if kind == b"S":
                skipping = False
                if not self._session().in_transaction:
                    # the implicit transaction ends: its portals (and the rows they hold) go
                    await self._drop_portals()
                await self._send(messages.ready_for_query(self._status()))
                continue
            if kind == b"Q":
                await self._simple_query(messages.Reader(body).cstring())
                continue
            if kind == b"H":
                await self.writer.drain()
                continue
            if skipping:
                continue
            try:
                await self._extended(kind, body)
            except (LakemeshError, ClientError, ValueError) as error:
                await self._send(self._error(error))
                skipping = True

    def _status(self) -> str:
        session = self._session()
        if not session.in_transaction:
            return "I"
        return "E" if session.failed else "T"

    def _session(self) -> ClientSession:
        assert self.session is not None
        return self.session

    def _error(self, error: Exception) -> bytes:
        session = self._session()
        if session.in_transaction:
            session.failed = True
        if isinstance(error, LakemeshError):
            return sqlstate.lakemesh_error(error)
        if isinstance(error, ClientError):
            return sqlstate.error_message(error.code, error.message)
        return sqlstate.error_message(sqlstate.INVALID_PARAMETER_VALUE, str(error))

    # -- simple query ---------------------------------------------------------------------------

    async def _simple_query(self, text: str) -> None:
        statements = split_statements(text)
        if not statements:
            await self._send(
                messages.empty_query_response() + messages.ready_for_query(self._status())
            )
            return
        for statement in statements:
            try:
                await self._drop_portals()  # a simple query ends the unnamed portal
                outcome = await self._execute(statement.text, parse_command(statement.text))
                rows = outcome.rows
                try:
                    if outcome.copy_format and rows is not None:
                        await self._send_copy(rows, outcome.copy_format)
                    elif rows is not None:
                        formats = [TEXT] * len(rows.schema)
                        await self._send(messages.row_description(fields(rows.schema, formats)))
                        await self._send_rows(rows, formats)
                finally:
                    if rows is not None:
                        await self.in_thread(rows.close)
            except (LakemeshError, ClientError, ValueError) as error:
                await self._send(self._error(error))
                break
            await self._send(messages.command_complete(_tag(outcome)))
        await self._send(messages.ready_for_query(self._status()))

    # -- extended query -------------------------------------------------------------------------

    async def _extended(self, kind: bytes, body: bytes) -> None:
        session = self._session()
        if kind == b"P":
            parse = messages.read_parse(body)
            if parse.statement and parse.statement in session.statements:
                raise ClientError(
                    sqlstate.DUPLICATE_PREPARED_STATEMENT,
                    f'prepared statement "{parse.statement}" already exists',
                )
            text = parse.query.strip().rstrip(";").strip()
            if len(split_statements(text)) > 1:
                raise ClientError(
                    sqlstate.SYNTAX_ERROR,
                    "cannot insert multiple commands into a prepared statement",
                )
            count = max(parameter_count(text), len(parse.parameter_types))
            types = tuple(
                parse.parameter_types[i]
                if i < len(parse.parameter_types) and parse.parameter_types[i]
                else TEXT_TYPE.oid
                for i in range(count)
            )
            if len(session.statements) >= MAX_PREPARED and parse.statement:
                raise ClientError(
                    sqlstate.PROGRAM_LIMIT_EXCEEDED,
                    f"a connection holds at most {MAX_PREPARED} prepared statements "
                    "(close or DEALLOCATE some)",
                )
            undeclared = tuple(
                i
                for i in range(count)
                if i >= len(parse.parameter_types) or not parse.parameter_types[i]
            )
            session.statements[parse.statement] = Prepared(
                text, types, parse_command(text), undeclared=undeclared
            )
            await self._send(messages.parse_complete())
        elif kind == b"B":
            bind = messages.read_bind(body)
            prepared = self._statement(bind.statement)
            if bind.portal and bind.portal in session.portals:
                raise ClientError(sqlstate.INVALID_CURSOR_NAME, f'portal "{bind.portal}" exists')
            if len(bind.parameters) != len(prepared.parameter_types):
                raise ClientError(
                    sqlstate.PROTOCOL_VIOLATION,
                    f"bind message supplies {len(bind.parameters)} parameters, but prepared "
                    f"statement requires {len(prepared.parameter_types)}",
                )
            formats = messages.formats_for(bind.parameter_formats, len(bind.parameters))
            values = [
                decode_parameter(value, type_oid, format)
                for value, type_oid, format in zip(
                    bind.parameters, prepared.parameter_types, formats, strict=True
                )
            ]
            sql = bind_parameters(prepared.sql, values) if values else prepared.sql
            await self._drop_portals(bind.portal)
            session.portals[bind.portal] = Portal(prepared, sql, bind.result_formats)
            await self._send(messages.bind_complete())
        elif kind == b"D":
            target, name = messages.read_target(body)
            if target == "S":
                await self._describe_statement(self._statement(name))
            else:
                await self._describe_portal(self._portal(name))
        elif kind == b"E":
            name, limit = messages.read_execute(body)
            await self._execute_portal(self._portal(name), limit)
        elif kind == b"C":
            target, name = messages.read_target(body)
            if target == "S":
                session.statements.pop(name, None)
            else:
                await self._drop_portals(name)
            await self._send(messages.close_complete())
        elif kind in (b"d", b"c", b"f"):
            raise ClientError(
                sqlstate.FEATURE_NOT_SUPPORTED,
                "COPY FROM STDIN is not supported: the mesh is read-only over this protocol",
            )
        else:
            raise ProtocolViolationError(f"unknown message type {kind!r}")

    def _statement(self, name: str) -> Prepared:
        found = self._session().statements.get(name)
        if found is None:
            raise ClientError(
                sqlstate.INVALID_STATEMENT_NAME, f'prepared statement "{name}" does not exist'
            )
        assert isinstance(found, Prepared)
        return found

    def _portal(self, name: str) -> Portal:
        found = self._session().portals.get(name)
        if found is None:
            raise ClientError(sqlstate.INVALID_CURSOR_NAME, f'portal "{name}" does not exist')
        assert isinstance(found, Portal)
        return found

    async def _describe_statement(self, prepared: Prepared) -> None:
        """ParameterDescription and the shape of the rows, found by running the statement with
        NULL parameters and no rows (through the gateway, like any query)."""
        if prepared.undeclared and prepared.command is None:
            inferred = await self.server.describe_parameters(
                self, prepared.sql, len(prepared.parameter_types)
            )
            prepared.parameter_types = tuple(
                inferred[i] if i in prepared.undeclared else declared
                for i, declared in enumerate(prepared.parameter_types)
            )
            prepared.undeclared = ()
        out = [messages.parameter_description(prepared.parameter_types)]
        if prepared.schema is None and _returns_rows(prepared.command):
            probe = bind_parameters(prepared.sql, [None] * len(prepared.parameter_types))
            outcome = await self._execute(
                f"SELECT * FROM ({probe}) AS described LIMIT 0"
                if prepared.command is None
                else probe,
                prepared.command,
                probe=True,
            )
            if outcome.rows is not None:
                prepared.schema = outcome.rows.schema
                await self.in_thread(partial(_drain, outcome.rows))
        if prepared.schema is None:
            out.append(messages.no_data())
        else:
            out.append(messages.row_description(fields(prepared.schema, None)))
        await self._send(b"".join(out))

    async def _run_portal(self, portal: Portal) -> Outcome:
        if portal.outcome is None:
            portal.outcome = await self._execute(portal.sql, portal.prepared.command)
        return portal.outcome

    async def _describe_portal(self, portal: Portal) -> None:
        outcome = await self._run_portal(portal)
        portal.described = True
        if outcome.rows is None or outcome.copy_format:
            await self._send(messages.no_data())
            return
        formats = messages.formats_for(portal.result_formats, len(outcome.rows.schema))
        await self._send(messages.row_description(fields(outcome.rows.schema, formats)))

    async def _execute_portal(self, portal: Portal, limit: int) -> None:
        outcome = await self._run_portal(portal)
        if outcome.tag == "EMPTY":
            await self._send(messages.empty_query_response())
            return
        rows = outcome.rows
        if outcome.copy_format and rows is not None:
            await self._send_copy(rows, outcome.copy_format)
            await self._send(messages.command_complete(_tag(outcome)))
            return
        if rows is None:
            await self._send(messages.command_complete(_tag(outcome)))
            return
        formats = messages.formats_for(portal.result_formats, len(rows.schema))
        await self._send_rows(rows, formats, limit)
        with self._sending(rows):
            suspended = limit > 0 and not await self._pull(rows, rows.at_end)
        if suspended:
            await self._send(messages.portal_suspended())
        else:
            await self._send(messages.command_complete(f"SELECT {rows.sent}"))

    # -- executing a statement ------------------------------------------------------------------

    async def _execute(self, sql: str, command: Command | None, *, probe: bool = False) -> Outcome:
        session = self._session()
        if command is not None and command.kind == "COPY FROM":
            return await self._refuse_copy_from(command.value)
        if command is not None and command.kind == "COPY":
            if command.name not in ("text", "binary"):
                raise ClientError(
                    sqlstate.FEATURE_NOT_SUPPORTED,
                    f"COPY TO STDOUT is answered in FORMAT text or binary, not {command.name}",
                )
            if session.failed:
                raise ClientError(
                    sqlstate.IN_FAILED_TRANSACTION,
                    "current transaction is aborted, commands ignored until end of "
                    "transaction block",
                )
            outcome = await self.server.route(self, command.value)
            return Outcome("COPY", outcome.rows, copy_format=command.name)
        if command is not None:
            return self._command(command)
        if session.failed:
            raise ClientError(
                sqlstate.IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )
        return await self.server.route(self, sql, probe=probe)

    async def _refuse_copy_from(self, sql: str) -> Outcome:
        """COPY FROM writes: the gateway refuses it (and records the refusal, as it does any
        write), answered as PostgreSQL answers a write in a read-only transaction (25006)."""
        try:
            await self.server.route(self, sql)
        except QueryRejectedError as error:
            raise ClientError(
                sqlstate.READ_ONLY_SQL_TRANSACTION,
                f"cannot execute COPY FROM in a read-only transaction: {error.message}",
            ) from None
        raise ClientError(sqlstate.READ_ONLY_SQL_TRANSACTION, "cannot execute COPY FROM")

    def _command(self, command: Command) -> Outcome:
        session = self._session()
        kind = command.kind
        if kind == "EMPTY":
            return Outcome("EMPTY")
        if kind == "BEGIN":
            session.in_transaction = True
            return Outcome("BEGIN")
        if kind == "ROLLBACK TO":
            session.failed = False  # back to a savepoint: the block may go on
            return Outcome("ROLLBACK")
        if kind in ("COMMIT", "ROLLBACK"):
            failed = session.failed
            session.in_transaction = session.failed = False
            _close_all(session.portals)  # a transaction's portals end with it
            return Outcome("ROLLBACK" if failed else kind)
        if session.failed:
            raise ClientError(
                sqlstate.IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )
        if kind in ("SAVEPOINT", "RELEASE"):
            return Outcome(kind)
        if kind == "SET MALFORMED":
            raise ClientError(
                sqlstate.SYNTAX_ERROR, "SET takes a setting and a value: SET name = value (or TO)"
            )
        if kind == "SET":
            if command.name:  # SET TRANSACTION ... has none: a no-op for read-only clients
                session.set(command.name, command.value)
                self._report(command.name)
            return Outcome("SET")
        if kind == "RESET":
            session.reset(command.name)
            self._report(command.name)
            return Outcome("RESET")
        if kind == "SHOW":
            value = session.show(command.name)
            table = pa.table({command.name: pa.array([value], pa.string())})
            return Outcome("SHOW", Rows.of_table(table))
        if kind == "DISCARD ALL":
            session.statements.clear()
            _close_all(session.portals)
            session.reset("all")
            return Outcome("DISCARD ALL")
        if kind == "DEALLOCATE":
            if command.name.upper() == "ALL":
                session.statements.clear()
            else:
                session.statements.pop(command.name, None)
            return Outcome("DEALLOCATE")
        raise QueryRejectedError(f"Not a query: {kind}")

    def _report(self, name: str) -> None:
        """Tell the client a reported setting changed (ParameterStatus), as PostgreSQL does."""
        settings = self._session().settings
        for reported in REPORTED:
            if name.lower() in ("all", reported.lower()):
                self.writer.write(messages.parameter_status(reported, settings[reported.lower()]))

    async def run_query(self, sql: str, *, probe: bool = False) -> Outcome:
        """Start a governed query for this connection's principal; its rows come as the client
        reads them, and a CancelRequest stops it while they do. A ``probe`` (the shape of a
        prepared statement's rows) is not recorded in the history unless it fails."""
        session = self._session()
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
            raise self._timed_out(error, rows) from None
        except BaseException:
            rows.close()
            raise
        finally:
            self.running = None
        rows.start(stream.schema, iter(stream), close=stream.close)
        for warning in stream.warnings:
            await self._send(
                messages.notice_response(
                    {"S": "WARNING", "V": "WARNING", "C": "01000", "M": warning}
                )
            )
        return Outcome("SELECT", rows)

    def _timed_out(self, error: QueryCancelledError, rows: Rows) -> QueryCancelledError:
        """A cancel caused by the session's ``statement_timeout`` says so."""
        if not rows.timed_out:
            return error
        return QueryCancelledError(
            f"{error.message}: statement_timeout of "
            f"{self._session().settings['statement_timeout']} (session setting)",
            details=error.details,
        )

    async def _pull(self, rows: Rows, function: Callable[[], T]) -> T:
        """Call ``function`` (it reads ``rows``) in a worker thread; a cancel of the rows'
        query comes out as the error that says why."""
        try:
            return await self.in_thread(function)
        except QueryCancelledError as error:
            raise self._timed_out(error, rows) from None

    @contextlib.contextmanager
    def _sending(self, rows: Rows) -> Iterator[None]:
        """While rows are sent (read, or waiting for the client to take them), a CancelRequest
        stops their query, as PostgreSQL's does while a backend sends."""
        self.running = rows.cancellation
        try:
            yield
        finally:
            self.running = None

    async def _drop_portals(self, name: str | None = None, *, everything: bool = False) -> None:
        """End the portal ``name`` (every portal with ``everything``, the unnamed one by
        default), stopping the queries they still read."""
        portals = self._session().portals
        names = list(portals) if everything else [name or ""]
        dropped = [portals.pop(key) for key in names if key in portals]
        if dropped:
            await self.in_thread(partial(_close_all, dict(enumerate(dropped))))

    # -- output ---------------------------------------------------------------------------------

    async def _send_rows(self, rows: Rows, formats: Sequence[int], limit: int = 0) -> None:
        """DataRows of ``rows`` (at most ``limit``, 0: all), a batch at a time: the next batch
        is read only once the client has taken the previous one."""
        left = limit
        with self._sending(rows):
            while limit <= 0 or left > 0:
                data = await self._pull(
                    rows, partial(_encoded, rows, left, formats, self._session().time_zone)
                )
                if data is None:
                    return
                payload, count = data
                await self._send(payload)
                left -= count

    async def _send_copy(self, rows: Rows, format: str) -> None:
        """``rows`` as COPY data: a CopyData message per row, a batch at a time, then CopyDone."""
        binary = format == "binary"
        await self._send(messages.copy_out_response(binary, len(rows.schema)))
        # One CopyData per tuple, as PostgreSQL sends them (ADBC's reader reads one record per
        # message); the binary header travels in the first one.
        first = binary
        with self._sending(rows):
            while True:
                data = await self._pull(
                    rows,
                    partial(_copy_encoded, rows, binary, first, self._session().time_zone),
                )
                if data is None:
                    break
                await self._send(data)
                first = False
        if first:
            await self._send(messages.copy_data(messages.COPY_BINARY_HEADER))
        if binary:
            await self._send(messages.copy_data(messages.COPY_BINARY_TRAILER))
        await self._send(messages.copy_done())

    async def _send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def in_thread(self, function: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.server.executor, function)


def fields(schema: pa.Schema, formats: Sequence[int] | None) -> list[Field]:
    """The RowDescription of ``schema`` in ``formats`` (text when ``None``)."""
    result = []
    for index, column in enumerate(schema):
        wire = pg_type(column.type)
        result.append(
            Field(
                column.name,
                wire.oid,
                wire.type.size if wire.element is None else -1,
                format=formats[index] if formats else TEXT,
            )
        )
    return result


def _encoded(
    rows: Rows, limit: int, formats: Sequence[int], time_zone: str | None
) -> tuple[bytes, int] | None:
    """The DataRows of the next batch of ``rows`` and how many they are; None at the end."""
    batch = rows.take(limit)
    if batch is None:
        return None
    return encode_batch(batch, formats, time_zone), batch.num_rows


def _copy_encoded(rows: Rows, binary: bool, first: bool, time_zone: str | None) -> bytes | None:
    """The CopyData messages of the next batch of ``rows``; None at the end."""
    batch = rows.take()
    if batch is None:
        return None
    if binary:
        return encode_copy_binary(batch, first=first)
    return encode_copy_text(batch, time_zone)


def _drain(rows: Rows) -> None:
    """Read ``rows`` to their end (a probe's: none), so their query ends normally."""
    while rows.take() is not None:
        pass
    rows.close()


def _close_all(portals: dict[Any, Any]) -> None:
    """Close every portal of ``portals`` and forget them."""
    for portal in portals.values():
        if isinstance(portal, Portal):
            portal.close()
    portals.clear()


def encode_batch(
    batch: pa.RecordBatch, formats: Sequence[int], time_zone: str | None = None
) -> bytes:
    """The DataRows of one batch (text timestamps with a zone in ``time_zone``)."""
    columns = [
        encode_array(batch.column(i), BINARY if formats[i] == BINARY else TEXT, time_zone)
        for i in range(batch.num_columns)
    ]
    return messages.data_rows(columns, batch.num_rows)


def encode_copy_binary(batch: pa.RecordBatch, *, first: bool = False) -> bytes:
    """The CopyData messages of one batch's tuples in binary COPY format."""
    columns = [encode_array(batch.column(i), BINARY) for i in range(batch.num_columns)]
    return messages.copy_tuples(columns, batch.num_rows, first=first)


_COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def encode_copy_text(batch: pa.RecordBatch, time_zone: str | None = None) -> bytes:
    """The CopyData messages of one batch's lines in text COPY format: tab-separated,
    ``\\N`` for NULL."""
    columns = []
    for i in range(batch.num_columns):
        values = encode_array(batch.column(i), TEXT, time_zone)
        array = values if isinstance(values, pa.Array) else pa.array(values, pa.binary())
        for raw, escaped in _COPY_ESCAPES:
            array = pc.replace_substring(array, raw, escaped)
        columns.append(array)
    lines = pc.binary_join_element_wise(
        *columns, b"\t", null_handling="replace", null_replacement=b"\\N"
    )
    return messages.copy_lines(lines)


def _returns_rows(command: Command | None) -> bool:
    return command is None or command.kind == "SHOW"


def _tag(outcome: Outcome) -> str:
    if outcome.tag == "COPY" and outcome.rows is not None:
        return f"COPY {outcome.rows.sent}"
    if outcome.tag == "SELECT" and outcome.rows is not None:
        return f"SELECT {outcome.rows.sent}"
    return outcome.tag
