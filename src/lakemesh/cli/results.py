"""Writing query results: the format (``--format``, else the suffix of ``--output``), checked
before the query runs, and the rows as a terminal table, JSON, CSV, Arrow or Parquet."""

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

from lakemesh.api.schemas.queries import QueryResult
from lakemesh.cli import output
from lakemesh.cli.context import options, out
from lakemesh.errors import InvalidInputError


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


def _print_rows(result: QueryResult, figures: dict[str, Any]) -> None:
    table = Table(show_lines=False)
    for column in result.columns:
        table.add_column(output.printable(column.name), overflow="fold")
    for row in result.rows:
        table.add_row(*(Text("NULL", style="dim") if v is None else Text(_cell(v)) for v in row))
    output.stdout().print(table)
    output.note(_summary(figures))


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


def _parquet(arrow_stream: bytes) -> bytes:
    """An Arrow IPC stream rewritten as a Parquet file."""
    # Imported here for the CLI's startup time: only Parquet output needs pyarrow.
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(pa.ipc.open_stream(pa.BufferReader(arrow_stream)).read_all(), sink)
    return bytes(sink.getvalue().to_pybytes())


def destination(ctx: typer.Context, chosen: Format | None, target: Path | None) -> Format:
    """The output format, once the destination is known to be writable (before any query)."""
    fmt = _format(chosen, target, options(ctx).json)
    _check_destination(fmt, target)
    return fmt


def emit(
    ctx: typer.Context,
    *,
    fmt: Format,
    target: Path | None,
    as_json_result: Callable[[], QueryResult],
    export: Callable[[str], tuple[bytes, dict[str, Any]]],
) -> None:
    """Fetch the rows in ``fmt`` and write them to the terminal or ``target``."""
    as_json = options(ctx).json
    if fmt in (Format.TABLE, Format.JSON):
        result = as_json_result()
        figures: dict[str, Any] = result.model_dump(mode="json", exclude={"rows", "columns"})
        _warn(figures.get("warnings") or [], as_json)
        if fmt == Format.TABLE:
            _print_rows(result, figures)
            return
        content = (output.json_text(result) + "\n").encode()
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
            elif sys.stdout.isatty():
                # Values are data, kept as they are in a file or a pipe; a terminal shows them
                # with control characters escaped.
                typer.echo(output.printable(content.decode("utf-8")), nl=False)
            else:
                _write_binary(content)  # typer.echo would strip what looks like colour codes
            return
    target.write_bytes(content)
    summary = {**figures, "output": str(target), "format": fmt.value}
    out(ctx).done(summary, f"Wrote {fmt.value} to {target}: {_summary(figures)}")


def _warn(notices: list[str], as_json: bool) -> None:
    """Reader notices (deprecated products) on stderr; under --json they stay in the output."""
    if not as_json:
        for notice in notices:
            output.warning(notice)
