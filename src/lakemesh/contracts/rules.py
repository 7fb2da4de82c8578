"""ODCS ``quality`` rules: read from a contract, checked, and compared with a measured value.

A rule sits on a schema object (a table) or on one of its properties (a column). lakemesh runs
``library`` rules (the metrics ``rowCount``, ``nullValues``, ``missingValues``, ``invalidValues``,
``duplicateValues``) and ``sql`` rules; ``text`` and ``custom`` rules are kept but not run.
ODCS v3.0 spelled the metric ``rule:`` with older names (``duplicateCount``, ``validValues``,
``nullCheck``); those are read as their v3.1 metric.

>>> rule = parse_rules(
...     [{"metric": "nullValues", "mustBeLessThan": 5, "unit": "percent"}],
...     where="schema[0].properties[1].quality", table="orders", column="amount",
...     problems=[])[0]
>>> rule.key, rule.threshold_text, rule.passes(4.0), rule.passes(5.0)
('orders.amount.nullValues', '< 5', True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

LIBRARY, SQL, TEXT, CUSTOM = "library", "sql", "text", "custom"
TYPES = (LIBRARY, SQL, TEXT, CUSTOM)
ROW_COUNT, NULL_VALUES, MISSING_VALUES, INVALID_VALUES, DUPLICATE_VALUES = (
    "rowCount",
    "nullValues",
    "missingValues",
    "invalidValues",
    "duplicateValues",
)
METRICS = (ROW_COUNT, NULL_VALUES, MISSING_VALUES, INVALID_VALUES, DUPLICATE_VALUES)
COLUMN_METRICS = (NULL_VALUES, MISSING_VALUES, INVALID_VALUES)
V30_NAMES = {
    "duplicateCount": DUPLICATE_VALUES,
    "validValues": INVALID_VALUES,
    "nullCheck": NULL_VALUES,
    "nullCount": NULL_VALUES,
    "missingCount": MISSING_VALUES,
}
"""ODCS v3.0 ``rule:`` names and the v3.1 metric each one is."""
ROWS, PERCENT = "rows", "percent"
UNITS = (ROWS, PERCENT)
OPERATORS = {
    "mustBe": "=",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
    "mustBeBetween": "between",
    "mustNotBeBetween": "not between",
}
RANGE_OPERATORS = ("mustBeBetween", "mustNotBeBetween")
DEFAULT_MISSING: tuple[Any, ...] = (None, "")
Threshold = float | tuple[float, float]


@dataclass(frozen=True)
class QualityRule:
    """One quality rule of a contract, ready to run.

    ``key`` identifies the rule in results and history: its ``id`` when the contract gives one,
    else ``table[.column].metric`` (with ``#N`` for a second rule of the same key).
    ``implied_by`` is set on rules lakemesh derives from ``required`` and ``unique`` properties.
    """

    key: str
    table: str
    column: str | None
    type: str
    metric: str | None = None
    operator: str | None = None
    threshold: Threshold | None = None
    unit: str = ROWS
    arguments: Mapping[str, Any] = field(default_factory=dict)
    query: str | None = None
    name: str | None = None
    dimension: str | None = None
    severity: str | None = None
    implied_by: str | None = None

    @property
    def runnable(self) -> bool:
        """Library and SQL rules with an operator are run; text and custom ones are not."""
        return self.type in (LIBRARY, SQL) and self.operator is not None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a duplicateValues rule compares (its column, or ``arguments.properties``)."""
        listed = self.arguments.get("properties")
        if isinstance(listed, list) and listed:
            return tuple(str(name) for name in listed)
        return (self.column,) if self.column else ()

    @property
    def threshold_text(self) -> str:
        """``< 5``, ``between 1 and 10``: the operator and its value(s) as people read them."""
        if self.operator is None:
            return ""
        symbol = OPERATORS[self.operator]
        if isinstance(self.threshold, tuple):
            low, high = self.threshold
            return f"{symbol} {_number(low)} and {_number(high)}"
        return f"{symbol} {_number(self.threshold)}"

    def passes(self, value: float | None) -> bool:
        """Whether the measured ``value`` satisfies the operator (no value never passes)."""
        if value is None or self.operator is None or self.threshold is None:
            return False
        threshold = self.threshold
        if isinstance(threshold, tuple):
            inside = threshold[0] <= value <= threshold[1]
            return inside if self.operator == "mustBeBetween" else not inside
        comparisons = {
            "mustBe": value == threshold,
            "mustNotBe": value != threshold,
            "mustBeGreaterThan": value > threshold,
            "mustBeGreaterOrEqualTo": value >= threshold,
            "mustBeLessThan": value < threshold,
            "mustBeLessOrEqualTo": value <= threshold,
        }
        return comparisons[self.operator]

    def to_dict(self) -> dict[str, Any]:
        """The rule as results and the API show it."""
        return {
            "key": self.key,
            "table": self.table,
            "column": self.column,
            "type": self.type,
            "metric": self.metric,
            "operator": self.operator,
            "threshold": list(self.threshold)
            if isinstance(self.threshold, tuple)
            else self.threshold,
            "unit": self.unit,
            "dimension": self.dimension,
            "severity": self.severity,
            "implied_by": self.implied_by,
        }


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _threshold(
    rule: Mapping[str, Any], where: str, problems: list[str]
) -> tuple[str | None, Threshold | None]:
    given = [name for name in OPERATORS if name in rule]
    if not given:
        return None, None
    if len(given) > 1:
        problems.append(f"{where} has several operators ({', '.join(given)}): give one")
        return None, None
    operator = given[0]
    value = rule[operator]
    if operator in RANGE_OPERATORS:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(_is_number(item) for item in value)
        ):
            problems.append(f"{where}.{operator} must be a list of two numbers [low, high]")
            return None, None
        low, high = float(value[0]), float(value[1])
        if low > high:
            problems.append(f"{where}.{operator} must list the lower bound first, got {value}")
            return None, None
        return operator, (low, high)
    if not _is_number(value):
        problems.append(f"{where}.{operator} must be a number, got {value!r}")
        return None, None
    return operator, float(value)


