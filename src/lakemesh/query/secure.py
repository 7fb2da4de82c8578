"""The secured relation that stands in for a table: DESIGN §4 cell semantics, then masks.

For a table with pairs (p_i, C_i) the relation is::

    SELECT <cell(c)> AS c, ...  FROM <scan>  WHERE (p_1) OR (p_2) ...

where ``cell(c)`` is ``c`` when a pair covering ``c`` reads every row, else
``CASE WHEN <predicates of the pairs covering c> THEN c END``, wrapped in the column's mask. When
some pair reads every row there is no WHERE. Otherwise a cell that every pair covers is exactly
``c`` on the rows the WHERE keeps, and is still wrapped (*guarded*) when the statement has an
expression that could fail on it before the row filter (:mod:`lakemesh.query.guards`): that
expression then sees NULL instead of a filtered-out row's value, so an error (a failed cast, say)
cannot tell about that row. Unguarded cells leave the user's filters on them to the scan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from lakemesh.errors import QueryRejectedError
from lakemesh.model.access import MASK_FUNCTIONS
from lakemesh.query.guards import EVERY_CELL, CellGuards
from lakemesh.query.table import TableAccess
from lakemesh.query.validate import DIALECT, validate_expression

SALT_PARAMETER = "lakemesh_hash_salt"
"""Name of the query parameter that carries the hash mask's salt (never written into the SQL)."""

REDACTED = "[REDACTED]"

_VALUE = "__lakemesh_value__"
_MASK_TEMPLATES = {
    "redact": f"CASE WHEN {_VALUE} IS NOT NULL THEN '{REDACTED}' END",
    "hash": f"CASE WHEN {_VALUE} IS NOT NULL"
    f" THEN SHA256(${SALT_PARAMETER} || CAST({_VALUE} AS VARCHAR)) END",
    "last4": f"CASE WHEN LENGTH(CAST({_VALUE} AS VARCHAR)) > 4"
    f" THEN '****' || RIGHT(CAST({_VALUE} AS VARCHAR), 4)"
    f" WHEN {_VALUE} IS NOT NULL THEN '****' END",
    "email_domain": f"NULLIF(REGEXP_EXTRACT(CAST({_VALUE} AS VARCHAR), '@([^@]*)$', 1), '')",
}

Scan = Callable[[TableAccess], exp.Expr]
"""Builds the engine's expression that reads a table's files (e.g. DuckDB's ``read_parquet``)."""


@dataclass(frozen=True)
class SecuredRelation:
    """The relation that replaces one table reference, and what it applies."""

    select: exp.Select
    predicates: tuple[str, ...]
    masks: dict[str, str]
    uses_salt: bool


def secure_relation(
    table: TableAccess, *, scan: Scan, guards: CellGuards = EVERY_CELL
) -> SecuredRelation:
    """Build the secured relation of ``table``: its visible columns, row filter, cells and masks.

    ``guards``: the cells the statement needs guarded (:func:`~lakemesh.query.guards.cell_guards`).

    Raises:
        QueryRejectedError: a row predicate or mask of the table's access cannot be applied.
    """
    written = [
        _parse_predicate(table, pair.predicate)
        for pair in table.access.pairs
        if pair.predicate is not None
    ]
    # A filter the statistics prove true for every row reads every row (it is still reported).
    pairs = [
        (
            _parse_predicate(table, pair.predicate)
            if pair.predicate is not None and pair.predicate not in table.proven
            else None,
            pair,
        )
        for pair in table.access.pairs
    ]
    all_rows = any(predicate is None for predicate, _ in pairs)
    # The predicates of the WHERE (none when some pair reads every row).
    row_filter = None if all_rows else {p.sql(DIALECT) for p, _ in pairs if p is not None}
    masks = {name.lower(): function for name, function in table.access.masks.items()}
    cells: list[exp.Expr] = []
    masked: list[exp.Expr] = []
    applied_masks: dict[str, str] = {}
    for column in table.visible_columns:
        covering = [
            predicate
            for predicate, pair in pairs
            if column.lower() in {name.lower() for name in pair.columns}
        ]
        value: exp.Expr = exp.column(column, quoted=True)
        if _guarded(column, covering, row_filter, guards):
            condition = _any_of([p for p in covering if p is not None])
            value = exp.Case(ifs=[exp.If(this=condition, true=value)])
        cells.append(exp.alias_(value, column, quoted=True))
        function = masks.get(column.lower())
        output: exp.Expr = exp.column(column, quoted=True)
        if function is not None:
            output = _mask(table, column, function, output)
            applied_masks[column] = function
        masked.append(exp.alias_(output, column, quoted=True))
    select = exp.select(*cells).from_(_source(table, scan))
    if not all_rows:
        select = select.where(_any_of([p for p, _ in pairs if p is not None]))
    if applied_masks:
        # Masks apply after filters and cell semantics: an outer projection over the cells.
        select = exp.select(*masked).from_(select.subquery("cells"))
    predicates = tuple(dict.fromkeys(p.unnest().sql(DIALECT) for p in written))
    reads_every_row = any(pair.predicate is None for pair in table.access.pairs)
    return SecuredRelation(
        select=select,
        predicates=() if reads_every_row else predicates,
        masks=applied_masks,
        uses_salt="hash" in applied_masks.values(),
    )


