"""Row filters that a table's Parquet statistics prove true for every row it holds.

A row filter every row passes removes nothing, but it still costs: the engine estimates that a
filter keeps a fraction of the rows and may order its joins for that (TPC-H Q04 runs 2-3 times
slower with ``l_shipdate >= DATE '1992-01-01'`` on lineitem, which holds for all its rows). When
the minimum, maximum and null count of every row group of every file show that the filter holds
for each row, the gateway applies it as reading every row (:mod:`lakemesh.query.secure`): the
rows returned and each cell are the same, and no value of a filtered-out row exists to be seen.

Only filters this module can decide exactly are proved: ``AND`` of comparisons of a column of
integers, decimals or dates with a literal (``=``, ``<``, ``<=``, ``>``, ``>=``, ``BETWEEN``) and
``IS NOT NULL``, on local Parquet files whose row groups all carry statistics. Anything else
(strings, whose statistics may be truncated; floats and NaN; partition columns) is applied as
written. Statistics are read once per file version (path, size, modification time).
"""

from __future__ import annotations

import datetime
import decimal
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlglot import exp

from lakemesh.query.plans import LRUCache
from lakemesh.query.table import TableAccess

_EXACT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "DATE", "DECIMAL")
_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.GT: ">",
    exp.GTE: ">=",
    exp.LT: "<",
    exp.LTE: "<=",
    exp.EQ: "=",
}
_MIRRORED = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "="}

Value = int | decimal.Decimal | datetime.date


@dataclass(frozen=True)
class ColumnRange:
    """The smallest and largest value of a column over a file, and whether it holds a NULL."""

    low: Any
    high: Any
    has_nulls: bool


# (path, size, modification time) -> column name (lower case) -> its range, or None when some
# row group has no statistics for it.
_file_ranges: LRUCache[tuple[str, int, int], dict[str, ColumnRange | None]] = LRUCache(4096)


def proven_filters(table: TableAccess) -> frozenset[str]:
    """The row filters of ``table``'s pairs that hold for every row of its files."""
    predicates = {pair.predicate for pair in table.access.pairs if pair.predicate is not None}
    if not predicates or table.format != "parquet" or not table.files:
        return frozenset()
    if table.file_columns is not None:  # the files' types are not the ones the filters see
        return frozenset()
    return frozenset(p for p in predicates if holds_for_every_row(p, table))


def holds_for_every_row(predicate: str, table: TableAccess) -> bool:
    """Whether the statistics of ``table``'s files prove ``predicate`` true on each row.

    >>> list(_conditions(_parsed("a >= 3 AND DATE '2020-01-01' > d")))
    [('a', '>=', 3), ('d', '<', datetime.date(2020, 1, 1))]
    """
    conditions = _conditions(_parsed(predicate))
    if conditions is None:
        return False
    types = {name.lower(): type_.upper() for name, type_ in table.columns}
    partitions = {name.lower() for name in table.partition_columns}
    wanted: list[tuple[str, str, Value | None]] = []
    for column, operator, value in conditions:
        if column in partitions or not types.get(column, "").startswith(_EXACT_TYPES):
            return False
        wanted.append((column, operator, value))
    for path in table.files:
        ranges = _ranges(path)
        if ranges is None:
            return False
        for column, operator, value in wanted:
            found = ranges.get(column)
            if found is None or found.has_nulls or not _within(found, operator, value):
                return False
    return True


@lru_cache(maxsize=1024)
def _parsed(predicate: str) -> exp.Expr | None:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        return sqlglot.parse_one(predicate, read="duckdb")
    except SqlglotError:
        return None