def _metric(rule: Mapping[str, Any], where: str, problems: list[str]) -> str | None:
    name = rule.get("metric", rule.get("rule"))
    field_name = "metric" if "metric" in rule else "rule"
    if name is None:
        return None
    if not isinstance(name, str):
        problems.append(f"{where}.{field_name} must be a string")
        return None
    metric = V30_NAMES.get(name, name)
    if metric not in METRICS:
        known = ", ".join([*METRICS, *V30_NAMES])
        problems.append(f"{where}.{field_name} {name!r} is not a library metric ({known})")
        return None
    return metric


def _arguments(rule: Mapping[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    arguments = rule.get("arguments") or {}
    if not isinstance(arguments, dict):
        problems.append(f"{where}.arguments must be a mapping")
        return {}
    arguments = dict(arguments)
    # ODCS v3.0 put these beside the rule; v3.1 under ``arguments``.
    for name in ("validValues", "missingValues", "pattern"):
        if name in rule and name not in arguments:
            arguments[name] = rule[name]
    for name in ("validValues", "missingValues", "properties"):
        if name in arguments and not isinstance(arguments[name], list):
            problems.append(f"{where}.arguments.{name} must be a list")
    if "pattern" in arguments and not isinstance(arguments["pattern"], str):
        problems.append(f"{where}.arguments.pattern must be a string (a regular expression)")
    return arguments


def _check_library(
    metric: str,
    arguments: Mapping[str, Any],
    *,
    column: str | None,
    where: str,
    problems: list[str],
) -> None:
    if metric in COLUMN_METRICS and column is None:
        problems.append(f"{where} {metric} belongs on a property (a column), not on the table")
    if metric == INVALID_VALUES and not (arguments.get("validValues") or arguments.get("pattern")):
        problems.append(f"{where} invalidValues needs arguments.validValues or arguments.pattern")
    if metric == DUPLICATE_VALUES and column is None and not arguments.get("properties"):
        problems.append(
            f"{where} duplicateValues on a table needs arguments.properties (the columns)"
        )


def string_field(item: Mapping[str, Any], name: str, where: str, problems: list[str]) -> str | None:
    """``item[name]`` when it is a string or absent; a problem naming the field otherwise."""
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}.{name} must be a string, got {type(value).__name__}")
        return None
    return value


def parse_rules(
    value: Any, *, where: str, table: str, column: str | None, problems: list[str]
) -> list[QualityRule]:
    """The rules of one ``quality`` list; each problem is appended to ``problems``, naming the
    field at fault (``schema[0].quality[1].mustBe must be a number``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of rules")
        return []
    rules: list[QualityRule] = []
    for position, item in enumerate(value):
        at = f"{where}[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{at} must be a mapping")
            continue
        before = len(problems)
        metric = _metric(item, at, problems)
        kind = item.get("type", LIBRARY if metric or "metric" in item or "rule" in item else None)
        if kind is None:
            problems.append(f"{at}.type is required (library, sql, text or custom)")
            continue
        if kind not in TYPES:
            problems.append(f"{at}.type {kind!r} is not one of {', '.join(TYPES)}")
            continue
        operator, threshold = _threshold(item, at, problems)
        unit = item.get("unit", ROWS)
        if unit not in UNITS:
            problems.append(f"{at}.unit {unit!r} is not one of {', '.join(UNITS)}")
        arguments = _arguments(item, at, problems)
        query = string_field(item, "query", at, problems)
        rule_id = string_field(item, "id", at, problems)
        if kind == LIBRARY:
            if metric is None and len(problems) == before:
                problems.append(f"{at}.metric is required for a library rule")
            elif metric is not None:
                _check_library(metric, arguments, column=column, where=at, problems=problems)
        if kind == SQL and not query:
            problems.append(f"{at}.query is required for a sql rule")
        if kind in (LIBRARY, SQL) and operator is None and len(problems) == before:
            problems.append(
                f"{at} needs an operator ({', '.join(OPERATORS)}) to compare its value with"
            )
        if len(problems) > before:
            continue
        default_key = ".".join(
            part for part in (table, column, metric or rule_id or kind) if part is not None
        )
        rules.append(
            QualityRule(
                key=rule_id or default_key,
                table=table,
                column=column,
                type=kind,
                metric=metric if kind == LIBRARY else None,
                operator=operator,
                threshold=threshold,
                unit=unit,
                arguments=arguments,
                query=query,
                name=string_field(item, "name", at, problems),
                dimension=string_field(item, "dimension", at, problems),
                severity=string_field(item, "severity", at, problems),
            )
        )
    return rules


def unique_keys(rules: Sequence[QualityRule]) -> list[QualityRule]:
    """``rules`` with a ``#2``, ``#3``… added to keys that repeat, so each names one rule."""
    seen: dict[str, int] = {}
    result: list[QualityRule] = []
    for rule in rules:
        count = seen.get(rule.key, 0) + 1
        seen[rule.key] = count
        if count > 1:
            rule = replace(rule, key=f"{rule.key}#{count}")
        result.append(rule)
    return result
