"""``lakemesh filter …``: data cells filters (a row predicate and column lists on one table)."""

from __future__ import annotations

from typing import Annotated

import typer

from lakemesh.cli import output
from lakemesh.cli.context import connect, out
from lakemesh.cli.params import Columns, ExcludeColumns
from lakemesh.cli.tags import split_list

app = typer.Typer(
    help="Data filters: a row predicate and a column include or exclude list on a table, "
    "granted with 'lakemesh grant SELECT --on D.DB.T --filter NAME'.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Filter name, like eu_rows.")]
TableOption = Annotated[
    str | None,
    typer.Option("--table", help="The filter's table D.DB.T (needed when the name is not unique)."),
]
Rows = Annotated[
    str | None,
    typer.Option(
        "--rows",
        help="Row predicate, like \"region = principal_attribute('region')\" (default: all rows).",
    ),
]

COLUMNS = [
    ("filter", "name"),
    ("table", "table"),
    ("rows", "rows"),
    ("columns", "columns"),
    ("excluded", "excluded_columns"),
]
FIELDS = [
    *COLUMNS,
    ("grants", "grant_ids"),
    ("created by", "created_by"),
    ("updated", "updated_at"),
]


def _optional_list(text: str | None) -> list[str] | None:
    return split_list(text) if text is not None else None


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    table: Annotated[str, typer.Option("--table", help="The table D.DB.T it filters.")],
    rows: Rows = None,
    columns: Columns = None,
    exclude_columns: ExcludeColumns = None,
) -> None:
    """Create a data filter (admins of the table's domain); the predicate is checked now."""
    with connect(ctx) as client:
        created = client.create_filter(
            name,
            table=table,
            rows=rows,
            columns=_optional_list(columns),
            excluded_columns=split_list(exclude_columns),
        )
    out(ctx).done(created, f"Created filter {created.name} on {created.table}")


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    table: TableOption = None,
    rows: Rows = None,
    all_rows: Annotated[bool, typer.Option("--all-rows", help="Drop the row predicate.")] = False,
    columns: Columns = None,
    exclude_columns: ExcludeColumns = None,
    all_columns: Annotated[
        bool, typer.Option("--all-columns", help="Drop the column lists.")
    ] = False,
) -> None:
    """Change a filter's rows or columns; every grant through it changes with it."""
    with connect(ctx) as client:
        updated = client.update_filter(
            name,
            table=table,
            rows=rows,
            all_rows=all_rows,
            columns=_optional_list(columns),
            excluded_columns=_optional_list(exclude_columns),
            all_columns=all_columns,
        )
    out(ctx).done(updated, f"Updated filter {updated.name} on {updated.table}")


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Name,
    table: TableOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also revoke the grants through the filter.")
    ] = False,
) -> None:
    """Delete a filter (refused while grants use it, unless --force)."""
    with connect(ctx) as client:
        deleted = client.delete_filter(name, table=table, force=force)

    def human() -> None:
        output.success(f"Deleted filter {deleted.name} on {deleted.table}")
        if deleted.revoked_grants:
            revoked = ", ".join(f"#{grant}" for grant in deleted.revoked_grants)
            output.line(f"Revoked grants: {revoked}")

    out(ctx).show(deleted, human)


@app.command("list")
def list_(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option("--table", help="Only this table's D.DB.T.")] = None,
) -> None:
    """List the filters on tables of the domains you administer."""
    with connect(ctx) as client:
        found = client.list_filters(table=table)
    out(ctx).table(found, COLUMNS, empty="No data filters.")


@app.command("show")
def show(ctx: typer.Context, name: Name, table: TableOption = None) -> None:
    """Show a filter with the grants through it."""
    with connect(ctx) as client:
        shown = client.get_filter(name, table=table)
    grant_ids = [f"#{grant.id} to {grant.grantee}" for grant in shown.grants]
    record = {**output.plain(shown), "grant_ids": grant_ids}
    out(ctx).record(shown, FIELDS, shown=record)
