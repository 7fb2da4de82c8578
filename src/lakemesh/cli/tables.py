"""``lakemesh table …``: tables of the catalog, their columns and schema history."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakemesh.api.schemas.tables import ColumnPublic, TablePublic
from lakemesh.cli import output
from lakemesh.cli.context import connect, out, parse_pairs
from lakemesh.cli.params import DomainFilter, NewDescription
from lakemesh.model.column_changes import change_text

app = typer.Typer(help="Tables in domains' catalogs.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(help="DOMAIN.DATABASE.TABLE, like sales.crm.orders.")]

LIST_COLUMNS = [
    ("table", "name"),
    ("format", "format"),
    ("partitions", "partition_columns"),
    ("version", "schema_version"),
    ("location", "location"),
]
SHOW_FIELDS = [
    ("table", "name"),
    ("location", "location"),
    ("format", "format"),
    ("partition columns", "partition_columns"),
    ("schema version", "schema_version"),
    ("description", "description"),
    ("properties", "properties"),
    ("tags", "effective_tags"),
    ("created", "created_at"),
    ("updated", "updated_at"),
]
COLUMN_COLUMNS = [
    ("column", "name"),
    ("type", "type"),
    ("not null", "not_null"),
    ("partition", "partition"),
    ("tags", "effective_tags"),
    ("description", "description"),
]
SNAPSHOT_COLUMNS = [
    ("snapshot", "id"),
    ("committed", "committed_at"),
    ("operation", "operation"),
    ("schema version", "schema_version"),
]
SEARCH_COLUMNS = [("table", "name"), ("matching columns", "columns")]
CHANGES = ("added", "changed", "removed")
HISTORY_COLUMNS = [
    ("version", "version"),
    ("when", "created_at"),
    ("by", "actor"),
    ("added", "added"),
    ("changed", "changed"),
    ("removed", "removed"),
]


def change_names(changes: dict[str, Any] | None, kind: str) -> list[str]:
    """The columns of one kind of schema change (``added``, ``changed``, ``removed``), as text:
    a retyped column reads ``price (int -> double)``.
    """
    names: list[str] = []
    for item in (changes or {}).get(kind) or []:
        if not isinstance(item, dict):
            names.append(str(item))
        elif "from" in item and "to" in item:
            names.append(f"{item.get('name')} ({change_text(item)})")
        else:
            names.append(str(item.get("name")))
    return names


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
    database: Annotated[
        str | None,
        typer.Option("--database", help="Only this database's (DATABASE or DOMAIN.DATABASE)."),
    ] = None,
) -> None:
    """List the tables you may see."""
    with connect(ctx) as client:
        tables = client.list_tables(domain=domain, database=database)
    out(ctx).table(tables, LIST_COLUMNS, empty="No tables.")


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show a table: location, format, columns with types, partition columns, and the
    snapshots (Iceberg) or versions (Delta) crawls found."""
    with connect(ctx) as client:
        table = client.get_table(name)

    def human() -> None:
        output.print_record(with_tags(table), SHOW_FIELDS)
        columns = [
            {**with_tags(column), "not_null": "yes" if column.nullable is False else ""}
            for column in table.columns
        ]
        output.print_table(columns, COLUMN_COLUMNS, empty="No columns.")
        if table.snapshots is not None:  # Iceberg snapshots, Delta versions
            title = f"snapshots (current: {table.current_snapshot or 'none'})"
            output.print_table(table.snapshots, SNAPSHOT_COLUMNS, title=title)

    out(ctx).show(table, human)


def with_tags(item: TablePublic | ColumnPublic) -> dict[str, Any]:
    """A table or column with its effective tags under ``effective_tags``, for display."""
    effective = item.tags.effective if item.tags is not None else {}
    return {**output.plain(item), "effective_tags": effective}


@app.command("search")
def search(
    ctx: typer.Context,
    tags: Annotated[
        str,
        typer.Option("--tags", help='Tag expression, like "sensitivity=pii OR region!=eu-west".'),
    ],
) -> None:
    """Find the tables you may see that have columns whose tags match an expression."""
    with connect(ctx) as client:
        found = client.search_tables(tags)
    out(ctx).table(found, SEARCH_COLUMNS, title=tags, empty="No table matches.")


@app.command("history")
def history(ctx: typer.Context, name: Name) -> None:
    """Show a table's schema versions and what changed in each."""
    with connect(ctx) as client:
        versions = client.table_history(name)
    rows = [
        {**output.plain(version), **{kind: change_names(version.changes, kind) for kind in CHANGES}}
        for version in versions
    ]
    out(ctx).table(versions, HISTORY_COLUMNS, rows=rows, title=name, empty="No versions.")


@app.command("diff")
def diff(
    ctx: typer.Context,
    name: Name,
    from_version: Annotated[
        int | None, typer.Option("--from", min=1, help="Older version (default: to - 1).")
    ] = None,
    to_version: Annotated[
        int | None, typer.Option("--to", min=1, help="Newer version (default: the current).")
    ] = None,
    proposal: Annotated[
        int | None,
        typer.Option(
            "--proposal",
            min=1,
            help="A schema proposal (lakemesh product versions) against the version it would "
            "replace.",
        ),
    ] = None,
) -> None:
    """Compare two schema versions of a table, or a schema proposal a crawl made; breaking
    changes (a column dropped, a type narrowed, nullability tightened, a partition change) are
    marked."""
    with connect(ctx) as client:
        found = client.table_diff(
            name, from_version=from_version, to_version=to_version, proposal=proposal
        )
    rows = [{"change": "added", "column": c["name"], "detail": c["type"]} for c in found.added]
    rows += [
        {"change": "removed", "column": c["name"], "detail": "breaking"} for c in found.removed
    ]
    rows += [
        {
            "change": "changed",
            "column": c.name,
            "detail": change_text(output.plain(c))
            + (f" (breaking: {'; '.join(c.reasons)})" if c.breaking else ""),
        }
        for c in found.changed
    ]
    verdict = "breaking" if found.breaking else "compatible"
    target = f"proposal {found.proposal}" if found.proposal else f"v{found.to}"
    if found.pending_proposal and not found.proposal:
        output.warning(
            f"Schema proposal {found.pending_proposal} of {name} waits for review "
            f"(lakemesh table diff {name} --proposal {found.pending_proposal})"
        )
    out(ctx).table(
        found,
        [("change", "change"), ("column", "column"), ("detail", "detail")],
        rows=rows,
        title=f"{name} v{found.from_} -> {target}: {verdict}",
        empty=f"{name} v{found.from_} -> {target}: no change",
    )


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    description: NewDescription = None,
    prop: Annotated[
        list[str] | None,
        typer.Option("--property", help="A property KEY=VALUE (repeatable; replaces all)."),
    ] = None,
) -> None:
    """Change a table's description or properties."""
    properties = parse_pairs(prop, "property") if prop else None
    with connect(ctx) as client:
        result = client.update_table(name, description=description, properties=properties)
    out(ctx).done(result, f"Updated table {name}")


@app.command("drop")
def drop(ctx: typer.Context, name: Name) -> None:
    """Drop a table from the catalog (the data files stay where they are)."""
    with connect(ctx) as client:
        client.drop_table(name)
    out(ctx).done({"dropped": name}, f"Dropped table {name}")
