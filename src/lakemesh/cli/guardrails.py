"""``lakemesh guardrail …``: organisation policies no domain can opt out of (mesh admins)."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.grants import split_list

app = typer.Typer(
    help="Guardrails: required tags before sharing, sensitive scopes for named principals only, "
    "allowed location prefixes, maximum token lifetime.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Guardrail name, like pii-only-named.")]
Keys = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="required-tags: tag keys every shared table needs, like a,b; "
        "contract-classification: the tag keys contract classifications must match.",
    ),
]
OnTags = Annotated[
    str | None,
    typer.Option("--on-tags", help='sensitive-scope: the tag expression, like "sensitivity=pii".'),
]
Prefixes = Annotated[
    str | None,
    typer.Option(
        "--prefixes",
        help="location-prefixes: allowed storage prefixes, like file:///data,s3://lake.",
    ),
]
Max = Annotated[
    str | None,
    typer.Option("--max", help="max-token-lifetime: the longest token lifetime, like 90d."),
]

COLUMNS = [("name", "name"), ("kind", "kind"), ("rule", "rule"), ("created by", "created_by")]
FIELDS = [*COLUMNS, ("config", "config"), ("created", "created_at")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="required-tags, sensitive-scope, location-prefixes, max-token-lifetime or "
            "contract-classification.",
        ),
    ],
    keys: Keys = None,
    on_tags: OnTags = None,
    prefixes: Prefixes = None,
    max_lifetime: Max = None,
) -> None:
    """Create a guardrail (mesh admins); each kind takes its one option."""
    with connect(ctx) as client:
        created = client.create_guardrail(
            name,
            kind=kind,
            keys=split_list(keys),
            on_tags=on_tags,
            prefixes=split_list(prefixes),
            max_lifetime=max_lifetime,
        )
    out(ctx).done(created, f"Created guardrail {created.name} ({created.rule})")


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only guardrails of this kind.")
    ] = None,
) -> None:
    """List the guardrails."""
    with connect(ctx) as client:
        rows = client.list_guardrails(kind=kind)
    out(ctx).table(rows, COLUMNS, empty="No guardrails.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show one guardrail."""
    with connect(ctx) as client:
        row = client.get_guardrail(name)
    out(ctx).record(row, FIELDS)


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    keys: Keys = None,
    on_tags: OnTags = None,
    prefixes: Prefixes = None,
    max_lifetime: Max = None,
) -> None:
    """Replace a guardrail's configuration; its kind stays (mesh admins)."""
    with connect(ctx) as client:
        updated = client.update_guardrail(
            name,
            keys=split_list(keys),
            on_tags=on_tags,
            prefixes=split_list(prefixes),
            max_lifetime=max_lifetime,
        )
    out(ctx).done(updated, f"Updated guardrail {updated.name} ({updated.rule})")


@app.command("delete")
def delete(ctx: typer.Context, name: Name) -> None:
    """Delete a guardrail (mesh admins)."""
    with connect(ctx) as client:
        client.delete_guardrail(name)
    out(ctx).done({"deleted": name}, f"Deleted guardrail {name}")
