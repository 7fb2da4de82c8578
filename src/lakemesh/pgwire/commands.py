"""Executing one statement of either protocol: transaction and session commands (BEGIN, SET,
SHOW, DEALLOCATE...) are answered here, COPY TO STDOUT and queries go to the server's router,
COPY FROM is refused as a write."""

from __future__ import annotations

import pyarrow as pa

from lakemesh.errors import QueryRejectedError
from lakemesh.pgwire import sqlstate
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.portals import ClientError, Outcome, close_all
from lakemesh.pgwire.rows import Rows
from lakemesh.pgwire.statements import Command


def _failed_transaction() -> ClientError:
    return ClientError(
        sqlstate.IN_FAILED_TRANSACTION,
        "current transaction is aborted, commands ignored until end of transaction block",
    )


async def execute(
    connection: Connection, sql: str, command: Command | None, *, probe: bool = False
) -> Outcome:
    """Run one statement (``command`` parsed from it, None for a query) for ``connection``."""
    session = connection.client_session
    if command is not None and command.kind == "COPY FROM":
        return await _refuse_copy_from(connection, command.value)
    if command is not None and command.kind == "COPY":
        if command.name not in ("text", "binary"):
            raise ClientError(
                sqlstate.FEATURE_NOT_SUPPORTED,
                f"COPY TO STDOUT is answered in FORMAT text or binary, not {command.name}",
            )
        if session.failed:
            raise _failed_transaction()
        outcome = await connection.server.route(connection, command.value)
        return Outcome("COPY", outcome.rows, copy_format=command.name)
    if command is not None:
        return _command(connection, command)
    if session.failed:
        raise _failed_transaction()
    return await connection.server.route(connection, sql, probe=probe)


async def _refuse_copy_from(connection: Connection, sql: str) -> Outcome:
    """COPY FROM writes: the gateway refuses it (and records the refusal, as it does any
    write), answered as PostgreSQL answers a write in a read-only transaction (25006)."""
    try:
        await connection.server.route(connection, sql)
    except QueryRejectedError as error:
        raise ClientError(
            sqlstate.READ_ONLY_SQL_TRANSACTION,
            f"cannot execute COPY FROM in a read-only transaction: {error.message}",
        ) from None
    raise ClientError(sqlstate.READ_ONLY_SQL_TRANSACTION, "cannot execute COPY FROM")


def _command(connection: Connection, command: Command) -> Outcome:
    session = connection.client_session
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
        close_all(session.portals)  # a transaction's portals end with it
        return Outcome("ROLLBACK" if failed else kind)
    if session.failed:
        raise _failed_transaction()
    if kind in ("SAVEPOINT", "RELEASE"):
        return Outcome(kind)
    if kind == "SET MALFORMED":
        raise ClientError(
            sqlstate.SYNTAX_ERROR, "SET takes a setting and a value: SET name = value (or TO)"
        )
    if kind == "SET":
        if command.name:  # SET TRANSACTION ... has none: a no-op for read-only clients
            session.set(command.name, command.value)
            connection.report(command.name)
        return Outcome("SET")
    if kind == "RESET":
        session.reset(command.name)
        connection.report(command.name)
        return Outcome("RESET")
    if kind == "SHOW":
        value = session.show(command.name)
        table = pa.table({command.name: pa.array([value], pa.string())})
        return Outcome("SHOW", Rows.of_table(table))
    if kind == "DISCARD ALL":
        session.statements.clear()
        close_all(session.portals)
        session.reset("all")
        return Outcome("DISCARD ALL")
    if kind == "DEALLOCATE":
        if command.name.upper() == "ALL":
            session.statements.clear()
        else:
            session.statements.pop(command.name, None)
        return Outcome("DEALLOCATE")
    raise QueryRejectedError(f"Not a query: {kind}")
