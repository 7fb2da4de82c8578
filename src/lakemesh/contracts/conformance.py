"""A contract against the tables it describes: names, types, keys and classifications.

Each schema object must name a product table (``orders`` or ``crm.orders``) and each property one
of its columns, with a column type its ``logicalType`` allows (``integer`` reads BIGINT, ``number``
any numeric type, ...) and, when it gives a ``physicalType``, the very type the table's engine
reads (``int`` is ``INTEGER``, ``varchar(255)`` is ``VARCHAR``, ``decimal(10,2)`` is not
``DECIMAL(12,2)``). Quality rules may only name columns the table has. Every problem names
the contract field at fault.

A property ``classification`` that is a value of a sensitivity tag key (``pii``,
``restricted``) should match the column's effective tag: :func:`classification_mismatches` lists
the columns that do not; a ``contract-classification`` guardrail makes that an error.

>>> shape = TableShape("crm.orders", {"order_id": "BIGINT", "amount": "DECIMAL(10,2)"})
>>> type_matches("integer", "BIGINT"), type_matches("integer", "DECIMAL(10,2)")
(True, False)
>>> physical_type_matches("int", "INTEGER"), physical_type_matches("varchar(20)", "VARCHAR")
(True, True)
>>> physical_type_matches("decimal(10,2)", "DECIMAL(12,2)")
False
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.contracts.odcs import Contract, SchemaObject, invalid_contract

INTEGER_TYPES = frozenset(
    [
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    ]
)
FLOAT_TYPES = frozenset({"FLOAT", "DOUBLE", "REAL"})
SENSITIVE_CLASSIFICATIONS = ("pii", "restricted")
"""Classifications that must carry the matching tag even when the tag key lacks that value."""


@dataclass(frozen=True)
class TableShape:
    """A product table as conformance sees it: columns with their DuckDB types (in table order)
    and each column's effective tags."""

    name: str
    columns: Mapping[str, str]
    column_tags: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def column(self, name: str) -> str | None:
        """The column's own spelling (columns match case-insensitively, as in DuckDB)."""
        for column in self.columns:
            if column.lower() == name.lower():
                return column
        return None


def type_matches(logical: str, column_type: str) -> bool:
    """Whether a column of DuckDB type ``column_type`` holds values of ODCS ``logical`` type."""
    base = re.sub(r"\(.*\)$", "", column_type.strip().upper())
    if logical == "array":
        return base.endswith("]") or base.startswith("LIST")
    if logical == "object":
        return base.startswith(("STRUCT", "MAP", "JSON"))
    return {
        "integer": base in INTEGER_TYPES,
        "number": base in INTEGER_TYPES or base in FLOAT_TYPES or base == "DECIMAL",
        "string": base in ("VARCHAR", "TEXT", "STRING", "UUID") or base.startswith("ENUM"),
        "date": base == "DATE",
        "timestamp": base.startswith("TIMESTAMP") or base == "DATETIME",
        "time": base.startswith("TIME") and not base.startswith("TIMESTAMP"),
        "boolean": base in ("BOOLEAN", "BOOL"),
    }.get(logical, True)


_UNSIZED = frozenset(
    {exp.DType.TEXT, exp.DType.VARCHAR, exp.DType.CHAR, exp.DType.NCHAR, exp.DType.NVARCHAR}
)
"""Types whose length DuckDB ignores (``VARCHAR(255)`` holds any string)."""
_MICROSECONDS = frozenset({exp.DType.TIMESTAMP, exp.DType.TIMESTAMPNTZ, exp.DType.TIMESTAMPTZ})


def engine_type(text: str) -> str | None:
    """The canonical spelling of a SQL type as DuckDB reads it (None: not a type).

    >>> engine_type("integer"), engine_type("varchar(255)"), engine_type("timestamp(6)")
    ('INT', 'TEXT', 'TIMESTAMP')
    """
    try:
        built = exp.DataType.build(text.strip(), dialect="duckdb")
    except (SqlglotError, ValueError):
        return None
    if built.this in _UNSIZED or (
        built.this in _MICROSECONDS and [e.sql() for e in built.expressions] == ["6"]
    ):
        built = exp.DataType(this=built.this)
    if built.this == exp.DType.TIMESTAMPNTZ:
        built = exp.DataType(this=exp.DType.TIMESTAMP)
    return built.sql(dialect="duckdb")


def physical_type_matches(physical: str, column_type: str) -> bool | None:
    """Whether ``physical`` (a contract's ``physicalType``) is the column's engine type; None
    when ``physical`` is no SQL type."""
    wanted = engine_type(physical)
    if wanted is None:
        return None
    return wanted == engine_type(column_type)


