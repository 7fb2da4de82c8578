"""``lakemesh audit …``: search and verify the hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.errors import EXIT_UNEXPECTED
from lakemesh.cli.params import Limit

app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)

COLUMNS = [
    ("seq", "seq"),
    ("time", "time"),
    ("actor", "actor"),
    ("action", "action"),
    ("resource", "resource"),
    ("outcome", "outcome"),
    ("details", "details"),
]


def _short_time(value: Any) -> str:
    """An ISO timestamp to the second, for a table (``--json`` keeps the full value)."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


@app.command("search")
def search(
    ctx: typer.Context,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who acted, like user:alice@marketing.")
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option("--resource", help="On what (also finds events on objects inside it)."),
    ] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="Which action, like token.create (or a prefix: token)."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="From this ISO time, or this long ago (90d, 12h)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Up to this ISO time, or this long ago."),
    ] = None,
    limit: Limit = 100,
) -> None:
    """Search audit events, newest first (domain admins see the events about their domains)."""
    with connect(ctx) as client:
        events = client.audit_events(
            actor=actor, resource=resource, action=action, since=since, until=until, limit=limit
        )
    rows = [{**output.plain(event), "time": _short_time(event.time)} for event in events]
    out(ctx).table(events, COLUMNS, rows=rows, empty="No matching events.")


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Check the audit hash chain.

    Prints OK with the event count, or the first broken event and exits 1.
    """
    with connect(ctx) as client:
        result = client.audit_verify()

    def human() -> None:
        if result.ok:
            output.success(f"OK: {result.events} audit events verified")
        else:
            output.problem(f"Audit chain broken at event {result.broken_seq}: {result.reason}")

    out(ctx).show(result, human)
    if not result.ok:
        raise typer.Exit(EXIT_UNEXPECTED)
