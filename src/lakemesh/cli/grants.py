"""``lakemesh grant``, ``lakemesh revoke`` and ``lakemesh grants list``: who may do what.

lakemesh grant SELECT --on sales.crm.orders --exclude-columns email --to user:mia@marketing
lakemesh grant SELECT --on-tags "sensitivity=public|internal" --to group:analysts@marketing
lakemesh revoke SELECT --on sales.crm.orders --from user:mia@marketing
lakemesh revoke --id 12
"""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import Columns, ExcludeColumns
from lakemesh.errors import InvalidInputError
from lakemesh.sdk.governance import GrantTarget

app = typer.Typer(
    help="Grants: list who holds which permissions ('lakemesh grant' and 'lakemesh revoke' "
    "change them).",
    no_args_is_help=True,
)

On = Annotated[
    str | None,
    typer.Option("--on", help="A resource: DOMAIN[.DATABASE[.TABLE[.COLUMN]]]."),
]
Filter = Annotated[
    str | None,
    typer.Option("--filter", help="With --on TABLE: SELECT through this data filter."),
]
OnTags = Annotated[
    str | None,
    typer.Option(
        "--on-tags",
        help='Every resource whose tags match this expression, like "sensitivity=public|internal '
        'AND owner=sales".',
    ),
]
ResourceType = Annotated[
    str,
    typer.Option(
        "--resource-type",
        help="With --on-tags: match tables (and their columns) or databases.",
        show_default=True,
    ),
]
LocationOption = Annotated[
    str | None,
    typer.Option("--location", help="A registered storage location (DATA_LOCATION_ACCESS)."),
]
OnTagValues = Annotated[
    str | None,
    typer.Option(
        "--on-tag-values",
        help='Tag values, like "sensitivity=pii|internal" or a whole key (ASSOCIATE, DESCRIBE).',
    ),
]

COLUMNS = [
    ("id", "id"),
    ("grantee", "grantee"),
    ("permissions", "permissions"),
    ("target", "target"),
    ("grant option", "with_grant_option"),
    ("granted by", "granted_by"),
]


def split_list(text: str | None) -> list[str] | None:
    """``a, b,c`` as ``["a", "b", "c"]``; None stays None."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def _target(
    *,
    on: str | None,
    columns: str | None,
    exclude_columns: str | None,
    filter_name: str | None,
    on_tags: str | None,
    resource_type: str,
    location: str | None,
    on_tag_values: str | None,
) -> GrantTarget:
    """The SDK's target arguments (the hub checks that exactly one target is named)."""
    return {
        "on": on,
        "columns": split_list(columns),
        "exclude_columns": split_list(exclude_columns),
        "filter": filter_name,
        "on_tags": on_tags,
        "resource_type": resource_type if on_tags is not None else None,
        "location": location,
        "tag_values": on_tag_values,
    }


LISTING_WORDS = ("list", "ls", "show")


def _not_a_listing(value: str | None) -> str | None:
    """``lakemesh grant list`` means ``lakemesh grants list``: say so before asking for --to."""
    if value is not None and value.lower() in LISTING_WORDS:
        raise typer.BadParameter(
            f"{value!r} is not a permission; to list grants, run 'lakemesh grants list'"
        )
    return value


def grant(
    ctx: typer.Context,
    permissions: Annotated[
        str,
        typer.Argument(
            help="Permissions, comma-separated: SELECT, DESCRIBE, INSERT, ... or ALL.",
            callback=_not_a_listing,
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="The grantee, like group:analysts@marketing.")],
    on: On = None,
    columns: Columns = None,
    exclude_columns: ExcludeColumns = None,
    filter_name: Filter = None,
    on_tags: OnTags = None,
    resource_type: ResourceType = "table",
    location: LocationOption = None,
    on_tag_values: OnTagValues = None,
    with_grant_option: Annotated[
        bool,
        typer.Option(
            "--with-grant-option", help="The grantee may grant the same or less to others."
        ),
    ] = False,
) -> None:
    """Grant permissions on one target: --on, --on-tags, --location or --on-tag-values."""
    target = _target(
        on=on,
        columns=columns,
        exclude_columns=exclude_columns,
        filter_name=filter_name,
        on_tags=on_tags,
        resource_type=resource_type,
        location=location,
        on_tag_values=on_tag_values,
    )
    with connect(ctx) as client:
        granted = client.grant(
            permissions, grantee=to, with_grant_option=with_grant_option, **target
        )

    def human() -> None:
        permissions_text = ", ".join(granted.permissions)
        output.success(
            f"Granted {permissions_text} on {granted.target} to {granted.grantee} "
            f"(grant #{granted.id})"
        )

    out(ctx).show(granted, human)


def revoke(
    ctx: typer.Context,
    permissions: Annotated[
        str | None,
        typer.Argument(
            help="Permissions to take back, comma-separated (not with --id).",
            callback=_not_a_listing,
        ),
    ] = None,
    grantee: Annotated[
        str | None,
        typer.Option("--from", "--to", help="The grantee the permissions were granted to."),
    ] = None,
    grant_id: Annotated[
        int | None,
        typer.Option("--id", help="Revoke this grant (see 'lakemesh grants list') instead."),
    ] = None,
    on: On = None,
    columns: Columns = None,
    exclude_columns: ExcludeColumns = None,
    filter_name: Filter = None,
    on_tags: OnTags = None,
    resource_type: ResourceType = "table",
    location: LocationOption = None,
    on_tag_values: OnTagValues = None,
) -> None:
    """Take permissions back, mirroring a grant, or revoke one grant by --id; grants derived
    from what is taken back are revoked too."""
    target = _target(
        on=on,
        columns=columns,
        exclude_columns=exclude_columns,
        filter_name=filter_name,
        on_tags=on_tags,
        resource_type=resource_type,
        location=location,
        on_tag_values=on_tag_values,
    )
    named = [key for key, value in target.items() if value and key != "resource_type"]
    if grant_id is not None and (permissions or grantee or named):
        raise InvalidInputError("Give --id alone, or PERMISSIONS with a target and --from")
    with connect(ctx) as client:
        if grant_id is not None:
            revoked = client.revoke_grant(grant_id)
        elif permissions and grantee:
            revoked = client.revoke(permissions, grantee=grantee, **target)
        else:
            raise InvalidInputError(
                "Name what to revoke: PERMISSIONS, a target (--on, --on-tags, --location or "
                "--on-tag-values) and --from PRINCIPAL; or --id N"
            )

    def human() -> None:
        output.success(f"Revoked {', '.join(f'#{i}' for i in revoked)}")

    out(ctx).show({"revoked": revoked}, human)


@app.command("list")
def list_(
    ctx: typer.Context,
    principal: Annotated[
        str | None, typer.Option("--principal", help="Only grants to this principal.")
    ] = None,
    resource: Annotated[
        str | None,
        typer.Option("--resource", help="Only grants on or inside this domain, database or table."),
    ] = None,
) -> None:
    """List the grants you may see (mesh admins: all; domain admins: their domain's)."""
    with connect(ctx) as client:
        rows = client.list_grants(principal=principal, resource=resource)
    out(ctx).table(rows, COLUMNS, empty="No grants.")
