"""``lakemesh share …``: shares to and from your domains; accept or decline incoming ones."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Shares: grants to domain:X of another domain's objects. X's admins accept or decline "
    "them; once accepted they reach X's admins, who delegate them.",
    no_args_is_help=True,
)

ShareId = Annotated[
    int, typer.Argument(help="The share's number (its grant's), from 'share list'.")
]

COLUMNS = [
    ("id", "id"),
    ("resource", "resource"),
    ("from", "from_domain"),
    ("to", "to_domain"),
    ("status", "status"),
    ("permissions", "permissions"),
    ("delegations", "delegations"),
]
FIELDS = [
    *COLUMNS,
    ("granted by", "granted_by"),
    ("created", "created_at"),
    ("origin", "origin"),
    ("decided by", "decided_by"),
    ("decided", "decided_at"),
]


@app.command("list")
def list_(
    ctx: typer.Context,
    incoming: Annotated[
        bool, typer.Option("--incoming", help="Only shares to your domains (or --domain).")
    ] = False,
    outgoing: Annotated[
        bool, typer.Option("--outgoing", help="Only shares from your domains (or --domain).")
    ] = False,
    domain: Annotated[
        str | None, typer.Option("--domain", help="Only shares to or from this domain.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only pending, accepted, declined or revoked shares."),
    ] = None,
) -> None:
    """List the shares you may see (JSON: id, resource, from_domain, to_domain, status, ...)."""
    if incoming and outgoing:
        raise InvalidInputError("Give --incoming or --outgoing, not both")
    direction = "incoming" if incoming else "outgoing" if outgoing else None
    with connect(ctx) as client:
        shares = client.list_shares(direction=direction, domain=domain, status=status)
    out(ctx).table(shares, COLUMNS, empty="No shares.")


@app.command("show")
def show(ctx: typer.Context, share_id: ShareId) -> None:
    """Show one share."""
    with connect(ctx) as client:
        share = client.get_share(share_id)
    out(ctx).record(share, FIELDS)


@app.command("accept")
def accept(ctx: typer.Context, share_id: ShareId) -> None:
    """Accept a share to a domain you administer: it takes effect at once."""
    with connect(ctx) as client:
        share = client.accept_share(share_id)
    out(ctx).done(share, f"Accepted share #{share.id} of {share.resource} from {share.from_domain}")


@app.command("decline")
def decline(ctx: typer.Context, share_id: ShareId) -> None:
    """Decline a share: it stays inert until accepted (refused while it is delegated)."""
    with connect(ctx) as client:
        share = client.decline_share(share_id)
    out(ctx).done(share, f"Declined share #{share.id} of {share.resource} from {share.from_domain}")