def _guarded(
    column: str, covering: list[exp.Expr | None], row_filter: set[str] | None, guards: CellGuards
) -> bool:
    """Whether a cell is ``CASE WHEN <covering predicates> THEN c END`` rather than ``c``."""
    if any(predicate is None for predicate in covering):
        return False  # a pair covering the column reads every row
    if row_filter is None or {p.sql(DIALECT) for p in covering if p is not None} != row_filter:
        return True  # the cell semantics: fewer rows than the row filter keeps
    return guards.covers(column)


def _source(table: TableAccess, scan: Scan) -> exp.Expr:
    if table.files:
        return scan(table) if table.file_columns is None else _served(table, scan)
    # No data file: a typed, empty relation with the table's columns.
    empty = exp.select(
        *(
            exp.alias_(exp.cast(exp.null(), _data_type(table, name)), name, quoted=True)
            for name, _ in table.columns
        )
    ).where(exp.false())
    return empty.subquery("empty")


def _served(table: TableAccess, scan: Scan) -> exp.Expr:
    """The files read with their own schema, turned into the schema the table serves: a column
    they lack reads as a typed NULL, a column whose type changed is cast back (NULL where a
    value does not fit)."""
    found = table.file_columns or ()
    in_files = replace(
        table,
        columns=tuple((name, type_) for name, type_, partition in found if not partition)
        + tuple((name, type_) for name, type_, partition in found if partition),
        partition_columns=tuple(name for name, _, partition in found if partition),
        file_columns=None,
    )
    types = {name.lower(): type_ for name, type_, _ in found}
    cells: list[exp.Expr] = []
    for name, served_type in table.columns:
        file_type = types.get(name.lower())
        value: exp.Expr
        if file_type is None:
            value = exp.cast(exp.null(), _data_type(table, name))
        elif file_type == served_type:
            value = exp.column(name, quoted=True)
        else:
            value = exp.TryCast(this=exp.column(name, quoted=True), to=_data_type(table, name))
        cells.append(exp.alias_(value, name, quoted=True))
    return exp.select(*cells).from_(scan(in_files)).subquery("served")


def _parse_predicate(table: TableAccess, predicate: str) -> exp.Expr:
    try:
        parsed = _validated_predicate(predicate)
    except SqlglotError as e:
        raise QueryRejectedError(
            f"Row filter of {table.name} cannot be applied: {predicate}",
            details={"table": table.name, "predicate": predicate},
        ) from e
    return exp.paren(parsed.copy(), copy=False)


@lru_cache(maxsize=4096)
def _validated_predicate(predicate: str) -> exp.Expr:
    """The parsed, validated predicate (shared: callers copy it)."""
    parsed = sqlglot.parse_one(predicate, read=DIALECT)
    validate_expression(parsed)
    return parsed


def _any_of(predicates: list[exp.Expr]) -> exp.Expr:
    unique = list({p.sql(DIALECT): p for p in predicates}.values())
    if not unique:
        return exp.false()
    if len(unique) == 1:
        return unique[0].copy()
    return exp.or_(*(p.copy() for p in unique))


def _mask(table: TableAccess, column: str, function: str, value: exp.Expr) -> exp.Expr:
    if function not in MASK_FUNCTIONS:
        raise QueryRejectedError(
            f"Unknown mask function {function!r} on {table.name}.{column}",
            details={"table": table.name, "column": column, "mask": function},
        )
    if function == "null":
        return exp.cast(exp.null(), _data_type(table, column))
    template = _mask_template(function)

    def substitute(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name == _VALUE:
            return value.copy()
        return node

    return template.transform(substitute)  # transform copies the template


@cache
def _mask_template(function: str) -> exp.Expr:
    return sqlglot.parse_one(_MASK_TEMPLATES[function], read=DIALECT)


def _data_type(table: TableAccess, column: str) -> exp.DataType:
    return _build_type(table.column_type(column)).copy()


@lru_cache(maxsize=4096)
def _build_type(type_: str) -> exp.DataType:
    try:
        return exp.DataType.build(type_, dialect=DIALECT)
    except SqlglotError:
        return exp.DataType.build(type_, dialect=DIALECT, udt=True)
