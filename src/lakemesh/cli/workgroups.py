"""``lakemesh workgroup …``: where queries run (engine) and the limits they obey."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

import typer

from lakemesh.api.schemas.workgroups import WorkgroupPublic
from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.results import human_bytes
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Workgroups: the engine queries run on and their limits (mesh admins manage them).",
    no_args_is_help=True,
)

SIZE = re.compile(r"^(\d+)\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)
UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
NO_LIMIT = ("none", "unlimited")

LIST_COLUMNS = [
    ("workgroup", "name"),
    ("engine", "engine"),
    ("per query", "per_query"),
    ("per month", "per_month"),
    ("concurrent", "max_concurrent"),
    ("timeout (s)", "timeout_seconds"),
    ("retention", "result_retention"),
]
SHOW_FIELDS = [
    ("workgroup", "name"),
    ("engine", "engine"),
    ("description", "description"),
    ("max bytes per query", "per_query"),
    ("max bytes per month", "per_month"),
    ("max concurrent queries", "max_concurrent"),
    ("max concurrent per principal", "max_concurrent_per_principal"),
    ("timeout (s)", "timeout_seconds"),
    ("memory per query", "memory"),
    ("max rows per result", "rows"),
    ("max result size", "result_size"),
    ("result retention", "result_retention"),
    ("Spark Connect", "spark_remote"),
    ("created by", "created_by"),
    ("created", "created_at"),
    ("updated", "updated_at"),
]


class Engine(StrEnum):
    """Query engines a workgroup can use."""

    DUCKDB = "duckdb"
    SPARK = "spark"


Name = Annotated[str, typer.Argument(help="The workgroup's name, like analysts.")]
EngineOption = Annotated[
    Engine | None,
    typer.Option(
        "--engine", help="duckdb (in worker processes of the hub) or spark.", case_sensitive=False
    ),
]
Description = Annotated[str | None, typer.Option("--description", help="What it is for.")]
BytesPerQuery = Annotated[
    str | None,
    typer.Option(
        "--max-bytes-per-query",
        help="Stop a query that would scan more (bytes, or 500MB, 10GB; 'none' for no limit).",
    ),
]
BytesPerMonth = Annotated[
    str | None,
    typer.Option(
        "--max-bytes-per-month",
        help="Refuse queries once the workgroup scanned this much this month (bytes or 1TB; "
        "'none' for no limit).",
    ),
]
Concurrent = Annotated[
    str | None,
    typer.Option(
        "--max-concurrent", help="Queries that may run at once (default 8; 'none' for no limit)."
    ),
]
PerPrincipal = Annotated[
    str | None,
    typer.Option(
        "--max-concurrent-per-principal",
        help="Queries one principal may run at once (default 2; 'none' for no limit); its jobs "
        "past it wait their turn.",
    ),
]
Timeout = Annotated[
    str | None,
    typer.Option("--timeout", help="Seconds a query may run (default 60; 'none' for default)."),
]
Memory = Annotated[
    str | None,
    typer.Option(
        "--max-memory",
        help="Memory one query may use, in its own worker process (default 2GB; 'none' for "
        "the default).",
    ),
]
Rows = Annotated[
    str | None,
    typer.Option(
        "--max-rows",
        help="Stop a query whose result has more rows (default 1000000; 'none' for no limit).",
    ),
]
ResultBytes = Annotated[
    str | None,
    typer.Option(
        "--max-result-bytes",
        help="Stop a query whose result is larger, as Arrow (default 100MB; 'none' for no limit).",
    ),
]
Retention = Annotated[
    str | None,
    typer.Option("--result-retention", help="How long background results are kept (7d, 12h)."),
]
SparkRemote = Annotated[
    str | None,
    typer.Option("--spark-remote", help="A Spark Connect cluster, sc://HOST:PORT (spark only)."),
]


def parse_size(text: str, option: str) -> int | None:
    """``10GB`` → bytes (powers of 1024); ``none`` → None (no limit).

    >>> parse_size("10GB", "--max-bytes-per-query"), parse_size("none", "--max-concurrent")
    (10737418240, None)
    """
    if text.strip().lower() in NO_LIMIT:
        return None
    match = SIZE.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidInputError(
            f"Invalid {option}: {text!r} (expected a positive number of bytes like 500MB or "
            "10GB, or none)",
            details={"option": option, "value": text},
        )
    return int(match.group(1)) * UNITS[match.group(2).upper()]


def parse_count(text: str, option: str) -> int | None:
    """A positive whole number, or ``none`` → None."""
    if text.strip().lower() in NO_LIMIT:
        return None
    if not text.strip().isdigit() or int(text) == 0:
        raise InvalidInputError(
            f"Invalid {option}: {text!r} (expected a positive whole number, or none)",
            details={"option": option, "value": text},
        )
    return int(text)


def _settings(
    *,
    engine: Engine | None,
    description: str | None,
    per_query: str | None,
    per_month: str | None,
    concurrent: str | None,
    timeout: str | None,
    retention: str | None,
    spark_remote: str | None,
    per_principal: str | None = None,
    memory: str | None = None,
    rows: str | None = None,
    result_bytes: str | None = None,
) -> dict[str, Any]:
    """The options given, as API fields (a limit given as none is sent as null: lifted)."""
    settings: dict[str, Any] = {}
    if engine is not None:
        settings["engine"] = engine.value
    if description is not None:
        settings["description"] = description
    if per_query is not None:
        settings["max_bytes_per_query"] = parse_size(per_query, "--max-bytes-per-query")
    if per_month is not None:
        settings["max_bytes_per_month"] = parse_size(per_month, "--max-bytes-per-month")
    if concurrent is not None:
        settings["max_concurrent"] = parse_count(concurrent, "--max-concurrent")
    if per_principal is not None:
        settings["max_concurrent_per_principal"] = parse_count(
            per_principal, "--max-concurrent-per-principal"
        )
    if timeout is not None:
        settings["timeout_seconds"] = parse_count(timeout, "--timeout")
    if memory is not None:
        settings["max_memory_bytes"] = parse_size(memory, "--max-memory")
    if rows is not None:
        settings["max_rows"] = parse_count(rows, "--max-rows")
    if result_bytes is not None:
        settings["max_result_bytes"] = parse_size(result_bytes, "--max-result-bytes")
    if retention is not None:
        settings["result_retention"] = retention
    if spark_remote is not None:
        settings["spark_remote"] = spark_remote
    return settings


def _readable(workgroup: WorkgroupPublic) -> dict[str, Any]:
    def limit(value: Any) -> str:
        return "no limit" if value is None else human_bytes(value)

    return {
        **output.plain(workgroup),
        "per_query": limit(workgroup.max_bytes_per_query),
        "per_month": limit(workgroup.max_bytes_per_month),
        "memory": limit(workgroup.max_memory_bytes),
        "rows": "no limit" if workgroup.max_rows is None else workgroup.max_rows,
        "result_size": limit(workgroup.max_result_bytes),
    }


def _show(workgroup: WorkgroupPublic) -> None:
    output.print_record(_readable(workgroup), SHOW_FIELDS)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    engine: EngineOption = Engine.DUCKDB,
    description: Description = None,
    max_bytes_per_query: BytesPerQuery = None,
    max_bytes_per_month: BytesPerMonth = None,
    max_concurrent: Concurrent = None,
    max_concurrent_per_principal: PerPrincipal = None,
    timeout: Timeout = None,
    max_memory: Memory = None,
    max_rows: Rows = None,
    max_result_bytes: ResultBytes = None,
    result_retention: Retention = None,
    spark_remote: SparkRemote = None,
) -> None:
    """Create a workgroup (mesh admins)."""
    settings = _settings(
        engine=engine,
        description=description,
        per_query=max_bytes_per_query,
        per_month=max_bytes_per_month,
        concurrent=max_concurrent,
        per_principal=max_concurrent_per_principal,
        timeout=timeout,
        retention=result_retention,
        spark_remote=spark_remote,
        memory=max_memory,
        rows=max_rows,
        result_bytes=max_result_bytes,
    )
    with connect(ctx) as client:
        created = client.create_workgroup(name, **settings)
    out(ctx).done(created, f"Created workgroup {name} ({created.engine})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the workgroups."""
    with connect(ctx) as client:
        found = client.list_workgroups()
    out(ctx).table(found, LIST_COLUMNS, rows=[_readable(w) for w in found])


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show a workgroup's engine and limits."""
    with connect(ctx) as client:
        found = client.get_workgroup(name)
    out(ctx).show(found, lambda: _show(found))


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    engine: EngineOption = None,
    description: Description = None,
    max_bytes_per_query: BytesPerQuery = None,
    max_bytes_per_month: BytesPerMonth = None,
    max_concurrent: Concurrent = None,
    max_concurrent_per_principal: PerPrincipal = None,
    timeout: Timeout = None,
    max_memory: Memory = None,
    max_rows: Rows = None,
    max_result_bytes: ResultBytes = None,
    result_retention: Retention = None,
    spark_remote: SparkRemote = None,
) -> None:
    """Change a workgroup's engine, description or limits (mesh admins); 'none' lifts a limit."""
    settings = _settings(
        engine=engine,
        description=description,
        per_query=max_bytes_per_query,
        per_month=max_bytes_per_month,
        concurrent=max_concurrent,
        per_principal=max_concurrent_per_principal,
        timeout=timeout,
        retention=result_retention,
        spark_remote=spark_remote,
        memory=max_memory,
        rows=max_rows,
        result_bytes=max_result_bytes,
    )
    if not settings:
        raise InvalidInputError("Nothing to change: pass at least one option")
    with connect(ctx) as client:
        updated = client.update_workgroup(name, **settings)
    out(ctx).show(updated, lambda: _show(updated))


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a workgroup (mesh admins; the default workgroup primary stays)."""
    with connect(ctx) as client:
        client.delete_workgroup(name)
    out(ctx).done({"deleted": name}, f"Deleted workgroup {name}")
