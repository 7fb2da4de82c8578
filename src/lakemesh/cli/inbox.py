"""``lakemesh inbox``: what the hub told you (and your groups and domains)."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out

app = typer.Typer(
    help="Your notifications: schema changes proposed, accepted or rejected, contracts "
    "violated, products deprecated, checks failed, SLAs breached. Without a command, lists them.",
    invoke_without_command=True,
)

COLUMNS = [
    ("id", "id"),
    ("kind", "kind"),
    ("product", "product"),
    ("subject", "subject"),
    ("to", "recipient"),
    ("at", "created_at"),
    ("read", "read_at"),
]
Unread = Annotated[bool, typer.Option("--unread", help="Only those not marked read.")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=1000, help="How many, newest first.")]


@app.callback()
def inbox(ctx: typer.Context, unread: Unread = False, limit: Limit = 100) -> None:
    """Your notifications, newest first (JSON: each with its details)."""
    if ctx.invoked_subcommand is None:
        _list(ctx, unread=unread, limit=limit)


@app.command("list")
def list_(ctx: typer.Context, unread: Unread = False, limit: Limit = 100) -> None:
    """Your notifications, newest first."""
    _list(ctx, unread=unread, limit=limit)


def _list(ctx: typer.Context, *, unread: bool, limit: int) -> None:
    with connect(ctx) as client:
        found = client.inbox(unread=unread, limit=limit)
    out(ctx).table(found, COLUMNS, empty="No notification.")


@app.command("read")
def read(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Notification numbers.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every unread notification.")] = False,
) -> None:
    """Mark notifications read."""
    if not ids and not all_:
        raise typer.BadParameter("name notifications, or give --all", param_hint="IDS")
    with connect(ctx) as client:
        marked = client.mark_read(ids or [], all=all_)
    out(ctx).done(marked, f"Marked {len(marked)} notification(s) read")
