"""Data contracts in the Open Data Contract Standard, version 3 (ODCS v3 YAML, DESIGN §6).

lakemesh checks the fields ODCS v3 requires (``apiVersion``, ``kind``, ``id``, ``version``,
``status``), the types of the fields it reads, the ``schema`` section (every object has a
``name``, every property a ``name``, a known ``logicalType`` and boolean ``required``,
``unique`` and ``primaryKey``), the ``quality`` rules (:mod:`lakemesh.contracts.rules`) and the
``slaProperties`` (:mod:`lakemesh.contracts.sla`). Every problem is reported at once, naming
the field at fault (``schema[0].properties[2].required must be true or false``). On publication
a contract must also describe the product's tables (:mod:`lakemesh.contracts.conformance`).

>>> contract = parse_contract('''
... apiVersion: v3.0.2
... kind: DataContract
... id: urn:sales:customers
... version: 1.2.0
... status: active
... schema:
...   - name: customers
...     properties:
...       - {name: customer_id, logicalType: integer}
... ''')
>>> contract.objects
{'customers': ('customer_id',)}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from lakemesh.contracts.rules import (
    DUPLICATE_VALUES,
    LIBRARY,
    NULL_VALUES,
    QualityRule,
    parse_rules,
    string_field,
    unique_keys,
)
from lakemesh.contracts.sla import Sla, parse_slas
from lakemesh.errors import InvalidInputError

API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0")
KIND = "DataContract"
REQUIRED = ("apiVersion", "kind", "id", "version", "status")
LOGICAL_TYPES = (
    "string",
    "date",
    "timestamp",
    "time",
    "number",
    "integer",
    "object",
    "array",
    "boolean",
)
MAX_SIZE = 1_000_000
"""Largest contract accepted, in characters (contracts are stored with their product)."""


@dataclass(frozen=True)
class Property:
    """A property (column) of a schema object, as the contract promises it."""

    name: str
    logical_type: str | None = None
    physical_type: str | None = None
    required: bool = False
    unique: bool = False
    primary_key: bool = False
    primary_key_position: int | None = None
    classification: str | None = None
    where: str = ""


@dataclass(frozen=True)
class SchemaObject:
    """A schema object (table) of the contract and its properties."""

    name: str
    properties: tuple[Property, ...] = ()
    where: str = ""

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The primary-key columns, in ``primaryKeyPosition`` order."""
        keys = [prop for prop in self.properties if prop.primary_key]
        keys.sort(key=lambda prop: prop.primary_key_position or 0)
        return tuple(prop.name for prop in keys)


@dataclass(frozen=True)
class Contract:
    """A checked ODCS v3 contract: its identity, schema objects, quality rules and SLAs."""

    document: dict[str, Any]
    id: str
    version: str
    status: str
    objects: dict[str, tuple[str, ...]]
    tables: tuple[SchemaObject, ...] = ()
    rules: tuple[QualityRule, ...] = ()
    slas: tuple[Sla, ...] = ()

    @property
    def name(self) -> str | None:
        name = self.document.get("name")
        return name if isinstance(name, str) else None

    def summary(self) -> dict[str, Any]:
        """What a product shows of its contract."""
        return {
            "id": self.id,
            "version": self.version,
            "status": self.status,
            "name": self.name,
            "api_version": self.document.get("apiVersion"),
            "objects": {name: list(columns) for name, columns in self.objects.items()},
            "quality_rules": len([rule for rule in self.rules if rule.runnable]),
            "slas": [sla.to_dict() for sla in self.slas],
        }


def invalid_contract(problems: Sequence[str]) -> InvalidInputError:
    return InvalidInputError(
        f"Invalid ODCS v3 contract: {'; '.join(problems)}", details={"problems": list(problems)}
    )


def load_yaml(text: str) -> dict[str, Any]:
    """The YAML mapping of a contract file.

    Raises:
        InvalidInputError: not YAML, too large, or not a mapping at the top.
    """
    if len(text) > MAX_SIZE:
        raise invalid_contract([f"the file is larger than {MAX_SIZE} characters"])
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise invalid_contract([f"not valid YAML{where}"]) from e
    if not isinstance(document, dict):
        raise invalid_contract(["the document must be a mapping of ODCS fields"])
    return document


def _flag(item: Mapping[str, Any], name: str, where: str, problems: list[str]) -> bool:
    value = item.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        problems.append(f"{where}.{name} must be true or false, got {value!r}")
        return False
    return value


def _property(
    item: Mapping[str, Any], where: str, table: str, problems: list[str], rules: list[QualityRule]
) -> Property | None:
    name = item.get("name")
    if not isinstance(name, str) or not name:
        problems.append(f"{where}.name is required")
        name = None
    logical = item.get("logicalType")
    if logical is not None and logical not in LOGICAL_TYPES:
        problems.append(f"{where}.logicalType {logical!r} is not one of {', '.join(LOGICAL_TYPES)}")
        logical = None
    if name is None:
        return None
    column = string_field(item, "physicalName", where, problems) or name
    physical = string_field(item, "physicalType", where, problems)
    position = item.get("primaryKeyPosition")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
        problems.append(f"{where}.primaryKeyPosition must be a whole number, got {position!r}")
        position = None
    rules += parse_rules(
        item.get("quality"), where=f"{where}.quality", table=table, column=column, problems=problems
    )
    return Property(
        name=column,
        logical_type=logical,
        physical_type=physical,
        required=_flag(item, "required", where, problems),
        unique=_flag(item, "unique", where, problems),
        primary_key=_flag(item, "primaryKey", where, problems),
        primary_key_position=position,
        classification=string_field(item, "classification", where, problems),
        where=where,
    )


