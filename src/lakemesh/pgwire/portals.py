"""What a connection holds between messages: prepared statements, portals, and each statement's
outcome (its command tag and rows), and the errors answered with a client SQLSTATE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakemesh.pgwire.rows import Rows
from lakemesh.pgwire.statements import Command


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


def close_all(portals: dict[Any, Any]) -> None:
    """Close every portal of ``portals`` and forget them."""
    for portal in portals.values():
        if isinstance(portal, Portal):
            portal.close()
    portals.clear()


def drain(rows: Rows) -> None:
    """Read ``rows`` to their end (a probe's: none), so their query ends normally."""
    while rows.take() is not None:
        pass
    rows.close()


def returns_rows(command: Command | None) -> bool:
    """Whether a statement (a query when ``command`` is None) answers with rows."""
    return command is None or command.kind == "SHOW"


def command_tag(outcome: Outcome) -> str:
    """The CommandComplete tag of ``outcome`` (with the rows sent, for COPY and SELECT)."""
    if outcome.tag == "COPY" and outcome.rows is not None:
        return f"COPY {outcome.rows.sent}"
    if outcome.tag == "SELECT" and outcome.rows is not None:
        return f"SELECT {outcome.rows.sent}"
    return outcome.tag
