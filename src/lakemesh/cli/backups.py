"""``lakemesh backup`` and ``lakemesh restore``: the hub store to a portable file and back.

Like ``init``, they work on the hub home (or its database) directly, not through a hub: backup
runs beside a serving hub, restore makes a new home.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakemesh.cli import output
from lakemesh.cli.context import GlobalOptions, options
from lakemesh.errors import InvalidInputError

TableProgress = Callable[[str, int], None]

DATABASE_URL_HELP = "The store's database (postgresql+psycopg://USER@HOST/DB)"


def local_only(globals_: GlobalOptions, command: str) -> None:
    if globals_.hub:
        raise InvalidInputError(
            f"lakemesh {command} works on a hub home (--home) or its database (--database-url), "
            f"not on a remote hub: {globals_.hub}",
            details={"hub": globals_.hub},
        )


@contextlib.contextmanager
def _table_progress(globals_: GlobalOptions, verb: str) -> Iterator[TableProgress]:
    """A Rich progress bar over the store's tables, on stderr (none under ``--json``)."""
    from lakemesh.store.schema import Base  # imported here for CLI startup time

    with Progress(
        TextColumn(f"{verb} {{task.description}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=output.stderr(),
        transient=True,
        disable=globals_.json,
    ) as progress:
        task = progress.add_task("tables", total=len(Base.metadata.tables))

        def advance(table: str, _rows: int) -> None:
            progress.update(task, advance=1, description=table)

        yield advance


def _audit_line(audit: dict[str, Any]) -> str:
    return (
        f"audit chain verified: {audit['events']} events"
        if audit["ok"]
        else (f"audit chain broken at event {audit['broken_seq']}: {audit['reason']}")
    )


def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write (a zip); must not exist.")],
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help=f"{DATABASE_URL_HELP}; default: the home's."),
    ] = None,
) -> None:
    """Back up the hub store, audit trail included, into FILE while the hub keeps serving.

    A consistent snapshot (SQLite's online backup; one REPEATABLE READ transaction on
    PostgreSQL) in a portable format that restores into either backend. Domain data under
    storage/ is not in it.
    """
    from lakemesh.backups.backup import backup as take_backup

    globals_ = options(ctx)
    local_only(globals_, "backup")
    home = globals_.hub_home
    if database_url is None and not home.exists():
        raise InvalidInputError(
            f"Hub home does not exist: {home.path} (run 'lakemesh init' first, or pass "
            "--database-url)",
            details={"home": str(home.path)},
        )
    with _table_progress(globals_, "Backing up") as progress:
        summary = take_backup(
            database_url=database_url or home.database_url(),
            destination=file.absolute(),
            config=home.config(),
            progress=progress,
        )
    result = summary.to_dict()

    def human() -> None:
        output.success(f"Backed up {result['rows']} rows of {result['tables']} tables to {file}")
        output.line(_audit_line(result["audit"]))

    globals_.output.show(result, human)


def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup file written by lakemesh backup.")],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help=f"{DATABASE_URL_HELP}, empty; default: hub.db (SQLite) in the home.",
        ),
    ] = None,
) -> None:
    """Restore a backup into an empty hub home (--home), its store in an empty database.

    The checksums are checked first; nothing is written unless the whole store restores and its
    audit chain verifies. Existing API tokens keep working: save one with lakemesh login.
    """
    from lakemesh.backups.restore import restore as run_restore

    globals_ = options(ctx)
    local_only(globals_, "restore")
    home = globals_.home.absolute()
    with _table_progress(globals_, "Restoring") as progress:
        summary = run_restore(
            source=file.absolute(), home=home, database_url=database_url, progress=progress
        )
    result = summary.to_dict()

    def human() -> None:
        output.success(
            f"Restored {result['rows']} rows of {result['tables']} tables into hub home {home}"
        )
        output.line(_audit_line(result["audit"]))
        output.note(
            "API tokens of the backed-up hub work here; save one as a profile with: "
            f"lakemesh --home {home} login --token TOKEN --profile NAME"
        )

    globals_.output.show(result, human)
