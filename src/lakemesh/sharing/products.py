"""Data products: a producer's tables published with title, owner, tags, version, status and an
optional ODCS v3 contract (DESIGN §3).

The admins of the product's domain (and mesh admins) publish, change and deprecate it. Published
and deprecated products are visible to every principal, and so are their tables' descriptions
(DESCRIBE, mesh setting ``discovery``); drafts only to the domain's admins and the owner.
Deprecating keeps existing access; every view of the product then carries a warning, and it
takes no new subscriptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakemesh import audit, clock
from lakemesh.authz import policy_index
from lakemesh.authz.guardrail_checks import check_shareable
from lakemesh.catalog.tables import get_table_row, table_name
from lakemesh.contracts import validate_contract
from lakemesh.contracts.health import FACETS, facet_counts, health_summary, matches
from lakemesh.contracts.history import latest_runs
from lakemesh.errors import ConflictError, InvalidInputError, NotFoundError
from lakemesh.governance.tags import check_tag_expression, get_tag_value
from lakemesh.identity.principals import get_domain_row, get_principal
from lakemesh.model.actions import Action
from lakemesh.model.actors import Actor
from lakemesh.model.names import ResourceName, check_identifier, parse_resource
from lakemesh.model.statuses import ProductStatus
from lakemesh.notifications.events import notify_product
from lakemesh.notifications.kinds import EventKind
from lakemesh.sharing.product_contracts import apply_contract, contract_warnings
from lakemesh.sharing.product_lineage import declared_inputs, record_declared_lineage
from lakemesh.sharing.product_versions import pending_proposals, record_product_version
from lakemesh.store.schema import DataProduct, DataProductTable, Table

DRAFT, PUBLISHED, DEPRECATED = (
    ProductStatus.DRAFT,
    ProductStatus.PUBLISHED,
    ProductStatus.DEPRECATED,
)
STATUSES = tuple(ProductStatus)
DEFAULT_VERSION = "1.0.0"


@dataclass(frozen=True)
class ProductSpec:
    """What ``lakemesh product publish`` says; ``None`` keeps a product's current value.

    ``tables`` are ``database.table`` names in ``domain`` (or full ``domain.database.table``);
    ``contract`` is the text of an ODCS v3 YAML file; ``auto_approve`` a tag expression (empty
    to remove the rule): requests whose every column satisfies it are approved at once.
    """

    name: str
    domain: str
    tables: Sequence[str] = ()
    title: str | None = None
    description: str | None = None
    owner: str | None = None
    tags: Mapping[str, str] | None = None
    version: str | None = None
    contract: str | None = None
    draft: bool = False
    auto_approve: str | None = None


def resource(name: str) -> str:
    """How products are named in the audit trail: ``product:sales_customers``."""
    return f"product:{name}"


def get_product(session: Session, name: str) -> DataProduct:
    """The product called ``name``.

    Raises:
        NotFoundError: ``Data product does not exist: sales_customers``.
    """
    row = session.execute(select(DataProduct).where(DataProduct.name == name)).scalar()
    if row is None:
        raise NotFoundError(f"Data product does not exist: {name}", details={"product": name})
    return row


def product_tables(row: DataProduct) -> list[ResourceName]:
    """The product's tables, in its order."""
    return [table_name(item.table) for item in row.tables]


def can_see(actor: Actor, row: DataProduct) -> bool:
    """Published and deprecated products are visible to all; drafts to admins and the owner."""
    return row.status != DRAFT or actor.administers(row.domain.name) or row.owner == actor.ref


def show_product(
    session: Session, *, actor: Actor, name: str, action: Action = Action.PRODUCT_SHOW
) -> DataProduct:
    """A product ``actor`` may see (a hidden draft reads as missing, audited as a denial of
    ``action``)."""
    row = get_product(session, name)
    if not can_see(actor, row):
        raise actor.conceal(
            NotFoundError(f"Data product does not exist: {name}", details={"product": name}),
            reason=f"{actor.ref} may not see the draft data product {name}",
            action=action,
            resource=resource(name),
        )
    return row


