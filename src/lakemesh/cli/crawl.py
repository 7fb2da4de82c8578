"""``lakemesh crawl``: register every table found under a URI, with a progress bar."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakemesh.api.schemas.crawls import CrawledTable
from lakemesh.cli import output
from lakemesh.cli.context import connect, local_uri, options
from lakemesh.cli.tables import CHANGES, change_names

COLUMNS = [
    ("table", "name"),
    ("status", "status"),
    ("version", "schema_version"),
    ("files", "files"),
    ("added", "added"),
    ("changed", "changed"),
    ("removed", "removed"),
]


def _rows(tables: list[CrawledTable]) -> list[dict[str, Any]]:
    return [
        {**output.plain(table), **{kind: change_names(table.changes, kind) for kind in CHANGES}}
        for table in tables
    ]


def crawl(
    ctx: typer.Context,
    uri: Annotated[
        str,
        typer.Argument(help="Where to look: a URI inside a location of the domain, or a path."),
    ],
    domain: Annotated[str, typer.Option("--domain", help="The domain that owns the data.")],
    database: Annotated[
        str, typer.Option("--database", help="The database to register the tables in.")
    ],
) -> None:
    """Register the tables found under URI in DOMAIN.DATABASE.

    One table per folder of Parquet, CSV or JSON-lines files; hive partitions (k=v/) become
    partition columns. Re-crawling is idempotent; a changed schema gets a new version.
    """
    globals_ = options(ctx)
    target = local_uri(uri)
    with connect(ctx) as client:
        if globals_.json:
            tables = client.crawl(target, domain=domain, database=database)
        else:
            console = output.stderr()
            progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,  # no bar in logs and pipes
            )
            with progress:
                task = progress.add_task("Reading files", total=None)

                def advance(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                tables = client.crawl(target, domain=domain, database=database, progress=advance)

    def human() -> None:
        output.print_table(
            _rows(tables),
            COLUMNS,
            title=f"Crawled {target} into {domain}.{database}",
            empty=f"No tables found under {target}.",
        )
        for table in tables:
            for warning in table.warnings:
                output.note(f"warning: {warning}")

    globals_.output.show(tables, human)
