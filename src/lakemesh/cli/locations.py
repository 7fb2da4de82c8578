"""``lakemesh location …``: storage URIs a domain registers as its own."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, local_uri, out
from lakemesh.cli.params import DomainFilter

app = typer.Typer(help="Storage locations owned by domains.", no_args_is_help=True)

Uri = Annotated[
    str, typer.Argument(help="A storage URI (file:///…, s3://bucket/prefix) or a local path.")
]

COLUMNS = [("uri", "uri"), ("domain", "domain"), ("registered", "created_at")]


@app.command("register")
def register(
    ctx: typer.Context,
    uri: Uri,
    domain: Annotated[str, typer.Option("--domain", help="The domain that owns the location.")],
) -> None:
    """Register a location for a domain; refused inside another domain's location."""
    with connect(ctx) as client:
        location = client.register_location(local_uri(uri), domain=domain)
    out(ctx).done(location, f"Registered {location.uri} for domain {location.domain}")


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
) -> None:
    """List registered locations."""
    with connect(ctx) as client:
        locations = client.list_locations(domain=domain)
    out(ctx).table(locations, COLUMNS, empty="No locations.")


@app.command("remove")
def remove(ctx: typer.Context, uri: Uri) -> None:
    """Deregister a location no table uses any more."""
    target = local_uri(uri)
    with connect(ctx) as client:
        client.remove_location(target)
    out(ctx).done({"removed": target}, f"Removed location {target}")
