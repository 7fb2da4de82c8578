"""``lakemesh onboard …``: a producer or consumer domain in one step (repeatable)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, local_uri, out, parse_pairs
from lakemesh.cli.params import DomainDescription

app = typer.Typer(
    help="Onboard a domain in one step. Running it again changes only what is missing; what "
    "contradicts the mesh (another admin, another domain's location, other tags) is refused.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="The domain, like sales.")]
Admin = Annotated[
    str, typer.Option("--admin", help="Its admin, like user:sam@sales (created when new).")
]


def _report(result: dict[str, Any]) -> None:
    changes = result.get("changes") or []
    if not changes:
        output.success(f"Domain {result['domain']} is onboarded already: nothing to change")
        return
    output.success(f"Onboarded {result['role']} domain {result['domain']}:")
    for change in changes:
        output.line(f"  - {change}")


@app.command("producer")
def producer(
    ctx: typer.Context,
    name: Name,
    location: Annotated[
        str,
        typer.Option(
            "--location",
            help="Where its data is (URI or path): each sub-folder is a database, each of "
            "theirs a table.",
        ),
    ],
    admin: Admin,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="A tag KEY=VALUE for its databases (repeatable)."),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="Register the location's table folders in this one database."
        ),
    ] = None,
    description: DomainDescription = "",
) -> None:
    """Create a producer domain, its admin and location, crawl it and tag it."""
    with connect(ctx) as client:
        result = client.onboard_producer(
            name,
            location=local_uri(location),
            admin=admin,
            tags=parse_pairs(tag, "tag"),
            database=database,
            description=description,
        )
    out(ctx).show(result, lambda: _report(result))


@app.command("consumer")
def consumer(
    ctx: typer.Context, name: Name, admin: Admin, description: DomainDescription = ""
) -> None:
    """Create a consumer domain and its admin."""
    with connect(ctx) as client:
        result = client.onboard_consumer(name, admin=admin, description=description)
    out(ctx).show(result, lambda: _report(result))