def _conditions(node: exp.Expr | None) -> list[tuple[str, str, Value | None]] | None:
    """The predicate as (column, operator, value) conditions that must all hold, or None when it
    is not of that shape. ``IS NOT NULL`` is ("column", "not null", None)."""
    if node is None:
        return None
    if isinstance(node, exp.Paren):
        return _conditions(node.this)
    if isinstance(node, exp.And):
        first, second = _conditions(node.this), _conditions(node.expression)
        return None if first is None or second is None else first + second
    if isinstance(node, exp.Not) and isinstance(node.this, exp.Is):
        is_ = node.this
        if isinstance(is_.this, exp.Column) and isinstance(is_.expression, exp.Null):
            return [(is_.this.name.lower(), "not null", None)]
        return None
    if isinstance(node, exp.Between) and isinstance(node.this, exp.Column):
        low, high = _literal(node.args.get("low")), _literal(node.args.get("high"))
        if low is None or high is None:
            return None
        name = node.this.name.lower()
        return [(name, ">=", low), (name, "<=", high)]
    operator = _COMPARISONS.get(type(node))
    if operator is None:
        return None
    left, right = node.this, node.expression
    if isinstance(right, exp.Column) and not isinstance(left, exp.Column):
        left, right, operator = right, left, _MIRRORED[operator]
    value = _literal(right)
    if not isinstance(left, exp.Column) or value is None:
        return None
    return [(left.name.lower(), operator, value)]


def _literal(node: exp.Expr | None) -> Value | None:
    """A number or ``DATE '...'`` literal as a Python value (None for anything else)."""
    if isinstance(node, exp.Neg):
        inner = _literal(node.this)
        return -inner if isinstance(inner, int | decimal.Decimal) else None
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            text = node.this
            return int(text) if text.lstrip("-").isdigit() else decimal.Decimal(text)
        except decimal.InvalidOperation:
            return None
    if (
        isinstance(node, exp.Cast)
        and node.to.this == exp.DataType.Type.DATE
        and isinstance(node.this, exp.Literal)
        and node.this.is_string
    ):
        try:
            return datetime.date.fromisoformat(node.this.this)
        except ValueError:
            return None
    return None


def _within(found: ColumnRange, operator: str, value: Value | None) -> bool:
    if operator == "not null":
        return True
    low, high = found.low, found.high
    if isinstance(value, datetime.date) != isinstance(low, datetime.date):
        return False  # a date compared with a number: leave it to the engine
    try:
        if operator == ">":
            return bool(low > value)
        if operator == ">=":
            return bool(low >= value)
        if operator == "<":
            return bool(high < value)
        if operator == "<=":
            return bool(high <= value)
        return bool(low == value and high == value)
    except TypeError:
        return False


def _ranges(path: str) -> dict[str, ColumnRange | None] | None:
    """Each column's range over the Parquet file ``path`` (cached by its version), or None when
    it cannot be read here (an object, a missing file)."""
    if "://" in path:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    key = (path, status.st_size, status.st_mtime_ns)
    ranges = _file_ranges.get(key)
    if ranges is None:
        try:
            ranges = dict(_read_ranges(path))
        except (OSError, ValueError, ArithmeticError):  # unreadable, or a value Python lacks
            return None
        _file_ranges.put(key, ranges)
    return ranges


def _read_ranges(path: str) -> Iterator[tuple[str, ColumnRange | None]]:
    import pyarrow.parquet as pq  # only when a row filter is to be proved

    metadata = pq.ParquetFile(path).metadata
    schema = metadata.schema
    for index in range(metadata.num_columns):
        column = schema.column(index)
        if column.path != column.name:
            continue  # a nested field
        found: ColumnRange | None = None
        for group in range(metadata.num_row_groups):
            if metadata.row_group(group).num_rows == 0:
                continue
            statistics = metadata.row_group(group).column(index).statistics
            if statistics is None or not statistics.has_min_max or not statistics.has_null_count:
                found = None
                break
            low, high, nulls = statistics.min, statistics.max, statistics.null_count > 0
            if found is not None:
                low, high = min(found.low, low), max(found.high, high)
                nulls = nulls or found.has_nulls
            found = ColumnRange(low, high, nulls)
        yield column.name.lower(), found
