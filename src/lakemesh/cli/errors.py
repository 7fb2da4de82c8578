"""How the CLI reports an error: one red line or the JSON error shape on stderr, a complaint
about a request field told with the command's own option names, and the exit code of its kind."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Protocol

import typer
from rich.text import Text

from lakemesh.cli.output import printable, stderr
from lakemesh.errors import InvalidInputError, LakemeshError

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
