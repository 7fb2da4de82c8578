"""The simple query protocol: a Query message of one or more statements, each answered in text
format, the first error ending the rest."""

from __future__ import annotations

from lakemesh.errors import LakemeshError
from lakemesh.pgwire import messages
from lakemesh.pgwire.commands import execute
from lakemesh.pgwire.connection import Connection
from lakemesh.pgwire.encoding import fields
from lakemesh.pgwire.messages import TEXT
from lakemesh.pgwire.portals import ClientError, command_tag
from lakemesh.pgwire.statements import parse_command, split_statements
from lakemesh.pgwire.streaming import send_copy, send_rows


async def simple_query(connection: Connection, text: str) -> None:
    """Answer the statements of ``text``, then ReadyForQuery."""
    statements = split_statements(text)
    if not statements:
        await connection.send(
            messages.empty_query_response() + messages.ready_for_query(connection.status())
        )
        return
    for statement in statements:
        try:
            await connection.drop_portals()  # a simple query ends the unnamed portal
            outcome = await execute(connection, statement.text, parse_command(statement.text))
            rows = outcome.rows
            try:
                if outcome.copy_format and rows is not None:
                    await send_copy(connection, rows, outcome.copy_format)
                elif rows is not None:
                    formats = [TEXT] * len(rows.schema)
                    await connection.send(messages.row_description(fields(rows.schema, formats)))
                    await send_rows(connection, rows, formats)
            finally:
                if rows is not None:
                    await connection.in_thread(rows.close)
        except (LakemeshError, ClientError, ValueError) as error:
            await connection.send(connection.error(error))
            break
        await connection.send(messages.command_complete(command_tag(outcome)))
    await connection.send(messages.ready_for_query(connection.status()))
