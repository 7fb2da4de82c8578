"""The SQL of the library metrics: every metric of one table in one statement, and the samples
of failing rows.

The statements are plain read-only SQL over a table's catalog name, so they run through the
governed gateway like any query (the principal running them reads only what it may).

>>> from lakemesh.contracts.rules import parse_rules
>>> rules = parse_rules([{"metric": "nullValues", "mustBe": 0}], where="q", table="orders",
...                     column="amount", problems=[])
>>> sql = metrics_sql("sales.crm.orders", rules, {"amount": "DOUBLE"})
>>> print(sql.replace(" FROM ", "\\nFROM "))
SELECT count(*) AS "rows", count(*) FILTER (WHERE "amount" IS NULL) AS "m0"
FROM "sales"."crm"."orders"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lakemesh.contracts.rules import (
    DEFAULT_MISSING,
    DUPLICATE_VALUES,
    INVALID_VALUES,
    MISSING_VALUES,
    NULL_VALUES,
    PERCENT,
    ROW_COUNT,
    QualityRule,
)

ROWS_ALIAS = "rows"
SAMPLE_SIZE = 5
STRING_TYPES = ("VARCHAR", "TEXT", "STRING")


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def table_reference(table: str) -> str:
    """``"sales"."crm"."orders"`` for ``sales.crm.orders``."""
    return ".".join(quote(part) for part in table.split("."))


def literal(value: Any) -> str:
    """A SQL literal for a value of a contract (strings quoted, numbers as they are)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _as_text(column: str, column_type: str) -> str:
    """The column as text, for comparing it with the strings a contract lists."""
    if column_type.upper().startswith(STRING_TYPES):
        return quote(column)
    return f"CAST({quote(column)} AS VARCHAR)"


def failing_condition(rule: QualityRule, types: Mapping[str, str]) -> str | None:
    """The rows a column metric counts (null, missing or invalid values), as a condition."""
    column = rule.column
    if column is None:
        return None
    quoted = quote(column)
    if rule.metric == NULL_VALUES:
        return f"{quoted} IS NULL"
    text = _as_text(column, types.get(column, "VARCHAR"))
    if rule.metric == MISSING_VALUES:
        listed = rule.arguments.get("missingValues", list(DEFAULT_MISSING))
        values = [literal(str(v)) for v in listed if v is not None]
        tests = [f"{quoted} IS NULL"] + ([f"{text} IN ({', '.join(values)})"] if values else [])
        return " OR ".join(tests)
    if rule.metric == INVALID_VALUES:
        valid: list[str] = []
        listed = rule.arguments.get("validValues")
        if listed:
            valid.append(f"{text} IN ({', '.join(literal(str(v)) for v in listed)})")
        pattern = rule.arguments.get("pattern")
        if pattern:
            valid.append(f"regexp_full_match({text}, {literal(pattern)})")
        return f"{quoted} IS NOT NULL AND NOT ({' AND '.join(valid)})"
    return None


def metric_expression(rule: QualityRule, types: Mapping[str, str]) -> str:
    """The aggregate that counts what ``rule`` measures (in rows)."""
    if rule.metric == ROW_COUNT:
        return "count(*)"
    if rule.metric == DUPLICATE_VALUES:
        columns = rule.columns
        if len(columns) == 1:
            quoted = quote(columns[0])
            return f"count({quoted}) - count(DISTINCT {quoted})"
        tuple_ = ", ".join(quote(column) for column in columns)
        return f"count(*) - count(DISTINCT ({tuple_}))"
    condition = failing_condition(rule, types)
    if condition is None:
        raise ValueError(f"not a library metric rule: {rule.key}")
    return f"count(*) FILTER (WHERE {condition})"


def metrics_sql(table: str, rules: Sequence[QualityRule], types: Mapping[str, str]) -> str:
    """One statement computing the row count and every library metric of ``rules`` on
    ``table`` (aliases ``rows``, ``m0``, ``m1``, ... in the rules' order)."""
    expressions = [f"count(*) AS {quote(ROWS_ALIAS)}"]
    expressions += [
        f"{metric_expression(rule, types)} AS {quote(f'm{position}')}"
        for position, rule in enumerate(rules)
    ]
    return f"SELECT {', '.join(expressions)} FROM {table_reference(table)}"


def metric_value(rule: QualityRule, count: float | None, rows: int) -> float | None:
    """The value compared with the rule's threshold: the count, or its percentage of ``rows``."""
    if count is None:
        return None
    if rule.unit == PERCENT and rule.metric != ROW_COUNT:
        return round(100.0 * count / rows, 6) if rows else 0.0
    return float(count)


def sample_sql(
    table: str, rule: QualityRule, keys: Sequence[str], types: Mapping[str, str]
) -> str | None:
    """A few failing rows of ``rule``, showing only ``keys`` (None when nothing can be shown)."""
    reference = table_reference(table)
    if rule.metric == DUPLICATE_VALUES:
        shown = [column for column in rule.columns if column in keys]
        if not shown:
            return None
        grouped = ", ".join(quote(column) for column in rule.columns)
        picked = ", ".join(quote(column) for column in shown)
        return (
            f"SELECT {picked}, count(*) AS {quote('copies')} FROM {reference} "
            f"GROUP BY {grouped} HAVING count(*) > 1 ORDER BY {picked} LIMIT {SAMPLE_SIZE}"
        )
    condition = failing_condition(rule, types)
    if condition is None or not keys:
        return None
    picked = ", ".join(quote(column) for column in keys)
    return (
        f"SELECT {picked} FROM {reference} WHERE {condition} ORDER BY {picked} LIMIT {SAMPLE_SIZE}"
    )


def sql_rule_statement(rule: QualityRule, table: str) -> str:
    """A ``sql`` rule's query with ``{object}`` and ``{property}`` filled in."""
    query = rule.query or ""
    query = query.replace("{object}", table_reference(table))
    if rule.column is not None:
        query = query.replace("{property}", quote(rule.column))
    return query
