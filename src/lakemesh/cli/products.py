"""``lakemesh product …``: data products, published by producers and found by everyone."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lakemesh.api.schemas.quality import QualityRunPublic
from lakemesh.api.schemas.sharing import ProductPublic
from lakemesh.cli import output
from lakemesh.cli.context import connect, out, parse_pairs
from lakemesh.cli.grants import split_list
from lakemesh.cli.params import DomainFilter
from lakemesh.errors import InvalidInputError

app = typer.Typer(
    help="Data products: a domain's tables published with title, owner, tags, version, status "
    "and an optional ODCS v3 contract; visible to every principal once published.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(help="Product name, like sales_customers.")]

COLUMNS = [
    ("product", "name"),
    ("domain", "domain"),
    ("title", "title"),
    ("status", "status"),
    ("version", "version"),
    ("tables", "tables"),
    ("tags", "tags"),
    ("health", "health_text"),
]
FIELDS = [
    ("product", "name"),
    ("domain", "domain"),
    ("title", "title"),
    ("description", "description"),
    ("owner", "owner"),
    ("status", "status"),
    ("version", "version"),
    ("tags", "tags"),
    ("tables", "tables"),
    ("auto-approve", "auto_approve"),
    ("contract", "contract_id"),
    ("health", "health_text"),
    ("quality", "quality_text"),
    ("freshness", "freshness_text"),
    ("last checked", "checked_at"),
    ("created by", "created_by"),
    ("updated", "updated_at"),
]


def warn(message: str | None) -> None:
    """A warning for people on stderr (deprecated products, broken links)."""
    if message:
        output.warning(message)


def _freshness(health: dict[str, Any]) -> str:
    freshness = health.get("freshness") or {}
    if not freshness:
        return ""
    if freshness.get("status") == "late":
        return f"late by {freshness.get('late_by_seconds')}s ({freshness.get('promise')})"
    return str(freshness.get("status", "")).replace("_", " ")


def _record(model: ProductPublic) -> dict[str, Any]:
    """A product with the columns people read: contract id and health in words."""
    product: dict[str, Any] = output.plain(model)
    contract = product.get("contract") or {}
    health = product.get("health") or {}
    rate, complete = health.get("quality_pass_rate"), health.get("completeness")
    quality = [f"{rate:g}% of rules pass" if rate is not None else ""]
    if complete is not None:
        quality.append(f"completeness {complete:g}%")
    status = str(health.get("status", ""))
    if health.get("open_proposals"):
        status += f", {health['open_proposals']} schema change(s) to review"
    freshness = _freshness(health)
    return {
        **product,
        "contract_id": contract.get("id"),
        "health_text": f"{status}, {freshness}" if freshness else status,
        "quality_text": ", ".join(part for part in quality if part),
        "freshness_text": freshness,
        "checked_at": health.get("checked_at"),
    }


def _read_contract(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text()
    except OSError as e:
        raise InvalidInputError(
            f"Cannot read contract file {path}: {e.strerror or e}", details={"contract": str(path)}
        ) from e


@app.command("publish")
def publish(
    ctx: typer.Context,
    name: Name,
    domain: Annotated[str, typer.Option("--domain", help="The producing domain.")],
    tables: Annotated[
        str | None,
        typer.Option(
            "--tables",
            help="The product's tables, DATABASE.TABLE (or DOMAIN.DATABASE.TABLE), comma-"
            "separated; required for a new product.",
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="A title for people.")] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="What the product holds and is for.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owning principal (default: you, when new).")
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="A product tag KEY=VALUE of a defined tag key (repeatable)."),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="Product version (default: the contract's, else 1.0.0)."),
    ] = None,
    contract: Annotated[
        Path | None,
        typer.Option("--contract", help="An ODCS v3 YAML contract file, validated on publish."),
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Keep a new product a draft (seen by its domain only).")
    ] = False,
    auto_approve: Annotated[
        str | None,
        typer.Option(
            "--auto-approve",
            help="Approve at once requests whose every column matches this tag expression, like "
            '"sensitivity=public" ("" removes the rule).',
        ),
    ] = None,
) -> None:
    """Publish a data product of DOMAIN (create it, or change and republish it)."""
    text = _read_contract(contract)
    with connect(ctx) as client:
        product = client.publish_product(
            name,
            domain=domain,
            tables=split_list(tables) or [],
            title=title,
            description=description,
            owner=owner,
            tags=parse_pairs(tag, "tag") if tag else None,
            version=version,
            contract=text,
            draft=draft,
            auto_approve=auto_approve,
        )
    out(ctx).done(
        product,
        f"{'Saved draft' if product.status == 'draft' else 'Published'} data product "
        f"{product.name} {product.version} ({', '.join(product.tables)})",
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    domain: DomainFilter = None,
    status: Annotated[
        str | None, typer.Option("--status", help="Only draft, published or deprecated ones.")
    ] = None,
) -> None:
    """List the data products you may see."""
    with connect(ctx) as client:
        products = client.list_products(domain=domain, status=status)
    out(ctx).table(
        products, COLUMNS, rows=[_record(p) for p in products], empty="No data products."
    )


@app.command("search")
def search(
    ctx: typer.Context,
    text: Annotated[
        str,
        typer.Argument(
            help="Words to find in names, titles, descriptions, tags, tables and columns."
        ),
    ] = "",
    tags: Annotated[
        str | None,
        typer.Option(
            "--tags",
            help='A tag expression the product or one of its tables matches, like "domain=sales".',
        ),
    ] = None,
    health: Annotated[
        str | None,
        typer.Option(
            "--health",
            help="Only products whose last check is passed, failed, error, unchecked, on_time "
            "or late.",
        ),
    ] = None,
    sort: Annotated[
        str,
        typer.Option(
            "--sort",
            help="name, quality (highest pass rate first) or checked (latest check first).",
        ),
    ] = "name",
) -> None:
    """Search data products (JSON: a list of objects with name, domain, tables, ...)."""
    with connect(ctx) as client:
        found = client.search_products(text, tags=tags, health=health, sort=sort)
    out(ctx).table(
        found, COLUMNS, rows=[_record(p) for p in found], empty="No data product matches."
    )


@app.command("facets")
def facets(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="Words to find, as for search.")] = "",
    tags: Annotated[
        str | None, typer.Option("--tags", help="A tag expression, as for search.")
    ] = None,
) -> None:
    """How many products a search finds in each health facet (JSON: {"total", "health":
    {"passed": n, "failed": n, "error": n, "unchecked": n, "on_time": n, "late": n}})."""
    with connect(ctx) as client:
        found = client.product_facets(text, tags=tags)
    rows = [{"facet": facet, "products": count} for facet, count in found.health.items()]
    out(ctx).table(
        found, [("facet", "facet"), ("products", "products")], rows=rows, empty="No facet."
    )


@app.command("show")
def show(ctx: typer.Context, name: Name) -> None:
    """Show a data product, its tables' columns and its contract."""
    with connect(ctx) as client:
        product = client.get_product(name)
    warn(product.warning)
    for problem in product.contract_warnings or []:
        warn(f"contract: {problem}")

    def human() -> None:
        output.print_record(_record(product), FIELDS)
        for table in product.schema_ or []:
            output.print_table(
                table.columns, [("column", "name"), ("type", "type")], title=table.table
            )

    out(ctx).show(product, human)


