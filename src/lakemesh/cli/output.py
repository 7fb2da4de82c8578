"""What the CLI prints: Rich tables for people, JSON for scripts (errors and exit codes:
:mod:`lakemesh.cli.errors`)."""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lakemesh.model.names import CONTROL_CHARACTERS

# Wide enough never to wrap: output to a file or a pipe keeps each row on one line.
UNWRAPPED_WIDTH = 100_000
# Bidirectional overrides and isolates: they reorder what a terminal shows.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
KEPT_CONTROLS = frozenset("\n\t")


def _console(*, stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False)
    if console.is_terminal or os.environ.get("COLUMNS"):
        return console
    return Console(stderr=stderr, highlight=False, width=UNWRAPPED_WIDTH)


def stdout() -> Console:
    """A console on the current stdout (made per use, so COLUMNS and redirections apply); to a
    file or a pipe it never wraps lines."""
    return _console(stderr=False)


def stderr() -> Console:
    """A console on the current stderr."""
    return _console(stderr=True)


def printable(text: str) -> str:
    r"""``text`` safe for a terminal: control characters (ESC, so no colours or OSC-8 links;
    NUL; C1) and bidirectional overrides shown escaped, like ``\x1b`` and ``\u202e``.

    >>> printable("a\x1b[31mb\u202ec")
    'a\\x1b[31mb\\u202ec'
    """
    if text.isprintable():
        return text
    return "".join(_escaped(char) for char in text)


def _escaped(char: str) -> str:
    if char in KEPT_CONTROLS or (char.isprintable() and char not in BIDI_CONTROLS):
        return char
    if char in BIDI_CONTROLS or ord(char) > 0xFF:
        return f"\\u{ord(char):04x}"
    return f"\\x{ord(char):02x}"


Row = Mapping[str, Any] | BaseModel
"""What a table row or a record may be: a dict, or one of the API's models the SDK returns."""


def plain(data: Any) -> Any:
    """``data`` with the API's models (:mod:`lakemesh.api.schemas`) as the JSON the hub sent:
    dicts, and lists of them.

    >>> from lakemesh.api.schemas.tags import InheritedTag
    >>> plain([{"tag": InheritedTag.model_validate({"value": "pii", "from": "s.crm"})}])
    [{'tag': {'value': 'pii', 'from': 's.crm'}}]
    """
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json", by_alias=True)
    if isinstance(data, list):
        return [plain(item) for item in data]
    if isinstance(data, dict):
        return {key: plain(item) for key, item in data.items()}
    return data


def json_text(data: Any) -> str:
    r"""``data`` as indented JSON that keeps letters as they are but writes every control
    character and bidirectional mark in a string as a ``\u`` escape (the same string once
    parsed), so no file or terminal it reaches shows them raw.

    >>> json_text(["é‮"])
    '[\n  "é\\u202e\\u001b"\n]'
    """
    text = json.dumps(plain(data), indent=2, ensure_ascii=False, default=str)
    # Outside strings JSON is plain ASCII, so every match is inside a string.
    return CONTROL_CHARACTERS.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def warning(message: str) -> None:
    """A warning for people on stderr (deprecated products, broken links)."""
    stderr().print(Text(f"Warning: {printable(message)}", style="yellow"), soft_wrap=True)


def problem(message: str) -> None:
    """A problem for people on stderr, in red."""
    stderr().print(Text(printable(message), style="red"), soft_wrap=True)


def print_json(data: Any) -> None:
    """Machine output on stdout (never wrapped or coloured)."""
    typer.echo(json.dumps(plain(data), indent=2, default=str))


def cell(value: Any) -> str:
    """One value as table text: lists joined, dicts as ``k=v``, booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{printable(str(key))}={cell(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(item) for item in value)
    return printable(str(value))


Column = tuple[str, str]
"""(header, key): a table column showing ``row[key]``."""


def print_table(
    rows: Iterable[Row],
    columns: Sequence[Column],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """Rows as a Rich table (or ``empty`` when there are none)."""
    shown: list[Mapping[str, Any]] = plain(list(rows))
    if not shown:
        stdout().print(empty)
        return
    table = Table(title=title, title_justify="left")
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for row in shown:
        table.add_row(*(Text(cell(row.get(key))) for _, key in columns))
    stdout().print(table)


def print_record(record: Row, fields: Sequence[Column] | None = None) -> None:
    """One object as a two-column table of its fields."""
    fields_of: Mapping[str, Any] = plain(record)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, key in fields or [(key, key) for key in fields_of]:
        table.add_row(label, Text(cell(fields_of.get(key))))
    stdout().print(table)


def success(message: str) -> None:
    """A one-line confirmation of a change, for people."""
    stdout().print(Text(printable(message), style="green"), soft_wrap=True)


def line(message: str) -> None:
    """Plain text on stdout, never wrapped."""
    stdout().print(Text(printable(message)), soft_wrap=True)


def note(message: str) -> None:
    """A remark on stderr that stays out of the way of piped output."""
    stderr().print(Text(printable(message), style="dim"), soft_wrap=True)


class Output(ABC):
    """Where a command's result goes, chosen once per run (``--json`` or not), as pyiceberg's CLI
    does: every command hands over its result ``data`` and says how people should see it."""

    @abstractmethod
    def table(
        self,
        data: Any,
        columns: Sequence[Column],
        *,
        rows: Iterable[Row] | None = None,
        title: str | None = None,
        empty: str = "Nothing to show.",
    ) -> None:
        """A list: for people, ``rows`` (default: ``data``) as a table of ``columns``."""

    @abstractmethod
    def record(
        self,
        data: Any,
        fields: Sequence[Column] | None = None,
        *,
        shown: Row | None = None,
    ) -> None:
        """One object: for people, ``shown`` (default: ``data``) as a table of its ``fields``."""

    @abstractmethod
    def done(self, data: Any, message: str) -> None:
        """A change made: for people, a one-line confirmation."""

    @abstractmethod
    def text(self, data: Any, message: str) -> None:
        """For people, ``message`` as a plain line."""

    @abstractmethod
    def show(self, data: Any, human: Callable[[], None]) -> None:
        """For people, whatever ``human`` prints (several parts, progress, notes)."""


class ConsoleOutput(Output):
    """Rich tables and lines for people."""

    def table(
        self,
        data: Any,
        columns: Sequence[Column],
        *,
        rows: Iterable[Row] | None = None,
        title: str | None = None,
        empty: str = "Nothing to show.",
    ) -> None:
        print_table(data if rows is None else rows, columns, title=title, empty=empty)

    def record(
        self,
        data: Any,
        fields: Sequence[Column] | None = None,
        *,
        shown: Row | None = None,
    ) -> None:
        print_record(data if shown is None else shown, fields)

    def done(self, data: Any, message: str) -> None:
        success(message)

    def text(self, data: Any, message: str) -> None:
        line(message)

    def show(self, data: Any, human: Callable[[], None]) -> None:
        human()


class JsonOutput(Output):
    """``data`` as JSON on stdout, whatever people would have seen."""

    def table(
        self,
        data: Any,
        columns: Sequence[Column],
        *,
        rows: Iterable[Row] | None = None,
        title: str | None = None,
        empty: str = "Nothing to show.",
    ) -> None:
        print_json(data)

    def record(
        self,
        data: Any,
        fields: Sequence[Column] | None = None,
        *,
        shown: Row | None = None,
    ) -> None:
        print_json(data)

    def done(self, data: Any, message: str) -> None:
        print_json(data)

    def text(self, data: Any, message: str) -> None:
        print_json(data)

    def show(self, data: Any, human: Callable[[], None]) -> None:
        print_json(data)
