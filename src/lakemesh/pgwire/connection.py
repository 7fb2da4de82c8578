"""One client connection: startup (TLS, password), then simple and extended queries until the
client terminates.

Queries run in a worker thread through :func:`lakemesh.query.service.run`, the service behind
``POST /api/v1/queries``, with a cancellation handle that a CancelRequest (on another
connection, with this one's backend key) uses. Rows are encoded and written a batch at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from lakemesh.errors import (
    InvalidInputError,
    LakemeshError,
    QueryCancelledError,
    QueryRejectedError,
)
from lakemesh.hub import Hub
from lakemesh.model.actors import Actor
from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.auth import authenticate_connection
from lakemesh.pgwire.messages import BINARY, TEXT, Field, ProtocolViolationError
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

BATCH_ROWS = 8192
"""Rows encoded and written at a time: a result is never encoded whole."""
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
    table: pa.Table | None = None
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
    offset: int = 0
    described: bool = False


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
    executor: Executor

    def register(self, connection: Connection) -> int: ...

    def forget(self, connection: Connection) -> None: ...

    def cancel(self, process_id: int, secret: int) -> None: ...

    async def route(self, connection: Connection, sql: str) -> Outcome: ...

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
        await self._send(messages.authentication_cleartext_password())
        kind, password_body = await self._read_message(MAX_STARTUP_BYTES)
        if kind != b"p":
            raise ProtocolViolationError(f"expected a password message, got {kind!r}")
        password = password_body.rstrip(b"\x00").decode(errors="replace")
        try:
            self.actor = await self.in_thread(
                partial(
                    authenticate_connection,
                    self.server.hub,
                    user=user,
                    password=password,
                    client=self.client,
                )
            )
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
                    self._session().portals.clear()
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
                outcome = await self._execute(statement.text, parse_command(statement.text))
            except (LakemeshError, ClientError, ValueError) as error:
                await self._send(self._error(error))
                break
            if outcome.copy_format and outcome.table is not None:
                await self._send_copy(outcome.table, outcome.copy_format)
            elif outcome.table is not None:
                formats = [TEXT] * outcome.table.num_columns
                await self._send(messages.row_description(fields(outcome.table.schema, formats)))
                await self._send_rows(outcome.table, formats)
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
            (session.statements if target == "S" else session.portals).pop(name, None)
            await self._send(messages.close_complete())
        elif kind in (b"d", b"c", b"f"):
            raise ClientError(sqlstate.FEATURE_NOT_SUPPORTED, "COPY is not supported")
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
            )
            if outcome.table is not None:
                prepared.schema = outcome.table.schema
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
        if outcome.table is None or outcome.copy_format:
            await self._send(messages.no_data())
            return
        formats = messages.formats_for(portal.result_formats, outcome.table.num_columns)
        await self._send(messages.row_description(fields(outcome.table.schema, formats)))

    async def _execute_portal(self, portal: Portal, limit: int) -> None:
        outcome = await self._run_portal(portal)
        if outcome.tag == "EMPTY":
            await self._send(messages.empty_query_response())
            return
        if outcome.copy_format and outcome.table is not None:
            await self._send_copy(outcome.table, outcome.copy_format)
            await self._send(messages.command_complete(_tag(outcome)))
            return
        if outcome.table is None:
            await self._send(messages.command_complete(_tag(outcome)))
            return
        table = outcome.table
        formats = messages.formats_for(portal.result_formats, table.num_columns)
        remaining = table.num_rows - portal.offset
        count = remaining if limit <= 0 else min(limit, remaining)
        await self._send_rows(table.slice(portal.offset, count), formats)
        portal.offset += count
        if portal.offset < table.num_rows:
            await self._send(messages.portal_suspended())
        else:
            await self._send(messages.command_complete(f"SELECT {portal.offset}"))

    # -- executing a statement ------------------------------------------------------------------

    async def _execute(self, sql: str, command: Command | None) -> Outcome:
        session = self._session()
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
            return Outcome("COPY", outcome.table, copy_format=command.name)
        if command is not None:
            return self._command(command)
        if session.failed:
            raise ClientError(
                sqlstate.IN_FAILED_TRANSACTION,
                "current transaction is aborted, commands ignored until end of transaction block",
            )
        return await self.server.route(self, sql)

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
            session.portals.clear()  # a transaction's portals end with it
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
            return Outcome("SET")
        if kind == "RESET":
            session.reset(command.name)
            return Outcome("RESET")
        if kind == "SHOW":
            value = session.show(command.name)
            return Outcome("SHOW", pa.table({command.name: pa.array([value], pa.string())}))
        if kind == "DISCARD ALL":
            session.statements.clear()
            session.portals.clear()
            session.reset("all")
            return Outcome("DISCARD ALL")
        if kind == "DEALLOCATE":
            if command.name.upper() == "ALL":
                session.statements.clear()
            else:
                session.statements.pop(command.name, None)
            return Outcome("DEALLOCATE")
        raise QueryRejectedError(f"Not a query: {kind}")

    async def run_query(self, sql: str) -> Outcome:
        """Run a governed query for this connection's principal; a CancelRequest stops it."""
        session = self._session()
        assert self.actor is not None
        cancellation = Cancellation()
        self.running = cancellation
        limit = session.statement_timeout
        timer = threading.Timer(limit, cancellation.cancel) if limit else None
        if timer is not None:
            timer.start()
        try:
            outcome = await self.in_thread(
                partial(
                    service.run,
                    self.server.hub,
                    actor=self.actor,
                    sql=sql,
                    workgroup=session.workgroup,
                    cancellation=cancellation,
                    search_path=session.search_path,
                )
            )
        except QueryCancelledError as error:
            if timer is not None and not timer.is_alive() and self.running is cancellation:
                raise QueryCancelledError(
                    f"{error.message}: statement_timeout of "
                    f"{session.settings['statement_timeout']} (session setting)",
                    details=error.details,
                ) from None
            raise
        finally:
            self.running = None
            if timer is not None:
                timer.cancel()
        for warning in outcome.warnings:
            await self._send(
                messages.notice_response(
                    {"S": "WARNING", "V": "WARNING", "C": "01000", "M": warning}
                )
            )
        return Outcome("SELECT", outcome.result.table)

    # -- output ---------------------------------------------------------------------------------

    async def _send_rows(self, table: pa.Table, formats: Sequence[int]) -> None:
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            if batch.num_rows:
                await self._send(await self.in_thread(partial(encode_batch, batch, formats)))

    async def _send_copy(self, table: pa.Table, format: str) -> None:
        """The rows of ``table`` as COPY data: a CopyData message per batch, then CopyDone."""
        binary = format == "binary"
        await self._send(messages.copy_out_response(binary, table.num_columns))
        # One CopyData per tuple, as PostgreSQL sends them (ADBC's reader reads one record per
        # message); the binary header travels in the first one.
        first = binary
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            if batch.num_rows:
                if binary:
                    data = await self.in_thread(partial(encode_copy_binary, batch, first=first))
                else:
                    data = await self.in_thread(partial(encode_copy_text, batch))
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


