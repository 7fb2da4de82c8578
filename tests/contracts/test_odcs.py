"""ODCS v3.0 and v3.1 contracts: what is read from them, and every problem named by its field."""

from __future__ import annotations

import doctest

import pytest

from lakemesh.contracts import (
    conformance,
    health,
    metrics,
    odcs,
    parse_contract,
    rules,
    schema_diff,
    sla,
)
from lakemesh.errors import InvalidInputError

V31 = """
apiVersion: v3.1.0
kind: DataContract
id: urn:acme:shipping:parcels
name: Parcels
version: 2.0.0
status: active
slaProperties:
  - {property: latency, value: 6, unit: h, element: parcels.scanned_at}
  - {property: frequency, value: 1, unit: d}
  - {property: retention, value: 2, unit: y}
  - {property: generalAvailability, value: "2025-01-01"}
schema:
  - name: parcels
    quality:
      - {metric: rowCount, mustBeGreaterThan: 0}
      - metric: duplicateValues
        arguments: {properties: [carrier, tracking_no]}
        mustBe: 0
    properties:
      - {name: parcel_id, logicalType: integer, primaryKey: true}
      - name: carrier
        logicalType: string
        required: true
        quality:
          - metric: invalidValues
            arguments: {validValues: [dhl, ups, post]}
            mustBeLessOrEqualTo: 1
            unit: percent
      - {name: tracking_no, logicalType: string, unique: true}
      - name: weight_kg
        logicalType: number
        quality:
          - {metric: nullValues, mustBeBetween: [0, 5], unit: percent}
          - type: sql
            query: SELECT max({property}) FROM {object}
            mustBeLessThan: 1000
      - {name: scanned_at, logicalType: timestamp, classification: restricted}
"""

V30 = """
apiVersion: v3.0.2
kind: DataContract
id: urn:acme:shipping:legacy
version: 1.0.0
status: draft
schema:
  - name: parcels
    quality:
      - {rule: rowCount, mustBeGreaterOrEqualTo: 10}
    properties:
      - name: carrier
        quality:
          - {rule: duplicateCount, mustBeLessThan: 3}
          - {rule: validValues, validValues: [dhl, ups], mustBe: 0}
          - {type: text, description: Carriers are the ones we have contracts with.}
"""


def test_examples_in_the_modules_run() -> None:
    for module in (odcs, rules, sla, conformance, metrics, health, schema_diff):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_a_v31_contract_gives_its_rules_slas_and_keys() -> None:
    contract = parse_contract(V31)
    keys = {rule.key: rule for rule in contract.rules}
    assert list(keys) == [
        "parcels.carrier.invalidValues",
        "parcels.weight_kg.nullValues",
        "parcels.weight_kg.sql",
        "parcels.rowCount",
        "parcels.duplicateValues",
        "parcels.parcel_id.primaryKey",
        "parcels.parcel_id.unique",
        "parcels.carrier.required",
        "parcels.tracking_no.unique",
    ]
    assert keys["parcels.weight_kg.nullValues"].threshold == (0.0, 5.0)
    assert keys["parcels.duplicateValues"].columns == ("carrier", "tracking_no")
    assert keys["parcels.parcel_id.unique"].implied_by == "primaryKey"
    assert [(s.property, s.seconds, s.element) for s in contract.slas] == [
        ("latency", 6 * 3600, "parcels.scanned_at"),
        ("frequency", 86400, None),
        ("retention", 2 * 365 * 86400, None),
    ]
    assert contract.tables[0].primary_key == ("parcel_id",)


