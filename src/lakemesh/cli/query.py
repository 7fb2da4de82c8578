"""``lakemesh query "SQL"``: governed SQL, query jobs and the query history.

``lakemesh query "SELECT ..."`` runs a query (the ``run`` command, named or not); ``history``,
``submit``, ``status``, ``results`` and ``cancel`` are the other commands of the group.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from lakemesh.api.schemas.queries import JobStatus
from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import Limit
from lakemesh.cli.results import FormatOption, OutputOption, destination, emit
from lakemesh.errors import InvalidInputError

SUBCOMMANDS_HELP = ("--help", "-h")
SQL_WIDTH = 60


class QueryGroup(TyperGroup):
    """Reads ``lakemesh query "SQL" ...`` as ``lakemesh query run "SQL" ...``."""

    default_command = "run"
    """What arguments naming no subcommand are given to."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args and args[0] not in self.commands and args[0] not in SUBCOMMANDS_HELP:
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=QueryGroup,
    help='Governed SQL: lakemesh query "SELECT ..." runs a query and shows only what your '
    "grants allow; the commands below manage background jobs and your query history.",
    no_args_is_help=True,
)


HISTORY_COLUMNS = [
    ("query", "short_id"),
    ("submitted", "submitted"),
    ("status", "status"),
    ("workgroup", "workgroup"),
    ("rows", "rows_returned"),
    ("bytes", "bytes_scanned"),
    ("ms", "duration_ms"),
    ("sql", "sql"),
]
STATUS_FIELDS = [
    ("query", "id"),
    ("principal", "principal"),
    ("status", "status"),
    ("workgroup", "workgroup"),
    ("engine", "engine"),
    ("tables", "tables"),
    ("rows", "rows_returned"),
    ("bytes scanned", "bytes_scanned"),
    ("duration (ms)", "duration_ms"),
    ("error", "error_message"),
    ("submitted", "submitted_at"),
    ("finished", "finished_at"),
    ("results kept until", "result_expires_at"),
    ("sql", "sql"),
]

WorkgroupOption = Annotated[
    str | None,
    typer.Option("--workgroup", "-w", help="The workgroup to run in (default: primary)."),
]
Sql = Annotated[
    str | None,
    typer.Argument(
        help="One read-only SQL statement (SELECT ...), or - to read it from stdin.",
        show_default=False,
    ),
]
SqlFile = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="Read the SQL statement from this file (- for stdin)."),
]
QueryId = Annotated[str, typer.Argument(help="The query id that submit printed.")]


def statement(sql: str | None, file: Path | None) -> str:
    """The SQL to run: the argument, the file of ``--file``, or stdin for ``-``."""
    if sql is not None and file is not None:
        raise InvalidInputError(
            "Give the SQL once: as an argument or with --file, not both",
            details={"file": str(file)},
        )
    if file is not None and str(file) != "-":
        try:
            text = file.read_text()
        except FileNotFoundError as e:
            raise InvalidInputError(
                f"SQL file does not exist: {file} (for --file)", details={"file": str(file)}
            ) from e
    elif file is not None or sql == "-":
        text = sys.stdin.read()
    elif sql is None:
        raise InvalidInputError(
            "No SQL: give it as an argument, with --file FILE, or - to read it from stdin"
        )
    else:
        text = sql
    if not text.strip():
        raise InvalidInputError("Empty SQL statement: nothing to run")
    return text


@app.command("run")
def run(
    ctx: typer.Context,
    sql: Sql = None,
    file: SqlFile = None,
    workgroup: WorkgroupOption = None,
    format: FormatOption = None,
    target: OutputOption = None,
) -> None:
    """Run one read-only SQL query and show its rows (what your grants allow).

    The statement comes as an argument, from a file (-f FILE) or from stdin (- or -f -).
    """
    sql = statement(sql, file)
    fmt = destination(ctx, format, target)
    with connect(ctx) as client:
        emit(
            ctx,
            fmt=fmt,
            target=target,
            as_json_result=lambda: client.query_json(sql, workgroup=workgroup),
            export=lambda fmt: client.query_export(sql, format=fmt, workgroup=workgroup),
        )


@app.command("history")
def history(
    ctx: typer.Context,
    limit: Limit = 20,
    principal: Annotated[
        str | None,
        typer.Option("--principal", help="Whose queries (mesh admins only; default: yours)."),
    ] = None,
) -> None:
    """Your newest queries: status, figures and SQL."""
    with connect(ctx) as client:
        queries = client.query_history(limit=limit, principal=principal)
    rows = [
        {
            **output.plain(query),
            "short_id": query.query_id[:8],
            "submitted": (query.submitted_at or "")[:19].replace("T", " "),
            "sql": _one_line(query.sql),
        }
        for query in queries
    ]
    columns = list(HISTORY_COLUMNS)
    if principal:
        columns.insert(1, ("principal", "principal"))
    out(ctx).table(queries, columns, rows=rows, empty="No queries yet.")


def _one_line(sql: str, width: int = SQL_WIDTH) -> str:
    """A statement on one line, cut to ``width`` characters."""
    text = " ".join(sql.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("submit")
def submit(
    ctx: typer.Context,
    sql: Sql = None,
    file: SqlFile = None,
    workgroup: WorkgroupOption = None,
) -> None:
    """Start a query in the background and print its id (SQL as for run: argument, -f, -)."""
    sql = statement(sql, file)
    with connect(ctx) as client:
        job = client.submit_query(sql, workgroup=workgroup)
    out(ctx).text(job, job.id)


def _print_status(job: JobStatus) -> None:
    error = None if job.error is None else job.error.message
    output.print_record({**output.plain(job), "error_message": error}, STATUS_FIELDS)


@app.command("status")
def status(ctx: typer.Context, query_id: QueryId) -> None:
    """A background query's status, figures and error."""
    with connect(ctx) as client:
        job = client.query_status(query_id)
    out(ctx).show(job, lambda: _print_status(job))


@app.command("results")
def results(
    ctx: typer.Context,
    query_id: QueryId,
    format: FormatOption = None,
    target: OutputOption = None,
) -> None:
    """The rows of a finished background query."""
    fmt = destination(ctx, format, target)
    with connect(ctx) as client:
        emit(
            ctx,
            fmt=fmt,
            target=target,
            as_json_result=lambda: client.query_results_json(query_id),
            export=lambda fmt: client.query_results_export(query_id, format=fmt),
        )


@app.command("cancel")
def cancel(ctx: typer.Context, query_id: QueryId) -> None:
    """Cancel a queued or running background query."""
    with connect(ctx) as client:
        job = client.cancel_query(query_id)
    out(ctx).done(job, f"Query {query_id} is {job.status}")
