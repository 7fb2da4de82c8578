"""``lakemesh query "SQL"``: governed SQL, query jobs and the query history.

``lakemesh query "SELECT ..."`` runs a query (the ``run`` command, named or not); ``history``,
``submit``, ``status``, ``results`` and ``cancel`` are the other commands of the group.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from lakemesh.cli import output
from lakemesh.cli.context import connect, options, out
from lakemesh.cli.params import Limit
from lakemesh.errors import InvalidInputError

SUBCOMMANDS_HELP = ("--help", "-h")
SQL_WIDTH = 60


class QueryGroup(TyperGroup):
    """Reads ``lakemesh query "SQL" ...`` as ``lakemesh query run "SQL" ...``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args and args[0] not in self.commands and args[0] not in SUBCOMMANDS_HELP:
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=QueryGroup,
    help='Governed SQL: lakemesh query "SELECT ..." runs a query and shows only what your '
    "grants allow; the commands below manage background jobs and your query history.",
    no_args_is_help=True,
)


class Format(StrEnum):
    """How results are written."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    ARROW = "arrow"
    PARQUET = "parquet"


SUFFIXES = {
    ".csv": Format.CSV,
    ".json": Format.JSON,
    ".arrow": Format.ARROW,
    ".arrows": Format.ARROW,
    ".parquet": Format.PARQUET,
}
BINARY = (Format.ARROW, Format.PARQUET)
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

FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format",
        help="table (the default on a terminal), csv, json, arrow (an Arrow IPC stream) or "
        "parquet; arrow and parquet need --output or a redirected stdout. With --output the "
        "default comes from the file's suffix.",
        case_sensitive=False,
    ),
]
OutputOption = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the rows to this file instead of the terminal."),
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


def _format(chosen: Format | None, target: Path | None, as_json: bool) -> Format:
    if chosen is not None:
        resolved = chosen
    elif target is not None:
        found = SUFFIXES.get(target.suffix.lower())
        if found is None:
            raise InvalidInputError(
                f"Cannot tell the format of {target} from its suffix: pass --format csv, json, "
                "arrow or parquet",
                details={"output": str(target)},
            )
        resolved = found
    else:
        resolved = Format.JSON if as_json else Format.TABLE
    if resolved == Format.TABLE and target is not None:
        raise InvalidInputError(
            "--format table prints to the terminal; write a file as csv, json, arrow or parquet",
            details={"output": str(target)},
        )
    return resolved


def human_bytes(value: Any) -> str:
    """``1536`` as ``1.5 KiB``."""
    try:
        size = float(value)
    except (TypeError, ValueError):
        return str(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def _summary(figures: dict[str, Any]) -> str:
    rows = figures.get("rows_returned")
    return (
        f"{rows} row{'' if str(rows) == '1' else 's'} · {human_bytes(figures.get('bytes_scanned'))}"
        f" scanned · {figures.get('duration_ms')} ms · query {figures.get('query_id')}"
    )


def _print_rows(result: dict[str, Any]) -> None:
    columns = result.get("columns") or []
    table = Table(show_lines=False)
    for column in columns:
        table.add_column(output.printable(str(column["name"])), overflow="fold")
    for row in result.get("rows") or []:
        table.add_row(*(Text("NULL", style="dim") if v is None else Text(_cell(v)) for v in row))
    output.stdout().print(table)
    output.note(_summary(result))


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return output.printable(json.dumps(value, ensure_ascii=False))
    return output.cell(value)


def _write_binary(content: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()


def _check_destination(fmt: Format, target: Path | None) -> None:
    """Refuse, before the query runs, output that could not be written."""
    if target is None:
        if fmt in BINARY and sys.stdout.isatty():
            raise InvalidInputError(
                f"{fmt.value.capitalize()} output is binary: pass --output FILE or redirect "
                "stdout to a file or a pipe",
                details={"format": fmt.value},
            )
        return
    if target.is_dir():
        raise InvalidInputError(
            f"--output names a folder: {target} (give a file name)",
            details={"output": str(target)},
        )
    folder = target.absolute().parent
    if not folder.is_dir():
        raise InvalidInputError(
            f"Folder does not exist: {folder} (for --output {target})",
            details={"output": str(target)},
        )


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


def _parquet(arrow_stream: bytes) -> bytes:
    """An Arrow IPC stream rewritten as a Parquet file."""
    # Imported here for the CLI's startup time: only Parquet output needs pyarrow.
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.ipc.open_stream(pa.BufferReader(arrow_stream)).read_all(), sink)
    return bytes(sink.getvalue().to_pybytes())


def _destination(ctx: typer.Context, chosen: Format | None, target: Path | None) -> Format:
    """The output format, once the destination is known to be writable (before any query)."""
    fmt = _format(chosen, target, options(ctx).json)
    _check_destination(fmt, target)
    return fmt


def _emit(
    ctx: typer.Context,
    *,
    fmt: Format,
    target: Path | None,
    as_json_result: Callable[[], dict[str, Any]],
    export: Callable[[str], tuple[bytes, dict[str, Any]]],
) -> None:
    """Fetch the rows in ``fmt`` and write them to the terminal or ``target``."""
    as_json = options(ctx).json
    if fmt in (Format.TABLE, Format.JSON):
        result = as_json_result()
        figures: dict[str, Any] = {k: v for k, v in result.items() if k not in ("rows", "columns")}
        _warn(figures.get("warnings") or [], as_json)
        if fmt == Format.TABLE:
            _print_rows(result)
            return
        content = (json.dumps(result, indent=2, ensure_ascii=False) + "\n").encode()
        if target is None:
            output.print_json(result)
            return
    else:
        content, figures = export(Format.ARROW.value if fmt == Format.PARQUET else fmt.value)
        if fmt == Format.PARQUET:
            content = _parquet(content)
        _warn(figures.get("warnings") or [], as_json)
        if target is None:
            if fmt in BINARY:
                _write_binary(content)
            else:
                typer.echo(content.decode("utf-8"), nl=False)
            return
    target.write_bytes(content)
    summary = {**figures, "output": str(target), "format": fmt.value}
    out(ctx).done(summary, f"Wrote {fmt.value} to {target}: {_summary(figures)}")


def _warn(notices: list[str], as_json: bool) -> None:
    """Reader notices (deprecated products) on stderr; under --json they stay in the output."""
    if not as_json:
        for notice in notices:
            output.stderr().print(Text(f"Warning: {notice}", style="yellow"), soft_wrap=True)


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
    fmt = _destination(ctx, format, target)
    with connect(ctx) as client:
        _emit(
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
            **query,
            "short_id": str(query["query_id"])[:8],
            "submitted": str(query.get("submitted_at") or "")[:19].replace("T", " "),
            "sql": _one_line(str(query.get("sql") or "")),
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
    out(ctx).text(job, str(job["id"]))


def _print_status(job: dict[str, Any]) -> None:
    error = job.get("error") or {}
    output.print_record({**job, "error_message": error.get("message")}, STATUS_FIELDS)


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
    fmt = _destination(ctx, format, target)
    with connect(ctx) as client:
        _emit(
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
    out(ctx).done(job, f"Query {query_id} is {job['status']}")