def test_v30_rule_names_read_as_v31_metrics() -> None:
    contract = parse_contract(V30)
    shown = [(rule.key, rule.metric, rule.operator, rule.runnable) for rule in contract.rules]
    assert shown == [
        ("parcels.carrier.duplicateValues", "duplicateValues", "mustBeLessThan", True),
        ("parcels.carrier.invalidValues", "invalidValues", "mustBe", True),
        ("parcels.carrier.text", None, None, False),
        ("parcels.rowCount", "rowCount", "mustBeGreaterOrEqualTo", True),
    ]
    assert contract.rules[1].arguments["validValues"] == ["dhl", "ups"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("required: true", "required: yes please"),
            r"schema\[0\].properties\[1\].required must "
            r"be true or false, got 'yes please'",
        ),
        (
            ("mustBeGreaterThan: 0", "mustBeGreaterThan: lots"),
            r"schema\[0\].quality\[0\].mustBeGreaterThan must be a number, got 'lots'",
        ),
        (
            ("mustBeBetween: [0, 5]", "mustBeBetween: [5, 0]"),
            r"schema\[0\].properties\[3\].quality\[0\].mustBeBetween must list the lower bound "
            r"first",
        ),
        (
            ("mustBeBetween: [0, 5]", "mustBeBetween: 3"),
            r"mustBeBetween must be a list of two numbers",
        ),
        (
            ("metric: rowCount", "metric: rowcount"),
            r"schema\[0\].quality\[0\].metric 'rowcount' "
            r"is not a library metric",
        ),
        (
            ("unit: percent", "unit: parts"),
            r"quality\[0\].unit 'parts' is not one of rows, "
            r"percent",
        ),
        (
            ("arguments: {validValues: [dhl, ups, post]}", "arguments: {}"),
            r"quality\[0\] invalidValues needs arguments.validValues or arguments.pattern",
        ),
        (
            ("arguments: {properties: [carrier, tracking_no]}", "arguments: {}"),
            r"schema\[0\].quality\[1\] duplicateValues on a table needs arguments.properties",
        ),
        (
            ("query: SELECT max({property}) FROM {object}", "dialect: duckdb"),
            r"quality\[1\].query is required for a sql rule",
        ),
        (
            ("mustBeLessThan: 1000", "mustBe: 1\n            mustNotBe: 2"),
            r"quality\[1\] has several operators \(mustBe, mustNotBe\)",
        ),
        (("mustBeLessThan: 1000", "description: big"), r"quality\[1\] needs an operator"),
        (
            ("value: 6, unit: h", "value: 6, unit: fortnights"),
            r"slaProperties\[0\].unit 'fortnights' is not a time unit",
        ),
        (
            ("value: 6, unit: h", "value: -1, unit: h"),
            r"slaProperties\[0\].value must be a positive number for latency",
        ),
        (
            ("element: parcels.scanned_at", "element: scanned_at"),
            r"slaProperties\[0\].element must name a column as table.column",
        ),
        (
            ("primaryKey: true}", "primaryKey: true, primaryKeyPosition: first}"),
            r"properties\[0\].primaryKeyPosition must be a whole number",
        ),
        (
            ("classification: restricted", "classification: 3"),
            r"properties\[4\].classification must be a string, got int",
        ),
    ],
)
def test_each_problem_names_the_field_at_fault(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in V31
    with pytest.raises(InvalidInputError, match=message) as raised:
        parse_contract(V31.replace(old, new))
    assert raised.value.message.startswith("Invalid ODCS v3 contract: ")


def test_a_column_metric_on_a_table_is_refused() -> None:
    text = V31.replace(
        "- {metric: rowCount, mustBeGreaterThan: 0}", "- {metric: nullValues, mustBe: 0}"
    )
    with pytest.raises(
        InvalidInputError,
        match=r"schema\[0\].quality\[0\] nullValues belongs on a "
        r"property",
    ):
        parse_contract(text)


@pytest.mark.parametrize(
    ("operator", "threshold", "passing", "failing"),
    [
        ("mustBe", 0, [0], [1, -1]),
        ("mustNotBe", 0, [1, -1], [0]),
        ("mustBeGreaterThan", 10, [11], [10, 9]),
        ("mustBeGreaterOrEqualTo", 10, [10, 11], [9.5]),
        ("mustBeLessThan", 10, [9.9], [10]),
        ("mustBeLessOrEqualTo", 10, [10], [10.1]),
        ("mustBeBetween", [1, 3], [1, 2, 3], [0.9, 3.1]),
        ("mustNotBeBetween", [1, 3], [0, 4], [1, 3]),
    ],
)
def test_every_operator_compares_as_odcs_says(
    operator: str, threshold: object, passing: list[float], failing: list[float]
) -> None:
    parsed = rules.parse_rules(
        [{"metric": "rowCount", operator: threshold}],
        where="q",
        table="t",
        column=None,
        problems=(problems := []),
    )
    assert problems == []
    rule = parsed[0]
    assert [rule.passes(value) for value in passing] == [True] * len(passing)
    assert [rule.passes(value) for value in failing] == [False] * len(failing)
    assert rule.passes(None) is False
