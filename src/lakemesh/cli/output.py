"""What the CLI prints: Rich tables for people, JSON for scripts, errors and exit codes for both."""

from __future__ import annotations

import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lakemesh.errors import InvalidInputError, LakemeshError
from lakemesh.model.names import CONTROL_CHARACTERS

# Exit codes scripts can rely on: each error class declares its own (lakemesh.errors); typer
# (click) itself exits with 2 on a usage error.
EXIT_OK = 0
EXIT_UNEXPECTED = LakemeshError.exit_code
EXIT_USAGE = 2

EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 unexpected error or failed check (audit verify) · 2 usage · "
    "3 not found · 4 unauthenticated or access denied · 5 already exists or conflict · "
    "6 invalid input · 7 hub unreachable · 8 limit exceeded · 9 storage error · "
    "10 port in use (serve, demo) · 11 decisions differ (dr-check, decisions compare)."
)


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


def exit_code(error: LakemeshError) -> int:
    """The exit code of an error's class (1 for an error of no more specific family)."""
    return error.exit_code


# Request fields the CLI sets from an option (or argument) of another name, each with the
# parameter names that may set it (the first one the command has wins).
FIELD_PARAMETERS: dict[str, tuple[str, ...]] = {
    "add_values": ("add",),
    "admins": ("admin",),
    "attributes": ("attr",),
    "excluded_columns": ("exclude_columns",),
    "expires_in": ("expires",),
    "filter": ("filter_name",),
    "grantee": ("to", "grantee"),
    "max_lifetime_seconds": ("max_lifetime",),
    "max_memory_bytes": ("max_memory",),
    "principal": ("for_", "principal"),
    "properties": ("prop",),
    "remove_values": ("remove",),
    "result_retention_seconds": ("result_retention",),
    "set": ("pairs",),
    "tags": ("tag", "tags", "pairs"),
    "timeout_seconds": ("timeout",),
    "values": ("values", "add"),
}
INVALID_FIELD = re.compile(r"Invalid ([a-z_][a-z0-9_]*)((?:\.[A-Za-z0-9_]+)*): ")


class CommandParameter(Protocol):
    """What :func:`in_cli_terms` reads of a command's option or argument (a click parameter)."""

    name: str | None
    opts: list[str]
    param_type_name: str


def parameter_label(parameter: CommandParameter) -> str:
    """How the CLI names a parameter: its long option (``--max-rows``), or an argument's name in
    capitals (``NAME``)."""
    if parameter.param_type_name == "argument":
        return (parameter.name or "").upper()
    return max(parameter.opts, key=len)


def option_for(field: str, parameters: Sequence[CommandParameter]) -> str | None:
    """The option or argument of a command that sets the request field ``field``, if any: the
    parameter of that name (or of a name in FIELD_PARAMETERS), the option spelled ``--field``,
    or, for a path's ``x_id``, the parameter ``x``.

    >>> from types import SimpleNamespace as Parameter
    >>> name = Parameter(name="name", opts=["name"], param_type_name="argument")
    >>> timeout = Parameter(name="timeout", opts=["--timeout", "-t"], param_type_name="option")
    >>> older = Parameter(name="from_version", opts=["--from"], param_type_name="option")
    >>> hook = Parameter(name="webhook", opts=["webhook"], param_type_name="argument")
    >>> option_for("name", [name, timeout]), option_for("timeout_seconds", [name, timeout])
    ('NAME', '--timeout')
    >>> option_for("from", [older]), option_for("webhook_id", [hook])
    ('--from', 'WEBHOOK')
    >>> option_for("limit", [name, timeout]) is None
    True
    """
    by_name = {parameter.name: parameter for parameter in parameters}
    for name in (field, *FIELD_PARAMETERS.get(field, ())):
        if name in by_name:
            return parameter_label(by_name[name])
    spelled = f"--{field.replace('_', '-')}"
    for parameter in parameters:
        if parameter.param_type_name == "option" and spelled in parameter.opts:
            return parameter_label(parameter)
    if field.endswith("_id") and field.removesuffix("_id") in by_name:
        return parameter_label(by_name[field.removesuffix("_id")])
    return None


def in_cli_terms(
    error: LakemeshError, parameters: Sequence[CommandParameter] | None = None
) -> LakemeshError:
    """A hub's complaint about a request field told with the command's option names: a request
    validation error on ``query.limit`` or ``body.max_rows``, or ``Invalid description: ...``,
    becomes ``Invalid value for --limit: ...``, ``... --max-rows: ...``, ``Invalid
    --description: ...``. Without the command's ``parameters``, a query field ``x`` is ``--x``.

    >>> in_cli_terms(InvalidInputError("Invalid request: query.limit: too big", details={
    ...     "errors": [{"location": "query.limit", "message": "too big"}]})).message
    'Invalid value for --limit: too big'
    """
    if not isinstance(error, InvalidInputError):
        return error
    problems = error.details.get("errors")
    if isinstance(problems, list) and problems:
        return _problems_in_cli_terms(error, problems, parameters)
    found = INVALID_FIELD.match(error.message)
    if found is None or parameters is None:
        return error
    field, rest = found.group(1), found.group(2).removeprefix(".").replace(".", " ")
    option = option_for(field, parameters)
    if option is None:
        return error
    named = f"{option} {rest}" if rest else option
    told = f"Invalid {named}: {error.message[found.end() :]}"
    return InvalidInputError(told, details=error.details)


def _problems_in_cli_terms(
    error: InvalidInputError,
    problems: list[Any],
    parameters: Sequence[CommandParameter] | None,
) -> LakemeshError:
    told: list[str] = []
    for problem in problems:
        where, _, path = str(problem.get("location", "")).partition(".")
        field, _, rest = path.partition(".")
        if parameters is not None and where in ("query", "body", "path"):
            option = option_for(field, parameters)
        elif where == "query" and field.isidentifier():
            option = f"--{field.replace('_', '-')}"
        else:
            option = None
        if option is None:
            return error  # a field no option sets: keep the hub's words
        named = f"{option} {rest.replace('.', ' ')}" if rest else option
        told.append(f"{named}: {problem.get('message', '')}")
    return InvalidInputError("Invalid value for " + "; ".join(told), details=error.details)


def print_error(
    error: LakemeshError,
    *,
    as_json: bool,
    parameters: Sequence[CommandParameter] | None = None,
) -> None:
    """On stderr: the JSON error shape under ``--json``, else one red ``Error: <message>`` line;
    a complaint about a request field names the option of the command (``parameters``) that
    set it."""
    error = in_cli_terms(error, parameters)
    if as_json:
        typer.echo(json.dumps(error.to_dict(), default=str), err=True)
    else:
        stderr().print(Text(f"Error: {printable(error.message)}", style="red"), soft_wrap=True)


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