def encode_batch(batch: pa.RecordBatch, formats: Sequence[int]) -> bytes:
    """The DataRows of one batch."""
    columns = [
        encode_array(batch.column(i), BINARY if formats[i] == BINARY else TEXT)
        for i in range(batch.num_columns)
    ]
    return messages.data_rows(columns, batch.num_rows)


def encode_copy_binary(batch: pa.RecordBatch, *, first: bool = False) -> bytes:
    """The CopyData messages of one batch's tuples in binary COPY format."""
    columns = [encode_array(batch.column(i), BINARY) for i in range(batch.num_columns)]
    return messages.copy_tuples(columns, batch.num_rows, first=first)


_COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def encode_copy_text(batch: pa.RecordBatch) -> bytes:
    """The CopyData messages of one batch's lines in text COPY format: tab-separated,
    ``\\N`` for NULL."""
    columns = []
    for i in range(batch.num_columns):
        values = encode_array(batch.column(i), TEXT)
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
    if outcome.tag == "COPY" and outcome.table is not None:
        return f"COPY {outcome.table.num_rows}"
    if outcome.tag in ("SELECT", "SHOW") and outcome.table is not None:
        return f"SELECT {outcome.table.num_rows}" if outcome.tag == "SELECT" else "SHOW"
    return outcome.tag
