"""``lakemesh link …``: resource links in your domain's catalog to shared databases and tables."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.api.schemas.sharing import LinkPublic
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import DomainFilter
from lakemesh.cli.products import warn

app = typer.Typer(
    help="Resource links: names in a consumer's catalog (analytics.shared_sales.orders) that "
    "stand for shared tables or databases (sales.crm.orders). Reading through a link needs "
    "DESCRIBE on it (on its database) and the permission on the target.",
    no_args_is_help=True,
)

Name = Annotated[
    str, typer.Argument(help="The link: CONSUMER.DATABASE.TABLE, or CONSUMER.DATABASE.")
]

COLUMNS = [
    ("link", "name"),
    ("kind", "kind"),
    ("target", "target"),
    ("status", "status"),
    ("share", "share"),
    ("message", "message"),
]
FIELDS = [*COLUMNS, ("created by", "created_by"), ("created", "created_at")]


def _warn_broken(links: list[LinkPublic]) -> None:
    for link in links:
        if link.status == "broken":
            warn(link.message)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    target: Annotated[
        str,
        typer.Option(
            "--target", help="What it stands for: PRODUCER.DATABASE.TABLE or PRODUCER.DATABASE."
        ),
    ],
) -> None:
    """Create a link in a domain you administer (its database is made when missing)."""
    with connect(ctx) as client:
        link = client.create_link(name, target=target)
    out(ctx).done(link, f"Linked {link.name} -> {link.target} ({link.status})")


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
) -> None:
    """List the links you may see, broken ones with the reason."""
    with connect(ctx) as client:
        links = client.list_links(domain=domain)
    _warn_broken(links)
    out(ctx).table(links, COLUMNS, empty="No links.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show one link and whether it works."""
    with connect(ctx) as client:
        link = client.get_link(name)
    _warn_broken([link])
    out(ctx).record(link, FIELDS)


@app.command("drop")
def drop(ctx: typer.Context, name: Name) -> None:
    """Remove a link (the target is not touched)."""
    with connect(ctx) as client:
        client.drop_link(name)
    out(ctx).done({"dropped": name}, f"Dropped {name}")
