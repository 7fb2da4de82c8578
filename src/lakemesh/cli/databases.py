"""``lakemesh database …``: databases of a domain's catalog."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, local_uri, out
from lakemesh.cli.params import DomainFilter

app = typer.Typer(help="Databases in domains' catalogs.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="DOMAIN.DATABASE, like sales.crm.")]

COLUMNS = [
    ("database", "name"),
    ("location", "location"),
    ("description", "description"),
    ("created", "created_at"),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    description: Annotated[
        str, typer.Option("--description", help="What the database holds.")
    ] = "",
    location: Annotated[
        str | None,
        typer.Option("--location", help="Default storage URI of its tables."),
    ] = None,
) -> None:
    """Create a database in a domain (its admins or mesh admins)."""
    with connect(ctx) as client:
        database = client.create_database(
            name,
            description=description,
            location=local_uri(location) if location else None,
        )
    out(ctx).done(database, f"Created database {database.name}")


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
) -> None:
    """List databases."""
    with connect(ctx) as client:
        databases = client.list_databases(domain=domain)
    out(ctx).table(databases, COLUMNS, empty="No databases.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show one database."""
    with connect(ctx) as client:
        database = client.get_database(name)
    out(ctx).record(database, COLUMNS)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    description: Annotated[str, typer.Option("--description", help="New description.")],
) -> None:
    """Change a database's description."""
    with connect(ctx) as client:
        database = client.update_database(name, description=description)
    out(ctx).done(database, f"Updated database {database.name}")


@app.command("drop")
def drop(
    ctx: typer.Context,
    name: Name,
    cascade: Annotated[
        bool, typer.Option("--cascade", help="Also drop its tables (else it must be empty).")
    ] = False,
) -> None:
    """Drop a database from the catalog (the data files stay where they are)."""
    with connect(ctx) as client:
        client.drop_database(name, cascade=cascade)
    out(ctx).done({"dropped": name, "cascade": cascade}, f"Dropped database {name}")
