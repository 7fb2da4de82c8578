"""``lakemesh principal …``: users, groups and services, and their attributes."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out, parse_pairs
from lakemesh.cli.params import DomainFilter

app = typer.Typer(
    help="Principals: user:NAME@DOMAIN, group:NAME@DOMAIN, service:NAME@DOMAIN, domain:NAME.",
    no_args_is_help=True,
)

Ref = Annotated[str, typer.Argument(help="Principal, like user:alice@marketing.")]

COLUMNS = [
    ("principal", "name"),
    ("kind", "kind"),
    ("domain", "domain"),
    ("attributes", "attributes"),
    ("groups", "groups"),
    ("admin of", "admin_of"),
]
FIELDS = [*COLUMNS, ("members", "members"), ("created", "created_at")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Ref,
    attr: Annotated[
        list[str] | None,
        typer.Option(
            "--attr",
            help="An attribute KEY=VALUE, like region=EU (repeatable; the key must be defined "
            "and you must be allowed to set it).",
        ),
    ] = None,
) -> None:
    """Create a user, group or service in a domain (its admins or mesh admins)."""
    attributes = parse_pairs(attr, "attribute")
    with connect(ctx) as client:
        principal = client.create_principal(name, attributes=attributes)
    out(ctx).done(principal, f"Created {principal.name}")


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="Only this kind: user, group, service or domain."),
    ] = None,
) -> None:
    """List principals."""
    with connect(ctx) as client:
        principals = client.list_principals(domain=domain, kind=kind)
    out(ctx).table(principals, COLUMNS, empty="No principals.")


@app.command("show")
def show(ctx: typer.Context, name: Ref) -> None:
    """Show a principal: attributes, groups (transitively), admin roles, members."""
    with connect(ctx) as client:
        principal = client.get_principal(name)
    out(ctx).record(principal, FIELDS)


@app.command("set-attr")
def set_attr(
    ctx: typer.Context,
    name: Ref,
    pairs: Annotated[
        list[str] | None, typer.Argument(help="Attributes to set, as KEY=VALUE.")
    ] = None,
    unset: Annotated[
        list[str] | None, typer.Option("--unset", help="An attribute to remove (repeatable).")
    ] = None,
) -> None:
    """Set attributes of a user or service (row filters read them), or remove some.

    Keys are defined with 'lakemesh attribute create'; values are set by mesh admins and the
    key's delegates only.
    """
    attributes = parse_pairs(pairs, "attribute")
    with connect(ctx) as client:
        principal = client.set_attributes(name, attributes, unset=unset or ())
    out(ctx).done(
        principal, f"Attributes of {name}: {output.cell(principal.attributes) or '(none)'}"
    )


@app.command("delete")
def delete(ctx: typer.Context, name: Ref) -> None:
    """Delete a principal (its tokens stop working)."""
    with connect(ctx) as client:
        client.delete_principal(name)
    out(ctx).done({"deleted": name}, f"Deleted {name}")
