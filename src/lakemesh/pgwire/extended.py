"""The extended query protocol: Parse, Bind, Describe, Execute and Close of prepared statements
and portals (Sync and Flush are the message loop's: :mod:`lakemesh.pgwire.serving`)."""

from __future__ import annotations

from functools import partial

from lakemesh.pgwire import messages, sqlstate
from lakemesh.pgwire.commands import execute
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.encoding import fields
from lakemesh.pgwire.messages import ProtocolViolationError
from lakemesh.pgwire.parameters import decode_parameter
from lakemesh.pgwire.portals import (
    ClientError,
    Outcome,
    Portal,
    Prepared,
    command_tag,
    drain,
    returns_rows,
)
from lakemesh.pgwire.statements import (
    bind_parameters,
    parameter_count,
    parse_command,
    split_statements,
)
from lakemesh.pgwire.streaming import send_copy, send_rows
from lakemesh.pgwire.types import TEXT_TYPE

MAX_PREPARED = 10_000
"""Prepared statements one connection may hold at once."""


async def extended(connection: Connection, kind: bytes, body: bytes) -> None:
    """Answer one message of the extended protocol."""
    session = connection.client_session
    if kind == b"P":
        await _parse(connection, body)
    elif kind == b"B":
        bind = messages.read_bind(body)
        prepared = _statement(connection, bind.statement)
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
        await connection.drop_portals(bind.portal)
        session.portals[bind.portal] = Portal(prepared, sql, bind.result_formats)
        await connection.send(messages.bind_complete())
    elif kind == b"D":
        target, name = messages.read_target(body)
        if target == "S":
            await _describe_statement(connection, _statement(connection, name))
        else:
            await _describe_portal(connection, _portal(connection, name))
    elif kind == b"E":
        name, limit = messages.read_execute(body)
        await _execute_portal(connection, _portal(connection, name), limit)
    elif kind == b"C":
        target, name = messages.read_target(body)
        if target == "S":
            session.statements.pop(name, None)
        else:
            await connection.drop_portals(name)
        await connection.send(messages.close_complete())
    elif kind in (b"d", b"c", b"f"):
        raise ClientError(
            sqlstate.FEATURE_NOT_SUPPORTED,
            "COPY FROM STDIN is not supported: the mesh is read-only over this protocol",
        )
    else:
        raise ProtocolViolationError(f"unknown message type {kind!r}")


async def _parse(connection: Connection, body: bytes) -> None:
    session = connection.client_session
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
        i for i in range(count) if i >= len(parse.parameter_types) or not parse.parameter_types[i]
    )
    session.statements[parse.statement] = Prepared(
        text, types, parse_command(text), undeclared=undeclared
    )
    await connection.send(messages.parse_complete())


def _statement(connection: Connection, name: str) -> Prepared:
    found = connection.client_session.statements.get(name)
    if found is None:
        raise ClientError(
            sqlstate.INVALID_STATEMENT_NAME, f'prepared statement "{name}" does not exist'
        )
    assert isinstance(found, Prepared)
    return found


def _portal(connection: Connection, name: str) -> Portal:
    found = connection.client_session.portals.get(name)
    if found is None:
        raise ClientError(sqlstate.INVALID_CURSOR_NAME, f'portal "{name}" does not exist')
    assert isinstance(found, Portal)
    return found


async def _describe_statement(connection: Connection, prepared: Prepared) -> None:
    """ParameterDescription and the shape of the rows, found by running the statement with
    NULL parameters and no rows (through the gateway, like any query)."""
    if prepared.undeclared and prepared.command is None:
        inferred = await connection.server.describe_parameters(
            connection, prepared.sql, len(prepared.parameter_types)
        )
        prepared.parameter_types = tuple(
            inferred[i] if i in prepared.undeclared else declared
            for i, declared in enumerate(prepared.parameter_types)
        )
        prepared.undeclared = ()
    out = [messages.parameter_description(prepared.parameter_types)]
    if prepared.schema is None and returns_rows(prepared.command):
        probe = bind_parameters(prepared.sql, [None] * len(prepared.parameter_types))
        outcome = await execute(
            connection,
            f"SELECT * FROM ({probe}) AS described LIMIT 0" if prepared.command is None else probe,
            prepared.command,
            probe=True,
        )
        if outcome.rows is not None:
            prepared.schema = outcome.rows.schema
            await connection.in_thread(partial(drain, outcome.rows))
    if prepared.schema is None:
        out.append(messages.no_data())
    else:
        out.append(messages.row_description(fields(prepared.schema, None)))
    await connection.send(b"".join(out))


async def _run_portal(connection: Connection, portal: Portal) -> Outcome:
    if portal.outcome is None:
        portal.outcome = await execute(connection, portal.sql, portal.prepared.command)
    return portal.outcome


async def _describe_portal(connection: Connection, portal: Portal) -> None:
    outcome = await _run_portal(connection, portal)
    portal.described = True
    if outcome.rows is None or outcome.copy_format:
        await connection.send(messages.no_data())
        return
    formats = messages.formats_for(portal.result_formats, len(outcome.rows.schema))
    await connection.send(messages.row_description(fields(outcome.rows.schema, formats)))


async def _execute_portal(connection: Connection, portal: Portal, limit: int) -> None:
    outcome = await _run_portal(connection, portal)
    if outcome.tag == "EMPTY":
        await connection.send(messages.empty_query_response())
        return
    rows = outcome.rows
    if outcome.copy_format and rows is not None:
        await send_copy(connection, rows, outcome.copy_format)
        await connection.send(messages.command_complete(command_tag(outcome)))
        return
    if rows is None:
        await connection.send(messages.command_complete(command_tag(outcome)))
        return
    formats = messages.formats_for(portal.result_formats, len(rows.schema))
    await send_rows(connection, rows, formats, limit)
    with connection.sending(rows):
        suspended = limit > 0 and not await connection.pull(rows, rows.at_end)
    if suspended:
        await connection.send(messages.portal_suspended())
    else:
        await connection.send(messages.command_complete(f"SELECT {rows.sent}"))
