"""``lakemesh group …``: membership of groups (nested groups count transitively)."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out

app = typer.Typer(help="Group membership.", no_args_is_help=True)

Group = Annotated[str, typer.Argument(help="The group, like group:analysts@marketing.")]
Member = Annotated[str, typer.Argument(help="A user, service or group, like user:alice@marketing.")]


@app.command("add-member")
def add_member(ctx: typer.Context, group: Group, member: Member) -> None:
    """Add a member to a group."""
    with connect(ctx) as client:
        result = client.add_member(group, member)
    out(ctx).done(result, f"{member} is now a member of {group}")


@app.command("remove-member")
def remove_member(ctx: typer.Context, group: Group, member: Member) -> None:
    """Remove a member from a group."""
    with connect(ctx) as client:
        result = client.remove_member(group, member)
    out(ctx).done(result, f"{member} is no longer a member of {group}")
