"""A product's contract against its tables on publish: types, rule columns, classifications."""

from __future__ import annotations

import pytest

from lakemesh.errors import GuardrailViolationError, InvalidInputError
from lakemesh.governance import guardrails
from lakemesh.sharing import products
from lakemesh.sharing.products import ProductSpec
from tests.factories.sharing import SAM, SharingMesh

CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: urn:sales:customers
version: 1.0.0
status: active
slaProperties:
  - {property: freshness, value: 1, unit: d, element: orders.order_id}
schema:
  - name: customers
    properties:
      - {name: customer_id, logicalType: integer, primaryKey: true}
      - {name: email, logicalType: string, classification: pii}
      - name: region
        logicalType: string
        quality:
          - {metric: invalidValues, arguments: {validValues: [EU, US]}, mustBe: 0}
  - name: orders
    quality:
      - {metric: duplicateValues, arguments: {properties: [order_id, customer_id]}, mustBe: 0}
    properties:
      - {name: amount, logicalType: number}
"""


def _publish(mesh: SharingMesh, contract: str) -> dict[str, object]:
    spec = ProductSpec(
        name="sales_customers",
        domain="sales",
        tables=("crm.customers", "crm.orders"),
        contract=contract,
    )
    with mesh.transaction() as session:
        row = products.publish_product(session, actor=mesh.actor(SAM), spec=spec)
        return products.view_product(session, row, detail=True)


def test_a_conforming_contract_is_stored_with_no_warning(mesh: SharingMesh) -> None:
    product = _publish(mesh, CONTRACT)
    assert product["contract_warnings"] == []
    contract = product["contract"]
    assert isinstance(contract, dict)
    assert contract["quality_rules"] == 4  # two written, two implied by the primary key
    assert contract["slas"][0]["property"] == "latency"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "{name: amount, logicalType: number}",
            "{name: amount, logicalType: integer}",
            r"schema\[1\].properties\[0\].logicalType integer does not match column "
            r"crm.orders.amount of type DOUBLE",
        ),
        (
            "{name: customer_id, logicalType: integer, primaryKey: true}",
            "{name: customer_id, logicalType: boolean, primaryKey: true}",
            r"logicalType boolean does not match column crm.customers.customer_id of type BIGINT",
        ),
        (
            "properties: [order_id, customer_id]",
            "properties: [order_id, store_id]",
            "quality rule orders.duplicateValues names no column of orders: store_id",
        ),
        (
            "element: orders.order_id",
            "element: orders.shipped_at",
            "slaProperties latency element orders.shipped_at is no column",
        ),
    ],
)
def test_a_contract_the_tables_do_not_bear_out_is_refused(
    mesh: SharingMesh, old: str, new: str, message: str
) -> None:
    assert old in CONTRACT
    with pytest.raises(InvalidInputError, match=message):
        _publish(mesh, CONTRACT.replace(old, new))
    assert mesh.events("product.publish") == []


def test_classification_mismatch_is_a_warning_or_a_guardrail_refusal(mesh: SharingMesh) -> None:
    mismatched = CONTRACT.replace("{name: region, ", "{name: region, classification: pii, ")
    mismatched = mismatched.replace(
        "- name: region\n        logicalType",
        "- name: region\n        classification: pii\n        logicalType",
    )
    product = _publish(mesh, mismatched)
    assert product["contract_warnings"] == [
        "schema[0].properties[2].classification pii but column crm.customers.region is tagged "
        "sensitivity=public (expected sensitivity=pii)"
    ]
    with mesh.transaction() as session:
        guardrails.create_guardrail(
            session,
            actor=mesh.admin,
            name="classified",
            kind="contract-classification",
            keys=["sensitivity"],
        )
    with pytest.raises(
        GuardrailViolationError,
        match=r"Guardrail classified \(contract-classification sensitivity\): "
        r"schema\[0\].properties\[2\].classification pii but column crm.customers.region",
    ):
        _publish(mesh, mismatched)
    assert _publish(mesh, CONTRACT)["contract_warnings"] == []
