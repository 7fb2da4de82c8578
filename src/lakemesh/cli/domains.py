"""``lakemesh domain …``: units of ownership and their admins."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.params import DomainDescription, NewDescription

app = typer.Typer(help="Domains: units of ownership (producers, consumers).", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="Domain name, like 'sales'.")]
Principal = Annotated[str, typer.Argument(help="Principal, like user:sam@sales.")]

COLUMNS = [
    ("name", "name"),
    ("producer", "producer"),
    ("consumer", "consumer"),
    ("admins", "admins"),
    ("description", "description"),
]
FIELDS = [
    *COLUMNS,
    ("schema changes", "schema_changes"),
    ("check schedule", "check_schedule"),
    ("created", "created_at"),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    producer: Annotated[
        bool, typer.Option("--producer", help="The domain publishes data.")
    ] = False,
    consumer: Annotated[
        bool, typer.Option("--consumer", help="The domain consumes other domains' data.")
    ] = False,
    admin: Annotated[
        list[str] | None,
        typer.Option(
            "--admin",
            help="An admin of the domain (repeatable); user:x@NAME and service:x@NAME are "
            "created with it.",
        ),
    ] = None,
    description: DomainDescription = "",
) -> None:
    """Create a domain (mesh admins only)."""
    with connect(ctx) as client:
        domain = client.create_domain(
            name,
            producer=producer,
            consumer=consumer,
            description=description,
            admins=admin or (),
        )
    out(ctx).done(domain, f"Created domain {domain.name}")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List every domain."""
    with connect(ctx) as client:
        domains = client.list_domains()
    out(ctx).table(domains, COLUMNS, empty="No domains.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show one domain."""
    with connect(ctx) as client:
        domain = client.get_domain(name)
    out(ctx).record(domain, FIELDS)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    producer: Annotated[
        bool | None,
        typer.Option("--producer/--no-producer", help="Set or clear the producer flag."),
    ] = None,
    consumer: Annotated[
        bool | None,
        typer.Option("--consumer/--no-consumer", help="Set or clear the consumer flag."),
    ] = None,
    description: NewDescription = None,
    schema_changes: Annotated[
        str | None,
        typer.Option(
            "--schema-changes",
            help="What a crawl does with a change that breaks a published contract: 'hold' "
            "(the table keeps serving the contracted schema) or 'violate' (it serves the new "
            "one and the product is marked contract_violated). Either way the change waits "
            "for 'lakemesh product accept-change' or 'reject-change'.",
        ),
    ] = None,
    check_schedule: Annotated[
        str | None,
        typer.Option(
            "--check-schedule",
            help="The default check schedule, a cron expression in UTC ('0 6 * * *'): "
            "'lakemesh schedule set check PRODUCT' takes it when the product's contract gives "
            "no schedule. '' removes it.",
        ),
    ] = None,
) -> None:
    """Change a domain's flags, description, schema-change setting or default check schedule
    (its admins or mesh admins)."""
    with connect(ctx) as client:
        domain = client.update_domain(
            name,
            producer=producer,
            consumer=consumer,
            description=description,
            schema_changes=schema_changes,
            check_schedule=check_schedule,
        )
    out(ctx).done(domain, f"Updated domain {domain.name}")


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete an empty domain (mesh admins only)."""
    with connect(ctx) as client:
        client.delete_domain(name)
    out(ctx).done({"deleted": name}, f"Deleted domain {name}")


@app.command("add-admin")
def add_admin(ctx: typer.Context, name: Name, principal: Principal) -> None:
    """Make a principal an admin of the domain."""
    with connect(ctx) as client:
        domain = client.add_domain_admin(name, principal)
    out(ctx).done(domain, f"{principal} is now an admin of domain {name}")


@app.command("remove-admin")
def remove_admin(ctx: typer.Context, name: Name, principal: Principal) -> None:
    """Remove an admin of the domain (the last mesh admin stays)."""
    with connect(ctx) as client:
        domain = client.remove_domain_admin(name, principal)
    out(ctx).done(domain, f"{principal} is no longer an admin of domain {name}")
