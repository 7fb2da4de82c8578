"""Data products: publication by the producer, discovery by everyone, search, contracts, drafts."""

from __future__ import annotations

from typing import Any

import pytest

from lakemesh.authz.decisions import decide
from lakemesh.errors import (
    AccessDeniedError,
    ConflictError,
    GuardrailViolationError,
    InvalidInputError,
    NotFoundError,
)
from lakemesh.governance import guardrails
from lakemesh.governance.tags import create_tag
from lakemesh.model.names import parse_resource
from lakemesh.model.permissions import Permission
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.factories.sharing import CUSTOMERS, FIONA, MARIA, MIA, ORDERS, SAM, SharingMesh

CONTRACT = """
apiVersion: v3.0.2
kind: DataContract
id: urn:sales:customers
version: 2.1.0
status: active
name: Sales customers
schema:
  - name: customers
    properties:
      - {name: customer_id, logicalType: integer, primaryKey: true}
      - {name: region, logicalType: string}
  - name: crm.orders
    properties:
      - {name: amount, logicalType: number}
"""


def _publish(mesh: SharingMesh, ref: str = SAM, **fields: object) -> dict[str, object]:
    spec = ProductSpec(
        **{"name": "sales_customers", "domain": "sales", "tables": ("crm.customers",), **fields}  # type: ignore[arg-type]
    )
    with mesh.transaction() as session:
        return products.describe_product(
            products.publish_product(session, actor=mesh.actor(ref), spec=spec)
        )


def _search(mesh: SharingMesh, ref: str, text: str = "", tags: str | None = None) -> list[str]:
    with mesh.read() as session:
        return [
            row.name
            for row in products.search_products(
                session, actor=mesh.actor(ref), text=text, tags=tags
            )
        ]


def _describable(mesh: SharingMesh, ref: str, table: str = CUSTOMERS) -> bool:
    with mesh.read() as session:
        return decide(
            session,
            actor=mesh.actor(ref),
            permission=Permission.DESCRIBE,
            resource=parse_resource(table),
        ).allowed


def test_published_product_is_described_and_discoverable_by_everyone(mesh: SharingMesh) -> None:
    assert not _describable(mesh, MIA)
    product = _publish(
        mesh,
        tables=("crm.customers", "sales.crm.orders"),
        title="Sales customers",
        description="Who buys, and what.",
        tags={"sensitivity": "internal"},
    )
    assert {k: product[k] for k in ("name", "domain", "tables", "status", "version", "owner")} == {
        "name": "sales_customers",
        "domain": "sales",
        "tables": [CUSTOMERS, ORDERS],
        "status": "published",
        "version": "1.0.0",
        "owner": SAM,
    }
    assert _describable(mesh, MIA)
    assert _describable(mesh, FIONA, ORDERS)
    [event] = mesh.events("product.publish")
    assert (event.actor, event.resource, event.details["tables"]) == (
        SAM,
        "product:sales_customers",
        [CUSTOMERS, ORDERS],
    )


def test_drafts_are_seen_by_their_domain_only(mesh: SharingMesh) -> None:
    _publish(mesh, draft=True)
    assert _search(mesh, MIA) == []
    assert _search(mesh, SAM) == ["sales_customers"]
    assert not _describable(mesh, MIA)
    with (
        pytest.raises(NotFoundError, match="Data product does not exist: sales_customers"),
        mesh.read() as session,
    ):
        products.show_product(session, actor=mesh.actor(MIA), name="sales_customers")
    _publish(mesh)
    assert _search(mesh, MIA) == ["sales_customers"]
    with pytest.raises(
        ConflictError, match="Data product sales_customers is published: it cannot go back to draft"
    ):
        _publish(mesh, draft=True)


@pytest.mark.parametrize(
    ("text", "tags", "found"),
    [
        ("customers", None, ["sales_customers"]),
        ("CUSTOMERS who", None, ["sales_customers"]),
        ("email", None, ["sales_customers"]),
        ("orders amount", None, ["sales_orders"]),
        ("nothing-like-this", None, []),
        ("", "sensitivity=pii", ["sales_customers"]),
        ("", "sensitivity=internal", ["sales_orders"]),
        ("", "sensitivity=public", ["sales_customers", "sales_orders"]),
        ("orders", "sensitivity=pii", []),
    ],
)
def test_search_by_text_and_tag_expression(
    mesh: SharingMesh, text: str, tags: str | None, found: list[str]
) -> None:
    _publish(mesh, description="Who buys")
    _publish(mesh, name="sales_orders", tables=("crm.orders",), tags={"sensitivity": "internal"})
    assert _search(mesh, MIA, text, tags) == found


def test_deprecated_product_keeps_access_and_warns(mesh: SharingMesh) -> None:
    _publish(mesh)
    with mesh.transaction() as session:
        products.deprecate_product(
            session, actor=mesh.actor(SAM), name="sales_customers", message="use customers_v2"
        )
    with mesh.read() as session:
        row = products.show_product(session, actor=mesh.actor(MIA), name="sales_customers")
        described = products.describe_product(row)
        notices = products.deprecation_notices(session, [CUSTOMERS, ORDERS])
    assert described["status"] == "deprecated"
    assert described["warning"] == "Data product sales_customers is deprecated: use customers_v2"
    assert notices == [described["warning"]]
    assert _describable(mesh, MIA)
    republished = _publish(mesh)
    assert (republished["status"], republished["warning"]) == ("published", None)


