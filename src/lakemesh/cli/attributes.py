"""``lakemesh attribute …``: the principal attributes row filters read, and who may set them."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.params import NewDescription
from lakemesh.cli.tags import split_list

app = typer.Typer(
    help="Attribute keys (region, ...) that row filters read with principal_attribute('key'): "
    "defined by mesh admins with their allowed values; values are set by mesh admins and the "
    "key's delegates only.",
    no_args_is_help=True,
)

Key = Annotated[str, typer.Argument(help="Attribute key, like region.")]
Principal = Annotated[
    str, typer.Argument(help="A user, a group (its members) or domain:X (its admins).")
]

COLUMNS = [
    ("key", "key"),
    ("values", "values"),
    ("delegates", "delegates"),
    ("description", "description"),
]
FIELDS = [*COLUMNS, ("created", "created_at")]


@app.command("create")
def create(
    ctx: typer.Context,
    key: Key,
    values: Annotated[
        str, typer.Option("--values", help="Allowed values, comma-separated: EU,NA,APAC.")
    ],
    description: Annotated[
        str, typer.Option("--description", help="What the attribute means.")
    ] = "",
) -> None:
    """Define an attribute key with its allowed values (mesh admins)."""
    with connect(ctx) as client:
        row = client.create_attribute_key(key, values=split_list(values), description=description)
    out(ctx).done(row, f"Created attribute {row.key} ({', '.join(row.values)})")


@app.command("update")
def update(
    ctx: typer.Context,
    key: Key,
    values: Annotated[
        str | None,
        typer.Option("--values", help="The new allowed values (a held value cannot go)."),
    ] = None,
    description: NewDescription = None,
) -> None:
    """Replace an attribute key's allowed values or its description (mesh admins)."""
    with connect(ctx) as client:
        row = client.update_attribute_key(
            key, values=None if values is None else split_list(values), description=description
        )
    out(ctx).done(row, f"Updated attribute {row.key} ({', '.join(row.values)})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List attribute keys with their allowed values and delegates."""
    with connect(ctx) as client:
        rows = client.list_attribute_keys()
    out(ctx).table(rows, COLUMNS, empty="No attribute keys.")


@app.command("show")
def show(ctx: typer.Context, key: Key) -> None:
    """Show an attribute key, its allowed values and delegates."""
    with connect(ctx) as client:
        row = client.get_attribute_key(key)
    out(ctx).record(row, FIELDS)


@app.command("delete")
def delete(ctx: typer.Context, key: Key) -> None:
    """Delete an attribute key no principal holds (mesh admins)."""
    with connect(ctx) as client:
        client.delete_attribute_key(key)
    out(ctx).done({"deleted": key}, f"Deleted attribute {key}")


@app.command("delegate")
def delegate(ctx: typer.Context, key: Key, principal: Principal) -> None:
    """Let PRINCIPAL set KEY's values on any user or service (mesh admins)."""
    with connect(ctx) as client:
        row = client.delegate_attribute(key, principal)
    out(ctx).done(row, f"{principal} may now set attribute {key}")


@app.command("undelegate")
def undelegate(ctx: typer.Context, key: Key, principal: Principal) -> None:
    """Take back PRINCIPAL's right to set KEY's values (mesh admins)."""
    with connect(ctx) as client:
        row = client.undelegate_attribute(key, principal)
    out(ctx).done(row, f"{principal} may no longer set attribute {key}")
