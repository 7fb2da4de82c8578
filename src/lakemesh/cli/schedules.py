"""``lakemesh schedule …``: when products' checks and tables' crawls run, and how they went."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.api.schemas.schedules import SchedulePublic
from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import DomainFilter

app = typer.Typer(
    help="Schedules: a product's contract checks (on a cron expression in UTC, and/or after "
    "every crawl that changes its tables; a published product without one set is checked on "
    "its contract's cron, else its domain's default, as a derived schedule) or a table's "
    "re-crawl (cron), run by the hub's "
    "scheduler ('lakemesh serve'), each run once however many hub processes share the store.",
    no_args_is_help=True,
)

Kind = Annotated[str, typer.Argument(help="check (a product's checks) or crawl (a table).")]
Target = Annotated[
    str, typer.Argument(help="The product's name, or the table as DOMAIN.DATABASE.TABLE.")
]
COLUMNS = [
    ("kind", "kind"),
    ("target", "target"),
    ("cron", "cron"),
    ("after crawl", "after_crawl"),
    ("derived", "derived"),
    ("next run", "next_run_at"),
    ("last run", "last_text"),
]
RUN_COLUMNS = [
    ("run", "id"),
    ("due", "due_at"),
    ("reason", "reason"),
    ("status", "status"),
    ("tries", "tries"),
    ("finished", "finished_at"),
    ("message", "message"),
]


def _last(schedule: SchedulePublic) -> str:
    run = schedule.last_run
    if run is None:
        return ""
    check = run.result.get("check_status")
    return f"{run.status} ({check})" if check else run.status


@app.command("set")
def set_schedule(
    ctx: typer.Context,
    kind: Kind,
    target: Target,
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Five cron fields in UTC, like '0 6 * * *' (daily at 06:00)."),
    ] = None,
    after_crawl: Annotated[
        bool,
        typer.Option(
            "--after-crawl", help="Checks only: also after every crawl that changes the tables."
        ),
    ] = False,
) -> None:
    """Set (or replace) the schedule of a product's checks or a table's crawl. A check
    schedule set here is explicit: it wins over the one the scheduler derives from the
    contract's cron or the domain's default check schedule."""
    with connect(ctx) as client:
        found = client.set_schedule(kind, target, cron=cron, after_crawl=after_crawl)
    when = " and ".join(
        part
        for part in (
            f"on '{found.cron}' (next {found.next_run_at})" if found.cron else "",
            "after every crawl that changes its tables" if found.after_crawl else "",
        )
        if part
    )
    out(ctx).done(found, f"Scheduled {found.kind} of {found.target} {when}")


@app.command("list")
def list_schedules(ctx: typer.Context, domain: DomainFilter = None) -> None:
    """Schedules of the domains you administer, with their last run."""
    with connect(ctx) as client:
        found = client.list_schedules(domain=domain)
    rows = [{**output.plain(s), "last_text": _last(s)} for s in found]
    out(ctx).table(found, COLUMNS, rows=rows, empty="No schedules.")


@app.command("remove")
def remove(ctx: typer.Context, kind: Kind, target: Target) -> None:
    """Remove a schedule and its runs' history. A published product's check schedule comes
    back, derived, at the scheduler's next tick when its contract gives a cron or its domain a
    default check schedule."""
    with connect(ctx) as client:
        client.remove_schedule(kind, target)
    note = (
        " (a check schedule its contract's cron or its domain's default gives comes back, "
        "derived, at the scheduler's next tick)"
        if kind == "check"
        else ""
    )
    out(ctx).done(
        {"kind": kind, "target": target}, f"Removed the {kind} schedule of {target}{note}"
    )


@app.command("runs")
def runs(
    ctx: typer.Context,
    kind: Kind,
    target: Target,
    limit: Annotated[int, typer.Option("--limit", help="How many runs, newest first.")] = 20,
) -> None:
    """A schedule's latest runs: why each was due, how it went, every try."""
    with connect(ctx) as client:
        found = client.schedule_runs(kind, target, limit=limit)
    rows = [{**output.plain(run), "tries": len(run.attempts)} for run in found]
    out(ctx).table(found, RUN_COLUMNS, rows=rows, empty="No runs yet.")


@app.command("run-due")
def run_due(ctx: typer.Context) -> None:
    """Do the due runs now (mesh admins; for a hub no 'lakemesh serve' runs the scheduler of)."""
    with connect(ctx) as client:
        done = client.run_due_schedules()
    out(ctx).done({"runs": done}, f"Ran {len(done)} scheduled run(s)")
