"""``lakemesh lineage …``: which tables a table derives from, which products a product
derives from (with their health), and OpenLineage events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from lakemesh.cli.context import connect, out
from lakemesh.cli.output import line, plain, print_table
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Lineage: what each table derives from, from producers' OpenLineage run events "
    "(Spark, dbt, Airflow: point their HTTP transport at /api/v1/lineage) and the inputs their "
    "products' contracts declare (customProperties inputs), shown only as far as you may "
    "DESCRIBE.",
    no_args_is_help=True,
)
Table = Annotated[str, typer.Argument(help="The table, DOMAIN.DATABASE.TABLE.")]
COLUMNS = [("direction", "direction"), ("depth", "depth"), ("node", "text"), ("via", "via")]


def _text(node: dict[str, Any]) -> str:
    if node.get("hidden"):
        return f"(a {node.get('kind', 'table')} you may not see)"
    return f"{node['name']}" + (" (dataset)" if node.get("kind") == "dataset" else "")


@app.command("show")
def show(
    ctx: typer.Context,
    table: Table,
    depth: Annotated[int, typer.Option("--depth", help="How many steps each way.")] = 5,
) -> None:
    """What TABLE derives from (upstream) and what derives from it (downstream)."""
    with connect(ctx) as client:
        found = client.lineage(table, depth=depth)
    steps = [("upstream", step) for step in found.upstream] + [
        ("downstream", step) for step in found.downstream
    ]
    rows = [
        {**plain(step), "direction": direction, "text": _text(step.node), "via": step.via or ""}
        for direction, step in steps
    ]
    out(ctx).table(found, COLUMNS, rows=rows, empty=f"No lineage recorded for {table}.")


PRODUCT_COLUMNS = [
    ("product", "product"),
    ("depth", "depth"),
    ("health", "health_text"),
    ("freshness", "freshness"),
    ("tables", "tables_text"),
]


@app.command("product")
def product(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The data product.")],
    depth: Annotated[int, typer.Option("--depth", help="How many steps upstream.")] = 5,
) -> None:
    """The data products NAME derives from, with their health (a late upstream makes NAME
    late)."""
    with connect(ctx) as client:
        found = client.product_lineage(name, depth=depth)
    rows = [
        {
            **plain(item),
            "health_text": item.health["status"],
            "freshness": (item.health.get("freshness") or {}).get("status", ""),
            "tables_text": ", ".join(item.tables),
        }
        for item in found.upstream
    ]

    def human() -> None:
        line(f"{found.product}: {found.health['status']}")
        print_table(
            rows, PRODUCT_COLUMNS, title="Upstream", empty=f"No upstream products of {name}."
        )
        if found.hidden:
            line(f"{found.hidden} upstream source(s) you may not see.")
        if found.late_upstream:
            line(f"Late upstream: {', '.join(found.late_upstream)} (so {name} may be late)")

    out(ctx).show(found, human)


@app.command("send")
def send(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An OpenLineage RunEvent as JSON ('-': stdin).")],
) -> None:
    """Record an OpenLineage RunEvent (you need INSERT on each output table)."""
    text = typer.get_text_stream("stdin").read() if str(file) == "-" else file.read_text()
    try:
        event = json.loads(text)
    except ValueError as e:
        raise InvalidInputError(f"Not a JSON OpenLineage event: {file} ({e})") from e
    with connect(ctx) as client:
        found = client.send_lineage_event(event)
    out(ctx).done(found, f"Recorded {found.edges} new edge(s) of job {found.job}")


@app.command("export")
def export(ctx: typer.Context, table: Table) -> None:
    """TABLE's lineage as OpenLineage RunEvents (JSON, one per job that wrote it)."""
    with connect(ctx) as client:
        found = client.lineage_events(table)
    out(ctx).text(found, json.dumps(plain(found), indent=2))