def _schema_object(
    item: Any, where: str, problems: list[str], rules: list[QualityRule]
) -> SchemaObject | None:
    if not isinstance(item, dict):
        problems.append(f"{where} must be a mapping")
        return None
    if not isinstance(item.get("name"), str) or not item.get("name"):
        problems.append(f"{where}.name is required")
        return None
    table = string_field(item, "physicalName", where, problems) or str(item["name"])
    value = item.get("properties")
    properties: list[Property] = []
    if value is not None and not isinstance(value, list):
        problems.append(f"{where}.properties must be a list")
    for position, prop in enumerate(value if isinstance(value, list) else []):
        at = f"{where}.properties[{position}]"
        if not isinstance(prop, dict):
            problems.append(f"{at} must be a mapping")
            continue
        found = _property(prop, at, table, problems, rules)
        if found is not None:
            properties.append(found)
    rules += parse_rules(
        item.get("quality"), where=f"{where}.quality", table=table, column=None, problems=problems
    )
    return SchemaObject(table, tuple(properties), where)


def _schema(value: Any, problems: list[str], rules: list[QualityRule]) -> list[SchemaObject]:
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append("schema must be a list of objects")
        return []
    objects = [
        _schema_object(item, f"schema[{position}]", problems, rules)
        for position, item in enumerate(value)
    ]
    return [item for item in objects if item is not None]


def implied_rules(tables: Sequence[SchemaObject]) -> list[QualityRule]:
    """The checks ``required``, ``unique`` and ``primaryKey`` promise: no nulls, no duplicates
    (a primary key of several columns is unique as a whole)."""
    rules: list[QualityRule] = []
    for table in tables:
        key = table.primary_key
        for prop in table.properties:
            if prop.required or prop.primary_key:
                reason = "primaryKey" if prop.primary_key else "required"
                rules.append(_implied(table.name, prop.name, NULL_VALUES, reason))
            if prop.unique or (prop.primary_key and len(key) == 1):
                reason = "primaryKey" if prop.primary_key else "unique"
                rules.append(_implied(table.name, prop.name, DUPLICATE_VALUES, reason))
        if len(key) > 1:
            rules.append(
                QualityRule(
                    key=f"{table.name}.primaryKey",
                    table=table.name,
                    column=None,
                    type=LIBRARY,
                    metric=DUPLICATE_VALUES,
                    operator="mustBe",
                    threshold=0.0,
                    arguments={"properties": list(key)},
                    implied_by="primaryKey",
                )
            )
    return rules


def _implied(table: str, column: str, metric: str, reason: str) -> QualityRule:
    return QualityRule(
        key=f"{table}.{column}.{reason}" if metric == NULL_VALUES else f"{table}.{column}.unique",
        table=table,
        column=column,
        type=LIBRARY,
        metric=metric,
        operator="mustBe",
        threshold=0.0,
        implied_by=reason,
    )


def validate_contract(document: Mapping[str, Any]) -> Contract:
    """Check an ODCS v3 document.

    Raises:
        InvalidInputError: ``Invalid ODCS v3 contract: id is required; ...`` listing every problem
            (also in ``details["problems"]``).
    """
    problems = [f"{field} is required" for field in REQUIRED if document.get(field) in (None, "")]
    api_version = document.get("apiVersion")
    if api_version not in (None, "") and api_version not in API_VERSIONS:
        problems.append(
            f"apiVersion {api_version!r} is not an ODCS v3 version ({', '.join(API_VERSIONS)})"
        )
    kind = document.get("kind")
    if kind not in (None, "") and kind != KIND:
        problems.append(f"kind must be {KIND}, got {kind!r}")
    for field in ("id", "version", "status", "name", "domain", "dataProduct"):
        value = document.get(field)
        if value not in (None, "") and not isinstance(value, str):
            problems.append(f"{field} must be a string, got {type(value).__name__}")
    rules: list[QualityRule] = []
    tables = _schema(document.get("schema"), problems, rules)
    slas = parse_slas(document.get("slaProperties"), problems=problems)
    if problems:
        raise invalid_contract(problems)
    implied = implied_rules(tables)
    explicit = {(rule.table, rule.column, rule.metric) for rule in rules}
    implied = [r for r in implied if (r.table, r.column, r.metric) not in explicit]
    return Contract(
        document=dict(document),
        id=str(document["id"]),
        version=str(document["version"]),
        status=str(document["status"]),
        objects={table.name: tuple(prop.name for prop in table.properties) for table in tables},
        tables=tuple(tables),
        rules=tuple(unique_keys([*rules, *implied])),
        slas=tuple(slas),
    )


def parse_contract(text: str) -> Contract:
    """Load and check an ODCS v3 YAML contract (see :func:`validate_contract`)."""
    return validate_contract(load_yaml(text))