@app.command("deprecate")
def deprecate(
    ctx: typer.Context,
    name: Name,
    message: Annotated[
        str, typer.Option("--message", help="What readers should use instead, or why.")
    ] = "",
) -> None:
    """Deprecate a data product: existing access stays, readers are warned."""
    with connect(ctx) as client:
        product = client.deprecate_product(name, message=message)
    out(ctx).done(product, f"Deprecated data product {product.name}")


RESULT_COLUMNS = [
    ("rule", "rule"),
    ("status", "status"),
    ("value", "value"),
    ("must be", "threshold"),
    ("unit", "unit"),
    ("rows", "rows_scanned"),
    ("ms", "duration_ms"),
    ("failing keys / message", "note"),
]
RUN_COLUMNS = [
    ("run", "id"),
    ("status", "status"),
    ("passed", "passed"),
    ("trigger", "trigger"),
    ("as", "principal"),
    ("contract", "contract_version"),
    ("finished", "finished_at"),
]


def _result_rows(run: QualityRunPublic) -> list[dict[str, Any]]:
    return [
        {**output.plain(result), "note": result.message or result.sample or ""}
        for result in run.results
    ]


@app.command("check")
def check(ctx: typer.Context, name: Name) -> None:
    """Run the product's contract checks now, as service:quality@DOMAIN through the gateway
    (the domain's admins). Exits 1 when a rule failed or could not be measured."""
    with connect(ctx) as client:
        run = client.check_product(name)
    out(ctx).table(
        run,
        RESULT_COLUMNS,
        rows=_result_rows(run),
        title=f"{name}: {run.status} ({run.rules_passed}/{run.rules_total} passed, "
        f"as {run.principal})",
        empty="The contract has no rule lakemesh runs.",
    )
    if run.status != "passed":
        raise typer.Exit(1)


@app.command("checks")
def checks(
    ctx: typer.Context,
    name: Name,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200, help="How many runs.")] = 20,
) -> None:
    """The product's latest check runs, newest first (JSON: each run with its results)."""
    with connect(ctx) as client:
        runs = client.product_checks(name, limit=limit)
    rows = [
        {**output.plain(run), "passed": f"{run.rules_passed}/{run.rules_total}"} for run in runs
    ]
    out(ctx).table(runs, RUN_COLUMNS, rows=rows, empty=f"{name} was never checked.")