def match_tables(
    contract: Contract, tables: Sequence[TableShape], problems: list[str]
) -> dict[str, TableShape]:
    """Schema object name to the product table it names (problems for those naming none)."""
    by_name: dict[str, TableShape] = {}
    for table in tables:
        by_name[table.name.lower()] = table
        by_name[table.name.rsplit(".", 1)[-1].lower()] = table
    shown = ", ".join(sorted(table.name for table in tables))
    found: dict[str, TableShape] = {}
    for item in contract.tables:
        match = by_name.get(item.name.lower())
        if match is None:
            problems.append(
                f"schema object {item.name} is not a table of the product (tables: {shown})"
            )
        else:
            found[item.name] = match
    return found


def _object_problems(item: SchemaObject, table: TableShape, problems: list[str]) -> None:
    missing = [prop.name for prop in item.properties if table.column(prop.name) is None]
    if missing:
        problems.append(f"{item.name} has no column {', '.join(missing)}")
    for prop in item.properties:
        column = table.column(prop.name)
        if column is None:
            continue
        column_type = table.columns[column]
        if prop.physical_type is not None:
            _physical_problems(
                prop.physical_type, prop.where, f"{table.name}.{column}", column_type, problems
            )
        if prop.logical_type is not None and not type_matches(prop.logical_type, column_type):
            problems.append(
                f"{prop.where}.logicalType {prop.logical_type} does not match column "
                f"{table.name}.{column} of type {column_type}"
            )
    positions = [p.primary_key_position for p in item.properties if p.primary_key_position]
    if len(positions) != len(set(positions)):
        problems.append(f"{item.where} gives two primary-key columns the same primaryKeyPosition")


def _physical_problems(
    physical: str, where: str, column: str, column_type: str, problems: list[str]
) -> None:
    matched = physical_type_matches(physical, column_type)
    if matched is None:
        problems.append(f"{where}.physicalType {physical!r} is not a SQL type")
    elif not matched:
        problems.append(
            f"{where}.physicalType {physical} does not match column {column} of type {column_type}"
        )


def conformance_problems(contract: Contract, tables: Sequence[TableShape]) -> list[str]:
    """Everything in ``contract`` that the product's ``tables`` do not bear out."""
    problems: list[str] = []
    matched = match_tables(contract, tables, problems)
    for item in contract.tables:
        if item.name in matched:
            _object_problems(item, matched[item.name], problems)
    for rule in contract.rules:
        table = matched.get(rule.table)
        if table is None or rule.implied_by:
            continue
        unknown = [name for name in rule.columns if table.column(name) is None]
        if unknown:
            problems.append(
                f"quality rule {rule.key} names no column of {rule.table}: {unknown[0]}"
            )
    for sla in contract.slas:
        if sla.element is None:
            continue
        object_name, _, column = sla.element.rpartition(".")
        table = matched.get(object_name) or next(
            (t for t in tables if t.name.rsplit(".", 1)[-1].lower() == object_name.lower()), None
        )
        if table is None or table.column(column) is None:
            problems.append(f"slaProperties {sla.property} element {sla.element} is no column")
    return problems


def check_conformance(contract: Contract, tables: Sequence[TableShape]) -> None:
    """Refuse a contract that describes tables, columns or types the product does not have.

    Raises:
        InvalidInputError: ``Invalid ODCS v3 contract: schema object refunds is not a table of
            the product (tables: crm.customers, crm.orders); ...``.
    """
    problems = conformance_problems(contract, tables)
    if problems:
        raise invalid_contract(problems)


def classification_mismatches(
    contract: Contract,
    tables: Sequence[TableShape],
    *,
    keys: Sequence[str],
    values: Mapping[str, Sequence[str]],
) -> list[str]:
    """Properties whose ``classification`` names a sensitivity their column is not tagged with.

    ``keys`` are the tag keys that carry sensitivity (``sensitivity``) and ``values`` their
    allowed values: a classification that is one of those values, or ``pii`` / ``restricted``,
    must be the column's effective value of one of the keys.
    """
    problems: list[str] = []
    matched = match_tables(contract, tables, [])
    for item in contract.tables:
        table = matched.get(item.name)
        if table is None:
            continue
        for prop in item.properties:
            wanted = (prop.classification or "").strip().lower()
            column = table.column(prop.name)
            known = {value.lower() for key in keys for value in values.get(key, ())}
            if not wanted or column is None:
                continue
            if wanted not in known and wanted not in SENSITIVE_CLASSIFICATIONS:
                continue
            tags = {k: v.lower() for k, v in table.column_tags.get(column, {}).items()}
            if any(tags.get(key) == wanted for key in keys):
                continue
            carried = ", ".join(f"{key}={tags[key]}" for key in keys if key in tags) or "none"
            problems.append(
                f"{prop.where}.classification {prop.classification} but column "
                f"{table.name}.{column} is tagged {carried} (expected "
                f"{' or '.join(f'{key}={wanted}' for key in keys)})"
            )
    return problems