def test_contract_is_validated_on_publish_and_sets_the_version(mesh: SharingMesh) -> None:
    product = _publish(mesh, tables=("crm.customers", "crm.orders"), contract=CONTRACT)
    assert product["version"] == "2.1.0"
    contract = product["contract"]
    assert isinstance(contract, dict)
    assert (contract["id"], contract["objects"]) == (
        "urn:sales:customers",
        {"customers": ["customer_id", "region"], "crm.orders": ["amount"]},
    )


def test_physical_types_match_the_engines_types_in_any_spelling(mesh: SharingMesh) -> None:
    contract = CONTRACT.replace(
        "logicalType: integer,", "logicalType: integer, physicalType: int8,"
    ).replace("logicalType: string}", "physicalType: varchar(40)}")
    contract = contract.replace("logicalType: number}", "physicalType: double precision}")
    product = _publish(mesh, tables=("crm.customers", "crm.orders"), contract=contract)
    assert product["version"] == "2.1.0"


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ("kind: DataContract\n", "apiVersion is required; id is required; version is required"),
        (CONTRACT.replace("v3.0.2", "v2.2.2"), "apiVersion 'v2.2.2' is not an ODCS v3 version"),
        (CONTRACT.replace("kind: DataContract", "kind: Other"), "kind must be DataContract"),
        ("schema: [", "not valid YAML at line 1"),
        ("- a list", "the document must be a mapping"),
        (
            CONTRACT.replace("{name: region, logicalType: string}", "{logicalType: text}"),
            r"schema\[0\].properties\[1\].name is required; "
            r"schema\[0\].properties\[1\].logicalType 'text' is not one of",
        ),
        (
            CONTRACT.replace("name: customers", "name: refunds"),
            r"schema object refunds is not a table of the product \(tables: crm.customers, "
            r"crm.orders\)",
        ),
        (CONTRACT.replace("name: region", "name: nickname"), "customers has no column nickname"),
        (
            CONTRACT.replace("logicalType: integer,", "logicalType: integer, physicalType: int,"),
            r"schema\[0\].properties\[0\].physicalType int does not match column "
            r"crm.customers.customer_id of type BIGINT",
        ),
        (
            CONTRACT.replace("logicalType: number}", "logicalType: number, physicalType: float}"),
            r"physicalType float does not match column crm.orders.amount of type DOUBLE",
        ),
        (
            CONTRACT.replace("string}", "string, physicalType: 'no such'}"),
            r"schema\[0\].properties\[1\].physicalType 'no such' is not a SQL type",
        ),
    ],
)
def test_invalid_contracts_are_refused_with_every_problem(
    mesh: SharingMesh, contract: str, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"Invalid ODCS v3 contract: .*{message}"):
        _publish(mesh, tables=("crm.customers", "crm.orders"), contract=contract)
    assert mesh.events("product.publish") == []


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"tables": ()}, InvalidInputError, "A data product needs at least one table"),
        ({"tables": ("crm.nothing",)}, NotFoundError, "Table does not exist: sales.crm.nothing"),
        (
            {"tables": ("finance.ledger.x",)},
            InvalidInputError,
            "Table finance.ledger.x is not in domain sales",
        ),
        ({"tags": {"colour": "red"}}, InvalidInputError, "Tag key does not exist: colour"),
        (
            {"owner": "user:ghost@sales"},
            NotFoundError,
            "Principal does not exist: user:ghost@sales",
        ),
        ({"name": "Bad Name"}, InvalidInputError, "Invalid product name: 'Bad Name'"),
        (
            {"auto_approve": "sensitivity=secret"},
            InvalidInputError,
            "Tag value does not exist: sensitivity=secret",
        ),
    ],
)
def test_bad_publications_are_refused_by_name(
    mesh: SharingMesh, fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        _publish(mesh, **fields)


def test_only_the_producers_admins_publish(mesh: SharingMesh) -> None:
    with pytest.raises(
        AccessDeniedError, match="user:maria@marketing is not an admin of domain sales"
    ):
        _publish(mesh, ref=MARIA)
    _publish(mesh)
    with pytest.raises(
        ConflictError, match="Data product already exists in domain sales: sales_customers"
    ):
        _publish(mesh, ref=MARIA, domain="marketing")


def test_a_hidden_drafts_name_is_taken_without_naming_its_domain(mesh: SharingMesh) -> None:
    _publish(mesh, draft=True)
    with pytest.raises(ConflictError) as caught:
        _publish(mesh, ref=MARIA, domain="marketing")
    assert str(caught.value) == (
        "Data product name is taken: sales_customers (names are unique across the mesh)"
    )
    assert "domain" not in caught.value.details


def test_required_tags_guardrail_is_checked_on_publish(mesh: SharingMesh) -> None:
    with mesh.transaction() as session:
        create_tag(session, actor=mesh.admin, key="owner", values=["sales"])
        guardrails.create_guardrail(
            session, actor=mesh.admin, name="tagged", kind="required-tags", keys=["owner"]
        )
    with pytest.raises(
        GuardrailViolationError, match="table sales.crm.customers lacks tag keys owner"
    ):
        _publish(mesh)
    draft = _publish(mesh, draft=True)
    assert draft["status"] == "draft"
