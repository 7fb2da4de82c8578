"""``lakemesh decisions snapshot|compare`` and ``lakemesh dr-check``: every principal's SELECT
decision on every table, written down, compared, and checked against a rebuilt hub.

Like ``backup``, they read hub stores directly (a hub home or a database URL), not through a hub.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lakemesh.cli import output
from lakemesh.cli.backups import local_only
from lakemesh.cli.context import GlobalOptions, options
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Decision snapshots: every principal's SELECT decision on every table (allowed, "
    "columns, row filter, masks, reasons) and the tables it may DESCRIBE, written down and "
    "compared.",
    no_args_is_help=True,
)

SOURCE_HELP = "A hub home (folder), a store's database URL, or a snapshot file (JSON)."


def _home_source(globals_: GlobalOptions) -> str:
    home = globals_.hub_home
    return str(home.path) if home.exists() else home.database_url()


@app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(help="A hub home or a store's database URL; default: --home."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the snapshot here (default: stdout)."),
    ] = None,
) -> None:
    """Write every principal's SELECT decision on every table (and the tables it may DESCRIBE)
    as JSON, in a stable order.

    Grant ids are left out of the reasons and predicates are sorted, so two hubs with the same
    governance give the same text (compare them with lakemesh decisions compare).
    """
    from lakemesh.recovery.checks import snapshot_of

    globals_ = options(ctx)
    local_only(globals_, "decisions snapshot")
    taken = snapshot_of(source or _home_source(globals_))
    document = taken.to_dict()
    if file is None:
        output.print_json(document)
        return
    _write(file, document)
    summary = {
        "file": str(file),
        "principals": len(taken.principals),
        "tables": len(taken.tables),
        "allowed": len(taken.decisions),
    }

    def human() -> None:
        output.success(
            f"Wrote the decisions of {summary['principals']} principals on {summary['tables']} "
            f"tables ({summary['allowed']} allowed) to {file}"
        )

    globals_.output.show(summary, human)


def _write(file: Path, document: dict[str, Any]) -> None:
    """Write beside ``file``, then rename: a snapshot is complete or absent."""
    partial = file.with_name(file.name + ".partial")
    partial.write_text(json.dumps(document, indent=1) + "\n")
    partial.replace(file)


@app.command("compare")
def compare(
    ctx: typer.Context,
    before: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    after: Annotated[str, typer.Argument(help=SOURCE_HELP)],
) -> None:
    """Print every decision that differs between BEFORE and AFTER; exit 11 if any does.

    Each difference names the principal, the table, what changed (access, columns, row filter,
    cells, masks, reasons; or a principal or table on one side only) and its value before and
    after (--json: {"identical", "differences": [{"principal", "table", "aspect", "before",
    "after"}], ...}). Two hubs are decided only where their inputs differ.
    """
    from lakemesh.recovery.checks import compare_sources

    globals_ = options(ctx)
    local_only(globals_, "decisions compare")
    report = compare_sources(before, after)
    show_report(globals_, report.to_dict(), report.lines())
    if report.differences:
        raise report.error()


def show_report(globals_: GlobalOptions, result: dict[str, Any], lines: list[str]) -> None:
    """A comparison: its differences, or that there are none."""
    globals_.output.show(result, lambda: _print_comparison(result, lines))


def _print_comparison(result: dict[str, Any], lines: list[str]) -> None:
    compared = (
        f"{result['principals']} principals x {result['tables']} tables "
        f"({result['decisions']} decisions) in {result['seconds']:.1f} s"
    )
    if result["identical"]:
        output.success(f"Identical decisions: {compared}")
        return
    for text in lines:
        output.line(text)
    output.line(f"{len(result['differences'])} differences; compared {compared}")


def _running_hub_decisions(globals_: GlobalOptions, against: str) -> Any:
    """The decisions of the running hub at ``against`` (a URL), or None for a home or database."""
    if not against.startswith(("http://", "https://")):
        return None
    from lakemesh.recovery.snapshot import DecisionSnapshot
    from lakemesh.sdk import Client

    if not globals_.token:
        raise InvalidInputError(
            f"dr-check --against {against} needs a mesh admin's token of that hub "
            "(--token or LAKEMESH_TOKEN)",
            details={"against": against},
        )
    with Client.connect(against, token=globals_.token) as client:
        return DecisionSnapshot.from_dict(client.mesh_decisions().model_dump())


def dr_check(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(
            help="An export folder (lakemesh export) or a backup file (lakemesh backup)."
        ),
    ],
    against: Annotated[
        str,
        typer.Option(
            "--against",
            help="The original hub: its home folder, its store's database URL, or the URL of "
            "the running hub (http://HOST:PORT, with a mesh admin's --token).",
        ),
    ],
    rebuild_home: Annotated[
        Path | None,
        typer.Option(
            "--rebuild-home",
            help="Keep the rebuilt hub in this new folder (default: a temporary one, removed).",
        ),
    ] = None,
    rebuild_database_url: Annotated[
        str | None,
        typer.Option(
            "--rebuild-database-url",
            help="Put the rebuilt hub's store in this empty database (default: SQLite).",
        ),
    ] = None,
    secrets: Annotated[
        Path | None,
        typer.Option(
            "--secrets",
            help="NAME=value lines: the secrets the export names (else the environment's).",
        ),
    ] = None,
) -> None:
    """Disaster-recovery drill: rebuild the mesh into a fresh hub and compare every decision.

    Applies the export (as its first mesh admin) or restores the backup into a fresh hub,
    re-crawls the folders of its tables, then compares every principal's SELECT decision on
    every table (allowed, columns, row filter, cells, masks, reasons) and DESCRIBE with the
    original hub's and prints each difference. Exits 11 when anything differs (--json: the
    report, with "identical" and "differences").
    """
    from lakemesh.recovery.drill import dr_check as run_drill

    globals_ = options(ctx)
    local_only(globals_, "dr-check")
    original = _running_hub_decisions(globals_, against)
    report = run_drill(
        source=source.absolute(),
        against=against,
        rebuild_home=rebuild_home.absolute() if rebuild_home else None,
        rebuild_database_url=rebuild_database_url,
        secrets_file=secrets.absolute() if secrets else None,
        original=original,
        progress=lambda message: None if globals_.json else output.note(message),
    )
    result = report.to_dict()
    comparison = report.comparison
    assert comparison is not None

    def human() -> None:
        applied = ", ".join(f"{what}: {count}" for what, count in result["applied"].items())
        crawled = ", ".join(f"{status}: {count}" for status, count in result["crawled"].items())
        output.line(f"rebuilt by {result['method']} of {source}: {applied or 'nothing'}")
        output.line(f"re-crawled tables: {crawled or 'none'}")
        for warning in result["crawl_warnings"]:
            output.note(f"crawl warning: {warning}")
        if rebuild_home is not None:
            output.line(f"rebuilt hub kept in {rebuild_home}")
        _print_comparison(result["comparison"], comparison.lines())

    globals_.output.show(result, human)
    if comparison.differences:
        raise comparison.error()
