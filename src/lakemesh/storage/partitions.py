"""Hive partition folders (``key=value``): parsing names and typing values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from urllib.parse import unquote

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""The folder value Hive and Spark write for a NULL partition value."""

_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$")


def parse_partition(folder: str) -> tuple[str, str | None] | None:
    """``(key, value)`` of a ``key=value`` folder name (percent-decoded), None if it is not one.

    >>> parse_partition("day=2024-01-01"), parse_partition("city=S%C3%A3o%20Paulo")
    (('day', '2024-01-01'), ('city', 'São Paulo'))
    >>> parse_partition("k=__HIVE_DEFAULT_PARTITION__"), parse_partition("2024")
    (('k', None), None)
    """
    key, separator, value = folder.partition("=")
    if not separator or not key:
        return None
    decoded = unquote(value)
    return unquote(key), (None if decoded == HIVE_DEFAULT_PARTITION else decoded)


def _value_type(value: str) -> str:
    if _INTEGER.match(value) and -(2**63) <= int(value) < 2**63:
        return "BIGINT"
    if _FLOAT.match(value):
        return "DOUBLE"
    try:
        if _DATE.match(value):
            date.fromisoformat(value)
            return "DATE"
        if _TIMESTAMP.match(value):
            datetime.fromisoformat(value[:26])  # Python reads at most microseconds
            return "TIMESTAMP"
    except ValueError:
        pass
    return "VARCHAR"


def partition_type(values: Iterable[str | None]) -> str:
    """The narrowest DuckDB type that holds every value of a partition key (NULLs aside).

    >>> partition_type(["1", "2", None]), partition_type(["1", "2.5"]), partition_type(["1", "x"])
    ('BIGINT', 'DOUBLE', 'VARCHAR')
    >>> partition_type(["2024-01-01", "2024-01-02 10:00"])
    'TIMESTAMP'
    """
    types = {_value_type(value) for value in set(values) if value is not None}
    if not types:
        return "VARCHAR"
    for candidate, allowed in (
        ("BIGINT", {"BIGINT"}),
        ("DOUBLE", {"BIGINT", "DOUBLE"}),
        ("DATE", {"DATE"}),
        ("TIMESTAMP", {"DATE", "TIMESTAMP"}),
    ):
        if types <= allowed:
            return candidate
    return "VARCHAR"
