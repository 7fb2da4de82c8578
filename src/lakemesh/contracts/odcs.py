"""Data contracts in the Open Data Contract Standard, version 3 (ODCS v3 YAML, DESIGN §6).

lakemesh checks the fields ODCS v3 requires (``apiVersion``, ``kind``, ``id``, ``version``,
``status``), the types of the fields it reads, and the ``schema`` section: every object has a
``name`` and every property a ``name`` and, when given, a known ``logicalType``. On publication a
contract must also describe the product: each schema object names a product table and each
property one of its columns (:func:`check_conformance`). Every problem is reported at once.

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

from lakemesh.errors import InvalidInputError

API_VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0")
KIND = "DataContract"
REQUIRED = ("apiVersion", "kind", "id", "version", "status")
LOGICAL_TYPES = ("string", "date", "number", "integer", "object", "array", "boolean")
MAX_SIZE = 1_000_000
"""Largest contract accepted, in characters (contracts are stored with their product)."""


@dataclass(frozen=True)
class Contract:
    """A checked ODCS v3 contract: its identity and the columns its schema objects describe."""

    document: dict[str, Any]
    id: str
    version: str
    status: str
    objects: dict[str, tuple[str, ...]]

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
        }


def _invalid(problems: Sequence[str]) -> InvalidInputError:
    return InvalidInputError(
        f"Invalid ODCS v3 contract: {'; '.join(problems)}", details={"problems": list(problems)}
    )


def load_yaml(text: str) -> dict[str, Any]:
    """The YAML mapping of a contract file.

    Raises:
        InvalidInputError: not YAML, too large, or not a mapping at the top.
    """
    if len(text) > MAX_SIZE:
        raise _invalid([f"the file is larger than {MAX_SIZE} characters"])
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise _invalid([f"not valid YAML{where}"]) from e
    if not isinstance(document, dict):
        raise _invalid(["the document must be a mapping of ODCS fields"])
    return document


def _properties(path: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(f"{path} must be a list")
        return ()
    names: list[str] = []
    for position, item in enumerate(value):
        where = f"{path}[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        name = item.get("name")
        if not isinstance(name, str) or not name:
            problems.append(f"{where}.name is required")
        else:
            names.append(item.get("physicalName") or name)
        logical = item.get("logicalType")
        if logical is not None and logical not in LOGICAL_TYPES:
            problems.append(
                f"{where}.logicalType {logical!r} is not one of {', '.join(LOGICAL_TYPES)}"
            )
    return tuple(names)


def _schema(value: Any, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, list):
        problems.append("schema must be a list of objects")
        return {}
    objects: dict[str, tuple[str, ...]] = {}
    for position, item in enumerate(value):
        where = f"schema[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        name = item.get("physicalName") or item.get("name")
        if not isinstance(item.get("name"), str) or not item.get("name"):
            problems.append(f"{where}.name is required")
            continue
        objects[str(name)] = _properties(f"{where}.properties", item.get("properties"), problems)
    return objects


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
    objects = _schema(document.get("schema"), problems)
    if problems:
        raise _invalid(problems)
    return Contract(
        document=dict(document),
        id=str(document["id"]),
        version=str(document["version"]),
        status=str(document["status"]),
        objects=objects,
    )


def parse_contract(text: str) -> Contract:
    """Load and check an ODCS v3 YAML contract (see :func:`validate_contract`)."""
    return validate_contract(load_yaml(text))


def check_conformance(contract: Contract, tables: Mapping[str, Sequence[str]]) -> None:
    """Refuse a contract that describes tables or columns the product does not have.

    ``tables`` maps each product table's name (``customers``) to its columns; a schema object may
    also name a table as ``database.table``.

    Raises:
        InvalidInputError: ``Invalid ODCS v3 contract: schema object refunds is not a table of
            the product (tables: customers, orders); ...``.
    """
    by_name: dict[str, Sequence[str]] = {}
    for name, columns in tables.items():
        by_name[name.lower()] = columns
        by_name[name.rsplit(".", 1)[-1].lower()] = columns
    shown = ", ".join(sorted(tables))
    problems: list[str] = []
    for name, properties in contract.objects.items():
        found = by_name.get(name.lower())
        if found is None:
            problems.append(f"schema object {name} is not a table of the product (tables: {shown})")
            continue
        known = {column.lower() for column in found}
        missing = [prop for prop in properties if prop.lower() not in known]
        if missing:
            problems.append(f"{name} has no column {', '.join(missing)}")
    if problems:
        raise _invalid(problems)