def warning(row: DataProduct) -> str | None:
    """The warning readers of a deprecated (or contract-violating) product get."""
    if row.status == ProductStatus.CONTRACT_VIOLATED:
        return (
            f"Data product {row.name} violates its contract {row.version}: a breaking schema "
            "change waits for its producers' review"
        )
    if row.status != DEPRECATED:
        return None
    reason = f": {row.deprecation_message}" if row.deprecation_message else ""
    return f"Data product {row.name} is deprecated{reason}"


def _tables(session: Session, domain: str, names: Sequence[str]) -> list[Table]:
    rows: list[Table] = []
    for text in names:
        text = text.strip()
        if not text:
            continue
        name = parse_resource(text if text.count(".") == 2 else f"{domain}.{text}", level="table")
        if name.domain != domain:
            raise InvalidInputError(
                f"Table {name} is not in domain {domain}: a product holds its own domain's tables",
                details={"table": str(name), "domain": domain},
            )
        row = get_table_row(session, name)
        if all(row.id != other.id for other in rows):
            rows.append(row)
    if not rows:
        raise InvalidInputError("A data product needs at least one table (DATABASE.TABLE, ...)")
    return rows


def _tags(session: Session, tags: Mapping[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        try:
            get_tag_value(session, key, value)
        except NotFoundError as missing:
            raise InvalidInputError(missing.message, details=missing.details) from None
    return dict(sorted(tags.items()))


def _status(spec: ProductSpec, row: DataProduct | None) -> str:
    if not spec.draft:
        return PUBLISHED
    if row is not None and row.status != DRAFT:
        raise ConflictError(
            f"Data product {row.name} is {row.status}: it cannot go back to draft "
            "(deprecate it instead)",
            details={"product": row.name, "status": row.status},
        )
    return DRAFT


def publish_product(session: Session, *, actor: Actor, spec: ProductSpec) -> DataProduct:
    """Create or change a product and publish it (or keep it a draft with ``spec.draft``).

    Publishing again is idempotent; it also lifts a deprecation. A contract is checked on
    publication: ODCS v3 fields, and tables and columns the product really has.

    Raises:
        AccessDeniedError: the actor does not administer the domain (audited).
        ConflictError: the name belongs to another domain's product; a published product sent
            back to draft.
        InvalidInputError: bad tables, tags, owner, contract or auto-approval expression.
        GuardrailViolationError: a table lacks the tag keys a ``required-tags`` guardrail wants.
    """
    check_identifier(spec.name, "product name")
    get_domain_row(session, spec.domain)
    actor.require_domain_admin(
        spec.domain, action=Action.PRODUCT_PUBLISH, resource=resource(spec.name)
    )
    row = session.execute(select(DataProduct).where(DataProduct.name == spec.name)).scalar()
    if row is not None and row.domain.name != spec.domain:
        if not can_see(actor, row):
            # Names are unique across the mesh, so that one is taken can't be hidden; whose
            # draft holds it can.
            raise ConflictError(
                f"Data product name is taken: {spec.name} (names are unique across the mesh)",
                details={"product": spec.name},
            )
        raise ConflictError(
            f"Data product already exists in domain {row.domain.name}: {spec.name}",
            details={"product": spec.name, "domain": row.domain.name},
        )
    tables = _tables(session, spec.domain, spec.tables) if spec.tables or row is None else None
    status = _status(spec, row)
    now = clock.now()
    created = row is None
    if row is None:
        row = DataProduct(
            name=spec.name,
            domain_id=get_domain_row(session, spec.domain).id,
            title=spec.name,
            description="",
            owner=actor.ref,
            tags={},
            version=DEFAULT_VERSION,
            status=status,
            created_by=actor.ref,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    previous_tables = [item.table for item in row.tables]
    current_tables = tables if tables is not None else previous_tables
    contract_version: str | None = None
    warnings: list[str] = []
    if spec.contract is not None:
        contract_version, warnings = apply_contract(
            session, actor=actor, row=row, text=spec.contract, tables=current_tables
        )
    if spec.title is not None:
        row.title = spec.title.strip() or spec.name
    if spec.description is not None:
        row.description = spec.description
    if spec.owner is not None:
        row.owner = get_principal(session, spec.owner).ref
    if spec.tags is not None:
        row.tags = _tags(session, spec.tags)
    if spec.version is not None or contract_version is not None:
        row.version = (spec.version or contract_version or DEFAULT_VERSION).strip()
    if spec.auto_approve is not None:
        expression = spec.auto_approve.strip()
        row.auto_approve = str(check_tag_expression(session, expression)) if expression else None
        row.auto_approve_by = actor.ref if expression else None
    if tables is not None:
        row.tables = [
            DataProductTable(table_id=table.id, position=position)
            for position, table in enumerate(tables)
        ]
    row.status, row.updated_at = status, now
    if status == PUBLISHED:
        row.deprecation_message = None
        for table in current_tables:
            check_shareable(session, table_name(table), actor=actor, action=Action.PRODUCT_PUBLISH)
    session.flush()
    declared = 0
    if status == PUBLISHED:
        record_product_version(session, row, actor=actor, reason="publish")
        declared = record_declared_lineage(
            session, actor=actor, row=row, tables=current_tables, can_see=can_see
        )
    audit.record(
        session,
        actor=actor.ref,
        action=Action.PRODUCT_PUBLISH,
        resource=resource(row.name),
        details={
            "created": created,
            "domain": spec.domain,
            "status": status,
            "version": row.version,
            "tables": [str(name) for name in product_tables(row)],
            "contract": (row.contract or {}).get("id"),
            "contract_warnings": warnings,
            "auto_approve": row.auto_approve,
            "declared_inputs": declared_inputs(row.contract),
            "lineage_edges": declared,
        },
    )
    return row


def deprecate_product(
    session: Session, *, actor: Actor, name: str, message: str = ""
) -> DataProduct:
    """Deprecate a published product: access stays, readers are warned, new requests refused."""
    row = show_product(session, actor=actor, name=name, action=Action.PRODUCT_DEPRECATE)
    actor.require_domain_admin(
        row.domain.name, action=Action.PRODUCT_DEPRECATE, resource=resource(name)
    )
    if row.status == DRAFT:
        raise ConflictError(
            f"Data product {name} is a draft: publish it before deprecating it",
            details={"product": name, "status": row.status},
        )
    row.status, row.deprecation_message = DEPRECATED, message.strip() or None
    row.updated_at = clock.now()
    audit.record(
        session,
        actor=actor.ref,
        action=Action.PRODUCT_DEPRECATE,
        resource=resource(name),
        details={"message": row.deprecation_message, "version": row.version},
    )
    notify_product(
        session,
        kind=EventKind.PRODUCT_DEPRECATED,
        product=row,
        actor=actor.ref,
        subject=warning(row) or f"Data product {name} is deprecated",
        details={"message": row.deprecation_message, "version": row.version},
    )
    return row


def list_products(
    session: Session, *, actor: Actor, domain: str | None = None, status: str | None = None
) -> list[DataProduct]:
    """The products ``actor`` may see, by name, optionally of one domain or status."""
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            f"Unknown product status: {status!r} (known: {', '.join(STATUSES)})",
            details={"status": status},
        )
    if domain is not None:
        get_domain_row(session, domain)
    rows = session.execute(select(DataProduct).order_by(DataProduct.name)).scalars()
    return [
        row
        for row in rows
        if can_see(actor, row)
        and (domain is None or row.domain.name == domain)
        and (status is None or row.status == status)
    ]


def _haystack(row: DataProduct) -> str:
    parts = [row.name, row.title, row.description, row.domain.name, row.owner, row.version]
    parts += [f"{key}={value}" for key, value in row.tags.items()]
    for item in row.tables:
        parts += [str(table_name(item.table)), item.table.description]
        parts += [column.name for column in item.table.columns]
    return " ".join(parts).lower()


def search_products(
    session: Session, *, actor: Actor, text: str = "", tags: str | None = None
) -> list[DataProduct]:
    """Products ``actor`` may see whose text holds every word of ``text`` (name, title,
    description, tags, tables and their columns) and, with ``tags``, whose own tags or at least
    one table's columns satisfy that tag expression."""
    words = text.lower().split()
    expression = check_tag_expression(session, tags) if tags else None
    matching: set[ResourceName] = set()
    if expression is not None:
        matching = set(policy_index(session).tables_matching(expression))
    found: list[DataProduct] = []
    for row in list_products(session, actor=actor):
        haystack = _haystack(row)
        if not all(word in haystack for word in words):
            continue
        if expression is not None and not (
            expression.matches(row.tags) or any(t in matching for t in product_tables(row))
        ):
            continue
        found.append(row)
    return found


def deprecation_notices(session: Session, tables: Iterable[str]) -> list[str]:
    """Warnings for reads of ``tables`` that belong to deprecated or contract-violating
    products (for the gateway)."""
    wanted = set(tables)
    rows = session.execute(
        select(DataProduct)
        .where(DataProduct.status.in_([DEPRECATED, ProductStatus.CONTRACT_VIOLATED]))
        .order_by(DataProduct.name)
    ).scalars()
    return [
        notice
        for row in rows
        if wanted & {str(name) for name in product_tables(row)} and (notice := warning(row))
    ]


def describe_product(row: DataProduct, *, detail: bool = False) -> dict[str, Any]:
    """A product as the API shows it; ``detail`` adds each table's columns."""
    contract = validate_contract(row.contract).summary() if row.contract else None
    result: dict[str, Any] = {
        "name": row.name,
        "domain": row.domain.name,
        "title": row.title,
        "description": row.description,
        "owner": row.owner,
        "tags": dict(row.tags),
        "version": row.version,
        "status": row.status,
        "tables": [str(name) for name in product_tables(row)],
        "contract": contract,
        "auto_approve": row.auto_approve,
        "deprecation_message": row.deprecation_message,
        "warning": warning(row),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }
    if detail:
        result["schema"] = [
            {
                "table": str(table_name(item.table)),
                "description": item.table.description,
                "columns": [{"name": c.name, "type": c.type} for c in item.table.columns],
            }
            for item in row.tables
        ]
    return result


def view_product(session: Session, row: DataProduct, *, detail: bool = False) -> dict[str, Any]:
    """:func:`describe_product` plus what needs the store: its health (the last contract check)
    and, with ``detail``, the contract's classification warnings against the tables' tags."""
    described = view_products(session, [row])[0]
    if detail:
        described.update(describe_product(row, detail=True))
        described["contract_warnings"] = contract_warnings(session, row)
    return described


def view_products(session: Session, rows: Sequence[DataProduct]) -> list[dict[str, Any]]:
    """Products as the API lists them, each with its health (one query for all)."""
    runs = latest_runs(session, [row.id for row in rows])
    waiting = pending_proposals(session, [row.name for row in rows])
    return [
        {
            **describe_product(row),
            "health": {**health_summary(runs.get(row.id)), "open_proposals": waiting[row.name]},
        }
        for row in rows
    ]


SORT_KEYS = ("name", "quality", "checked")


def product_facets(products: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How many of the described ``products`` fall in each health facet (what a search would
    keep with ``--health F``), and how many there are in all."""
    return {
        "total": len(products),
        "health": facet_counts(product["health"] for product in products),
    }


def sort_and_filter(
    products: list[dict[str, Any]], *, health: str | None = None, sort: str = "name"
) -> list[dict[str, Any]]:
    """Described products in the ``health`` facet (a run status, ``unchecked``, ``on_time``,
    ``late``), ordered by ``sort``: ``name``, ``quality`` (highest pass rate first, unchecked
    last) or ``checked`` (most recently checked first)."""
    if health is not None and health not in FACETS:
        raise InvalidInputError(
            f"Unknown health facet: {health!r} (known: {', '.join(FACETS)})",
            details={"health": health},
        )
    if sort not in SORT_KEYS:
        raise InvalidInputError(
            f"Unknown sort key: {sort!r} (known: {', '.join(SORT_KEYS)})", details={"sort": sort}
        )
    found = [p for p in products if health is None or matches(p["health"], health)]
    if sort == "quality":
        found.sort(key=lambda p: (-(p["health"]["quality_pass_rate"] or -1.0), p["name"]))
    elif sort == "checked":
        found.sort(key=lambda p: p["name"])
        found.sort(key=lambda p: p["health"]["checked_at"] or "", reverse=True)
    return found
